package diag_test

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/diag"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/facts"
)

func TestCheckWebhook(t *testing.T) {
	t.Parallel()
	unmutated := func() scenario {
		return scenario{sa: healthySA, pods: []*corev1.Pod{pod("web", "app").Build()}}
	}
	sc := unmutated()
	sc.mutate = func(s *facts.Snapshot) { s.Webhooks.Configs = nil }
	expect(t, findingsOf(t, sc.snapshot(), "IRSA-WEBHOOK-001"), []want{{status: diag.StatusFail, severity: diag.SeverityError, message: "No MutatingWebhookConfiguration"}})

	forbidden := unmutated()
	forbidden.mutate = func(s *facts.Snapshot) {
		s.Webhooks = facts.WebhookFacts{Err: &facts.ReadError{Forbidden: true, Message: "forbidden"}}
	}
	expect(t, findingsOf(t, forbidden.snapshot(), "IRSA-WEBHOOK-001"), []want{{status: diag.StatusUnknown, fix: "kubectl auth can-i list mutatingwebhookconfigurations"}})
	expect(t, findingsOf(t, forbidden.snapshot(), "IRSA-WEBHOOK-002"), nil)

	nsSel := unmutated()
	nsSel.mutate = func(s *facts.Snapshot) {
		s.Webhooks.Configs[0].Webhooks[0].NamespaceSelector = &metav1.LabelSelector{MatchLabels: map[string]string{"irsa": "enabled"}}
	}
	expect(t, findingsOf(t, nsSel.snapshot(), "IRSA-WEBHOOK-002"), []want{{status: diag.StatusFail, object: "pod/web", message: "namespaceSelector excludes namespace shop", evidence: []string{"namespaceSelector=irsa=enabled", "namespace labels=team=shop"}}})

	nsUnreadable := nsSel
	nsUnreadable.mutate = func(s *facts.Snapshot) {
		s.Webhooks.Configs[0].Webhooks[0].NamespaceSelector = &metav1.LabelSelector{MatchLabels: map[string]string{"irsa": "enabled"}}
		delete(s.Namespaces, ns)
	}
	expect(t, findingsOf(t, nsUnreadable.snapshot(), "IRSA-WEBHOOK-002"), []want{{status: diag.StatusUnknown, message: "namespaceSelector"}})

	objSel := scenario{sa: healthySA, pods: []*corev1.Pod{pod("web", "app").Label("eks.amazonaws.com/skip-pod-identity-webhook", "x").Build()}}
	expect(t, findingsOf(t, objSel.snapshot(), "IRSA-WEBHOOK-002"), []want{{status: diag.StatusFail, message: "objectSelector excludes this pod"}})

	rules := unmutated()
	rules.mutate = func(s *facts.Snapshot) {
		s.Webhooks.Configs[0].Webhooks[0].Rules[0].Resources = []string{"deployments"}
	}
	expect(t, findingsOf(t, rules.snapshot(), "IRSA-WEBHOOK-002"), []want{{status: diag.StatusFail, message: "do not cover CREATE of pods"}})

	expect(t, findingsOf(t, unmutated().snapshot(), "IRSA-WEBHOOK-002"), []want{{status: diag.StatusPass}})
	healthy := scenario{sa: healthySA, pods: []*corev1.Pod{healthyPod("web").Build()}}
	expect(t, findingsOf(t, healthy.snapshot(), "IRSA-WEBHOOK-001"), []want{{status: diag.StatusPass, evidence: []string{"mutatingwebhookconfiguration=pod-identity-webhook"}}})
}
