package diag_test

import (
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/diag"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/facts"
)

func TestCheckCredentialSource(t *testing.T) {
	t.Parallel()
	piPod := func(edit func(*corev1.Pod)) []*corev1.Pod {
		p := podIdentityPod("web", facts.PodIdentityAudience)
		if edit != nil {
			edit(p)
		}
		return []*corev1.Pod{p}
	}
	env := func(k, v string) func(*corev1.Pod) {
		return func(p *corev1.Pod) {
			p.Spec.Containers[0].Env = append(p.Spec.Containers[0].Env, corev1.EnvVar{Name: k, Value: v})
		}
	}
	irsaWith := func(edit func(*corev1.Pod)) *facts.Snapshot {
		p := healthyPod("web").Build()
		if edit != nil {
			edit(p)
		}
		return scenario{sa: healthySA, pods: []*corev1.Pod{p}}.snapshot()
	}
	secretKeys := map[string]facts.EnvSource{"Secret/aws": {Kind: "Secret", Name: "aws", Keys: []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}}}
	tests := []struct {
		name   string
		snap   *facts.Snapshot
		want   want
		notice bool
	}{
		{"Pod Identity names the association's role", healthyPI(),
			want{status: diag.StatusPass, severity: diag.SeverityInfo, object: "pod/web[app]", message: "Gets credentials from Pod Identity (role " + piRole + ")",
				evidence: []string{"source=pod identity", "association=a-1"}}, true},
		{"Pod Identity with a target role names both", piScenario(piPod(nil), func(s *facts.Snapshot) {
			s.AWS.PodIdentity.Associations[0].TargetRoleARN = piTarget
		}), want{message: "Gets credentials from Pod Identity (role " + piTarget + ", assumed through " + piRole + ")", evidence: []string{"target role=" + piTarget}}, true},
		{"Pod Identity env without an association any more", piScenario(piPod(nil), func(s *facts.Snapshot) {
			s.AWS.PodIdentity.Associations = nil
		}), want{message: "no association covers shop/app any more"}, true},
		{"IRSA names the pod's role, and is no notice", irsaWith(nil),
			want{message: "Gets credentials from IRSA (role arn:aws:iam::111122223333:role/app)", evidence: []string{"source=web identity"}}, false},
		{"static keys from an envFrom Secret come first", scenario{sa: healthySA, sources: secretKeys, pods: []*corev1.Pod{healthyPod("web").EnvFromSecret("app", "aws", "").Build()}}.snapshot(),
			want{message: "Gets credentials from static keys in its environment", evidence: []string{"AWS_ACCESS_KEY_ID=<set, value not shown>"}}, false},
		{"static keys and AWS_PROFILE: JavaScript v3 disagrees", irsaWith(func(p *corev1.Pod) {
			env("AWS_ACCESS_KEY_ID", "x")(p)
			env("AWS_SECRET_ACCESS_KEY", "y")(p)
			env("AWS_PROFILE", "dev")(p)
		}), want{message: "JavaScript v3 skips environment keys when AWS_PROFILE is set"}, false},
		{"web identity and a profile: JavaScript v3 lets the profile win", irsaWith(env("AWS_PROFILE", "dev")),
			want{message: "Gets credentials from IRSA (role arn:aws:iam::111122223333:role/app); JavaScript v3 uses the shared config profile before web identity"}, false},
		{"both env sets: web identity wins", piScenario(piPod(func(p *corev1.Pod) {
			env(facts.EnvRoleARN, piRole)(p)
			env(facts.EnvTokenFile, facts.TokenPath)(p)
		}), nil), want{message: "Gets credentials from IRSA (role " + piRole + "); it also carries the Pod Identity variables, which every SDK tries only after web identity"}, true},
		{"a profile before Pod Identity: both outcomes named", piScenario(piPod(env("AWS_PROFILE", "dev")), nil),
			want{message: "Gets credentials from the shared config files (profile dev), if that profile holds credentials; otherwise gets credentials from Pod Identity (role " + piRole + ")",
				evidence: []string{"source=shared files", "AWS_PROFILE=dev"}}, true},
		{"nothing set: the node's role, though an association exists", piScenario([]*corev1.Pod{pod("web", "app").Build()}, nil),
			want{message: "Falls back to the node's instance role through instance metadata (IMDS): it has no IRSA or Pod Identity variables although an association exists (PODID-ASSOC-001)",
				evidence: []string{"source=instance metadata"}}, true},
		{"Fargate has no instance metadata", piScenario([]*corev1.Pod{pod("web", "app").Label(facts.LabelFargateProfile, "fp").Build()}, nil),
			want{message: "No credentials: nothing earlier in the chain is set, and Fargate pods have no instance metadata"}, true},
		{"instance metadata turned off", irsaWith(func(p *corev1.Pod) {
			p.Spec.Containers[0].Env = []corev1.EnvVar{{Name: facts.EnvEC2MetadataDisabled, Value: "true"}}
			p.Spec.Containers[0].VolumeMounts = nil
		}), want{message: "AWS_EC2_METADATA_DISABLED=true turns off the last link"}, false},
		{"a container endpoint the SDKs refuse", piScenario(piPod(func(p *corev1.Pod) {
			p.Spec.Containers[0].Env[0].Value = "http://10.0.0.5/creds"
		}), nil), want{message: "No credentials from its container credentials endpoint http://10.0.0.5/creds: the SDKs refuse it", evidence: []string{"source=none"}}, true},
		{"the ECS relative URI", irsaWith(func(p *corev1.Pod) {
			p.Spec.Containers[0].Env = []corev1.EnvVar{{Name: facts.EnvContainerCredentialsRelative, Value: "/v2/credentials/x"}}
		}), want{message: "the ECS container credentials endpoint 169.254.170.2", evidence: []string{"source=ecs endpoint"}}, false},
		{"a token file without a role ARN is a hard error", irsaWith(func(p *corev1.Pod) {
			p.Spec.Containers[0].Env = []corev1.EnvVar{{Name: facts.EnvTokenFile, Value: facts.TokenPath}}
		}), want{message: "No credentials: it sets AWS_WEB_IDENTITY_TOKEN_FILE without AWS_ROLE_ARN, so Go v2 fails with \"role ARN is not set\""}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := findingsOf(t, tt.snap, "CREDS-001")
			expect(t, got, []want{tt.want})
			if got[0].Notice != tt.notice {
				t.Errorf("notice %v, want %v", got[0].Notice, tt.notice)
			}
		})
	}
	// No pods: nothing to say.
	expect(t, findingsOf(t, piScenario(nil, nil), "CREDS-001"), nil)
}

// Replicas with the same answer make one notice that names them; a pod with
// another answer makes its own.
func TestCredentialNoticePerAnswer(t *testing.T) {
	t.Parallel()
	snap := piScenario([]*corev1.Pod{podIdentityPod("web-1", facts.PodIdentityAudience), podIdentityPod("web-2", facts.PodIdentityAudience),
		pod("web-0", "app").Build(), podIdentityPod("web-3", facts.PodIdentityAudience)}, nil)
	var notices []diag.Finding
	all := findingsOf(t, snap, "CREDS-001")
	for _, f := range all {
		if f.Notice {
			notices = append(notices, f)
		}
	}
	expect(t, notices, []want{
		{object: "pod/web-0[app]", message: "Falls back to the node's instance role"},
		{object: "pod/web-1[app]", message: "Gets credentials from Pod Identity", evidence: []string{"same for pods=web-2, web-3"}}})
	if len(all) != 4 {
		t.Errorf("got %d CREDS-001 findings, want one per container (4)", len(all))
	}
}
