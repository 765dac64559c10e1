package diag_test

import (
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/diag"
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
