package diag

import (
	"strings"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/awsarn"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/awsfacts"
)

// AWSFacts is the AWS side of the snapshot. A nil *AWSFacts means the user
// skipped AWS (--skip-aws): the AWS checks then say nothing at all.
type AWSFacts struct {
	// Unavailable says why no AWS call could be made (no region, broken
	// profile); every AWS check then reports `unknown` with this reason.
	Unavailable string
	Issuer      IssuerFacts
	Caller      awsfacts.Caller
	Cluster     *awsfacts.Cluster
	// Roles and Providers are keyed by ARN; ProviderLists by account.
	Roles         map[string]awsfacts.Role
	Providers     map[string]awsfacts.OIDCProvider
	ProviderLists map[string]awsfacts.ProviderList
	// TLS holds the thumbprint verdict per provider ARN, computed by
	// pkg/thumbprint's Judge exactly as `kubectl irsa thumbprint` does.
	TLS map[string]TLSFacts
}

// TLSFacts is the issuer's served TLS chain judged against a provider's
// thumbprints (REFERENCE.md §1.6).
type TLSFacts struct {
	Verdict    string
	Severity   Severity
	Message    string
	Thumbprint string
	// Fix is the exact update command, when one is needed.
	Fix string
	// Err says why the chain could not be read.
	Err string
}

// IssuerFacts is the cluster's OIDC issuer and how it was found.
type IssuerFacts struct {
	URL string
	// Source names where URL came from: "--issuer", "eks:DescribeCluster",
	// "API server discovery".
	Source string
	// Tried lists the sources that were tried and why each failed.
	Tried []string
}

// ExpectedProviderARN is the IAM OIDC provider STS looks up for this role:
// the issuer's provider in the ROLE's account and partition (REFERENCE.md §2.2
// step 2, §2.5 cross-account).
func ExpectedProviderARN(role awsarn.RoleARN, issuer string) (string, bool) {
	is, err := awsarn.ParseIssuer(issuer)
	if err != nil {
		return "", false
	}
	return awsarn.ProviderARN(role.Partition, role.Account, is.HostPath), true
}

// RoleARNs lists the distinct valid role ARNs of the subjects, in order.
func RoleARNs(subjects []*Subject) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range subjects {
		v, ok := irsaIntended(s)
		if !ok || seen[v] {
			continue
		}
		if _, err := awsarn.ParseRoleARN(v); err == nil {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}

// TokenAudience is the audience the subject's pods present: the projected
// volume's audience of the first mutated pod, else what the webhook would use.
func TokenAudience(subj *Subject) (aud, source string) {
	for _, pf := range subj.Pods {
		if _, tok := TokenVolume(pf.Pod); tok != nil && tok.Audience != "" {
			return tok.Audience, "pod/" + pf.Pod.Name + " volume " + TokenVolumeName
		}
	}
	if v, ok := subj.ServiceAccount.Annotations[AnnotationAudience]; ok && v != "" {
		return v, "serviceaccount annotation " + AnnotationAudience
	}
	return DefaultAudience, "webhook default"
}

// subjectString is the token's sub claim for the subject.
func subjectString(subj *Subject) string {
	return "system:serviceaccount:" + subj.Namespace + ":" + subj.ServiceAccountName
}

// callUnknown turns a failed AWS call into an unknown finding that names the
// permission (the call's Op) or the problem.
func callUnknown(obj ObjectRef, what string, e *awsfacts.CallError) Finding {
	fix := "retry later"
	switch e.Code {
	case awsfacts.ErrAccessDenied:
		fix = "grant " + e.Op
		if e.Resource != "" {
			fix += " on " + e.Resource
		}
		fix += " to the AWS identity kubectl-irsa runs as (see the README's IAM policy), or use --aws-profile for the role's account"
	case awsfacts.ErrNoCredentials:
		fix = "configure AWS credentials (AWS_PROFILE, --aws-profile, SSO login or environment variables)"
	case awsfacts.ErrThrottled:
		fix = "IAM throttled the calls even after retries; run again later or lower --aws-concurrency"
	case awsfacts.ErrTimeout:
		fix = "check network access to the AWS endpoints, or raise --aws-timeout"
	}
	return unknown(obj, "Could not tell "+what+": "+e.Op+" failed ("+string(e.Code)+"): "+e.Message, fix,
		ev("call", e.Op+" "+e.Resource, e.Op))
}

// shellQuote quotes a value for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:=@,+%", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
