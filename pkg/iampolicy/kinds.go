package iampolicy

// ProblemKind names a finding of DiagnoseTrust. The string values are a
// stable public contract: never rename or reuse one.
type ProblemKind string

// Functional kinds: why AssumeRoleWithWebIdentity is (or would be) denied
// (docs/behaviour.md#f4-accessdenied-from-the-trust-policy, docs/behaviour.md#trust-policy-condition-keys, #common-mistakes item 3).
const (
	// KindExplicitDeny: a Deny statement applies; it wins over any Allow.
	KindExplicitDeny ProblemKind = "ExplicitDeny"
	// KindNoStatementForProvider: no Allow statement names this provider ARN.
	// Found is a Federated ARN that is present; Detail says how it differs
	// (account, partition, region, cluster ID).
	KindNoStatementForProvider ProblemKind = "NoStatementForProvider"
	// KindActionMissing: statements for the provider exist, but none allows
	// sts:AssumeRoleWithWebIdentity (e.g. only sts:AssumeRole).
	KindActionMissing ProblemKind = "ActionMissing"
	// KindUnsubstitutedPlaceholder: a template placeholder such as
	// OIDC_PROVIDER, ${...}, <...> or $(...) was never replaced.
	KindUnsubstitutedPlaceholder ProblemKind = "UnsubstitutedPlaceholder"
	// KindKeyWithScheme: the condition key starts with https://.
	KindKeyWithScheme ProblemKind = "KeyWithScheme"
	// KindKeyWithProviderARN: the condition key is the provider ARN + ":sub".
	KindKeyWithProviderARN ProblemKind = "KeyWithProviderARN"
	// KindKeyTrailingSlash: the key's issuer part ends with '/'.
	KindKeyTrailingSlash ProblemKind = "KeyTrailingSlash"
	// KindKeyOtherIssuer: the key names another issuer (other cluster ID,
	// region, partition, or a malformed host).
	KindKeyOtherIssuer ProblemKind = "KeyOtherIssuer"
	// KindUnsupportedClaimKey: the key names a claim IAM does not expose
	// (only sub, aud, amr and azp exist; docs/behaviour.md#trust-policy-condition-keys).
	KindUnsupportedClaimKey ProblemKind = "UnsupportedClaimKey"
	// KindAudSubSwapped: :aud carries a system:serviceaccount value, or :sub
	// carries an audience.
	KindAudSubSwapped ProblemKind = "AudSubSwapped"
	// KindWildcardUnderStringEquals: a '*' or '?' under StringEquals, which
	// compares it literally; Expected is "StringLike", Found the value.
	KindWildcardUnderStringEquals ProblemKind = "WildcardUnderStringEquals"
	// KindSubMismatch: the :sub condition names another namespace or
	// service account.
	KindSubMismatch ProblemKind = "SubMismatch"
	// KindAudMismatch: the :aud condition names another audience.
	KindAudMismatch ProblemKind = "AudMismatch"
	// KindUnsupportedOperator: an operator this evaluator does not implement
	// (or a misspelt one); the condition is treated as false.
	KindUnsupportedOperator ProblemKind = "UnsupportedOperator"
	// KindConditionUnmet: a condition failed for a reason no more specific
	// kind covers (e.g. a global key the pod's request does not carry).
	KindConditionUnmet ProblemKind = "ConditionUnmet"
	// KindKeyCaseDiffers is a warning: the key differs from the issuer only
	// in letter case. IAM key names are case-insensitive, but do not rely on
	// it for the cluster ID (docs/behaviour.md#trust-policy-condition-keys).
	KindKeyCaseDiffers ProblemKind = "KeyCaseDiffers"
)

// Security kinds: trust wider than one service account (docs/behaviour.md#trust-policy-security).
const (
	// KindPrincipalWildcard: "Principal": "*" or {"AWS": "*"}.
	KindPrincipalWildcard ProblemKind = "PrincipalWildcard"
	// KindNoSubCondition (S1): nothing constrains :sub, so any service
	// account of the cluster can assume the role.
	KindNoSubCondition ProblemKind = "NoSubCondition"
	// KindSubWildcardAll (S2): a StringLike :sub admitting any namespace and
	// any service account.
	KindSubWildcardAll ProblemKind = "SubWildcardAll"
	// KindNamespaceWildcard (S3): system:serviceaccount:*:<name>.
	KindNamespaceWildcard ProblemKind = "NamespaceWildcard"
	// KindServiceAccountWildcard (S4): system:serviceaccount:<ns>:*.
	KindServiceAccountWildcard ProblemKind = "ServiceAccountWildcard"
	// KindDefaultServiceAccount (S5): the namespace's default service
	// account is trusted.
	KindDefaultServiceAccount ProblemKind = "DefaultServiceAccount"
	// KindMissingAudCondition (S6): nothing constrains :aud.
	KindMissingAudCondition ProblemKind = "MissingAudCondition"
	// KindForAllValuesOnClaim (S6): ForAllValues: on sub or aud, which is
	// true when the key is missing.
	KindForAllValuesOnClaim ProblemKind = "ForAllValuesOnClaim"
)

// Severity grades a ProblemKind: Error and Warning for functional kinds, the
// security scale of docs/behaviour.md#trust-policy-security for security kinds.
type Severity string

// Severities, most severe first within each scale.
const (
	SeverityError    Severity = "Error"
	SeverityWarning  Severity = "Warning"
	SeverityCritical Severity = "Critical"
	SeverityHigh     Severity = "High"
	SeverityMedium   Severity = "Medium"
	SeverityLow      Severity = "Low"
)

// kindCatalogue is ordered by rank: the order in which problems of equal
// standing are listed.
var kindCatalogue = []struct {
	kind     ProblemKind
	severity Severity
}{
	{KindExplicitDeny, SeverityError},
	{KindNoStatementForProvider, SeverityError},
	{KindActionMissing, SeverityError},
	{KindUnsubstitutedPlaceholder, SeverityError},
	{KindKeyWithScheme, SeverityError},
	{KindKeyWithProviderARN, SeverityError},
	{KindKeyTrailingSlash, SeverityError},
	{KindKeyOtherIssuer, SeverityError},
	{KindUnsupportedClaimKey, SeverityError},
	{KindAudSubSwapped, SeverityError},
	{KindWildcardUnderStringEquals, SeverityError},
	{KindSubMismatch, SeverityError},
	{KindAudMismatch, SeverityError},
	{KindUnsupportedOperator, SeverityError},
	{KindConditionUnmet, SeverityError},
	{KindKeyCaseDiffers, SeverityWarning},
	{KindPrincipalWildcard, SeverityCritical},
	{KindNoSubCondition, SeverityCritical},
	{KindSubWildcardAll, SeverityCritical},
	{KindNamespaceWildcard, SeverityHigh},
	{KindServiceAccountWildcard, SeverityMedium},
	{KindDefaultServiceAccount, SeverityMedium},
	{KindMissingAudCondition, SeverityLow},
	{KindForAllValuesOnClaim, SeverityLow},
}

// ProblemKinds lists every kind in rank order, for catalogues and docs.
func ProblemKinds() []ProblemKind {
	kinds := make([]ProblemKind, len(kindCatalogue))
	for i, k := range kindCatalogue {
		kinds[i] = k.kind
	}
	return kinds
}

// Severity returns the kind's default severity ("" for an unknown kind).
func (k ProblemKind) Severity() Severity {
	for _, c := range kindCatalogue {
		if c.kind == k {
			return c.severity
		}
	}
	return ""
}

// IsSecurity reports whether k is one of the security kinds.
func (k ProblemKind) IsSecurity() bool {
	switch k.Severity() {
	case SeverityCritical, SeverityHigh, SeverityMedium, SeverityLow:
		return true
	}
	return false
}

func (k ProblemKind) rank() int {
	for i, c := range kindCatalogue {
		if c.kind == k {
			return i
		}
	}
	return len(kindCatalogue)
}
