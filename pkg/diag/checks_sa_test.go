package diag_test

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/diag"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/facts"
	"github.com/kubectl-irsa/kubectl-irsa/test/testutil"
)

func TestCheckSAExists(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		sc    scenario
		wants []want
	}{
		"missing service account names it and the pods": {
			sc:    scenario{saName: "ghost", pods: []*corev1.Pod{pod("web", "ghost").Build()}},
			wants: []want{{status: diag.StatusFail, severity: diag.SeverityError, object: "serviceaccount/ghost", message: `"ghost" does not exist in namespace shop`, evidence: []string{"serviceAccountName=ghost", "pods=web"}, fix: "kubectl create serviceaccount ghost -n shop"}},
		},
		"present service account passes": {
			sc:    scenario{sa: healthySA, pods: []*corev1.Pod{healthyPod("web").Build()}},
			wants: []want{{status: diag.StatusPass}},
		},
		"unreadable service account is unknown, not missing": {
			sc: scenario{saName: "app", mutate: func(s *facts.Snapshot) {
				s.Subjects[0].ServiceAccountErr = &facts.ReadError{Verb: "get", Resource: "serviceaccounts", Forbidden: true, Message: "forbidden"}
			}},
			wants: []want{{status: diag.StatusUnknown, message: "forbidden", fix: "grant get on serviceaccounts"}},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			expect(t, findingsOf(t, tc.sc.snapshot(), "IRSA-SA-001"), tc.wants)
		})
	}
}

func TestCheckSAAnnotated(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		sc    scenario
		wants []want
	}{
		"no annotation fails with the annotate command": {
			sc:    scenario{sa: sa("app").Build(), pods: []*corev1.Pod{pod("web", "app").Build()}},
			wants: []want{{status: diag.StatusFail, severity: diag.SeverityError, message: "has no eks.amazonaws.com/role-arn annotation", fix: "kubectl annotate serviceaccount app -n shop eks.amazonaws.com/role-arn=<ROLE_ARN>"}},
		},
		"empty annotation fails": {
			sc:    scenario{sa: sa("app").Annotate("eks.amazonaws.com/role-arn", " ").Build()},
			wants: []want{{status: diag.StatusFail, message: "annotation is empty"}},
		},
		"pods still carrying AWS_ROLE_ARN are shown as evidence": {
			sc:    scenario{sa: sa("app").Build(), pods: []*corev1.Pod{healthyPod("web").Build()}},
			wants: []want{{status: diag.StatusFail, message: "its pods still carry AWS_ROLE_ARN", evidence: []string{"pod web AWS_ROLE_ARN=" + "arn:aws:iam::111122223333:role/app"}}},
		},
		"pod identity pods pass as info": {
			sc:    scenario{sa: sa("app").Build(), pods: []*corev1.Pod{pod("web", "app").Env("app", "AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://169.254.170.23/v1/credentials").Build()}},
			wants: []want{{status: diag.StatusPass, severity: diag.SeverityInfo, message: "EKS Pod Identity"}},
		},
		"annotated passes with the ARN as evidence": {
			sc:    scenario{sa: healthySA},
			wants: []want{{status: diag.StatusPass, evidence: []string{"eks.amazonaws.com/role-arn=arn:aws:iam::111122223333:role/app"}}},
		},
		"missing service account: no finding here (IRSA-SA-001 reports it)": {
			sc: scenario{saName: "ghost"},
		},
		"another annotated service account of the namespace is named": {
			sc: scenario{sa: sa("web").Build(), pods: []*corev1.Pod{pod("web-1", "web").Build()}, mutate: func(s *facts.Snapshot) {
				s.RoleServiceAccounts = map[string]map[string]string{"shop": {"web-sa": testutil.RoleARN, "batch": "arn:aws:iam::111122223333:role/batch"}}
			}},
			wants: []want{{status: diag.StatusFail, message: "did you mean service account web-sa (annotated with role " + testutil.RoleARN + ")? It is annotated in the same namespace.",
				evidence: []string{"serviceaccount web-sa eks.amazonaws.com/role-arn=" + testutil.RoleARN}, fix: "set serviceAccountName: web-sa in the pod template"}},
		},
		"the workload's template names the annotated one": {
			sc: scenario{sa: sa("default").Build(), pods: []*corev1.Pod{pod("web-1", "default").Build()}, mutate: func(s *facts.Snapshot) {
				s.Subjects[0].Workloads = []facts.Workload{{Kind: "Deployment", Name: "web", TemplateServiceAccount: "app"}}
				s.RoleServiceAccounts = map[string]map[string]string{"shop": {"app": testutil.RoleARN, "default-x": "arn:aws:iam::111122223333:role/x"}}
			}},
			wants: []want{{status: diag.StatusFail, message: "did you mean service account app (annotated with role " + testutil.RoleARN + ")? deployment/web names it in its pod template."}},
		},
		"no annotation, a role from the webhook's ConfigMap: pass": {
			sc: scenario{sa: sa("worker").Build(), pods: []*corev1.Pod{pod("worker-1", "worker").Mutate(testutil.RoleARN, "sts.amazonaws.com").Build()}, mutate: func(s *facts.Snapshot) {
				s.WebhookConfigMap = &facts.WebhookConfigMap{Namespace: "irsa-system"}
				s.Subjects[0].WebhookConfig = &facts.WebhookConfigEntry{Key: "shop/worker", RoleARN: testutil.RoleARN}
			}},
			wants: []want{{status: diag.StatusPass, message: "the webhook's ConfigMap irsa-system/pod-identity-webhook gives it role " + testutil.RoleARN,
				evidence: []string{"entry shop/worker=" + testutil.RoleARN}}},
		},
		"no annotation, pods carry a role, the ConfigMap unreadable: unknown": {
			sc: scenario{sa: sa("worker").Build(), pods: []*corev1.Pod{pod("worker-1", "worker").Mutate(testutil.RoleARN, "sts.amazonaws.com").Build()}, mutate: func(s *facts.Snapshot) {
				s.WebhookConfigMap = &facts.WebhookConfigMap{Err: &facts.ReadError{Verb: "list", Resource: "configmaps", Forbidden: true, Message: "forbidden"}}
			}},
			wants: []want{{status: diag.StatusUnknown, message: "could not be read: forbidden", fix: "grant list on configmaps (pod-identity-webhook)"}},
		},
		"no annotated service account: no guess": {
			sc: scenario{sa: sa("web").Build(), mutate: func(s *facts.Snapshot) {
				s.RoleServiceAccounts = map[string]map[string]string{"other": {"web-sa": testutil.RoleARN}}
			}},
			wants: []want{{status: diag.StatusFail, fix: "kubectl annotate serviceaccount web -n shop"}},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			fs := findingsOf(t, tc.sc.snapshot(), "IRSA-SA-002")
			expect(t, fs, tc.wants)
			if name == "no annotated service account: no guess" && strings.Contains(fs[0].Message, "did you mean") {
				t.Errorf("guessed across namespaces: %s", fs[0].Message)
			}
		})
	}
}

func TestCheckAnnotationNearMiss(t *testing.T) {
	t.Parallel()
	arn := "arn:aws:iam::111122223333:role/app"
	tests := map[string]struct {
		sc    scenario
		wants []want
	}{
		"eks.amazon.com": {
			sc:    scenario{sa: sa("app").Annotate("eks.amazon.com/role-arn", arn).Build()},
			wants: []want{{status: diag.StatusFail, message: `"eks.amazon.com/role-arn" is not eks.amazonaws.com/role-arn`, fix: "eks.amazonaws.com/role-arn=" + arn + " eks.amazon.com/role-arn-"}},
		},
		"wrong case": {
			sc:    scenario{sa: sa("app").Annotate("EKS.amazonaws.com/Role-Arn", arn).Build()},
			wants: []want{{status: diag.StatusFail, message: "EKS.amazonaws.com/Role-Arn"}},
		},
		"underscore": {
			sc:    scenario{sa: sa("app").Annotate("eks.amazonaws.com/role_arn", arn).Build()},
			wants: []want{{status: diag.StatusFail, message: "role_arn"}},
		},
		"trailing space in key": {
			sc:    scenario{sa: sa("app").Annotate("eks.amazonaws.com/role-arn ", arn).Build()},
			wants: []want{{status: diag.StatusFail, message: `"eks.amazonaws.com/role-arn "`}},
		},
		"annotation on the pod instead of the service account": {
			sc:    scenario{sa: sa("app").Build(), pods: []*corev1.Pod{pod("web", "app").Annotate("eks.amazonaws.com/role-arn", arn).Build()}},
			wants: []want{{status: diag.StatusFail, object: "pod/web", message: "reads the role ARN only from the service account", fix: "kubectl get pod web -n shop -o yaml | kubectl replace --force -f -"}},
		},
		"unrelated annotations pass": {
			sc:    scenario{sa: sa("app").RoleARN(arn).Annotate("eks.amazonaws.com/audience", "sts.amazonaws.com").Annotate("example.com/owner", "team").Build()},
			wants: []want{{status: diag.StatusPass}},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			expect(t, findingsOf(t, tc.sc.snapshot(), "IRSA-SA-003"), tc.wants)
		})
	}
}

func TestCheckRoleARNValid(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		arn   string
		wants []want
	}{
		"valid":                {"arn:aws:iam::111122223333:role/app", []want{{status: diag.StatusPass}}},
		"valid with path":      {"arn:aws:iam::111122223333:role/team/app", []want{{status: diag.StatusPass}}},
		"valid china":          {"arn:aws-cn:iam::111122223333:role/app", []want{{status: diag.StatusPass}}},
		"valid govcloud":       {"arn:aws-us-gov:iam::111122223333:role/app", []want{{status: diag.StatusPass}}},
		"extra colons":         {"arn:aws:iam::::1234567890:role/x", []want{{status: diag.StatusFail, message: "is not 12 digits"}}},
		"11-digit account":     {"arn:aws:iam::11112222333:role/app", []want{{status: diag.StatusFail, message: `account "11112222333" is not 12 digits`}}},
		"unknown partition":    {"arn:amazon:iam::111122223333:role/app", []want{{status: diag.StatusFail, message: `unknown partition "amazon"`}}},
		"user not role":        {"arn:aws:iam::111122223333:user/app", []want{{status: diag.StatusFail, message: "does not start with role/"}}},
		"assumed-role session": {"arn:aws:sts::111122223333:assumed-role/app/session", []want{{status: diag.StatusFail, message: "assumed-role session ARN"}}},
		"region present":       {"arn:aws:iam:us-east-1:111122223333:role/app", []want{{status: diag.StatusFail, message: "IAM ARNs have no region"}}},
		"trailing space":       {"arn:aws:iam::111122223333:role/app ", []want{{status: diag.StatusFail, message: "white space"}}},
		"bad name character":   {"arn:aws:iam::111122223333:role/app!", []want{{status: diag.StatusFail, message: "role name"}}},
		"not an ARN":           {"app-role", []want{{status: diag.StatusFail, message: "is not an ARN"}}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			sc := scenario{sa: sa("app").Annotate("eks.amazonaws.com/role-arn", tc.arn).Build()}
			expect(t, findingsOf(t, sc.snapshot(), "IRSA-SA-004"), tc.wants)
		})
	}
}

func TestCheckOtherAnnotations(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		id         diag.CheckID
		key, value string
		wants      []want
	}{
		"audience default":         {"IRSA-SA-005", "eks.amazonaws.com/audience", "sts.amazonaws.com", []want{{status: diag.StatusPass}}},
		"audience custom":          {"IRSA-SA-005", "eks.amazonaws.com/audience", "my-audience", []want{{status: diag.StatusPass}}},
		"audience china typo":      {"IRSA-SA-005", "eks.amazonaws.com/audience", "sts.amazonaws.com.cn", []want{{status: diag.StatusFail, severity: diag.SeverityWarning, message: "in every partition, China included"}}},
		"audience amazon.com typo": {"IRSA-SA-005", "eks.amazonaws.com/audience", "sts.amazon.com", []want{{status: diag.StatusFail, message: "typo"}}},
		"audience with space":      {"IRSA-SA-005", "eks.amazonaws.com/audience", "sts.amazonaws.com ", []want{{status: diag.StatusFail, message: "white space"}}},
		"audience empty":           {"IRSA-SA-005", "eks.amazonaws.com/audience", "", []want{{status: diag.StatusFail, severity: diag.SeverityError, message: "carries the API server's own audience", fix: "kubectl annotate serviceaccount app -n shop eks.amazonaws.com/audience-"}}},
		"audience non-ascii":       {"IRSA-SA-005", "eks.amazonaws.com/audience", "sts.amazonаws.com", []want{{status: diag.StatusFail, message: "non-ASCII"}}},
		"regional true":            {"IRSA-SA-006", "eks.amazonaws.com/sts-regional-endpoints", "true", []want{{status: diag.StatusPass}}},
		"regional T":               {"IRSA-SA-006", "eks.amazonaws.com/sts-regional-endpoints", "T", []want{{status: diag.StatusPass}}},
		"regional yes":             {"IRSA-SA-006", "eks.amazonaws.com/sts-regional-endpoints", "yes", []want{{status: diag.StatusFail, message: `"yes" is not a boolean`}}},
		"expiration ok":            {"IRSA-SA-007", "eks.amazonaws.com/token-expiration", "3600", []want{{status: diag.StatusPass}}},
		"expiration not int":       {"IRSA-SA-007", "eks.amazonaws.com/token-expiration", "1h", []want{{status: diag.StatusFail, severity: diag.SeverityWarning, message: `"1h" is not an integer`}}},
		"expiration too low":       {"IRSA-SA-007", "eks.amazonaws.com/token-expiration", "60", []want{{status: diag.StatusFail, severity: diag.SeverityInfo, message: "raises it to 600"}}},
		"expiration too high":      {"IRSA-SA-007", "eks.amazonaws.com/token-expiration", "172800", []want{{status: diag.StatusFail, severity: diag.SeverityInfo, message: "above 24 hours"}}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			sc := scenario{sa: sa("app").RoleARN("arn:aws:iam::111122223333:role/app").Annotate(tc.key, tc.value).Build()}
			expect(t, findingsOf(t, sc.snapshot(), tc.id), tc.wants)
		})
	}
}

func TestPodTokenExpirationAnnotation(t *testing.T) {
	t.Parallel()
	sc := scenario{sa: healthySA, pods: []*corev1.Pod{healthyPod("web").Annotate("eks.amazonaws.com/token-expiration", "abc").OwnedBy("StatefulSet", "web").Build()},
		owners: map[string]facts.Owner{"web": {Kind: "StatefulSet", Name: "web"}}}
	expect(t, findingsOf(t, sc.snapshot(), "IRSA-SA-007"), []want{{status: diag.StatusFail, object: "pod/web", message: "Pod token-expiration annotation", fix: "the pod template of statefulset/web"}})
}

// A webhook run with --annotation-prefix=irsa.example.com reads
// irsa.example.com/role-arn; its pods' AWS_ROLE_ARN shows it. Such a pod is
// healthy: no check fails, and SA-002 says which prefix it found.
func TestNonDefaultAnnotationPrefix(t *testing.T) {
	t.Parallel()
	custom := sa("app").Annotate("irsa.example.com/role-arn", testutil.RoleARN).Annotate("irsa.example.com/audience", "sts.amazonaws.com").Build()
	sc := scenario{sa: custom, pods: []*corev1.Pod{healthyPod("web").Build()}}
	snap := sc.snapshot()
	expect(t, findingsOf(t, snap, "IRSA-SA-002"), []want{{status: diag.StatusPass, message: "under the non-default prefix irsa.example.com",
		evidence: []string{"irsa.example.com/role-arn=" + testutil.RoleARN}}})
	for _, d := range diag.Run(snap) {
		for _, f := range d.Findings {
			if f.Status != diag.StatusPass {
				t.Errorf("%s %s on %s: %s", f.ID, f.Status, f.Object.String(), f.Message)
			}
		}
	}
	// Without pods carrying that role, the key is only a near miss.
	lone := scenario{sa: sa("app").Annotate("irsa.example.com/role-arn", testutil.RoleARN).Build()}
	expect(t, findingsOf(t, lone.snapshot(), "IRSA-SA-002"), []want{{status: diag.StatusFail, message: "has no eks.amazonaws.com/role-arn annotation"}})
}

// A service account EKS Pod Identity gives its role is not missing an
// annotation, and one that exists only in an association is PODID-ASSOC-003's.
func TestServiceAccountChecksOnPodIdentitySubjects(t *testing.T) {
	t.Parallel()
	// Pods created before the association have no Pod Identity env yet; the
	// association still gives the role.
	unmutated := piScenario([]*corev1.Pod{pod("web", "app").Build()}, nil)
	expect(t, findingsOf(t, unmutated, "IRSA-SA-002"), []want{{status: diag.StatusPass, severity: diag.SeverityInfo,
		message: "its EKS Pod Identity association gives it role " + piRole, evidence: []string{"association=a-1"}}})
	// Pods that run as a missing service account get no annotate advice.
	missing := scenario{saName: "app", pods: []*corev1.Pod{podIdentityPod("web", facts.PodIdentityAudience)}, mutate: func(s *facts.Snapshot) { s.AWS = piAWS() }}.snapshot()
	got := findingsOf(t, missing, "IRSA-SA-001")
	expect(t, got, []want{{status: diag.StatusFail, fix: "kubectl create serviceaccount app -n shop, then recreate the pods"}})
	if strings.Contains(got[0].Remediation, "annotate") {
		t.Errorf("remediation for an associated service account asks for an annotation: %q", got[0].Remediation)
	}
}
