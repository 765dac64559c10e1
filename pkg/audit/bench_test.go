package audit

import (
	"fmt"
	"testing"
)

// benchWorld is a realistic large account: sas service accounts in
// namespaces of 50, and roles roles, most trusting one to three service
// accounts exactly, one in ten a namespace wildcard, one in a hundred no
// :sub at all (which makes every service account a candidate). Every
// service account of the first roles is annotated.
func benchWorld(sas, roles int) Input {
	var list []ServiceAccount
	for i := range sas {
		s := ServiceAccount{Namespace: fmt.Sprintf("ns-%d", i/50), Name: fmt.Sprintf("app-%d", i%50)}
		if i%5 == 0 {
			s.RoleARN = roleARN(fmt.Sprintf("role-%d", (i/5)%roles))
		}
		list = append(list, s)
	}
	var rs []Role
	for r := range roles {
		var stmts []map[string]any
		switch {
		case r%100 == 99:
			stmts = append(stmts, stmt(testProvider, map[string]map[string][]string{"StringEquals": {"aud": {"sts.amazonaws.com"}}}))
		case r%10 == 9:
			stmts = append(stmts, stmt(testProvider, subLike(fmt.Sprintf("system:serviceaccount:ns-%d:*", r%(sas/50+1)))))
		default:
			for k := range 1 + r%3 {
				i := (r*5 + k*7919) % sas
				stmts = append(stmts, stmt(testProvider, subEq(fmt.Sprintf("system:serviceaccount:ns-%d:app-%d", i/50, i%50))))
			}
		}
		if r%20 == 0 {
			stmts = append(stmts, stmt(deadProvider, subEq("system:serviceaccount:old:app")))
		}
		rs = append(rs, Role{ARN: roleARN(fmt.Sprintf("role-%d", r)), TrustPolicy: doc(stmts...), Listed: true})
	}
	return baseInput(list, rs...)
}

// BenchmarkAudit5000x1000 is the figure docs/audit.md quotes: 5,000
// service accounts against 1,000 roles.
func BenchmarkAudit5000x1000(b *testing.B) {
	in := benchWorld(5000, 1000)
	// No custom metrics: make bench reads the standard ns/op, B/op and
	// allocs/op columns. TestBenchWorld pins the work done.
	b.ReportAllocs()
	for b.Loop() {
		Run(in)
	}
}

// TestBenchWorld pins what the benchmark measures: every role audited,
// and the prefilter's candidates a hundredth of the pairs.
func TestBenchWorld(t *testing.T) {
	if testing.Short() {
		t.Skip("builds 5,000 service accounts and 1,000 roles")
	}
	rep := Run(benchWorld(5000, 1000))
	if len(rep.Items) != 1000 || rep.Stats.ServiceAccounts != 5000 {
		t.Fatalf("%d roles, %d service accounts", len(rep.Items), rep.Stats.ServiceAccounts)
	}
	if rep.Stats.Candidates > 5000*1000/50 {
		t.Errorf("%d candidates for 5,000,000 pairs", rep.Stats.Candidates)
	}
	t.Logf("%d candidates", rep.Stats.Candidates)
}
