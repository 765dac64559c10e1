package diag_test

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

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
			expect(t, findingsOf(tc.sc.snapshot(), "IRSA-TOKEN-001"), tc.wants)
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
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			sc := scenario{sa: healthySA, pods: []*corev1.Pod{tc.pod}}
			expect(t, findingsOf(sc.snapshot(), "IRSA-TOKEN-002"), tc.wants)
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
			expect(t, findingsOf(sc.snapshot(), "IRSA-TOKEN-003"), tc.wants)
		})
	}
}

func TestCheckTokenExpiration(t *testing.T) {
	t.Parallel()
	stale := scenario{sa: sa("app").RoleARN(testutil.RoleARN).Annotate("eks.amazonaws.com/token-expiration", "3600").Build(), pods: []*corev1.Pod{healthyPod("web").Build()}}
	expect(t, findingsOf(stale.snapshot(), "IRSA-TOKEN-004"), []want{{status: diag.StatusFail, severity: diag.SeverityInfo, message: "expirationSeconds is 86400, but the serviceaccount annotation asks for 3600"}})
	podWins := scenario{sa: sa("app").RoleARN(testutil.RoleARN).Annotate("eks.amazonaws.com/token-expiration", "3600").Build(),
		pods: []*corev1.Pod{healthyPod("web").Annotate("eks.amazonaws.com/token-expiration", "86400").Build()}}
	expect(t, findingsOf(podWins.snapshot(), "IRSA-TOKEN-004"), []want{{status: diag.StatusPass}})
}

func TestCheckStaticKeys(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		pod     *corev1.Pod
		sources map[string]diag.EnvSource
		wants   []want
	}{
		"clean": {healthyPod("web").Build(), nil, []want{{status: diag.StatusPass}}},
		"literal env keys, value never shown": {healthyPod("web").Env("app", "AWS_ACCESS_KEY_ID", "AKIAEXAMPLE").Env("app", "AWS_SECRET_ACCESS_KEY", "s3cr3t").Build(), nil,
			[]want{{status: diag.StatusFail, severity: diag.SeverityError, object: "pod/web[app]", evidence: []string{"AWS_ACCESS_KEY_ID=<set, value not shown>", "AWS_SECRET_ACCESS_KEY=<set, value not shown>"}}}},
		"keys through envFrom secret": {healthyPod("web").EnvFromSecret("app", "aws-creds", "").Build(),
			map[string]diag.EnvSource{"Secret/aws-creds": {Kind: "Secret", Name: "aws-creds", Keys: []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}}},
			[]want{{status: diag.StatusFail, evidence: []string{"AWS_ACCESS_KEY_ID=<set, value not shown>"}}}},
		"envFrom prefix changes the name": {healthyPod("web").EnvFromSecret("app", "aws-creds", "LEGACY_").Build(),
			map[string]diag.EnvSource{"Secret/aws-creds": {Kind: "Secret", Name: "aws-creds", Keys: []string{"AWS_ACCESS_KEY_ID"}}},
			[]want{{status: diag.StatusPass}}},
		"unreadable secret is unknown": {healthyPod("web").EnvFromSecret("app", "aws-creds", "").Build(),
			map[string]diag.EnvSource{"Secret/aws-creds": {Kind: "Secret", Name: "aws-creds", Err: &diag.ReadError{Forbidden: true, Message: "secrets \"aws-creds\" is forbidden"}}},
			[]want{{status: diag.StatusUnknown, message: "Could not read Secret/aws-creds", fix: "grant get on secrets in namespace shop"}, {status: diag.StatusPass}}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			sc := scenario{sa: healthySA, pods: []*corev1.Pod{tc.pod}, sources: tc.sources}
			expect(t, findingsOf(sc.snapshot(), "IRSA-CRED-001"), tc.wants)
		})
	}
}

func TestCheckProfilesAndPodIdentity(t *testing.T) {
	t.Parallel()
	prof := scenario{sa: healthySA, pods: []*corev1.Pod{healthyPod("web").Env("app", "AWS_PROFILE", "dev").Mount("app", "creds", "/root/.aws").Build()}}
	expect(t, findingsOf(prof.snapshot(), "IRSA-CRED-002"), []want{{status: diag.StatusFail, severity: diag.SeverityWarning, evidence: []string{"AWS_PROFILE=dev", "volumeMount=creds at /root/.aws"}}})
	clean := scenario{sa: healthySA, pods: []*corev1.Pod{healthyPod("web").Build()}}
	expect(t, findingsOf(clean.snapshot(), "IRSA-CRED-002"), []want{{status: diag.StatusPass}})

	mix := scenario{sa: healthySA, pods: []*corev1.Pod{healthyPod("web").Env("app", "AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://169.254.170.23/v1/credentials").Build()}}
	expect(t, findingsOf(mix.snapshot(), "IRSA-CRED-003"), []want{{status: diag.StatusFail, object: "pod/web[app]", message: "uses web identity (IRSA) first"}})
	expect(t, findingsOf(clean.snapshot(), "IRSA-CRED-003"), nil)
}

func TestCheckRegion(t *testing.T) {
	t.Parallel()
	noRegion := func(arn string) *corev1.Pod {
		return pod("web", "app").Mutate(arn, "sts.amazonaws.com").RemoveEnv("app", "AWS_REGION").RemoveEnv("app", "AWS_DEFAULT_REGION").Build()
	}
	tests := map[string]struct {
		arn   string
		pod   *corev1.Pod
		wants []want
	}{
		"region present":            {testutil.RoleARN, healthyPod("web").Build(), []want{{status: diag.StatusPass}}},
		"missing in aws is warning": {testutil.RoleARN, noRegion(testutil.RoleARN), []want{{status: diag.StatusFail, severity: diag.SeverityWarning, evidence: []string{"partition=aws"}}}},
		"missing in china is error": {"arn:aws-cn:iam::111122223333:role/app", noRegion("arn:aws-cn:iam::111122223333:role/app"),
			[]want{{status: diag.StatusFail, severity: diag.SeverityError, message: "partition aws-cn has no global STS endpoint", fix: "AWS_REGION=<REGION>"}}},
		"missing in govcloud is error": {"arn:aws-us-gov:iam::111122223333:role/app", noRegion("arn:aws-us-gov:iam::111122223333:role/app"),
			[]want{{status: diag.StatusFail, severity: diag.SeverityError, evidence: []string{"partition=aws-us-gov"}}}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			sc := scenario{sa: sa("app").RoleARN(tc.arn).Build(), pods: []*corev1.Pod{tc.pod}}
			expect(t, findingsOf(sc.snapshot(), "IRSA-REGION-001"), tc.wants)
		})
	}
	legacyCN := scenario{sa: sa("app").RoleARN("arn:aws-cn:iam::111122223333:role/app").Build(),
		pods: []*corev1.Pod{pod("web", "app").Mutate("arn:aws-cn:iam::111122223333:role/app", "sts.amazonaws.com").Env("app", "AWS_STS_REGIONAL_ENDPOINTS", "legacy").Build()}}
	expect(t, findingsOf(legacyCN.snapshot(), "IRSA-REGION-002"), []want{{status: diag.StatusFail, severity: diag.SeverityWarning, message: "partition aws-cn"}})
	legacy := scenario{sa: healthySA, pods: []*corev1.Pod{healthyPod("web").Env("app", "AWS_STS_REGIONAL_ENDPOINTS", "legacy").Build()}}
	expect(t, findingsOf(legacy.snapshot(), "IRSA-REGION-002"), []want{{status: diag.StatusFail, severity: diag.SeverityInfo, message: "us-east-1"}})
	bogus := scenario{sa: healthySA, pods: []*corev1.Pod{healthyPod("web").Env("app", "AWS_STS_REGIONAL_ENDPOINTS", "Regional").Build()}}
	expect(t, findingsOf(bogus.snapshot(), "IRSA-REGION-002"), []want{{status: diag.StatusFail, severity: diag.SeverityWarning, message: `"Regional" is neither`}})
}

func TestCheckWebhook(t *testing.T) {
	t.Parallel()
	unmutated := func() scenario {
		return scenario{sa: healthySA, pods: []*corev1.Pod{pod("web", "app").Build()}}
	}
	sc := unmutated()
	sc.mutate = func(s *diag.Snapshot) { s.Webhooks.Configs = nil }
	expect(t, findingsOf(sc.snapshot(), "IRSA-WEBHOOK-001"), []want{{status: diag.StatusFail, severity: diag.SeverityError, message: "No MutatingWebhookConfiguration"}})

	forbidden := unmutated()
	forbidden.mutate = func(s *diag.Snapshot) {
		s.Webhooks = diag.WebhookFacts{Err: &diag.ReadError{Forbidden: true, Message: "forbidden"}}
	}
	expect(t, findingsOf(forbidden.snapshot(), "IRSA-WEBHOOK-001"), []want{{status: diag.StatusUnknown, fix: "kubectl auth can-i list mutatingwebhookconfigurations"}})
	expect(t, findingsOf(forbidden.snapshot(), "IRSA-WEBHOOK-002"), nil)

	nsSel := unmutated()
	nsSel.mutate = func(s *diag.Snapshot) {
		s.Webhooks.Configs[0].Webhooks[0].NamespaceSelector = &metav1.LabelSelector{MatchLabels: map[string]string{"irsa": "enabled"}}
	}
	expect(t, findingsOf(nsSel.snapshot(), "IRSA-WEBHOOK-002"), []want{{status: diag.StatusFail, object: "pod/web", message: "namespaceSelector excludes namespace shop", evidence: []string{"namespaceSelector=irsa=enabled", "namespace labels=team=shop"}}})

	nsUnreadable := nsSel
	nsUnreadable.mutate = func(s *diag.Snapshot) {
		s.Webhooks.Configs[0].Webhooks[0].NamespaceSelector = &metav1.LabelSelector{MatchLabels: map[string]string{"irsa": "enabled"}}
		delete(s.Namespaces, ns)
	}
	expect(t, findingsOf(nsUnreadable.snapshot(), "IRSA-WEBHOOK-002"), []want{{status: diag.StatusUnknown, message: "namespaceSelector"}})

	objSel := scenario{sa: healthySA, pods: []*corev1.Pod{pod("web", "app").Label("eks.amazonaws.com/skip-pod-identity-webhook", "x").Build()}}
	expect(t, findingsOf(objSel.snapshot(), "IRSA-WEBHOOK-002"), []want{{status: diag.StatusFail, message: "objectSelector excludes this pod"}})

	rules := unmutated()
	rules.mutate = func(s *diag.Snapshot) { s.Webhooks.Configs[0].Webhooks[0].Rules[0].Resources = []string{"deployments"} }
	expect(t, findingsOf(rules.snapshot(), "IRSA-WEBHOOK-002"), []want{{status: diag.StatusFail, message: "do not cover CREATE of pods"}})

	expect(t, findingsOf(unmutated().snapshot(), "IRSA-WEBHOOK-002"), []want{{status: diag.StatusPass}})
	healthy := scenario{sa: healthySA, pods: []*corev1.Pod{healthyPod("web").Build()}}
	expect(t, findingsOf(healthy.snapshot(), "IRSA-WEBHOOK-001"), []want{{status: diag.StatusPass, evidence: []string{"mutatingwebhookconfiguration=pod-identity-webhook"}}})
}

func TestCatalogue(t *testing.T) {
	t.Parallel()
	if err := diag.ValidateCatalogue(); err != nil {
		t.Fatal(err)
	}
	if n := len(diag.Catalogue()); n < 22 {
		t.Fatalf("catalogue has %d checks, want at least 22", n)
	}
}

func TestHealthyScenarioHasNoFailures(t *testing.T) {
	t.Parallel()
	sc := scenario{sa: healthySA, pods: []*corev1.Pod{healthyPod("web").InitContainer("init", false).Mutate(testutil.RoleARN, "sts.amazonaws.com").Build()}}
	// Mutate ran twice on "app": rebuild cleanly instead.
	sc.pods = []*corev1.Pod{pod("web", "app").InitContainer("init", false).Mutate(testutil.RoleARN, "sts.amazonaws.com").Build()}
	for _, d := range diag.Run(sc.snapshot()) {
		for _, f := range d.Findings {
			if f.Status != diag.StatusPass {
				t.Errorf("healthy scenario: %s %s %s: %s", f.ID, f.Status, f.Object.String(), f.Message)
			}
		}
	}
	if diag.Failing(diag.Run(sc.snapshot()), diag.SeverityInfo) {
		t.Fatal("healthy scenario fails at info")
	}
}
