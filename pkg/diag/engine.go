package diag

import (
	"sort"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/facts"
)

// Input is what a check reads: the snapshot's facts, and the work the checks
// of one Run share (trust evaluations and policy parses, once per subject and
// role).
type Input struct {
	*facts.Snapshot
	memo *runMemo
}

// subjectRef is the subject's object reference in findings.
func subjectRef(s *facts.Subject) ObjectRef {
	return ObjectRef{Kind: "ServiceAccount", Namespace: s.Namespace, Name: s.ServiceAccountName}
}

// Diagnosis is the result for one subject.
type Diagnosis struct {
	Subject  ObjectRef `json:"subject"`
	RoleARN  string    `json:"roleARN,omitempty"`
	Pods     []string  `json:"pods,omitempty"`
	Findings []Finding `json:"findings"`
}

// Run applies every check to every subject. The result is deterministic:
// subjects in the snapshot's order, findings sorted by severity, id and object.
func Run(snap *facts.Snapshot) []Diagnosis {
	// The memo lives in this call's Input, never in the snapshot, so one
	// snapshot can be judged any number of times, even concurrently.
	s := &Input{Snapshot: snap, memo: newRunMemo()}
	checks := Catalogue()
	out := make([]Diagnosis, 0, len(s.Subjects))
	for _, subj := range s.Subjects {
		d := Diagnosis{Subject: subjectRef(subj), RoleARN: subjectRole(s, subj), Findings: []Finding{}}
		for _, p := range subj.Pods {
			d.Pods = append(d.Pods, p.Pod.Name)
		}
		for _, c := range checks {
			for _, f := range c.Run(s, subj) {
				f.ID = c.ID
				if f.Severity == "" {
					f.Severity = c.Severity
				}
				if f.Object.Kind == "" {
					f.Object = subjectRef(subj)
				}
				d.Findings = append(d.Findings, f)
			}
		}
		SortFindings(d.Findings)
		out = append(out, d)
	}
	return out
}

// SortFindings orders notices first, then failures, then by severity, id
// and object.
func SortFindings(fs []Finding) {
	statusRank := map[Status]int{StatusFail: 0, StatusUnknown: 1, StatusPass: 2}
	sort.SliceStable(fs, func(i, j int) bool {
		a, b := fs[i], fs[j]
		if a.Notice != b.Notice {
			return a.Notice
		}
		if statusRank[a.Status] != statusRank[b.Status] {
			return statusRank[a.Status] < statusRank[b.Status]
		}
		if a.Severity.Rank() != b.Severity.Rank() {
			return a.Severity.Rank() > b.Severity.Rank()
		}
		if a.ID != b.ID {
			return a.ID < b.ID
		}
		return a.Object.String() < b.Object.String()
	})
}

// Failing reports whether any failed finding is at or above the threshold.
// Unknown findings never count: they mean "could not tell", and are reported
// on stderr instead of turning a missing permission into a red build.
func Failing(ds []Diagnosis, threshold Severity) bool {
	if threshold.Rank() == 0 {
		return false
	}
	for _, d := range ds {
		for _, f := range d.Findings {
			if f.Status == StatusFail && f.Severity.Rank() >= threshold.Rank() {
				return true
			}
		}
	}
	return false
}

// subjectRole is the role the subject asks for, or "": its Pod Identity
// association's (the target role when there is one, whose credentials the
// pods get), which new pods get before an IRSA annotation's
// (docs/behaviour.md#webhook-decision-flow), else the IRSA role.
func subjectRole(s *Input, subj *facts.Subject) string {
	for _, a := range associationsOf(s, subj) {
		if r := credentialRole(a); r != "" {
			return r
		}
	}
	v, _ := facts.IntendedRoleARN(subj)
	return v
}
