package diag_test

import (
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/diag"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/facts"
	"github.com/kubectl-irsa/kubectl-irsa/test/testutil"
)

const ns = "shop"

// scenario is a one-subject snapshot: a service account (nil = missing) and
// the pods that run as it, with the EKS webhook registered.
type scenario struct {
	sa      *corev1.ServiceAccount
	saName  string
	pods    []*corev1.Pod
	owners  map[string]facts.Owner
	mutate  func(*facts.Snapshot)
	sources map[string]facts.EnvSource
}

func (sc scenario) snapshot() *facts.Snapshot {
	name := sc.saName
	if sc.sa != nil {
		name = sc.sa.Name
	}
	subj := &facts.Subject{Namespace: ns, ServiceAccountName: name, ServiceAccount: sc.sa}
	for _, p := range sc.pods {
		subj.Pods = append(subj.Pods, facts.PodFacts{Pod: p, Owner: sc.owners[p.Name], EnvSources: sc.sources})
	}
	s := &facts.Snapshot{Now: testutil.T0.Add(2 * time.Hour), Subjects: []*facts.Subject{subj},
		Namespaces: map[string]*corev1.Namespace{ns: testutil.Namespace(ns, map[string]string{"team": "shop"})}}
	s.Webhooks.Configs = append(s.Webhooks.Configs, *testutil.Webhook())
	if sc.mutate != nil {
		sc.mutate(s)
	}
	return s
}

// findingsOf runs every check and keeps the findings of one id. An id that
// is not in the catalogue fails the test: it has no findings, so a "no
// finding expected" case would pass on a typo.
func findingsOf(t testing.TB, s *facts.Snapshot, id diag.CheckID) []diag.Finding {
	t.Helper()
	if _, ok := diag.Lookup(id); !ok {
		t.Fatalf("findingsOf: %s is not a check in the catalogue (diag.Lookup)", id)
	}
	var out []diag.Finding
	for _, d := range diag.Run(s) {
		for _, f := range d.Findings {
			if f.ID == id {
				out = append(out, f)
			}
		}
	}
	return out
}

// want describes one expected finding; empty fields are not compared.
type want struct {
	status   diag.Status
	severity diag.Severity
	object   string   // ObjectRef.String(), e.g. pod/web[app]
	message  string   // substring
	evidence []string // "key=value" substrings that must appear among the evidence
	fix      string   // substring of the remediation
}

func expect(t *testing.T, got []diag.Finding, wants []want) {
	t.Helper()
	if len(got) != len(wants) {
		t.Fatalf("got %d findings, want %d:\n%s", len(got), len(wants), dump(got))
	}
	for i, w := range wants {
		f := got[i]
		if w.status != "" && f.Status != w.status {
			t.Errorf("finding %d: status %s, want %s (%s)", i, f.Status, w.status, f.Message)
		}
		if w.severity != "" && f.Severity != w.severity {
			t.Errorf("finding %d: severity %s, want %s (%s)", i, f.Severity, w.severity, f.Message)
		}
		if w.object != "" && f.Object.String() != w.object {
			t.Errorf("finding %d: object %s, want %s", i, f.Object.String(), w.object)
		}
		if !strings.Contains(f.Message, w.message) {
			t.Errorf("finding %d: message %q does not contain %q", i, f.Message, w.message)
		}
		if !strings.Contains(f.Remediation, w.fix) {
			t.Errorf("finding %d: remediation %q does not contain %q", i, f.Remediation, w.fix)
		}
		for _, e := range w.evidence {
			found := false
			for _, have := range f.Evidence {
				if strings.Contains(have.Key+"="+have.Value, e) {
					found = true
				}
			}
			if !found {
				t.Errorf("finding %d: evidence %v lacks %q", i, f.Evidence, e)
			}
		}
	}
}

func dump(fs []diag.Finding) string {
	var b strings.Builder
	for _, f := range fs {
		b.WriteString("  " + string(f.ID) + " " + string(f.Status) + " " + string(f.Severity) + " " + f.Object.String() + ": " + f.Message + "\n")
	}
	return b.String()
}

// Shorthands for the builders.
func sa(name string) *testutil.SA { return testutil.NewSA(ns, name) }
func pod(name, sa string) *testutil.Pod {
	return testutil.NewPod(ns, name, sa)
}

var healthySA = sa("app").RoleARN(testutil.RoleARN).Build()

func healthyPod(name string) *testutil.Pod {
	return pod(name, "app").Mutate(testutil.RoleARN, "sts.amazonaws.com")
}

// TestFindingsOfRejectsUnknownIDs: a mistyped id must fail the test rather
// than find nothing, and a catalogued one must not.
func TestFindingsOfRejectsUnknownIDs(t *testing.T) {
	snap := scenario{sa: healthySA, pods: []*corev1.Pod{healthyPod("web").Build()}}.snapshot()
	msgs, failed, finished := testutil.Failures(t, func(tb testing.TB) { findingsOf(tb, snap, "IRSA-SA-01") })
	if !failed || finished || len(msgs) != 1 || !strings.Contains(msgs[0], "IRSA-SA-01 is not a check in the catalogue") {
		t.Errorf("findingsOf(IRSA-SA-01): messages %q, failed %v, returned %v; want a fatal failure naming the id", msgs, failed, finished)
	}
	var got []diag.Finding
	msgs, failed, finished = testutil.Failures(t, func(tb testing.TB) { got = findingsOf(tb, snap, "IRSA-SA-001") })
	if failed || !finished || len(msgs) != 0 {
		t.Errorf("findingsOf(IRSA-SA-001): messages %q, failed %v, returned %v; want it accepted", msgs, failed, finished)
	}
	expect(t, got, []want{{status: diag.StatusPass, object: "serviceaccount/app"}})
}
