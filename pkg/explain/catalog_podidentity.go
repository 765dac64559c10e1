package explain

import "strings"

// EKS Pod Identity (docs/behaviour.md#eks-pod-identity, its subsections, and
// docs/behaviour.md#f10-pod-identity-and-irsa-mixed). Each cause names the
// PODID checks that confirm or rule it out offline; the commands below are
// the AWS CLI and kubectl calls that decide the rest.

func podIdentityNext(f map[string]string) []string {
	cl, ns, sa := "CLUSTER", arg(f, "namespace", "NAMESPACE"), arg(f, "service_account", "SERVICE_ACCOUNT")
	return []string{
		"aws eks list-pod-identity-associations --cluster-name " + cl + " --namespace " + ns + " --service-account " + sa,
		"aws eks describe-addon --cluster-name " + cl + " --addon-name eks-pod-identity-agent",
		"kubectl -n kube-system logs ds/eks-pod-identity-agent --tail=100",
	}
}

var podIdentityTrust = cause("The role's trust policy does not admit pods.eks.amazonaws.com with sts:AssumeRole and sts:TagSession",
	`It needs {"Principal":{"Service":"pods.eks.amazonaws.com"},"Action":["sts:AssumeRole","sts:TagSession"]}; sts:TagSession is required while session tags are on, and aws:RequestTag/aws:SourceAccount conditions must match.`,
	"add that statement to the role's trust policy.", "PODID-TRUST-001", "PODID-TRUST-002")

func init() {
	register("pod-identity-agent-access-denied", entry{
		title: "EKS Pod Identity could not assume the associated role",
		causes: func(f map[string]string) []Cause {
			cs := []Cause{
				podIdentityTrust,
				cause("The node role lacks eks-auth:AssumeRoleForPodIdentity",
					"The agent calls EKS Auth with the node role; AmazonEKSWorkerNodePolicy includes the action.",
					"attach AmazonEKSWorkerNodePolicy, or a policy that allows eks-auth:AssumeRoleForPodIdentity, to the node role."),
				cause("The role is in another account than the cluster",
					"Pod Identity roles must be in the cluster's account.",
					"use a role in the cluster's account and name the other account's role as the association's targetRoleArn.", "PODID-ROLE-001"),
				cause("The pod runs on the host network",
					"Known agent issue aws/eks-pod-identity-agent#139: the same pod without hostNetwork gets credentials.",
					"run the pod without hostNetwork, or use IRSA for it.", "PODID-AGENT-003"),
			}
			if strings.Contains(strings.ToLower(f["message"]), "eks-auth:assumeroleforpodidentity") {
				cs = promote(cs, 1)
			}
			return cs
		},
		next: func(f map[string]string) []string {
			return append(podIdentityNext(f), "aws iam get-role --role-name ROLE_NAME --query Role.AssumeRolePolicyDocument")
		},
	})
	register("pod-identity-agent-no-association", entry{
		title: "EKS has no Pod Identity association for the pod's service account",
		causes: static(
			cause("No association exists for this namespace and service account",
				"Associations are per cluster, namespace and service account name.",
				"create the association (aws eks create-pod-identity-association), then restart the pods.", "PODID-ASSOC-002"),
			cause("The pod runs as another service account, or the association is in another cluster",
				"Compare the pod's serviceAccountName with the association.",
				"set serviceAccountName to the associated service account, or create an association for the one the pod uses, then restart the pods.", "IRSA-POD-003", "PODID-ASSOC-003"),
		),
		next: podIdentityNext,
	})
	register("pod-identity-agent-expired-token", entry{
		title: "The Pod Identity token the SDK sent has expired",
		causes: static(
			cause("The application reads the token once and keeps sending it",
				"SDKs re-read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE on every fetch; code that caches the token or an old SDK does not.",
				"use the SDK's container credentials provider, which re-reads the file, and upgrade SDKs older than the Pod Identity minimum."),
			cause("Clock skew on the node", "A node clock that is off makes a fresh token look expired.",
				"sync the node's clock (chrony or NTP, e.g. against the Amazon Time Sync Service)."),
			cause("IRSA and Pod Identity are mixed up for this pod",
				"A pod with both env sets uses web identity; a stale association or annotation leaves the wrong one.",
				"remove the role-arn annotation or the association you do not want, then restart the pods.", "PODID-MIX-001", "IRSA-CRED-003"),
		),
		next: podIdentityNext,
	})
	register("pod-identity-agent-invalid-token", entry{
		title: "EKS rejected the Pod Identity token",
		causes: static(
			cause("The SDK sent a token that is not the Pod Identity token",
				"The token must have audience pods.eks.amazonaws.com; an IRSA token or a hand-set AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE is rejected.",
				"remove the hand-set AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE so that the webhook sets it, then restart the pods.", "PODID-TOKEN-001", "IRSA-CRED-003"),
			cause("The token belongs to another cluster", "The agent presents it to the cluster it is configured for.",
				"run the pod in the cluster of its association, or create the association in this cluster and restart the pods.", "PODID-CLUSTER-001"),
		),
		next: podIdentityNext,
	})
	register("pod-identity-agent-invalid-request", entry{
		title: "EKS Auth rejected the agent's request as invalid",
		causes: static(cause("The agent is misconfigured (e.g. its cluster name) or the add-on is outdated",
			"",
			"update the eks-pod-identity-agent add-on and correct its arguments (the cluster name).", "PODID-AGENT-001", "PODID-CLUSTER-001")),
		next: podIdentityNext,
	})
	register("pod-identity-agent-throttled", entry{
		title: "EKS Auth throttled the Pod Identity agent",
		causes: static(cause("Many pods fetched credentials at once",
			"Transient; the agent caches credentials, so retries with back-off succeed.",
			"retry with back-off, and stagger large rollouts.")),
		next: podIdentityNext,
	})
	register("pod-identity-agent-server-error", entry{
		title: "EKS Auth failed on its side",
		causes: static(cause("A transient EKS Auth service error", "InternalServerException and ServiceUnavailableException are not configuration errors.",
			"retry with back-off.")),
		next: podIdentityNext,
	})
	register("pod-identity-agent-error", entry{
		title: "The Pod Identity agent relayed an EKS Auth error",
		causes: static(podIdentityTrust, cause("No association for the service account", "See https://docs.aws.amazon.com/eks/latest/userguide/pod-id-association.html.",
			"create the association, then restart the pods.", "PODID-ASSOC-002")),
		next: podIdentityNext,
	})
	tokenCauses := static(
		cause("The SDK sent no or an unreadable token",
			"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE must name the projected eks-pod-identity-token file; a missing volume or a hand-set variable sends an empty or foreign token.",
			"remove the hand-set AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE and any copied volume so that the webhook adds both, then restart the pods.", "PODID-TOKEN-001", "PODID-ASSOC-001"),
		cause("The SDK is older than the Pod Identity minimum", "It may not send the token file's content.",
			"upgrade the SDK to at least the Pod Identity minimum."),
	)
	for _, id := range []string{"pod-identity-agent-token-empty", "pod-identity-agent-token-unparsable", "pod-identity-agent-token-claims-invalid"} {
		register(id, entry{title: "The Pod Identity agent rejected the request's token", causes: tokenCauses, next: podIdentityNext})
	}
	register("pod-identity-agent-unreachable", entry{
		title: "The SDK could not reach the Pod Identity agent at 169.254.170.23",
		causes: static(
			cause("The eks-pod-identity-agent add-on is not installed or not running on this node",
				"Pod Identity needs the agent DaemonSet on every node; Fargate, Windows and hybrid nodes do not run it.",
				"install the eks-pod-identity-agent add-on, or use IRSA on nodes that cannot run it.", "PODID-AGENT-001", "PODID-ASSOC-001"),
			cause("The agent listens only on IPv6 or the network blocks the link-local address",
				"Older agents needed IPv6 unless bound to 169.254.170.23; network policies and proxies must allow 169.254.170.23:80.",
				"update the agent add-on, and allow 169.254.170.23:80 in network policies and NO_PROXY.", "PODID-AGENT-002", "PODID-ENV-002"),
			cause("hostNetwork pods", "Known agent issue aws/eks-pod-identity-agent#139.",
				"run the pod without hostNetwork, or use IRSA for it.", "PODID-AGENT-003"),
		),
		next: podIdentityNext,
	})
}
