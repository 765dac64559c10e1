package diag_test

import (
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/diag"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/facts"
	"github.com/kubectl-irsa/kubectl-irsa/test/testutil"
)

func TestHealthyScenarioHasNoFailures(t *testing.T) {
	t.Parallel()
	// healthyPod is already mutated; mutating again after adding an init
	// container mutates every container exactly once.
	sc := scenario{sa: healthySA, pods: []*corev1.Pod{healthyPod("web").InitContainer("init", false).Mutate(testutil.RoleARN, "sts.amazonaws.com").Build()}}
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

// TestPodIdentityHealthy: a working Pod Identity subject fails no check,
// IRSA's included, and its credential notice names the association's role.
func TestPodIdentityHealthy(t *testing.T) {
	t.Parallel()
	ds := diag.Run(healthyPI())
	for _, f := range ds[0].Findings {
		if f.Status != diag.StatusPass {
			t.Errorf("%s %s %s: %s", f.ID, f.Status, f.Object.String(), f.Message)
		}
	}
	if ds[0].RoleARN != piRole {
		t.Errorf("diagnosis role %q, want the association's %q", ds[0].RoleARN, piRole)
	}
	if first := ds[0].Findings[0]; first.ID != "CREDS-001" || !first.Notice {
		t.Errorf("first finding %s (notice %v), want the CREDS-001 notice first", first.ID, first.Notice)
	}
	// --skip-aws: no association facts, so no association check speaks.
	sc := scenario{sa: sa("app").Build(), pods: []*corev1.Pod{podIdentityPod("web", facts.PodIdentityAudience)}}
	for _, id := range []diag.CheckID{"PODID-ASSOC-001", "PODID-ASSOC-002", "PODID-ASSOC-003", "PODID-ROLE-001", "PODID-TRUST-001", "PODID-CLUSTER-001", "PODID-MIX-001"} {
		expect(t, findingsOf(t, sc.snapshot(), id), nil)
	}
}
