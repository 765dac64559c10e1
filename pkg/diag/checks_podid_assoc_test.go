package diag_test

import (
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/diag"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/facts"
	"github.com/kubectl-irsa/kubectl-irsa/test/testutil"
)

func TestCheckAssociationMutated(t *testing.T) {
	t.Parallel()
	plain := func(edit func(*testutil.Pod)) []*corev1.Pod {
		b := pod("web", "app").OwnedBy("ReplicaSet", "web-rs")
		if edit != nil {
			edit(b)
		}
		return []*corev1.Pod{b.Build()}
	}
	owned := func(s *facts.Snapshot) {
		s.Subjects[0].Pods[0].Owner = facts.Owner{Kind: "Deployment", Name: "web"}
	}
	later := func(s *facts.Snapshot) {
		owned(s)
		s.AWS.PodIdentity.Associations[0].CreatedAt = testutil.T0.Add(3 * time.Hour) // after the pod (T0+1h)
	}
	tests := []struct {
		name string
		snap *facts.Snapshot
		want []want
	}{
		{"mutated pod passes", healthyPI(), []want{{status: diag.StatusPass, object: "pod/web", message: "got the Pod Identity variables and token"}}},
		{"pod created before the association: the owner's restart", piScenario(plain(nil), later),
			[]want{{status: diag.StatusFail, severity: diag.SeverityError, object: "pod/web",
				message:  "it was created at 2026-11-01T13:00:00Z, before the association (2026-11-01T15:00:00Z), and the webhook acts only when a pod is created",
				evidence: []string{"association=a-1", "association created=2026-11-01T15:00:00Z", "pod created=2026-11-01T13:00:00Z"},
				fix:      "kubectl rollout restart deployment/web -n shop"}}},
		{"an IRSA pod of a service account with both is PODID-MIX-001's", scenario{sa: healthySA, pods: []*corev1.Pod{healthyPod("web").Build()}, mutate: func(s *facts.Snapshot) {
			s.AWS = piAWS()
			s.AWS.PodIdentity.Associations[0].CreatedAt = testutil.T0.Add(3 * time.Hour)
		}}.snapshot(), []want{{status: diag.StatusPass, message: "The pod still uses IRSA; it gets Pod Identity once recreated (PODID-MIX-001)"}}},
		{"a pod that names its own endpoint is PODID-ENV-001's", piScenario(plain(func(b *testutil.Pod) {
			b.Label(facts.LabelSkipWebhook, "true").Env("app", facts.EnvContainerCredentialsFull, "http://creds.internal/v1")
		}), nil), []want{{status: diag.StatusPass, object: "pod/web", message: "names its own container credentials endpoint"}}},
		{"Fargate: no restart helps", piScenario(plain(func(b *testutil.Pod) { b.Label(facts.LabelFargateProfile, "fp-default") }), later),
			[]want{{status: diag.StatusFail, severity: diag.SeverityError, message: "it runs on Fargate (it carries the label eks.amazonaws.com/fargate-profile=fp-default)",
				fix: "run it on EC2 nodes, or give the service account an IRSA role instead (kubectl annotate serviceaccount app -n shop eks.amazonaws.com/role-arn=<ROLE_ARN>"}}},
		{"Windows", piScenario(plain(func(b *testutil.Pod) { b.NodeSelector("kubernetes.io/os", "windows") }), nil),
			[]want{{status: diag.StatusFail, message: "it is scheduled to Windows nodes", evidence: []string{"nodeSelector=kubernetes.io/os=windows"}, fix: "run it on Linux nodes"}}},
		{"the skip label", piScenario(plain(func(b *testutil.Pod) { b.Label(facts.LabelSkipWebhook, "true") }), owned),
			[]want{{status: diag.StatusFail, message: "it carries the label eks.amazonaws.com/skip-pod-identity-webhook",
				fix: "remove the label eks.amazonaws.com/skip-pod-identity-webhook from the pod template of deployment/web, then kubectl rollout restart deployment/web -n shop"}}},
		{"a webhook objectSelector that excludes the pod", piScenario(plain(func(b *testutil.Pod) { b.Label("tier", "legacy") }), func(s *facts.Snapshot) {
			s.Webhooks.Configs[0].Webhooks[0].ObjectSelector = &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "tier", Operator: metav1.LabelSelectorOpNotIn, Values: []string{"legacy"}}}}
		}), []want{{status: diag.StatusFail, message: "the pod identity webhook's objectSelector excludes it", evidence: []string{"objectSelector=tier notin (legacy)"}}}},
		{"no webhook registered", piScenario(plain(nil), func(s *facts.Snapshot) {
			s.Webhooks.Configs = []admissionregistrationv1.MutatingWebhookConfiguration{}
		}), []want{{status: diag.StatusFail, message: "no MutatingWebhookConfiguration registers the pod identity webhook"}}},
		{"older association, no cause on record", piScenario(plain(nil), nil),
			[]want{{status: diag.StatusFail, message: "although the association (2026-11-01T12:00:00Z) is older than the pod: most often a webhook outage"}}},
		{"a container added after the webhook ran", piScenario([]*corev1.Pod{func() *corev1.Pod {
			p := podIdentityPod("web", facts.PodIdentityAudience)
			p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: "mesh"})
			return p
		}()}, nil), []want{{status: diag.StatusFail, severity: diag.SeverityWarning, object: "pod/web[mesh]", message: "added by another admission webhook"}}},
		{"no association: nothing", scenario{sa: healthySA, pods: []*corev1.Pod{healthyPod("web").Build()}, mutate: func(s *facts.Snapshot) { s.AWS = healthyAWS() }}.snapshot(), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			expect(t, findingsOf(t, tt.snap, "PODID-ASSOC-001"), tt.want)
		})
	}
}

func TestCheckAssociationExists(t *testing.T) {
	t.Parallel()
	gone := func(s *facts.Snapshot) {
		s.AWS.PodIdentity.Associations = nil
		s.Subjects[0].Pods[0].Owner = facts.Owner{Kind: "Deployment", Name: "web"}
	}
	tests := []struct {
		name string
		snap *facts.Snapshot
		want []want
	}{
		{"covered", healthyPI(), []want{{status: diag.StatusPass, message: "An EKS Pod Identity association covers the service account", evidence: []string{"association=a-1"}}}},
		{"association deleted: restarting does not help", piScenario([]*corev1.Pod{podIdentityPod("web", facts.PodIdentityAudience)}, gone),
			[]want{{status: diag.StatusFail, severity: diag.SeverityError, object: "pod/web",
				message:  "no association covers service account shop/app any more: every credential fetch fails with ResourceNotFoundException, and restarting the pod only removes its Pod Identity variables",
				evidence: []string{"associations for shop/app=none"},
				fix:      "aws eks create-pod-identity-association --cluster-name prod --namespace shop --service-account app --role-arn '<ROLE_ARN>', then kubectl rollout restart deployment/web -n shop"}}},
		{"listing denied: unknown, naming the permission", piScenario([]*corev1.Pod{podIdentityPod("web", facts.PodIdentityAudience)}, func(s *facts.Snapshot) {
			gone(s)
			s.AWS.PodIdentity.ListErr = &facts.CallError{Op: "eks:ListPodIdentityAssociations", Resource: piCluster, Code: facts.ErrAccessDenied, Message: "not authorized"}
		}), []want{{status: diag.StatusUnknown, message: "eks:ListPodIdentityAssociations failed (AccessDenied)", fix: "grant eks:ListPodIdentityAssociations on prod"}}},
		{"namespace not listed: nothing", piScenario([]*corev1.Pod{podIdentityPod("web", facts.PodIdentityAudience)}, func(s *facts.Snapshot) {
			gone(s)
			s.AWS.PodIdentity.Namespaces = []string{"other"}
		}), nil},
		{"not looked for (--skip-aws): nothing", scenario{sa: sa("app").Build(), pods: []*corev1.Pod{podIdentityPod("web", facts.PodIdentityAudience)}}.snapshot(), nil},
		{"pods without Pod Identity: nothing", scenario{sa: healthySA, pods: []*corev1.Pod{healthyPod("web").Build()}, mutate: func(s *facts.Snapshot) { s.AWS = piAWS() }}.snapshot(), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			expect(t, findingsOf(t, tt.snap, "PODID-ASSOC-002"), tt.want)
		})
	}
}

func TestCheckAssociationServiceAccount(t *testing.T) {
	t.Parallel()
	ghost := scenario{saName: "app", mutate: func(s *facts.Snapshot) { s.AWS = piAWS() }}.snapshot()
	expect(t, findingsOf(t, ghost, "PODID-ASSOC-003"), []want{{status: diag.StatusFail, severity: diag.SeverityWarning, object: "serviceaccount/app",
		message: "EKS Pod Identity association a-1 names service account shop/app, which does not exist", evidence: []string{"association=a-1"},
		fix: "kubectl create serviceaccount app -n shop  # or, if the association is stale: aws eks delete-pod-identity-association --cluster-name prod --association-id a-1"}})
	// IRSA-SA-001 leaves an association-only service account to this check.
	expect(t, findingsOf(t, ghost, "IRSA-SA-001"), nil)
	expect(t, findingsOf(t, healthyPI(), "PODID-ASSOC-003"), []want{{status: diag.StatusPass, message: "The associated service account exists"}})
	unreadable := scenario{saName: "app", mutate: func(s *facts.Snapshot) {
		s.AWS = piAWS()
		s.Subjects[0].ServiceAccountErr = &facts.ReadError{Verb: "get", Resource: "serviceaccounts", Forbidden: true, Message: "forbidden"}
	}}.snapshot()
	expect(t, findingsOf(t, unreadable, "PODID-ASSOC-003"), nil)
}

func TestCheckPodIdentityAndIRSA(t *testing.T) {
	t.Parallel()
	mixed := scenario{sa: healthySA, pods: []*corev1.Pod{healthyPod("old").Build(), podIdentityPod("new", facts.PodIdentityAudience)},
		owners: map[string]facts.Owner{"old": {Kind: "Deployment", Name: "web"}, "new": {Kind: "Deployment", Name: "web"}},
		mutate: func(s *facts.Snapshot) { s.AWS = piAWS() }}.snapshot()
	expect(t, findingsOf(t, mixed, "PODID-MIX-001"), []want{{status: diag.StatusFail, severity: diag.SeverityWarning, object: "serviceaccount/app",
		message:  "has both an IRSA role (arn:aws:iam::111122223333:role/app, from its annotation eks.amazonaws.com/role-arn) and an EKS Pod Identity association (role " + piRole + "): the webhook gives new pods Pod Identity, and pods created before the association keep IRSA until they are recreated (Pod Identity: new; IRSA: old)",
		evidence: []string{"IRSA role=arn:aws:iam::111122223333:role/app", "association=a-1"},
		fix:      "keep Pod Identity: kubectl annotate serviceaccount app -n shop eks.amazonaws.com/role-arn-, then kubectl rollout restart deployment/web -n shop. Or keep IRSA: aws eks delete-pod-identity-association --cluster-name prod --association-id a-1"}})
	// The IRSA checks do not read the Pod Identity pod as missing IRSA env.
	expect(t, findingsOf(t, mixed, "IRSA-POD-001"), []want{
		{status: diag.StatusPass, object: "pod/new", message: "the pod uses EKS Pod Identity"},
		{status: diag.StatusPass, object: "pod/old", message: "Every container has AWS_ROLE_ARN"}})
	expect(t, findingsOf(t, healthyPI(), "PODID-MIX-001"), nil)
	expect(t, findingsOf(t, awsScenario(nil).snapshot(), "PODID-MIX-001"), nil)
}
