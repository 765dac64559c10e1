package diag

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/facts"
)

func init() {
	register(
		Check{ID: "PODID-AGENT-001", Severity: SeverityError, Title: "The eks-pod-identity-agent DaemonSet runs on every node",
			LooksAt: "daemonset kube-system/eks-pod-identity-agent: presence, hostNetwork, desired and ready counts", Run: checkAgentReady},
		Check{ID: "PODID-AGENT-002", Severity: SeverityWarning, Title: "The agent does not need IPv6 on an IPv4 cluster",
			LooksAt: "the agent's --bind-hosts (-b) arguments, eks:DescribeCluster kubernetesNetworkConfig.ipFamily, ready counts", Run: checkAgentIPv6},
		Check{ID: "PODID-AGENT-003", Severity: SeverityWarning, Title: "Pods that use Pod Identity do not run on the host network",
			LooksAt: "pod.spec.hostNetwork of pods whose containers point at the agent", Run: checkHostNetworkPodIdentity},
		Check{ID: "PODID-CLUSTER-001", Severity: SeverityError, Title: "The cluster's version supports EKS Pod Identity",
			LooksAt: "eks:DescribeCluster version and platformVersion", Run: checkClusterSupportsPodIdentity},
	)
}

const agentRBAC = "grant get on daemonsets in namespace " + facts.PodIdentityAgentNamespace + " (kubectl auth can-i get daemonsets -n " + facts.PodIdentityAgentNamespace + ")"

func agentCounts(ag *facts.PodIdentityAgent) []Evidence {
	return []Evidence{ev("desired", strconv.Itoa(int(ag.Desired)), "daemonset.status.desiredNumberScheduled"),
		ev("ready", strconv.Itoa(int(ag.Ready)), "daemonset.status.numberReady")}
}

// installAgentCommand installs the agent as the EKS add-on.
func installAgentCommand(s *Input) string {
	c := shellQuote(podIdentityCluster(s))
	return "aws eks create-addon --cluster-name " + c + " --addon-name " + facts.PodIdentityAgentName + "  # or: eksctl create addon --cluster " + c + " --name " + facts.PodIdentityAgentName
}

// checkAgentReady judges the agent DaemonSet for subjects that use or are
// meant to use Pod Identity: the SDK fetches credentials from the agent on
// its own node, on the host network (docs/behaviour.md#pod-identity-flow).
func checkAgentReady(s *Input, subj *facts.Subject) []Finding {
	ag := s.PodIdentityAgent
	if ag == nil || !podIdentitySubject(s, subj) {
		return nil
	}
	obj := agentRef()
	switch {
	case ag.Err != nil:
		return []Finding{unknown(obj, "Could not read the "+facts.PodIdentityAgentName+" DaemonSet: "+ag.Err.Message, agentRBAC)}
	case !ag.Found:
		return []Finding{fail(obj, "No "+facts.PodIdentityAgentName+" DaemonSet in "+facts.PodIdentityAgentNamespace+": nothing answers on "+facts.PodIdentityAgentAddress+", so no pod gets Pod Identity credentials (on EKS Auto Mode the nodes run the agent themselves, without a DaemonSet)",
			[]Evidence{ev("daemonset", facts.PodIdentityAgentNamespace+"/"+facts.PodIdentityAgentName, "get daemonsets: not found")},
			installAgentCommand(s)+"; see https://docs.aws.amazon.com/eks/latest/userguide/pod-id-agent-setup.html")}
	}
	evs := append(agentCounts(ag), ev("image", ag.Image, "daemonset.spec.template.spec.containers"))
	describe := "kubectl -n " + facts.PodIdentityAgentNamespace + " describe daemonset " + facts.PodIdentityAgentName + "; kubectl -n " + facts.PodIdentityAgentNamespace + " logs daemonset/" + facts.PodIdentityAgentName + " --tail=50"
	switch {
	case !ag.HostNetwork:
		return []Finding{fail(obj, "The agent does not run on the host network, so pods cannot reach it at "+facts.PodIdentityAgentAddress, evs,
			"reinstall the add-on so that it runs with hostNetwork: true: aws eks update-addon --cluster-name "+shellQuote(podIdentityCluster(s))+" --addon-name "+facts.PodIdentityAgentName+" --resolve-conflicts OVERWRITE")}
	case ag.Desired == 0:
		return []Finding{fail(obj, "The agent DaemonSet is scheduled on no node, so no pod gets Pod Identity credentials", evs,
			"check the DaemonSet's nodeSelector, affinity and tolerations: "+describe)}
	case ag.Ready < ag.Desired:
		return []Finding{fail(obj, fmt.Sprintf("Only %d of %d agent pods are ready: pods on the other nodes get no Pod Identity credentials", ag.Ready, ag.Desired), evs,
			"find the failing agent pods and why: "+describe)}
	}
	if ag.Desired == 1 {
		return []Finding{pass(obj, "The agent is ready on the one node it is scheduled on", evs...)}
	}
	return []Finding{pass(obj, fmt.Sprintf("The agent is ready on all %d nodes it is scheduled on", ag.Desired), evs...)}
}

// checkAgentIPv6 applies the rule of docs/behaviour.md#pod-identity-agent-ipv6:
// the agent binds [fd00:ec2::23] too unless --bind-hosts names only IPv4
// hosts, and exits where IPv6 is off. Of the nodes the facts tell only the
// cluster's IP family, so an ipv4 cluster with such an agent is warned
// about; the ready count says whether it already bites.
func checkAgentIPv6(s *Input, subj *facts.Subject) []Finding {
	ag := s.PodIdentityAgent
	if ag == nil || !ag.Found || s.AWS == nil || s.AWS.Cluster == nil || !podIdentitySubject(s, subj) {
		return nil
	}
	c := s.AWS.Cluster
	if c.Err != nil || c.IPFamily != "ipv4" {
		return nil
	}
	obj := agentRef()
	binds, hosts := facts.AgentBindsIPv6(ag.Args)
	bind := "default (" + facts.PodIdentityAgentAddress + " and [" + facts.PodIdentityAgentIPv6 + "])"
	if len(hosts) > 0 {
		bind = strings.Join(hosts, ", ")
	}
	evs := make([]Evidence, 0, 4)
	evs = append(evs, ev("ipFamily", c.IPFamily, "eks:DescribeCluster kubernetesNetworkConfig.ipFamily"),
		ev("bind hosts", bind, "daemonset.spec.template.spec.containers["+facts.PodIdentityAgentName+"] args"),
		ev("version", ag.Version, "daemonset.spec.template.spec.containers image tag"))
	if !binds {
		return []Finding{pass(obj, "The agent binds only IPv4 addresses, as an IPv4 cluster needs", evs...)}
	}
	msg := "The cluster is IPv4, but the agent also binds [" + facts.PodIdentityAgentIPv6 + "]:80: on a node without IPv6 it exits with \"bind: cannot assign requested address\" and that node's pods get no Pod Identity credentials"
	f := fail(obj, msg, append(evs, agentCounts(ag)...),
		"aws eks update-addon --cluster-name "+shellQuote(podIdentityCluster(s))+" --addon-name "+facts.PodIdentityAgentName+` --configuration-values '{"agent":{"additionalArgs":{"-b":"`+facts.PodIdentityAgentAddress+`"}}}'  # https://docs.aws.amazon.com/eks/latest/userguide/pod-id-agent-config-ipv6.html`)
	if ag.Ready < ag.Desired {
		f.Message += fmt.Sprintf("; %d of %d agent pods are not ready, which this would explain", ag.Desired-ag.Ready, ag.Desired)
	} else {
		f.Message += "; every agent pod is ready now, so today's nodes have IPv6, but a node image without it would stop the agent there"
	}
	return []Finding{f}
}

// checkHostNetworkPodIdentity flags host-network pods that use Pod Identity,
// a known failure (docs/behaviour.md#pod-identity-restrictions).
func checkHostNetworkPodIdentity(_ *Input, subj *facts.Subject) []Finding {
	var out []Finding
	for _, pf := range subj.Pods {
		p := pf.Pod
		if !p.Spec.HostNetwork || !facts.PodUsesPodIdentity(p) {
			continue
		}
		out = append(out, fail(podRef(p), "Pod runs on the host network and uses EKS Pod Identity: such pods' credential requests are known to fail (\"EKS does not have permissions to assume the associated role\") where the same pod without hostNetwork works",
			[]Evidence{ev("hostNetwork", "true", "pod.spec.hostNetwork"), ev("known issue", "aws/eks-pod-identity-agent#139", "github.com/aws/eks-pod-identity-agent/issues")},
			"run it without hostNetwork in "+ownerText(pf)+", or give its service account an IRSA role instead (kubectl annotate serviceaccount "+pf.Pod.Spec.ServiceAccountName+" -n "+p.Namespace+" "+facts.AnnotationRoleARN+"=<ROLE_ARN>), then "+RestartCommand(pf)))
	}
	return out
}

// checkClusterSupportsPodIdentity judges the cluster's version against the
// Pod Identity minimums (docs/behaviour.md#pod-identity-cluster-versions).
func checkClusterSupportsPodIdentity(s *Input, subj *facts.Subject) []Finding {
	if s.AWS == nil || s.AWS.Cluster == nil || !podIdentitySubject(s, subj) {
		return nil
	}
	c := s.AWS.Cluster
	obj := ObjectRef{Kind: "Cluster", Name: c.Name}
	if c.Err != nil {
		return []Finding{callUnknown(obj, "whether the cluster's version supports EKS Pod Identity", c.Err)}
	}
	supported, minimum, known := facts.PodIdentityClusterSupport(c.Version, c.PlatformVersion)
	evs := make([]Evidence, 0, 3)
	evs = append(evs, ev("version", c.Version, "eks:DescribeCluster"), ev("platformVersion", c.PlatformVersion, "eks:DescribeCluster"))
	switch {
	case !known:
		return []Finding{unknown(obj, "Could not tell whether the cluster supports EKS Pod Identity: its version "+strconv.Quote(c.Version)+" platform "+strconv.Quote(c.PlatformVersion)+" could not be read",
			"aws eks describe-cluster --name "+shellQuote(c.Name)+" --query 'cluster.[version,platformVersion]'", evs...)}
	case supported:
		return []Finding{pass(obj, "The cluster's version supports EKS Pod Identity", evs...)}
	}
	return []Finding{fail(obj, "Cluster "+c.Name+" runs Kubernetes "+c.Version+" "+c.PlatformVersion+", below the EKS Pod Identity minimum "+minimum,
		append(evs, ev("minimum", minimum, podIdentityDocs+" (cluster versions)")),
		"aws eks update-cluster-version --name "+shellQuote(c.Name)+" --kubernetes-version <NEXT_VERSION>  # EKS also raises platform versions by itself; see "+podIdentityDocs)}
}
