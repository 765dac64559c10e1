package diag

import (
	"strings"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/facts"
)

// subjectString is the token's sub claim for the subject.
func subjectString(subj *facts.Subject) string {
	return "system:serviceaccount:" + subj.Namespace + ":" + subj.ServiceAccountName
}

// callUnknown turns a failed AWS call into an unknown finding that names the
// permission (the call's Op) or the problem.
func callUnknown(obj ObjectRef, what string, e *facts.CallError) Finding {
	fix := "retry later"
	switch e.Code {
	case facts.ErrAccessDenied:
		fix = "grant " + e.Op
		if e.Resource != "" {
			fix += " on " + e.Resource
		}
		fix += " to the AWS identity kubectl-irsa runs as (see the README's IAM policy), or use --aws-profile for the role's account"
	case facts.ErrNoCredentials:
		fix = "configure AWS credentials (AWS_PROFILE, --aws-profile, SSO login or environment variables)"
	case facts.ErrThrottled:
		fix = "IAM throttled the calls even after retries; run again later or lower --aws-concurrency"
	case facts.ErrTimeout:
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
