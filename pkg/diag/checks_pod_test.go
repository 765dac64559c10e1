package diag_test

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/diag"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/facts"
	"github.com/kubectl-irsa/kubectl-irsa/test/testutil"
)

func TestCheckContainersMutated(t *testing.T) {
	t.Parallel()
	deploy := map[string]facts.Owner{"web": {Kind: "Deployment", Name: "web"}}
	tests := map[string]struct {
		sc    scenario
		wants []want
	}{
		"healthy pod with init container and native sidecar passes": {
			sc:    scenario{sa: healthySA, pods: []*corev1.Pod{pod("web", "app").InitContainer("migrate", false).InitContainer("proxy", true).Mutate(testutil.RoleARN, "sts.amazonaws.com").Build()}},
			wants: []want{{status: diag.StatusPass, object: "pod/web"}},
		},
		"pod created before the annotation: restart its deployment": {
			sc: scenario{sa: sa("app").RoleARN(testutil.RoleARN).AnnotationWrittenAt("eks.amazonaws.com/role-arn", testutil.T0.Add(3*time.Hour)).Build(),
				pods: []*corev1.Pod{pod("web", "app").Build()}, owners: deploy},
			wants: []want{{status: diag.StatusFail, severity: diag.SeverityError, object: "pod/web[app]",
				message:  "created at 2026-11-01T13:00:00Z, before the role-arn annotation was written at 2026-11-01T15:00:00Z",
				evidence: []string{"missing=AWS_ROLE_ARN, AWS_WEB_IDENTITY_TOKEN_FILE, aws-iam-token mount", "annotation written=2026-11-01T15:00:00Z by kubectl-annotate"},
				fix:      "kubectl rollout restart deployment/web -n shop"}},
		},
		"pod created seconds after the annotation: the webhook's cache race": {
			sc: scenario{sa: sa("app").RoleARN(testutil.RoleARN).AnnotationWrittenAt("eks.amazonaws.com/role-arn", testutil.T0.Add(time.Hour-4*time.Second)).Build(),
				pods: []*corev1.Pod{pod("web", "app").Build()}, owners: deploy},
			wants: []want{{status: diag.StatusFail, severity: diag.SeverityError, object: "pod/web[app]",
				message:  "the pod was created 4s after the role-arn annotation was written (2026-11-01T12:59:56Z): the webhook reads service accounts from a cache that had not seen it yet",
				evidence: []string{"annotation written=2026-11-01T12:59:56Z by kubectl-annotate"},
				fix:      "kubectl rollout restart deployment/web -n shop; to keep it from coming back, create the service account with its annotation before the workload (a Helm pre-install hook or an Argo CD sync wave)"}},
		},
		"pod created a minute after the annotation: not the race": {
			sc: scenario{sa: sa("app").RoleARN(testutil.RoleARN).AnnotationWrittenAt("eks.amazonaws.com/role-arn", testutil.T0.Add(time.Hour-time.Minute)).Build(),
				pods: []*corev1.Pod{pod("web", "app").Build()}, owners: deploy},
			wants: []want{{status: diag.StatusFail, message: "the webhook did not mutate it when it was created"}},
		},
		"seconds after the annotation, but the objectSelector excludes the pod: not the race": {
			sc: scenario{sa: sa("app").RoleARN(testutil.RoleARN).AnnotationWrittenAt("eks.amazonaws.com/role-arn", testutil.T0.Add(time.Hour-4*time.Second)).Build(),
				pods: []*corev1.Pod{pod("web", "app").Build()}, mutate: func(s *facts.Snapshot) {
					s.Webhooks.Configs[0].Webhooks[0].ObjectSelector = &metav1.LabelSelector{MatchLabels: map[string]string{"irsa": "on"}}
				}},
			wants: []want{{status: diag.StatusFail, message: "the webhook did not mutate it when it was created"}},
		},
		"skip label": {
			sc: scenario{sa: healthySA, pods: []*corev1.Pod{pod("web", "app").Label("eks.amazonaws.com/skip-pod-identity-webhook", "true").Build()}},
			wants: []want{{status: diag.StatusFail, message: "carries the label eks.amazonaws.com/skip-pod-identity-webhook",
				fix: "remove the label eks.amazonaws.com/skip-pod-identity-webhook from pod/web, then kubectl get pod web -n shop -o yaml | kubectl replace --force -f -"}},
		},
		"service account created after the pod": {
			sc:    scenario{sa: sa("app").RoleARN(testutil.RoleARN).CreatedAt(testutil.T0.Add(2*time.Hour)).AnnotationWrittenAt("eks.amazonaws.com/role-arn", testutil.T0.Add(-time.Hour)).Build(), pods: []*corev1.Pod{pod("web", "app").Build()}},
			wants: []want{{status: diag.StatusFail, message: "service account was created at 2026-11-01T14:00:00Z, after the pod"}},
		},
		"webhook not registered": {
			sc: scenario{sa: sa("app").RoleARN(testutil.RoleARN).AnnotationWrittenAt("eks.amazonaws.com/role-arn", testutil.T0.Add(-time.Hour)).Build(), pods: []*corev1.Pod{pod("web", "app").Build()},
				mutate: func(s *facts.Snapshot) { s.Webhooks.Configs = nil }},
			wants: []want{{status: diag.StatusFail, message: "no MutatingWebhookConfiguration registers the pod identity webhook", fix: "register the pod identity webhook, then"}},
		},
		"webhook registered but pod unmutated: fail-open explanation": {
			sc:    scenario{sa: sa("app").RoleARN(testutil.RoleARN).AnnotationWrittenAt("eks.amazonaws.com/role-arn", testutil.T0.Add(-time.Hour)).Build(), pods: []*corev1.Pod{pod("web", "app").Build()}},
			wants: []want{{status: diag.StatusFail, message: "most often the role-arn annotation was added after the pod was created"}},
		},
		"early exit: container sets role, region and regional STS itself": {
			sc: scenario{sa: healthySA, pods: []*corev1.Pod{pod("web", "app").Container("worker").Env("worker", "AWS_ROLE_ARN", testutil.RoleARN).Env("worker", "AWS_REGION", "us-west-2").Env("worker", "AWS_STS_REGIONAL_ENDPOINTS", "regional").
				Mutate(testutil.RoleARN, "sts.amazonaws.com").RemoveEnv("worker", "AWS_WEB_IDENTITY_TOKEN_FILE").Unmount("worker", "aws-iam-token").Build()}},
			wants: []want{{status: diag.StatusFail, object: "pod/web[worker]", message: "left it untouched", evidence: []string{"missing=AWS_WEB_IDENTITY_TOKEN_FILE, aws-iam-token mount"}}},
		},
		"partial env: AWS_ROLE_ARN alone gets no token file": {
			sc:    scenario{sa: healthySA, pods: []*corev1.Pod{pod("web", "app").Container("worker").Env("worker", "AWS_ROLE_ARN", testutil.RoleARN).Mutate(testutil.RoleARN, "sts.amazonaws.com").RemoveEnv("worker", "AWS_WEB_IDENTITY_TOKEN_FILE").Build()}},
			wants: []want{{status: diag.StatusFail, object: "pod/web[worker]", message: "sets AWS_ROLE_ARN itself", fix: "remove AWS_ROLE_ARN"}},
		},
		"skip-containers is a warning on that container only": {
			sc: scenario{sa: healthySA, pods: []*corev1.Pod{func() *corev1.Pod {
				p := pod("web", "app").Container("sidecar").Annotate("eks.amazonaws.com/skip-containers", "sidecar").Mutate(testutil.RoleARN, "sts.amazonaws.com").Build()
				p.Spec.Containers[1].Env, p.Spec.Containers[1].VolumeMounts = nil, nil
				return p
			}()}},
			wants: []want{{status: diag.StatusFail, severity: diag.SeverityWarning, object: "pod/web[sidecar]", message: "listed in eks.amazonaws.com/skip-containers"}},
		},
		"container added after the webhook ran": {
			sc: scenario{sa: healthySA, pods: []*corev1.Pod{func() *corev1.Pod {
				p := healthyPod("web").Build()
				p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: "istio-proxy"})
				return p
			}()}},
			wants: []want{{status: diag.StatusFail, severity: diag.SeverityWarning, object: "pod/web[istio-proxy]", message: "added by another admission webhook"}},
		},
		"not annotated: nothing to judge": {
			sc: scenario{sa: sa("app").Build(), pods: []*corev1.Pod{pod("web", "app").Build()}},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			expect(t, findingsOf(t, tc.sc.snapshot(), "IRSA-POD-001"), tc.wants)
		})
	}
}

func TestCheckStaleRoleARN(t *testing.T) {
	t.Parallel()
	old := "arn:aws:iam::111122223333:role/old"
	tests := map[string]struct {
		sc    scenario
		wants []want
	}{
		"stale pod after the annotation changed": {
			sc: scenario{sa: sa("app").RoleARN(testutil.RoleARN).AnnotationWrittenAt("eks.amazonaws.com/role-arn", testutil.T0.Add(5*time.Hour)).Build(),
				pods: []*corev1.Pod{pod("web", "app").Mutate(old, "sts.amazonaws.com").Build()}, owners: map[string]facts.Owner{"web": {Kind: "DaemonSet", Name: "agent"}}},
			wants: []want{{status: diag.StatusFail, object: "pod/web[app]", evidence: []string{"pod AWS_ROLE_ARN=" + old, "serviceaccount eks.amazonaws.com/role-arn=" + testutil.RoleARN},
				fix: "kubectl rollout restart daemonset/agent -n shop"}},
		},
		"annotation older than the pod: the template sets the role by hand": {
			sc:    scenario{sa: healthySA, pods: []*corev1.Pod{pod("web", "app").Mutate(old, "sts.amazonaws.com").Build()}},
			wants: []want{{status: diag.StatusFail, fix: "the container sets AWS_ROLE_ARN itself: change it in pod/web"}},
		},
		"matching role passes": {
			sc:    scenario{sa: healthySA, pods: []*corev1.Pod{healthyPod("web").Build()}},
			wants: []want{{status: diag.StatusPass}},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			expect(t, findingsOf(t, tc.sc.snapshot(), "IRSA-POD-002"), tc.wants)
		})
	}
}

func TestCheckWorkloadServiceAccount(t *testing.T) {
	t.Parallel()
	sc := scenario{sa: healthySA, mutate: func(s *facts.Snapshot) {
		s.Subjects[0].Workloads = []facts.Workload{{Kind: "Deployment", Name: "web", TemplateServiceAccount: "app",
			Pods: []facts.PodRef{{Name: "web-new", ServiceAccount: "app"}, {Name: "web-old", ServiceAccount: "default"}}}}
	}}
	expect(t, findingsOf(t, sc.snapshot(), "IRSA-POD-003"), []want{{status: diag.StatusFail, severity: diag.SeverityWarning, object: "pod/web-old",
		message: `runs as service account "default", but deployment/web's template names "app"`, evidence: []string{"pod serviceAccountName=default", "template serviceAccountName=app"},
		fix: "kubectl rollout restart deployment/web -n shop"}})

	ok := scenario{sa: healthySA, mutate: func(s *facts.Snapshot) {
		s.Subjects[0].Workloads = []facts.Workload{{Kind: "StatefulSet", Name: "db", TemplateServiceAccount: "app", Pods: []facts.PodRef{{Name: "db-0", ServiceAccount: "app"}}}}
	}}
	expect(t, findingsOf(t, ok.snapshot(), "IRSA-POD-003"), []want{{status: diag.StatusPass, object: "statefulset/db"}})
}

func TestCheckSkipContainers(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		value string
		wants []want
	}{
		"exact names":       {"sidecar", []want{{status: diag.StatusPass}}},
		"space after comma": {"app, sidecar", []want{{status: diag.StatusFail, message: `" sidecar" has white space, so container "sidecar" is NOT skipped`}}},
		"unknown name":      {"metrics", []want{{status: diag.StatusFail, message: `"metrics" names no container`}}},
		"bad csv":           {`"sidecar`, []want{{status: diag.StatusFail, message: "skips no container"}}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			sc := scenario{sa: healthySA, pods: []*corev1.Pod{healthyPod("web").Container("sidecar").Annotate("eks.amazonaws.com/skip-containers", tc.value).Build()}}
			expect(t, findingsOf(t, sc.snapshot(), "IRSA-POD-004"), tc.wants)
		})
	}
}

// IRSA-POD-001 does not read a Pod Identity container, or a container of an
// associated service account's pod, as missing IRSA env: the webhook gives
// such pods Pod Identity (PODID-ASSOC-001 and PODID-MIX-001 judge them).
func TestContainersMutatedOnPodIdentitySubjects(t *testing.T) {
	t.Parallel()
	assoc := func(s *facts.Snapshot) { s.AWS = piAWS() }
	unmutated := scenario{sa: healthySA, pods: []*corev1.Pod{pod("web", "app").Build()}, mutate: assoc}.snapshot()
	expect(t, findingsOf(t, unmutated, "IRSA-POD-001"), []want{{status: diag.StatusPass, object: "pod/web", message: "the service account has an EKS Pod Identity association"}})
	// Without the association the same pod is missing IRSA, as before.
	expect(t, findingsOf(t, scenario{sa: healthySA, pods: []*corev1.Pod{pod("web", "app").Build()}}.snapshot(), "IRSA-POD-001"),
		[]want{{status: diag.StatusFail, object: "pod/web[app]"}})
	// Pod Identity env alone: its credentials come from Pod Identity.
	expect(t, findingsOf(t, scenario{sa: healthySA, pods: []*corev1.Pod{podIdentityPod("web", facts.PodIdentityAudience)}, mutate: assoc}.snapshot(), "IRSA-POD-001"),
		[]want{{status: diag.StatusPass, message: "the pod uses EKS Pod Identity"}})
	// Hand-set IRSA variables next to Pod Identity: every SDK uses web
	// identity first, so the container's IRSA is judged as before.
	both := podIdentityPod("web", facts.PodIdentityAudience)
	setEnv(both, facts.EnvRoleARN, testutil.RoleARN)
	setEnv(both, facts.EnvTokenFile, facts.TokenPath)
	expect(t, findingsOf(t, scenario{sa: healthySA, pods: []*corev1.Pod{both}, mutate: assoc}.snapshot(), "IRSA-POD-001"),
		[]want{{status: diag.StatusFail, object: "pod/web[app]", message: "only partly mutated", evidence: []string{"missing=aws-iam-token mount"}}})
}
