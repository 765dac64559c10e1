package diag_test

import (
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/diag"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/facts"
)

func withAgent(edit func(*facts.PodIdentityAgent)) *facts.Snapshot {
	return piScenario([]*corev1.Pod{podIdentityPod("web", facts.PodIdentityAudience)}, func(s *facts.Snapshot) { edit(s.PodIdentityAgent) })
}

func TestCheckAgentReady(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		snap *facts.Snapshot
		want []want
	}{
		{"ready everywhere", healthyPI(), []want{{status: diag.StatusPass, object: "daemonset/eks-pod-identity-agent", message: "ready on all 3 nodes", evidence: []string{"desired=3", "ready=3"}}}},
		{"missing", withAgent(func(a *facts.PodIdentityAgent) { *a = facts.PodIdentityAgent{} }),
			[]want{{status: diag.StatusFail, severity: diag.SeverityError, message: "No eks-pod-identity-agent DaemonSet in kube-system",
				fix: "aws eks create-addon --cluster-name prod --addon-name eks-pod-identity-agent"}}},
		{"not ready on every node", withAgent(func(a *facts.PodIdentityAgent) { a.Ready = 1 }),
			[]want{{status: diag.StatusFail, severity: diag.SeverityError, message: "Only 1 of 3 agent pods are ready", evidence: []string{"ready=1"}, fix: "kubectl -n kube-system logs daemonset/eks-pod-identity-agent"}}},
		{"scheduled nowhere", withAgent(func(a *facts.PodIdentityAgent) { a.Desired, a.Ready = 0, 0 }),
			[]want{{status: diag.StatusFail, message: "scheduled on no node"}}},
		{"not on the host network", withAgent(func(a *facts.PodIdentityAgent) { a.HostNetwork = false }),
			[]want{{status: diag.StatusFail, message: "does not run on the host network"}}},
		{"unreadable: unknown, naming the RBAC rule", withAgent(func(a *facts.PodIdentityAgent) {
			*a = facts.PodIdentityAgent{Err: &facts.ReadError{Verb: "get", Resource: "daemonsets", Namespace: "kube-system", Forbidden: true, Message: "forbidden"}}
		}), []want{{status: diag.StatusUnknown, message: "Could not read the eks-pod-identity-agent DaemonSet: forbidden", fix: "grant get on daemonsets in namespace kube-system"}}},
		{"an IRSA subject, even without an agent: nothing", scenario{sa: healthySA, pods: []*corev1.Pod{healthyPod("web").Build()}, mutate: func(s *facts.Snapshot) {
			s.AWS = healthyAWS()
			s.PodIdentityAgent = &facts.PodIdentityAgent{}
		}}.snapshot(), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			expect(t, findingsOf(t, tt.snap, "PODID-AGENT-001"), tt.want)
		})
	}
}

func TestCheckAgentIPv6(t *testing.T) {
	t.Parallel()
	defaultArgs := func(a *facts.PodIdentityAgent) { a.Args = a.Args[:len(a.Args)-2] }
	tests := []struct {
		name string
		snap *facts.Snapshot
		want []want
	}{
		{"IPv4 only bind", healthyPI(), []want{{status: diag.StatusPass, evidence: []string{"bind hosts=169.254.170.23"}}}},
		{"the default binds IPv6 too, pods not ready: warning", withAgent(func(a *facts.PodIdentityAgent) { defaultArgs(a); a.Ready = 2 }),
			[]want{{status: diag.StatusFail, severity: diag.SeverityWarning, object: "daemonset/eks-pod-identity-agent",
				message:  "The cluster is IPv4, but the agent also binds [fd00:ec2::23]:80: on a node without IPv6 it exits with \"bind: cannot assign requested address\"",
				evidence: []string{"ipFamily=ipv4", "bind hosts=default (169.254.170.23 and [fd00:ec2::23])"},
				fix:      `aws eks update-addon --cluster-name prod --addon-name eks-pod-identity-agent --configuration-values '{"agent":{"additionalArgs":{"-b":"169.254.170.23"}}}'`}}},
		{"the default while every pod is ready: still a warning", withAgent(defaultArgs),
			[]want{{status: diag.StatusFail, severity: diag.SeverityWarning, message: "every agent pod is ready now, so today's nodes have IPv6", evidence: []string{"ready=3"}}}},
		{"an IPv6 cluster needs it", piScenario([]*corev1.Pod{podIdentityPod("web", facts.PodIdentityAudience)}, func(s *facts.Snapshot) {
			defaultArgs(s.PodIdentityAgent)
			s.AWS.Cluster.IPFamily = "ipv6"
		}), nil},
		{"cluster not described: nothing to judge", piScenario([]*corev1.Pod{podIdentityPod("web", facts.PodIdentityAudience)}, func(s *facts.Snapshot) {
			defaultArgs(s.PodIdentityAgent)
			s.AWS.Cluster = &facts.Cluster{Name: piCluster, Err: &facts.CallError{Op: "eks:DescribeCluster", Code: facts.ErrAccessDenied, Message: "denied"}}
		}), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			expect(t, findingsOf(t, tt.snap, "PODID-AGENT-002"), tt.want)
		})
	}
}

func TestCheckHostNetworkPodIdentity(t *testing.T) {
	t.Parallel()
	host := podIdentityPod("web", facts.PodIdentityAudience)
	host.Spec.HostNetwork = true
	expect(t, findingsOf(t, piScenario([]*corev1.Pod{host}, nil), "PODID-AGENT-003"), []want{{status: diag.StatusFail, severity: diag.SeverityWarning, object: "pod/web",
		message: "Pod runs on the host network and uses EKS Pod Identity", evidence: []string{"hostNetwork=true", "known issue=aws/eks-pod-identity-agent#139"},
		fix: "run it without hostNetwork in pod/web"}})
	expect(t, findingsOf(t, healthyPI(), "PODID-AGENT-003"), nil)
	irsaHost := healthyPod("web").Build()
	irsaHost.Spec.HostNetwork = true
	expect(t, findingsOf(t, scenario{sa: healthySA, pods: []*corev1.Pod{irsaHost}}.snapshot(), "PODID-AGENT-003"), nil)
}

func TestCheckClusterSupportsPodIdentity(t *testing.T) {
	t.Parallel()
	cluster := func(edit func(*facts.Cluster)) *facts.Snapshot {
		return piScenario([]*corev1.Pod{podIdentityPod("web", facts.PodIdentityAudience)}, func(s *facts.Snapshot) { edit(s.AWS.Cluster) })
	}
	tests := []struct {
		name string
		snap *facts.Snapshot
		want []want
	}{
		{"1.30 eks.5", healthyPI(), []want{{status: diag.StatusPass, object: "cluster/prod", evidence: []string{"version=1.30", "platformVersion=eks.5"}}}},
		{"1.28 eks.3 is below eks.4", cluster(func(c *facts.Cluster) { c.Version, c.PlatformVersion = "1.28", "eks.3" }),
			[]want{{status: diag.StatusFail, severity: diag.SeverityError, object: "cluster/prod", message: "runs Kubernetes 1.28 eks.3, below the EKS Pod Identity minimum 1.28 eks.4",
				evidence: []string{"minimum=1.28 eks.4"}, fix: "aws eks update-cluster-version --name prod"}}},
		{"1.23 is too old", cluster(func(c *facts.Cluster) { c.Version, c.PlatformVersion = "1.23", "eks.20" }),
			[]want{{status: diag.StatusFail, message: "below the EKS Pod Identity minimum 1.24"}}},
		{"1.33 is fine", cluster(func(c *facts.Cluster) { c.Version, c.PlatformVersion = "1.33", "eks.1" }), []want{{status: diag.StatusPass}}},
		{"DescribeCluster failed: unknown", cluster(func(c *facts.Cluster) {
			*c = facts.Cluster{Name: piCluster, Err: &facts.CallError{Op: "eks:DescribeCluster", Resource: piCluster, Code: facts.ErrAccessDenied, Message: "denied"}}
		}), []want{{status: diag.StatusUnknown, message: "eks:DescribeCluster failed (AccessDenied)", fix: "grant eks:DescribeCluster on prod"}}},
		{"an IRSA subject: nothing", scenario{sa: healthySA, pods: []*corev1.Pod{healthyPod("web").Build()}, mutate: func(s *facts.Snapshot) {
			s.AWS = healthyAWS()
			s.AWS.Cluster = &facts.Cluster{Name: piCluster, Version: "1.23"}
		}}.snapshot(), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			expect(t, findingsOf(t, tt.snap, "PODID-CLUSTER-001"), tt.want)
		})
	}
}
