package diag_test

import (
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/diag"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/facts"
)

// piPodWith is the Pod Identity world with its pod edited, owned by
// deployment/web.
func piPodWith(edit func(*corev1.Pod)) *facts.Snapshot {
	p := podIdentityPod("web", facts.PodIdentityAudience)
	if edit != nil {
		edit(p)
	}
	return piScenario([]*corev1.Pod{p}, func(s *facts.Snapshot) {
		s.Subjects[0].Pods[0].Owner = facts.Owner{Kind: "Deployment", Name: "web"}
	})
}

func TestCheckContainerEndpoint(t *testing.T) {
	t.Parallel()
	uri := func(v string) *facts.Snapshot {
		return piPodWith(func(p *corev1.Pod) { setEnv(p, facts.EnvContainerCredentialsFull, v) })
	}
	tests := []struct {
		name string
		snap *facts.Snapshot
		want []want
	}{
		{"the agent", healthyPI(), []want{{status: diag.StatusPass, object: "pod/web[app]", evidence: []string{"AWS_CONTAINER_CREDENTIALS_FULL_URI=" + facts.PodIdentityFullURI}}}},
		{"loopback sidecar", uri("http://127.0.0.1:9911/creds"), []want{{status: diag.StatusPass}}},
		{"https anywhere", uri("https://creds.internal.example/v1"), []want{{status: diag.StatusPass}}},
		{"http to a pod IP is refused", uri("http://10.0.0.5/v1/credentials"),
			[]want{{status: diag.StatusFail, severity: diag.SeverityError, object: "pod/web[app]",
				message: "The SDKs refuse AWS_CONTAINER_CREDENTIALS_FULL_URI http://10.0.0.5/v1/credentials: over http the SDKs accept only loopback hosts and 169.254.170.2, 169.254.170.23 or fd00:ec2::23, not 10.0.0.5",
				fix:     "kubectl set env deployment/web -c app AWS_CONTAINER_CREDENTIALS_FULL_URI- -n shop"}}},
		{"http to a host name: botocore refuses every name but localhost", uri("http://creds.internal/v1"),
			[]want{{status: diag.StatusFail, severity: diag.SeverityError, message: "botocore accepts no name but localhost"}}},
		{"no container endpoint: nothing", awsScenario(nil).snapshot(), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			expect(t, findingsOf(t, tt.snap, "PODID-ENV-001"), tt.want)
		})
	}
}

func TestCheckAgentProxy(t *testing.T) {
	t.Parallel()
	proxied := func(extra map[string]string) *facts.Snapshot {
		return piPodWith(func(p *corev1.Pod) {
			setEnv(p, "HTTPS_PROXY", "http://proxy:3128")
			for k, v := range extra {
				setEnv(p, k, v)
			}
		})
	}
	tests := []struct {
		name string
		snap *facts.Snapshot
		want []want
	}{
		{"proxy without NO_PROXY", proxied(nil),
			[]want{{status: diag.StatusFail, severity: diag.SeverityWarning, object: "pod/web[app]",
				message:  "behind a proxy, but NO_PROXY does not list 169.254.170.23",
				evidence: []string{"HTTPS_PROXY=<set>"},
				fix:      "kubectl set env deployment/web -c app NO_PROXY=169.254.170.23 no_proxy=169.254.170.23 -n shop"}}},
		{"NO_PROXY lists other hosts: they are kept in the fix", proxied(map[string]string{"no_proxy": "localhost,.svc"}),
			[]want{{status: diag.StatusFail, evidence: []string{"no_proxy=localhost,.svc"}, fix: "no_proxy=169.254.170.23,localhost,.svc"}}},
		{"NO_PROXY lists the agent", proxied(map[string]string{"NO_PROXY": "localhost,169.254.170.23"}), []want{{status: diag.StatusPass}}},
		{"a link-local CIDR block covers it", proxied(map[string]string{"NO_PROXY": "10.0.0.0/8,169.254.0.0/16"}), []want{{status: diag.StatusPass}}},
		{"a redacted snapshot value cannot be judged", proxied(map[string]string{"NO_PROXY": facts.RedactedEnvValue}),
			[]want{{status: diag.StatusUnknown, message: "NO_PROXY was not kept in the snapshot"}}},
		{"no proxy: nothing", healthyPI(), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			expect(t, findingsOf(t, tt.snap, "PODID-ENV-002"), tt.want)
		})
	}
}

func TestCheckPodIdentityTokenAudience(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		snap *facts.Snapshot
		want []want
	}{
		{"pods.eks.amazonaws.com", healthyPI(), []want{{status: diag.StatusPass, object: "pod/web", evidence: []string{"token audience=pods.eks.amazonaws.com"}}}},
		{"a hand-made volume with the STS audience", piScenario([]*corev1.Pod{podIdentityPod("web", "sts.amazonaws.com")}, nil),
			[]want{{status: diag.StatusFail, severity: diag.SeverityError, object: "pod/web",
				message: `The Pod Identity token in volume eks-pod-identity-token has audience "sts.amazonaws.com", but the agent and EKS Auth accept only pods.eks.amazonaws.com`,
				fix:     "set audience: pods.eks.amazonaws.com on volume eks-pod-identity-token in pod/web"}}},
		{"the token file points at the IRSA token", piScenario([]*corev1.Pod{func() *corev1.Pod {
			p := healthyPod("web").Build()
			setEnv(p, facts.EnvContainerCredentialsFull, facts.PodIdentityFullURI)
			setEnv(p, facts.EnvContainerAuthTokenFile, facts.TokenPath)
			return p
		}()}, nil), []want{{status: diag.StatusFail, message: "in volume aws-iam-token has audience \"sts.amazonaws.com\"",
			evidence: []string{"token volume=aws-iam-token"}}}},
		{"an empty audience", piScenario([]*corev1.Pod{podIdentityPod("web", "")}, nil),
			[]want{{status: diag.StatusFail, message: "has audience empty (the token then carries the API server's own audience)"}}},
		{"IRSA pods: nothing", awsScenario(nil).snapshot(), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			expect(t, findingsOf(t, tt.snap, "PODID-TOKEN-001"), tt.want)
		})
	}
}
