package diag

import (
	"strings"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/facts"
)

// What the EKS Pod Identity checks share: the subject's associations, whether
// it uses or is meant to use Pod Identity, and the commands their fixes name
// (docs/behaviour.md#eks-pod-identity).

// associationsOf is the subject's Pod Identity associations: nil when it has
// none, or when they were not looked for (--skip-aws, no EKS cluster).
func associationsOf(s *Input, subj *facts.Subject) []facts.PodIdentityAssociation {
	if s.AWS == nil {
		return nil
	}
	return s.AWS.PodIdentity.For(subj.Namespace, subj.ServiceAccountName)
}

// credentialRole is the role whose credentials the pods get: the target role
// when the association names one (EKS assumes the association's role, then
// the target, docs/behaviour.md#pod-identity-trust-policy), else its role.
func credentialRole(a facts.PodIdentityAssociation) string {
	if a.TargetRoleARN != "" {
		return a.TargetRoleARN
	}
	return a.RoleARN
}

// podIdentitySubject reports whether the subject uses Pod Identity (a pod
// pointed at the agent) or is meant to (an association).
func podIdentitySubject(s *Input, subj *facts.Subject) bool {
	if len(associationsOf(s, subj)) > 0 {
		return true
	}
	for _, pf := range subj.Pods {
		if facts.PodUsesPodIdentity(pf.Pod) {
			return true
		}
	}
	return false
}

// podIdentityCluster is the EKS cluster's name for the commands of a fix.
func podIdentityCluster(s *Input) string {
	if s.AWS != nil {
		if p := s.AWS.PodIdentity; p != nil && p.Cluster != "" {
			return p.Cluster
		}
		if c := s.AWS.Cluster; c != nil && c.Name != "" {
			return c.Name
		}
	}
	return "<CLUSTER>"
}

// createAssociationCommand creates the subject's association; role is
// "<ROLE_ARN>" when it is not known.
func createAssociationCommand(s *Input, subj *facts.Subject, role string) string {
	if role == "" {
		role = "<ROLE_ARN>"
	}
	return "aws eks create-pod-identity-association --cluster-name " + shellQuote(podIdentityCluster(s)) + " --namespace " + shellQuote(subj.Namespace) +
		" --service-account " + shellQuote(subj.ServiceAccountName) + " --role-arn " + shellQuote(role)
}

// associationEvidence names an association and, once described, its roles.
func associationEvidence(a facts.PodIdentityAssociation) []Evidence {
	src := "eks:ListPodIdentityAssociations"
	evs := []Evidence{ev("association", a.ID, src)}
	if a.Described {
		src = "eks:DescribePodIdentityAssociation"
		evs = append(evs, ev("role", a.RoleARN, src))
		if a.TargetRoleARN != "" {
			evs = append(evs, ev("target role", a.TargetRoleARN, src))
		}
	}
	return evs
}

// associationRoleText names the roles an association gives: "role X", or
// "role T (assumed through X)" with a target role.
func associationRoleText(a facts.PodIdentityAssociation) string {
	switch {
	case !a.Described:
		return "the association " + a.ID + ", whose role was not read"
	case a.TargetRoleARN != "":
		return "role " + a.TargetRoleARN + ", assumed through " + a.RoleARN
	}
	return "role " + a.RoleARN
}

// agentRef is the eks-pod-identity-agent DaemonSet.
func agentRef() ObjectRef {
	return ObjectRef{Kind: "DaemonSet", Namespace: facts.PodIdentityAgentNamespace, Name: facts.PodIdentityAgentName}
}

// podIdentityDocs is the page Pod Identity fixes point to.
const podIdentityDocs = "https://docs.aws.amazon.com/eks/latest/userguide/pod-identities.html"

// podNames lists pod names for a message.
func podNames(pods []facts.PodFacts) string {
	names := make([]string, 0, len(pods))
	for _, pf := range pods {
		names = append(names, pf.Pod.Name)
	}
	return strings.Join(names, ", ")
}
