package audit

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"testing"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/iampolicy"
)

// generatedWorld is a deterministic world of service accounts and roles
// whose trust statements mix every form the prefilter must get right:
// exact and wildcard :sub values, ?, namespace and cluster wildcards,
// StringNotLike exclusions, Deny statements, ForAnyValue, case-insensitive
// operators (not used to narrow), missing :sub, other audiences, other
// providers and several statements per role.
func generatedWorld(seed uint64, namespaces, perNamespace, roles int) ([]ServiceAccount, []Role) {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	var sas []ServiceAccount
	for n := range namespaces {
		for i := range perNamespace {
			s := ServiceAccount{Namespace: fmt.Sprintf("team-%d", n), Name: fmt.Sprintf("app-%d", i)}
			if rng.IntN(4) == 0 {
				s.RoleARN = roleARN(fmt.Sprintf("role-%d", rng.IntN(roles)))
			}
			if rng.IntN(10) == 0 {
				s.Audience = "custom-audience"
			}
			sas = append(sas, s)
		}
	}
	pickNS := func() string { return fmt.Sprintf("team-%d", rng.IntN(namespaces+1)) } // one namespace more than exists
	pickSA := func() string { return fmt.Sprintf("app-%d", rng.IntN(perNamespace+2)) }
	sub := func() string { return "system:serviceaccount:" + pickNS() + ":" + pickSA() }
	aud := map[string][]string{"aud": {"sts.amazonaws.com"}}
	statement := func() map[string]any {
		var conds map[string]map[string][]string
		switch rng.IntN(14) {
		case 0:
			conds = map[string]map[string][]string{"StringEquals": {"sub": {sub()}, "aud": aud["aud"]}}
		case 1:
			conds = map[string]map[string][]string{"StringEquals": {"sub": {sub(), sub(), sub()}}}
		case 2:
			conds = map[string]map[string][]string{"StringLike": {"sub": {"system:serviceaccount:" + pickNS() + ":app-?"}}}
		case 3:
			conds = map[string]map[string][]string{"StringLike": {"sub": {"system:serviceaccount:" + pickNS() + ":*"}}}
		case 4:
			conds = map[string]map[string][]string{"StringLike": {"sub": {"system:serviceaccount:*:" + pickSA()}}}
		case 5:
			conds = map[string]map[string][]string{"StringLike": {"sub": {"system:serviceaccount:team-?:app-1*"}}}
		case 6:
			conds = map[string]map[string][]string{
				"StringLike":    {"sub": {"system:serviceaccount:" + pickNS() + ":*"}},
				"StringNotLike": {"sub": {"system:serviceaccount:*:app-1*"}},
			}
		case 7:
			conds = map[string]map[string][]string{"StringEquals": {"aud": aud["aud"]}}
		case 8:
			conds = nil
		case 9:
			conds = map[string]map[string][]string{"ForAnyValue:StringLike": {"sub": {"system:serviceaccount:" + pickNS() + ":app-2*"}}}
		case 10:
			conds = map[string]map[string][]string{"StringEqualsIgnoreCase": {"sub": {"SYSTEM:SERVICEACCOUNT:" + pickNS() + ":" + pickSA()}}}
		case 11:
			conds = map[string]map[string][]string{"StringEquals": {"sub": {sub()}, "aud": {"custom-audience"}}}
		case 12:
			conds = map[string]map[string][]string{"StringNotEquals": {"sub": {sub()}}}
		case 13:
			conds = map[string]map[string][]string{"StringLikeIfExists": {"sub": {"system:serviceaccount:" + pickNS() + ":app-*"}}}
		}
		provider := testProvider
		if rng.IntN(8) == 0 {
			provider = deadProvider
		}
		s := stmt(provider, conds)
		if rng.IntN(6) == 0 {
			s["Effect"] = "Deny"
		}
		if rng.IntN(25) == 0 {
			s["Principal"] = "*"
		}
		return s
	}
	var rs []Role
	for r := range roles {
		n := 1 + rng.IntN(4)
		var stmts []map[string]any
		for range n {
			stmts = append(stmts, statement())
		}
		rs = append(rs, Role{ARN: roleARN(fmt.Sprintf("role-%d", r)), TrustPolicy: doc(stmts...), Listed: true})
	}
	return sas, rs
}

// TestReachEqualsPairwiseEvaluation is the audit's correctness contract:
// the prefiltered reach equals evaluating every (service account, role)
// pair with the evaluator diagnose uses.
func TestReachEqualsPairwiseEvaluation(t *testing.T) {
	for _, seed := range []uint64{1, 2, 3, 4, 5} {
		sas, roles := generatedWorld(seed, 8, 12, 40)
		rep := Run(baseInput(sas, roles...))
		got := map[string]bool{}
		for _, it := range rep.Items {
			for _, r := range it.ServiceAccounts {
				if r.Via == ViaIRSA {
					got[it.Role+" "+r.Namespace+"/"+r.Name] = true
				}
			}
		}
		want := map[string]bool{}
		pairs := 0
		for _, r := range roles {
			p, err := iampolicy.Parse(r.TrustPolicy)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range sas {
				pairs++
				res := p.Evaluate(iampolicy.TrustRequest(iampolicy.Expectation{ProviderARN: testProvider, IssuerHostPath: testHost,
					Subject: s.Subject(), Audience: s.audience()}))
				if res.Decision == iampolicy.DecisionAllow {
					want[r.ARN+" "+s.Namespace+"/"+s.Name] = true
				}
			}
		}
		if pairs < 300 {
			t.Fatalf("only %d pairs", pairs)
		}
		if len(want) == 0 {
			t.Fatalf("seed %d: the world admits nobody; the test would prove nothing", seed)
		}
		var missing, extra []string
		for k := range want {
			if !got[k] {
				missing = append(missing, k)
			}
		}
		for k := range got {
			if !want[k] {
				extra = append(extra, k)
			}
		}
		sort.Strings(missing)
		sort.Strings(extra)
		if len(missing) > 0 || len(extra) > 0 {
			t.Errorf("seed %d: reach differs from pairwise evaluation\nmissing: %q\nextra: %q", seed, missing, extra)
		}
		// The prefilter earns its keep: far fewer evaluations than pairs.
		if rep.Stats.Candidates >= pairs {
			t.Errorf("seed %d: %d candidates for %d pairs: the prefilter filtered nothing", seed, rep.Stats.Candidates, pairs)
		}
		t.Logf("seed %d: %d pairs, %d reachable, %d candidates evaluated", seed, pairs, len(want), rep.Stats.Candidates)
	}
}
