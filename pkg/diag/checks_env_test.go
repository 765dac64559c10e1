package diag_test

import (
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/diag"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/facts"
	"github.com/kubectl-irsa/kubectl-irsa/test/testutil"
)

func TestCheckStaticKeys(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		pod     *corev1.Pod
		sources map[string]facts.EnvSource
		wants   []want
	}{
		"clean": {healthyPod("web").Build(), nil, []want{{status: diag.StatusPass}}},
		"literal env keys, value never shown": {healthyPod("web").Env("app", "AWS_ACCESS_KEY_ID", "AKIAEXAMPLE").Env("app", "AWS_SECRET_ACCESS_KEY", "s3cr3t").Build(), nil,
			[]want{{status: diag.StatusFail, severity: diag.SeverityError, object: "pod/web[app]", evidence: []string{"AWS_ACCESS_KEY_ID=<set, value not shown>", "AWS_SECRET_ACCESS_KEY=<set, value not shown>"}}}},
		"keys through envFrom secret": {healthyPod("web").EnvFromSecret("app", "aws-creds", "").Build(),
			map[string]facts.EnvSource{"Secret/aws-creds": {Kind: "Secret", Name: "aws-creds", Keys: []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}}},
			[]want{{status: diag.StatusFail, evidence: []string{"AWS_ACCESS_KEY_ID=<set, value not shown>"}}}},
		"envFrom prefix changes the name": {healthyPod("web").EnvFromSecret("app", "aws-creds", "LEGACY_").Build(),
			map[string]facts.EnvSource{"Secret/aws-creds": {Kind: "Secret", Name: "aws-creds", Keys: []string{"AWS_ACCESS_KEY_ID"}}},
			[]want{{status: diag.StatusPass}}},
		"unreadable secret is unknown": {healthyPod("web").EnvFromSecret("app", "aws-creds", "").Build(),
			map[string]facts.EnvSource{"Secret/aws-creds": {Kind: "Secret", Name: "aws-creds", Err: &facts.ReadError{Forbidden: true, Message: "secrets \"aws-creds\" is forbidden"}}},
			[]want{{status: diag.StatusUnknown, message: "Could not read Secret/aws-creds", fix: "grant get on secrets in namespace shop"}, {status: diag.StatusPass}}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			sc := scenario{sa: healthySA, pods: []*corev1.Pod{tc.pod}, sources: tc.sources}
			expect(t, findingsOf(t, sc.snapshot(), "IRSA-CRED-001"), tc.wants)
		})
	}
}

func TestCheckProfilesAndPodIdentity(t *testing.T) {
	t.Parallel()
	prof := scenario{sa: healthySA, pods: []*corev1.Pod{healthyPod("web").Env("app", "AWS_PROFILE", "dev").Mount("app", "creds", "/root/.aws").Build()}}
	expect(t, findingsOf(t, prof.snapshot(), "IRSA-CRED-002"), []want{{status: diag.StatusFail, severity: diag.SeverityWarning, evidence: []string{"AWS_PROFILE=dev", "volumeMount=creds at /root/.aws"}}})
	clean := scenario{sa: healthySA, pods: []*corev1.Pod{healthyPod("web").Build()}}
	expect(t, findingsOf(t, clean.snapshot(), "IRSA-CRED-002"), []want{{status: diag.StatusPass}})

	mix := scenario{sa: healthySA, pods: []*corev1.Pod{healthyPod("web").Env("app", "AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://169.254.170.23/v1/credentials").Build()}}
	expect(t, findingsOf(t, mix.snapshot(), "IRSA-CRED-003"), []want{{status: diag.StatusFail, object: "pod/web[app]", message: "uses web identity (IRSA) first"}})
	expect(t, findingsOf(t, clean.snapshot(), "IRSA-CRED-003"), nil)
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
			expect(t, findingsOf(t, sc.snapshot(), "IRSA-REGION-001"), tc.wants)
		})
	}
	legacyCN := scenario{sa: sa("app").RoleARN("arn:aws-cn:iam::111122223333:role/app").Build(),
		pods: []*corev1.Pod{pod("web", "app").Mutate("arn:aws-cn:iam::111122223333:role/app", "sts.amazonaws.com").Env("app", "AWS_STS_REGIONAL_ENDPOINTS", "legacy").Build()}}
	expect(t, findingsOf(t, legacyCN.snapshot(), "IRSA-REGION-002"), []want{{status: diag.StatusFail, severity: diag.SeverityWarning, message: "partition aws-cn"}})
	legacy := scenario{sa: healthySA, pods: []*corev1.Pod{healthyPod("web").Env("app", "AWS_STS_REGIONAL_ENDPOINTS", "legacy").Build()}}
	expect(t, findingsOf(t, legacy.snapshot(), "IRSA-REGION-002"), []want{{status: diag.StatusFail, severity: diag.SeverityInfo, message: "us-east-1"}})
	bogus := scenario{sa: healthySA, pods: []*corev1.Pod{healthyPod("web").Env("app", "AWS_STS_REGIONAL_ENDPOINTS", "Regional").Build()}}
	expect(t, findingsOf(t, bogus.snapshot(), "IRSA-REGION-002"), []want{{status: diag.StatusFail, severity: diag.SeverityWarning, message: `"Regional" is neither`}})
}

func TestCheckRegionsAgree(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		pod   *corev1.Pod
		wants []want
	}{
		"the webhook's two equal regions pass": {healthyPod("web").Build(), []want{{status: diag.StatusPass, object: "pod/web"}}},
		"two regions by hand warn with both values": {healthyPod("web").Env("app", "AWS_REGION", "eu-west-1").Env("app", "AWS_DEFAULT_REGION", "us-east-1").Build(),
			[]want{{status: diag.StatusFail, severity: diag.SeverityWarning, object: "pod/web[app]", message: "boto3 and the AWS CLI use us-east-1, the Go, Java and JavaScript SDKs eu-west-1",
				evidence: []string{"AWS_REGION=eu-west-1", "AWS_DEFAULT_REGION=us-east-1"}, fix: "kubectl set env pod/web -c app AWS_DEFAULT_REGION=eu-west-1 -n shop"}}},
		"one region alone is not compared": {healthyPod("web").RemoveEnv("app", "AWS_DEFAULT_REGION").Env("app", "AWS_REGION", "eu-west-1").Build(),
			[]want{{status: diag.StatusPass}}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			sc := scenario{sa: healthySA, pods: []*corev1.Pod{tc.pod}}
			expect(t, findingsOf(t, sc.snapshot(), "IRSA-REGION-003"), tc.wants)
		})
	}
	// A service account without IRSA says nothing.
	plain := scenario{sa: sa("app").Build(), pods: []*corev1.Pod{pod("web", "app").Env("app", "AWS_REGION", "eu-west-1").Env("app", "AWS_DEFAULT_REGION", "us-east-1").Build()}}
	expect(t, findingsOf(t, plain.snapshot(), "IRSA-REGION-003"), nil)
}

// Credentials that shadow Pod Identity are named as shadowing Pod Identity,
// not IRSA.
func TestShadowingChecksOnPodIdentityContainers(t *testing.T) {
	t.Parallel()
	keys := podIdentityPod("web", facts.PodIdentityAudience)
	setEnv(keys, "AWS_ACCESS_KEY_ID", "x")
	setEnv(keys, "AWS_SECRET_ACCESS_KEY", "y")
	expect(t, findingsOf(t, piScenario([]*corev1.Pod{keys}, nil), "IRSA-CRED-001"),
		[]want{{status: diag.StatusFail, object: "pod/web[app]", message: "so EKS Pod Identity is never used"}})
	profile := podIdentityPod("web", facts.PodIdentityAudience)
	setEnv(profile, "AWS_PROFILE", "dev")
	expect(t, findingsOf(t, piScenario([]*corev1.Pod{profile}, nil), "IRSA-CRED-002"),
		[]want{{status: diag.StatusFail, message: "takes precedence over EKS Pod Identity", evidence: []string{"AWS_PROFILE=dev"}}})
}
