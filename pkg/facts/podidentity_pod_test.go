package facts_test

import (
	"testing"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/facts"
	"github.com/kubectl-irsa/kubectl-irsa/test/testutil"
)

func TestIsPodIdentityAgentURI(t *testing.T) {
	for uri, want := range map[string]bool{
		facts.PodIdentityFullURI:                  true,
		"http://169.254.170.23:80/v1/credentials": true,
		"http://[fd00:ec2::23]/v1/credentials":    true,
		"https://169.254.170.23/v1/credentials":   false,
		"http://169.254.170.23:8080/v1":           false,
		"http://169.254.170.2/v2/credentials":     false,
		"http://localhost:9911/creds":             false,
		"not a url %":                             false,
	} {
		if got := facts.IsPodIdentityAgentURI(uri); got != want {
			t.Errorf("IsPodIdentityAgentURI(%q) = %v, want %v", uri, got, want)
		}
	}
}

func TestContainerEndpointProblem(t *testing.T) {
	tests := []struct {
		uri     string
		problem bool
	}{
		{facts.PodIdentityFullURI, false},
		{"http://[fd00:ec2::23]/v1/credentials", false},
		{"http://169.254.170.2/v2/credentials", false},
		{"http://127.0.0.1:9911/creds", false},
		{"http://[::1]/creds", false},
		{"http://localhost/creds", false},
		{"https://creds.example.com/v1", false},
		{"http://10.0.0.5/v1/credentials", true},
		{"http://169.254.169.254/latest", true},
		{"http://creds.example.com/v1", true},
		{"ftp://169.254.170.23/v1", true},
		{"http:///v1", true},
	}
	for _, tt := range tests {
		if p := facts.ContainerEndpointProblem(tt.uri); (p != "") != tt.problem {
			t.Errorf("ContainerEndpointProblem(%q) = %q; want a problem: %v", tt.uri, p, tt.problem)
		}
	}
}

func TestPodIdentityClusterSupport(t *testing.T) {
	tests := []struct {
		version, platform string
		supported, known  bool
		minimum           string
	}{
		{"1.24", "eks.13", true, true, "1.24 eks.13"},
		{"1.24", "eks.12", false, true, "1.24 eks.13"},
		{"1.28", "eks.3", false, true, "1.28 eks.4"},
		{"1.29", "eks.1", true, true, "1.29 eks.1"},
		{"1.31", "eks.10", true, true, "1.31 eks.4"},
		{"1.32", "eks.1", true, true, ""},
		{"1.23", "eks.20", false, true, "1.24"},
		{"1.30", "", false, false, "1.30 eks.2"},
		{"", "eks.1", false, false, ""},
	}
	for _, tt := range tests {
		s, m, k := facts.PodIdentityClusterSupport(tt.version, tt.platform)
		if s != tt.supported || k != tt.known || m != tt.minimum {
			t.Errorf("PodIdentityClusterSupport(%q, %q) = %v, %q, %v; want %v, %q, %v", tt.version, tt.platform, s, m, k, tt.supported, tt.minimum, tt.known)
		}
	}
}

func TestAgentBindsIPv6(t *testing.T) {
	base := []string{"/go-runner", "/eks-pod-identity-agent", "server", "--port", "80", "--cluster-name", "prod"}
	tests := []struct {
		name  string
		extra []string
		want  bool
	}{
		{"default binds both", nil, true},
		{"-b IPv4 only", []string{"-b", "169.254.170.23"}, false},
		{"--bind-hosts= IPv4 only", []string{"--bind-hosts=169.254.170.23"}, false},
		{"attached shorthand", []string{"-b169.254.170.23"}, false},
		{"both named", []string{"-b", "169.254.170.23", "-b", "[fd00:ec2::23]"}, true},
		{"IPv6 only", []string{"--bind-hosts", "[fd00:ec2::23]"}, true},
	}
	for _, tt := range tests {
		if got, _ := facts.AgentBindsIPv6(append(append([]string(nil), base...), tt.extra...)); got != tt.want {
			t.Errorf("%s: AgentBindsIPv6 = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestFargateReasonAndPodIdentityPods(t *testing.T) {
	onFargate := testutil.NewPod("shop", "web", "app").Label(facts.LabelFargateProfile, "fp-default").Build()
	if r := facts.FargateReason(onFargate); r == "" {
		t.Error("FargateReason: the Fargate profile label was not recognised")
	}
	scheduled := testutil.NewPod("shop", "web", "app").Build()
	scheduled.Spec.SchedulerName = facts.FargateScheduler
	if r := facts.FargateReason(scheduled); r == "" {
		t.Error("FargateReason: fargate-scheduler was not recognised")
	}
	if r := facts.FargateReason(testutil.NewPod("shop", "web", "app").Build()); r != "" {
		t.Errorf("FargateReason of an EC2 pod = %q", r)
	}
	pi := testutil.NewPod("shop", "web", "app").Env("app", facts.EnvContainerCredentialsFull, facts.PodIdentityFullURI).Build()
	if !facts.PodUsesPodIdentity(pi) || !facts.PodIdentityMutated(pi) {
		t.Error("a pod whose container points at the agent does not use Pod Identity")
	}
	ecs := testutil.NewPod("shop", "web", "app").Env("app", facts.EnvContainerCredentialsFull, "http://127.0.0.1:9911/creds").Build()
	if facts.PodUsesPodIdentity(ecs) {
		t.Error("a loopback container endpoint is not the Pod Identity agent")
	}
}
