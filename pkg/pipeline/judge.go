package pipeline

import (
	"github.com/kubectl-irsa/kubectl-irsa/pkg/diag"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/facts"
)

// A batch of subjects judged at once when passes are dropped holds at most
// judgeBatch subjects and, unless one subject alone has more, judgePods
// pods: enough that the checks' shared work (a role's parsed policies) is
// rarely repeated, few enough that what one batch's checks hold (a dozen
// kilobytes a pod in make bench's cluster) is a small part of the run's
// memory, whatever the number of pods.
const (
	judgeBatch = 256
	judgePods  = 1024
)

// judge runs the checks. With dropPassed it judges the subjects in batches
// and keeps, of each batch's passed findings, the notices only, counting
// the rest: on a large healthy cluster the passes are most of the findings,
// one or more per check and pod, and nobody reads them without
// --show-passed (docs/design.md#what-a-run-keeps). No check reads another
// subject's facts, so a batch is judged exactly as the whole snapshot.
func judge(snap *facts.Snapshot, dropPassed bool) (ds []diag.Diagnosis, dropped int) {
	if !dropPassed {
		return diag.Run(snap), 0
	}
	ds = make([]diag.Diagnosis, 0, len(snap.Subjects))
	for start := 0; start < len(snap.Subjects); {
		end, pods := start, 0
		for end < len(snap.Subjects) && end-start < judgeBatch && (end == start || pods+len(snap.Subjects[end].Pods) <= judgePods) {
			pods += len(snap.Subjects[end].Pods)
			end++
		}
		part := *snap
		part.Subjects = snap.Subjects[start:end]
		start = end
		for _, d := range diag.Run(&part) {
			n := 0
			for _, f := range d.Findings {
				if shown(f) {
					n++
				}
			}
			// A new slice, so the batch's findings are garbage at once.
			kept := make([]diag.Finding, 0, n)
			for _, f := range d.Findings {
				if shown(f) {
					kept = append(kept, f)
				}
			}
			dropped += len(d.Findings) - n
			d.Findings = kept
			ds = append(ds, d)
		}
	}
	return ds, dropped
}

// shown is what diagnose shows without --show-passed: every finding but a
// pass that is not a notice.
func shown(f diag.Finding) bool { return f.Status != diag.StatusPass || f.Notice }
