package pipeline

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/diag"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/facts"
	"github.com/kubectl-irsa/kubectl-irsa/test/testutil"
)

// TestJudgeDropsPassesOnly: judged in batches with the passes dropped,
// every subject keeps exactly the findings diagnose shows without
// --show-passed, in order, and the dropped passes are counted.
func TestJudgeDropsPassesOnly(t *testing.T) {
	t.Parallel()
	snap := &facts.Snapshot{Now: testutil.T0.Add(2 * time.Hour)}
	for i := range 2*judgeBatch + 7 {
		sa := fmt.Sprintf("app-%03d", i)
		p := testutil.NewPod("shop", sa+"-1", sa).Mutate(testutil.RoleARN, "sts.amazonaws.com")
		if i%5 == 0 {
			p = p.RemoveEnv("app", facts.EnvRoleARN) // a failure among the passes
		}
		snap.Subjects = append(snap.Subjects, &facts.Subject{Namespace: "shop", ServiceAccountName: sa,
			ServiceAccount: testutil.NewSA("shop", sa).RoleARN(testutil.RoleARN).Build(), Pods: []facts.PodFacts{{Pod: p.Build()}}})
	}
	// Subjects with many pods: batches cut at judgePods, one alone when it
	// has more.
	for i := range 3 {
		sa := fmt.Sprintf("big-%d", i)
		subj := &facts.Subject{Namespace: "shop", ServiceAccountName: sa, ServiceAccount: testutil.NewSA("shop", sa).RoleARN(testutil.RoleARN).Build()}
		for k := range judgePods/2 + 200*i {
			subj.Pods = append(subj.Pods, facts.PodFacts{Pod: testutil.NewPod("shop", fmt.Sprintf("%s-%d", sa, k), sa).Mutate(testutil.RoleARN, "sts.amazonaws.com").Build()})
		}
		snap.Subjects = append(snap.Subjects, subj)
	}
	whole := diag.Run(snap)
	got, dropped := judge(snap, true)
	var want []diag.Diagnosis
	passes := 0
	for _, d := range whole {
		kept := []diag.Finding{}
		for _, f := range d.Findings {
			if f.Status == diag.StatusPass && !f.Notice {
				passes++
				continue
			}
			kept = append(kept, f)
		}
		d.Findings = kept
		want = append(want, d)
	}
	if !reflect.DeepEqual(got, want) || dropped != passes || passes == 0 {
		t.Errorf("judge kept %d diagnoses and dropped %d passes; want %d and %d", len(got), dropped, len(want), passes)
	}
	if all, n := judge(snap, false); n != 0 || !reflect.DeepEqual(all, whole) {
		t.Error("without dropPassed, judge is not diag.Run")
	}
}
