package diag_test

import (
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/diag"
	"github.com/kubectl-irsa/kubectl-irsa/test/testutil"
)

func TestCheckTokenAudience(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		sc    scenario
		wants []want
	}{
		"default audience passes": {
			sc: scenario{sa: healthySA, pods: []*corev1.Pod{healthyPod("web").Build()}}, wants: []want{{status: diag.StatusPass, evidence: []string{"token audience=sts.amazonaws.com"}}},
		},
		"annotation changed after the pod was created": {
			sc: scenario{sa: sa("app").RoleARN(testutil.RoleARN).Annotate("eks.amazonaws.com/audience", "my-aud").Build(), pods: []*corev1.Pod{healthyPod("web").Build()}},
			wants: []want{{status: diag.StatusFail, severity: diag.SeverityError, message: `"sts.amazonaws.com" differs from the service account's audience "my-aud"`,
				evidence: []string{"eks.amazonaws.com/audience=my-aud"}, fix: "kubectl get pod web -n shop"}},
		},
		"non-default audience without annotation is info": {
			sc:    scenario{sa: healthySA, pods: []*corev1.Pod{pod("web", "app").Mutate(testutil.RoleARN, "amazonaws.com").Build()}},
			wants: []want{{status: diag.StatusFail, severity: diag.SeverityInfo, message: `"amazonaws.com" is not the default`}},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			expect(t, findingsOf(t, tc.sc.snapshot(), "IRSA-TOKEN-001"), tc.wants)
		})
	}
}

func TestCheckTokenPath(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		pod   *corev1.Pod
		wants []want
	}{
		"webhook path passes": {healthyPod("web").Build(), []want{{status: diag.StatusPass, object: "pod/web"}}},
		"default kubernetes token": {healthyPod("web").Env("app", "AWS_WEB_IDENTITY_TOKEN_FILE", "/var/run/secrets/kubernetes.io/serviceaccount/token").Build(),
			[]want{{status: diag.StatusFail, object: "pod/web[app]", message: "Incorrect token audience", evidence: []string{"AWS_WEB_IDENTITY_TOKEN_FILE=/var/run/secrets/kubernetes.io/serviceaccount/token"}}}},
		"path not mounted": {healthyPod("web").Unmount("app", "aws-iam-token").Build(),
			[]want{{status: diag.StatusFail, message: "No projected service-account token volume"}}},
		"windows pods are not judged on linux paths": {healthyPod("web").NodeSelector("kubernetes.io/os", "windows").Unmount("app", "aws-iam-token").Build(), nil},
		"non-default mount path passes, and says so": {mountedAt("/aws/token"), []want{
			{status: diag.StatusPass, object: "pod/web"},
			{status: diag.StatusPass, object: "pod/web[app]", message: "non-default path (the webhook runs with --token-mount-path)", evidence: []string{"mount path=/aws/token"}}}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			sc := scenario{sa: healthySA, pods: []*corev1.Pod{tc.pod}}
			expect(t, findingsOf(t, sc.snapshot(), "IRSA-TOKEN-002"), tc.wants)
		})
	}
}

func TestCheckTokenReadable(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		pod   *corev1.Pod
		wants []want
	}{
		"default mode 0644 is readable by anyone":    {healthyPod("web").RunAs("app", 1000).Container("side").RunAs("side", 2000).Build(), nil},
		"all containers share one user: owned by it": {healthyPod("web").TokenVolumeMode(0o600).RunAs("", 1000).Build(), nil},
		"restrictive mode, different users, no fsGroup": {healthyPod("web").Container("side").Mutate(testutil.RoleARN, "sts.amazonaws.com").TokenVolumeMode(0o600).RunAs("app", 1000).RunAs("side", 2000).Build(),
			[]want{{status: diag.StatusFail, object: "pod/web[app]", message: "runs as user 1000"}, {status: diag.StatusFail, object: "pod/web[side]", message: "runs as user 2000", fix: "fsGroup"}}},
		"restrictive mode fixed by fsGroup with group read": {healthyPod("web").Container("side").TokenVolumeMode(0o640).RunAs("app", 1000).RunAs("side", 2000).FSGroup(65534).Build(), nil},
		"root container is never flagged":                   {healthyPod("web").Container("side").TokenVolumeMode(0o600).RunAs("app", 0).RunAs("side", 2000).Build(), nil},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			sc := scenario{sa: healthySA, pods: []*corev1.Pod{tc.pod}}
			expect(t, findingsOf(t, sc.snapshot(), "IRSA-TOKEN-003"), tc.wants)
		})
	}
}

func TestCheckTokenExpiration(t *testing.T) {
	t.Parallel()
	stale := scenario{sa: sa("app").RoleARN(testutil.RoleARN).Annotate("eks.amazonaws.com/token-expiration", "3600").Build(), pods: []*corev1.Pod{healthyPod("web").Build()}}
	expect(t, findingsOf(t, stale.snapshot(), "IRSA-TOKEN-004"), []want{{status: diag.StatusFail, severity: diag.SeverityInfo, message: "expirationSeconds is 86400, but the serviceaccount annotation asks for 3600"}})
	podWins := scenario{sa: sa("app").RoleARN(testutil.RoleARN).Annotate("eks.amazonaws.com/token-expiration", "3600").Build(),
		pods: []*corev1.Pod{healthyPod("web").Annotate("eks.amazonaws.com/token-expiration", "86400").Build()}}
	expect(t, findingsOf(t, podWins.snapshot(), "IRSA-TOKEN-004"), []want{{status: diag.StatusPass}})
}

// mountedAt is a healthy pod as a webhook run with --token-mount-path=dir
// mutates it: the same volume, mounted at dir, and the env pointing there.
func mountedAt(dir string) *corev1.Pod {
	p := healthyPod("web").Build()
	for i := range p.Spec.Containers {
		c := &p.Spec.Containers[i]
		for j := range c.VolumeMounts {
			if c.VolumeMounts[j].Name == "aws-iam-token" {
				c.VolumeMounts[j].MountPath = dir
			}
		}
		for j := range c.Env {
			if c.Env[j].Name == "AWS_WEB_IDENTITY_TOKEN_FILE" {
				c.Env[j].Value = dir + "/token"
			}
		}
	}
	return p
}

// A pod mutated under a non-default mount path is healthy: no check fails.
func TestNonDefaultMountPathIsHealthy(t *testing.T) {
	t.Parallel()
	sc := scenario{sa: healthySA, pods: []*corev1.Pod{mountedAt("/aws/token")}}
	for _, d := range diag.Run(sc.snapshot()) {
		for _, f := range d.Findings {
			if f.Status != diag.StatusPass {
				t.Errorf("%s %s on %s: %s", f.ID, f.Status, f.Object.String(), f.Message)
			}
		}
	}
}
