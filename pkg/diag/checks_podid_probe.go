package diag

import (
	"sort"
	"strings"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/facts"
)

func init() {
	register(
		Check{ID: "PODID-PROBE-001", Severity: SeverityError, Title: "EKS Auth AssumeRoleForPodIdentity issues credentials for the service account (--probe)",
			LooksAt: "a live eks-auth:AssumeRoleForPodIdentity call with a pods.eks.amazonaws.com token bound to the pod; credentials are discarded at once",
			Run:     checkPodIdentityProbe},
	)
}

// transientEKSAuthCodes are EKS Auth's answers about itself, not about the
// association (docs/behaviour.md#pod-identity-flow).
var transientEKSAuthCodes = map[string]bool{"ThrottlingException": true, "InternalServerException": true, "ServiceUnavailableException": true}

// eksAuthChecks are the offline checks that explain each EKS Auth error
// code (docs/behaviour.md#pod-identity-flow), used beside what pkg/explain
// matched, which does not know EKS Auth's bare "Code: message" form.
var eksAuthChecks = map[string][]string{
	"AccessDeniedException":     {"PODID-TRUST-001", "PODID-ROLE-001", "PODID-TRUST-002"},
	"ResourceNotFoundException": {"PODID-ASSOC-002", "PODID-ASSOC-003"},
	"InvalidTokenException":     {"PODID-TOKEN-001", "PODID-CLUSTER-001"},
	"InvalidParameterException": {"PODID-CLUSTER-001"},
	"InvalidRequestException":   {"PODID-CLUSTER-001"},
}

// checkPodIdentityProbe judges what EKS Auth said to the probe and ties a
// refusal to the offline check that explains it, as IRSA-PROBE-003 does for
// STS.
func checkPodIdentityProbe(s *Input, subj *facts.Subject) []Finding {
	p, ok := s.PodIdentityProbes[subj.Key()]
	if !ok || p == nil {
		return nil
	}
	obj := subjectRef(subj)
	if e := p.TokenErr; e != nil {
		if e.Forbidden {
			return []Finding{unknown(obj, "Could not mint a Pod Identity token to probe with: "+e.Message,
				"grant create on serviceaccounts/token in namespace "+subj.Namespace+" (rule: apiGroups [\"\"], resources [serviceaccounts/token], verbs [create])")}
		}
		return []Finding{fail(obj, "Could not mint a token for the service account: "+e.Message, nil, "check the service account exists and the API server issues tokens")}
	}
	if p.Err != "" {
		return []Finding{unknown(obj, "Could not ask EKS Auth: "+p.Err, "pass --region, configure AWS credentials, and check network access to the EKS Auth endpoint")}
	}
	if p.AssumedRoleARN != "" {
		f := pass(obj, "EKS Auth issued credentials for "+p.AssumedRoleARN+" (discarded at once)",
			ev("assumed role", p.AssumedRoleARN, "eks-auth:AssumeRoleForPodIdentity"), ev("session tags", tagList(p.SessionTags), "eks-auth:AssumeRoleForPodIdentity"))
		if failed := failingChecks(s, subj, []string{"PODID-TRUST-001", "PODID-TRUST-002"}); len(failed) > 0 {
			f.Message += "; the offline evaluation (" + strings.Join(failed, ", ") + ") disagrees: please report this, with the trust policy, as a bug"
		}
		return []Finding{f}
	}
	code, msg := p.Code, p.Message
	evs := []Evidence{ev("code", code, "eks-auth:AssumeRoleForPodIdentity"), ev("message", msg, "eks-auth:AssumeRoleForPodIdentity")}
	if transientEKSAuthCodes[code] {
		return []Finding{unknown(obj, "EKS Auth did not answer the probe: "+code+": "+msg+" (after the SDK's retries)", "run again later", evs...)}
	}
	if code == "AccessDeniedException" && strings.Contains(strings.ToLower(msg), "eks-auth:assumeroleforpodidentity") {
		// EKS Auth refused the caller, not the association: usually only
		// the node role may call it (docs/behaviour.md#pod-identity-flow).
		return []Finding{unknown(obj, "Could not probe: the identity kubectl-irsa runs as may not call eks-auth:AssumeRoleForPodIdentity ("+msg+")",
			"grant eks-auth:AssumeRoleForPodIdentity on the cluster to that identity, or run the probe as a role that has it (usually only the node role does, through AmazonEKSWorkerNodePolicy)", evs...)}
	}
	ids := eksAuthChecks[code]
	fix := "kubectl irsa explain '" + strings.ReplaceAll(code+": "+msg, "'", `'\''`) + "'"
	if e := p.Explanation; e != nil {
		evs = append(evs, ev("likely cause", e.Cause, "kubectl irsa explain ("+e.ID+")"))
		ids = union(e.CheckIDs, ids)
	}
	if len(ids) > 0 {
		fix = "see " + strings.Join(ids, ", ") + "; " + fix
	}
	text := "EKS Auth refused the service account's token: " + code + ": " + msg
	if explained := failingChecks(s, subj, ids); len(explained) > 0 {
		text += "; offline, " + strings.Join(explained, ", ") + " explains it"
	} else if code == "AccessDeniedException" {
		text += "; no offline check explains it: a trust policy changed minutes ago (IAM is eventually consistent), an organisation policy, or a role that changed since it was read"
	}
	return []Finding{fail(obj, text, evs, fix)}
}

// tagList renders session tags as k=v, sorted.
func tagList(tags map[string]string) string {
	keys := make([]string, 0, len(tags))
	for k := range tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, k+"="+tags[k])
	}
	return strings.Join(parts, ", ")
}
