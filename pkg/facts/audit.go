package facts

// AuditFacts is what `kubectl irsa audit` read from AWS (pkg/cloud Audit).
type AuditFacts struct {
	Caller Caller
	Issuer IssuerFacts
	// Roles holds every role read: the annotated ones (GetRole) and, with
	// --roles all, the listed ones (Listed set).
	Roles       []AuditRole
	ListErr     *CallError
	Providers   ProviderList
	SizeQuota   int
	SummaryErr  *CallError
	PodIdentity *PodIdentityFacts
}

// AuditRole is one role's trust policy, or why it could not be read.
type AuditRole struct {
	ARN         string
	TrustPolicy string
	Err         *CallError
	Listed      bool
}
