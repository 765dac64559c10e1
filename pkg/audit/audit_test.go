package audit

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/diag"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/facts"
)

const (
	testAccount  = "111122223333"
	testIssuer   = "https://oidc.eks.us-west-2.amazonaws.com/id/ABCDEF0123456789"
	testHost     = "oidc.eks.us-west-2.amazonaws.com/id/ABCDEF0123456789"
	testProvider = "arn:aws:iam::111122223333:oidc-provider/" + testHost
	deadHost     = "oidc.eks.us-west-2.amazonaws.com/id/DEAD00000000000000"
	deadProvider = "arn:aws:iam::111122223333:oidc-provider/" + deadHost
)

func roleARN(name string) string { return "arn:aws:iam::" + testAccount + ":role/" + name }

// stmt is one Allow statement for provider with the given conditions
// (operator → key suffix → values).
func stmt(provider string, conds map[string]map[string][]string) map[string]any {
	s := map[string]any{
		"Effect":    "Allow",
		"Principal": map[string]any{"Federated": provider},
		"Action":    "sts:AssumeRoleWithWebIdentity",
	}
	if len(conds) > 0 {
		c := map[string]any{}
		for op, keys := range conds {
			m := map[string]any{}
			_, host, _ := strings.Cut(provider, "oidc-provider/")
			for k, v := range keys {
				m[host+":"+k] = v
			}
			c[op] = m
		}
		s["Condition"] = c
	}
	return s
}

func doc(statements ...map[string]any) string {
	// Maps of strings and slices always marshal.
	b, _ := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": statements})
	return string(b)
}

func subEq(values ...string) map[string]map[string][]string {
	return map[string]map[string][]string{"StringEquals": {"sub": values, "aud": {"sts.amazonaws.com"}}}
}

func subLike(values ...string) map[string]map[string][]string {
	return map[string]map[string][]string{"StringLike": {"sub": values}, "StringEquals": {"aud": {"sts.amazonaws.com"}}}
}

func sa(ns, name, role string) ServiceAccount {
	return ServiceAccount{Namespace: ns, Name: name, RoleARN: role}
}

func baseInput(sas []ServiceAccount, roles ...Role) Input {
	return Input{Issuer: testIssuer, Account: testAccount, AllNamespaces: true, ServiceAccounts: sas, Roles: roles,
		Providers: &facts.ProviderList{Account: testAccount, ARNs: []string{testProvider}}}
}

func reachOf(t *testing.T, rep Report, role string) []string {
	t.Helper()
	for _, it := range rep.Items {
		if it.Role == role {
			var out []string
			for _, r := range it.ServiceAccounts {
				mark := "unintended"
				if r.Intended {
					mark = "intended"
				}
				out = append(out, r.Namespace+"/"+r.Name+"="+mark)
			}
			return out
		}
	}
	t.Fatalf("role %s not in the report: %+v", role, rep.Items)
	return nil
}

func item(t *testing.T, rep Report, role string) RoleReport {
	t.Helper()
	for _, it := range rep.Items {
		if it.Role == role {
			return it
		}
	}
	t.Fatalf("role %s not in the report", role)
	return RoleReport{}
}

// ids lists the ids of the findings, in order.
func ids(fs []diag.Finding) []diag.CheckID {
	out := []diag.CheckID{}
	for _, f := range fs {
		out = append(out, f.ID)
	}
	return out
}

func findingsWith(fs []diag.Finding, id diag.CheckID) []diag.Finding {
	var out []diag.Finding
	for _, f := range fs {
		if f.ID == id {
			out = append(out, f)
		}
	}
	return out
}

// requireKnown fails on an id that is not in the catalogue, so a "no
// finding" assertion cannot pass by a typo.
func requireKnown(t *testing.T, id diag.CheckID) {
	t.Helper()
	for _, c := range Catalogue() {
		if c.ID == id {
			return
		}
	}
	t.Fatalf("%s is not an audit check id", id)
}

func noFinding(t *testing.T, fs []diag.Finding, id diag.CheckID) {
	t.Helper()
	requireKnown(t, id)
	if got := findingsWith(fs, id); len(got) > 0 {
		t.Errorf("unexpected %s: %+v", id, got)
	}
}

func oneFinding(t *testing.T, fs []diag.Finding, id diag.CheckID) diag.Finding {
	t.Helper()
	requireKnown(t, id)
	got := findingsWith(fs, id)
	if len(got) != 1 {
		t.Fatalf("want one %s, got %d: %v", id, len(got), ids(fs))
	}
	return got[0]
}

func evidence(f diag.Finding, key string) string {
	for _, e := range f.Evidence {
		if e.Key == key {
			return e.Value
		}
	}
	return ""
}

func TestPatternSummaries(t *testing.T) {
	cases := []struct {
		name  string
		conds map[string]map[string][]string
		stars bool
		want  []string
		kinds []PatternKind
	}{
		{"exact", subEq("system:serviceaccount:shop:api"), false, []string{"shop/api"}, []PatternKind{PatternServiceAccount}},
		{"like without wildcard", subLike("system:serviceaccount:shop:api"), false, []string{"shop/api"}, []PatternKind{PatternServiceAccount}},
		{"namespace", subLike("system:serviceaccount:shop:*"), false, []string{"shop/*"}, []PatternKind{PatternNamespace}},
		{"wildcard name", subLike("system:serviceaccount:shop:api-?"), false, []string{"shop/api-?"}, []PatternKind{PatternWildcard}},
		{"wildcard namespace", subLike("system:serviceaccount:*:api"), false, []string{"*/api"}, []PatternKind{PatternWildcard}},
		{"whole cluster", subLike("system:serviceaccount:*"), false, []string{"*/*"}, []PatternKind{PatternCluster}},
		{"star alone", subLike("*"), false, []string{"*/*"}, []PatternKind{PatternCluster}},
		{"missing sub", map[string]map[string][]string{"StringEquals": {"aud": {"sts.amazonaws.com"}}}, false, []string{"any token"}, []PatternKind{PatternAnyToken}},
		{"no condition", nil, false, []string{"any token"}, []PatternKind{PatternAnyToken}},
		{"principal star", nil, true, []string{"any provider"}, []PatternKind{PatternAnyProvider}},
		{"not a subject", subEq("sts.amazonaws.com"), false, []string{"sts.amazonaws.com"}, []PatternKind{PatternOther}},
		{"escaped star is literal", subLike("system:serviceaccount:shop:a${*}b"), false, []string{"shop/a*b"}, []PatternKind{PatternServiceAccount}},
		{"only exclusion", map[string]map[string][]string{"StringNotLike": {"sub": {"system:serviceaccount:kube-system:*"}}}, false,
			[]string{"any token", "not kube-system/*"}, []PatternKind{PatternAnyToken, PatternExcept}},
		{"exclusion", map[string]map[string][]string{"StringLike": {"sub": {"system:serviceaccount:*:api"}},
			"StringNotEquals": {"sub": {"system:serviceaccount:kube-system:api"}}}, false,
			[]string{"*/api", "not kube-system/api"}, []PatternKind{PatternWildcard, PatternExcept}},
		{"two values", subEq("system:serviceaccount:b:x", "system:serviceaccount:a:y"), false, []string{"a/y", "b/x"},
			[]PatternKind{PatternServiceAccount, PatternServiceAccount}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := stmt(testProvider, c.conds)
			if c.stars {
				s["Principal"] = "*"
			}
			rep := Run(baseInput(nil, Role{ARN: roleARN("r"), TrustPolicy: doc(s)}))
			it := item(t, rep, roleARN("r"))
			if !slices.Equal(it.Admits, c.want) {
				t.Errorf("admits = %q, want %q", it.Admits, c.want)
			}
			var kinds []PatternKind
			for _, p := range it.Statements[0].Admits {
				kinds = append(kinds, p.Kind)
			}
			if !slices.Equal(kinds, c.kinds) {
				t.Errorf("kinds = %q, want %q", kinds, c.kinds)
			}
		})
	}
}

func TestReach(t *testing.T) {
	sas := []ServiceAccount{
		sa("shop", "api", roleARN("r")), sa("shop", "api-1", ""), sa("shop", "api-12", ""), sa("shop", "web", ""),
		sa("blog", "api", ""), sa("kube-system", "api", ""), sa("kube-system", "other", ""),
	}
	deny := map[string]any{
		"Effect": "Deny", "Principal": map[string]any{"Federated": testProvider}, "Action": "sts:AssumeRoleWithWebIdentity",
		"Condition": map[string]any{"StringEquals": map[string]any{testHost + ":sub": "system:serviceaccount:shop:web"}},
	}
	cases := []struct {
		name  string
		trust string
		want  []string
	}{
		{"exact", doc(stmt(testProvider, subEq("system:serviceaccount:shop:api"))), []string{"shop/api=intended"}},
		{"question mark is one character", doc(stmt(testProvider, subLike("system:serviceaccount:shop:api-?"))), []string{"shop/api-1=unintended"}},
		{"star", doc(stmt(testProvider, subLike("system:serviceaccount:shop:api*"))),
			[]string{"shop/api=intended", "shop/api-1=unintended", "shop/api-12=unintended"}},
		{"namespace wildcard", doc(stmt(testProvider, subLike("system:serviceaccount:*:api"))),
			[]string{"blog/api=unintended", "kube-system/api=unintended", "shop/api=intended"}},
		{"StringNotLike exclusion", doc(stmt(testProvider, map[string]map[string][]string{
			"StringLike":    {"sub": {"system:serviceaccount:*:api"}},
			"StringNotLike": {"sub": {"system:serviceaccount:kube-system:*"}},
		})), []string{"blog/api=unintended", "shop/api=intended"}},
		{"deny wins", doc(stmt(testProvider, subLike("system:serviceaccount:shop:*")), deny),
			[]string{"shop/api=intended", "shop/api-1=unintended", "shop/api-12=unintended"}},
		{"multiple statements", doc(stmt(testProvider, subEq("system:serviceaccount:shop:api")), stmt(testProvider, subEq("system:serviceaccount:blog:api"))),
			[]string{"blog/api=unintended", "shop/api=intended"}},
		{"missing sub admits every service account", doc(stmt(testProvider, map[string]map[string][]string{"StringEquals": {"aud": {"sts.amazonaws.com"}}})),
			[]string{"blog/api=unintended", "kube-system/api=unintended", "kube-system/other=unintended", "shop/api=intended",
				"shop/api-1=unintended", "shop/api-12=unintended", "shop/web=unintended"}},
		{"ForAnyValue", doc(stmt(testProvider, map[string]map[string][]string{"ForAnyValue:StringLike": {"sub": {"system:serviceaccount:blog:*"}}})),
			[]string{"blog/api=unintended"}},
		{"other provider admits nobody", doc(stmt(deadProvider, map[string]map[string][]string{"StringLike": {"sub": {"*"}}})), nil},
		{"StringEquals takes the star literally", doc(stmt(testProvider, subEq("system:serviceaccount:shop:*"))), nil},
		{"wrong audience", doc(stmt(testProvider, map[string]map[string][]string{"StringEquals": {"sub": {"system:serviceaccount:shop:api"}, "aud": {"other"}}})), nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rep := Run(baseInput(sas, Role{ARN: roleARN("r"), TrustPolicy: c.trust}))
			got := reachOf(t, rep, roleARN("r"))
			if !slices.Equal(got, c.want) {
				t.Errorf("reach = %q, want %q", got, c.want)
			}
		})
	}
}

func TestUnintendedReachFinding(t *testing.T) {
	sas := []ServiceAccount{sa("shop", "api", roleARN("r")), sa("shop", "web", "")}
	rep := Run(baseInput(sas, Role{ARN: roleARN("r"), TrustPolicy: doc(stmt(testProvider, subLike("system:serviceaccount:shop:*")))}))
	it := item(t, rep, roleARN("r"))
	f := oneFinding(t, it.Findings, CheckReach)
	if f.Severity != diag.SeverityWarning || f.Status != diag.StatusFail {
		t.Errorf("severity/status = %s/%s", f.Severity, f.Status)
	}
	if got := evidence(f, "serviceaccount shop/web"); got != "admitted by statement 0" {
		t.Errorf("evidence = %q", got)
	}
	if !strings.Contains(f.Message, "shop/web") || strings.Contains(f.Message, "shop/api") {
		t.Errorf("message = %q", f.Message)
	}
	// The namespace wildcard is also a risk, per role.
	r := oneFinding(t, it.Findings, CheckRisk)
	if evidence(r, "kind") != "ServiceAccountWildcard" || r.Severity != diag.SeverityWarning {
		t.Errorf("risk = %+v", r)
	}

	// Narrowed to the one service account: neither.
	rep = Run(baseInput(sas, Role{ARN: roleARN("r"), TrustPolicy: doc(stmt(testProvider, subEq("system:serviceaccount:shop:api")))}))
	it = item(t, rep, roleARN("r"))
	noFinding(t, it.Findings, CheckReach)
	noFinding(t, it.Findings, CheckRisk)
	noFinding(t, it.Findings, CheckSelf)
	noFinding(t, it.Findings, CheckStale)
}

func TestPodIdentityIsIntended(t *testing.T) {
	s := sa("shop", "web", "")
	s.PodIdentityRoles = []string{roleARN("r")}
	podTrust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"pods.eks.amazonaws.com"},"Action":["sts:AssumeRole","sts:TagSession"]}]}`
	rep := Run(baseInput([]ServiceAccount{s}, Role{ARN: roleARN("r"), TrustPolicy: podTrust}))
	it := item(t, rep, roleARN("r"))
	if len(it.ServiceAccounts) != 1 || it.ServiceAccounts[0].Via != ViaPodIdentity || !it.ServiceAccounts[0].Intended {
		t.Fatalf("reach = %+v", it.ServiceAccounts)
	}
	noFinding(t, it.Findings, CheckReach)
	noFinding(t, it.Findings, CheckSelf)
}

func TestSelfFinding(t *testing.T) {
	sas := []ServiceAccount{sa("shop", "api", roleARN("r"))}
	rep := Run(baseInput(sas, Role{ARN: roleARN("r"), TrustPolicy: doc(stmt(testProvider, subEq("system:serviceaccount:shop:apj")))}))
	it := item(t, rep, roleARN("r"))
	f := oneFinding(t, it.Findings, CheckSelf)
	if f.Object.Kind != "ServiceAccount" || f.Object.Namespace != "shop" || f.Object.Name != "api" {
		t.Errorf("object = %+v", f.Object)
	}
	if evidence(f, "kind") != "SubMismatch" || evidence(f, "decision") != "ImplicitDeny" {
		t.Errorf("evidence = %+v", f.Evidence)
	}
	if !strings.Contains(f.Remediation, "system:serviceaccount:shop:api") {
		t.Errorf("remediation = %q", f.Remediation)
	}
}

func TestDeadProviderFinding(t *testing.T) {
	sas := []ServiceAccount{sa("shop", "api", roleARN("r"))}
	trust := doc(stmt(testProvider, subEq("system:serviceaccount:shop:api")), stmt(deadProvider, subEq("system:serviceaccount:shop:api")))
	rep := Run(baseInput(sas, Role{ARN: roleARN("r"), TrustPolicy: trust}))
	it := item(t, rep, roleARN("r"))
	f := oneFinding(t, it.Findings, CheckDeadProv)
	if evidence(f, "missing providers") != deadProvider {
		t.Errorf("evidence = %+v", f.Evidence)
	}
	want := `{"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"` + deadHost + `:aud":["sts.amazonaws.com"],"` + deadHost +
		`:sub":["system:serviceaccount:shop:api"]}},"Effect":"Allow","Principal":{"Federated":"` + deadProvider + `"}}`
	if evidence(f, "statement") != want {
		t.Errorf("statement = %s\nwant %s", evidence(f, "statement"), want)
	}
	_, rest, found := strings.Cut(f.Remediation, "--policy-document")
	if !strings.Contains(f.Remediation, "delete statement 1") || !strings.Contains(f.Remediation, "aws iam update-assume-role-policy --role-name r") ||
		!found || strings.Contains(rest, deadHost) {
		t.Errorf("remediation = %s", f.Remediation)
	}
	if !slices.Equal(it.Statements[1].DeadProviders, []string{deadProvider}) || it.Statements[1].ThisProvider {
		t.Errorf("statement 1 = %+v", it.Statements[1])
	}
	// The live provider's statement is not dead; with the list unknown none is.
	in := baseInput(sas, Role{ARN: roleARN("r"), TrustPolicy: trust})
	in.Providers = &facts.ProviderList{Err: &facts.CallError{Op: "iam:ListOpenIDConnectProviders", Code: facts.ErrAccessDenied}}
	noFinding(t, item(t, Run(in), roleARN("r")).Findings, CheckDeadProv)
}

func TestUnreferencedProviders(t *testing.T) {
	other := "arn:aws:iam::111122223333:oidc-provider/oidc.eks.us-west-2.amazonaws.com/id/UNUSED"
	in := baseInput(nil, Role{ARN: roleARN("r"), TrustPolicy: doc(stmt(testProvider, nil)), Listed: true})
	in.Providers.ARNs = []string{testProvider, other}
	in.AllRoles = true
	rep := Run(in)
	f := oneFinding(t, rep.Findings, CheckUnusedProv)
	if f.Object.Name != other || f.Severity != diag.SeverityInfo {
		t.Errorf("finding = %+v", f)
	}
	if !strings.Contains(f.Remediation, "delete-open-id-connect-provider --open-id-connect-provider-arn "+other) {
		t.Errorf("remediation = %s", f.Remediation)
	}
	// Not with --roles annotated, nor under a path prefix: unseen roles
	// may reference it.
	in.AllRoles = false
	noFinding(t, Run(in).Findings, CheckUnusedProv)
	in.AllRoles, in.PathPrefix = true, "/eks/"
	noFinding(t, Run(in).Findings, CheckUnusedProv)
}

func TestSizeFinding(t *testing.T) {
	var stmts []map[string]any
	var sas []ServiceAccount
	for i := range 5 {
		stmts = append(stmts, stmt(testProvider, subEq(fmt.Sprintf("system:serviceaccount:ns%02d:app", i))))
		sas = append(sas, sa(fmt.Sprintf("ns%02d", i), "app", roleARN("big")))
	}
	trust := doc(stmts...)
	n := PolicyLength(trust)
	if n*10 < 8*DefaultSizeQuota || n > DefaultSizeQuota {
		t.Fatalf("test document is %d characters; want 80–100 %% of 2048", n)
	}
	rep := Run(baseInput(sas, Role{ARN: roleARN("big"), TrustPolicy: trust}))
	f := oneFinding(t, item(t, rep, roleARN("big")).Findings, CheckSize)
	if evidence(f, "length") != fmt.Sprint(n) || evidence(f, "quota") != "2048" {
		t.Errorf("evidence = %+v", f.Evidence)
	}
	// Whitespace is not counted.
	if PolicyLength("{ \"a\" :\n\t1 }") != 7 {
		t.Errorf("PolicyLength counts whitespace")
	}
	// A raised quota (GetAccountSummary) takes it below 80 %.
	in := baseInput(sas, Role{ARN: roleARN("big"), TrustPolicy: trust})
	in.SizeQuota = 4096
	noFinding(t, item(t, Run(in), roleARN("big")).Findings, CheckSize)
}

func TestDuplicateFinding(t *testing.T) {
	a := stmt(testProvider, subEq("system:serviceaccount:shop:api"))
	b := stmt(testProvider, subEq("system:serviceaccount:shop:api"))
	b["Sid"] = "Copy"
	c := stmt(testProvider, subEq("system:serviceaccount:shop:web"))
	rep := Run(baseInput([]ServiceAccount{sa("shop", "api", roleARN("r")), sa("shop", "web", roleARN("r"))},
		Role{ARN: roleARN("r"), TrustPolicy: doc(a, c, b)}))
	f := oneFinding(t, item(t, rep, roleARN("r")).Findings, CheckDuplicate)
	if f.Message != "Statement 2 repeats statement 0" || evidence(f, "statements") != "0, 2" {
		t.Errorf("finding = %+v", f)
	}
}

func TestStaleFinding(t *testing.T) {
	trust := doc(stmt(testProvider, subEq("system:serviceaccount:shop:api")), stmt(testProvider, subEq("system:serviceaccount:gone:old")))
	sas := []ServiceAccount{sa("shop", "api", roleARN("r"))}
	rep := Run(baseInput(sas, Role{ARN: roleARN("r"), TrustPolicy: trust}))
	f := oneFinding(t, item(t, rep, roleARN("r")).Findings, CheckStale)
	if f.Message != "Statement 1 admits no service account of the cluster (gone/old)" || evidence(f, "patterns") != "gone/old" {
		t.Errorf("finding = %+v", f)
	}
	// With -n shop the other namespace was not listed: no verdict.
	in := baseInput(sas, Role{ARN: roleARN("r"), TrustPolicy: trust})
	in.AllNamespaces, in.Namespace = false, "shop"
	noFinding(t, item(t, Run(in), roleARN("r")).Findings, CheckStale)
	// But a statement for a missing service account of shop is stale there.
	in.Roles[0].TrustPolicy = doc(stmt(testProvider, subEq("system:serviceaccount:shop:api")), stmt(testProvider, subEq("system:serviceaccount:shop:old")))
	if f := oneFinding(t, item(t, Run(in), roleARN("r")).Findings, CheckStale); f.Message != "Statement 1 admits no service account of namespace shop (shop/old)" {
		t.Errorf("message = %q", f.Message)
	}
}

func TestUnparsableAndUnreadable(t *testing.T) {
	sas := []ServiceAccount{sa("shop", "api", roleARN("bad")), sa("shop", "gone", roleARN("gone")), sa("shop", "denied", roleARN("denied")),
		sa("shop", "ok", roleARN("ok"))}
	rep := Run(baseInput(sas,
		Role{ARN: roleARN("bad"), TrustPolicy: `{"Statement": [`},
		Role{ARN: roleARN("gone"), Err: &facts.CallError{Op: "iam:GetRole", Code: facts.ErrNotFound, Message: "The role with name gone cannot be found."}},
		Role{ARN: roleARN("denied"), Err: &facts.CallError{Op: "iam:GetRole", Code: facts.ErrAccessDenied, Message: "not authorized"}},
		Role{ARN: roleARN("ok"), TrustPolicy: doc(stmt(testProvider, subEq("system:serviceaccount:shop:ok")))},
		// A listed role of another cluster is not this cluster's business.
		Role{ARN: roleARN("elsewhere"), TrustPolicy: doc(stmt(deadProvider, nil)), Listed: true},
	))
	if got := []string{rep.Items[0].Role, rep.Items[1].Role, rep.Items[2].Role, rep.Items[3].Role}; len(rep.Items) != 4 ||
		!slices.Equal(got, []string{roleARN("bad"), roleARN("denied"), roleARN("gone"), roleARN("ok")}) {
		t.Fatalf("items = %+v", rep.Items)
	}
	f := oneFinding(t, item(t, rep, roleARN("bad")).Findings, CheckPolicy)
	if f.Status != diag.StatusFail || f.Severity != diag.SeverityError || !strings.Contains(f.Message, "malformed policy document") {
		t.Errorf("policy finding = %+v", f)
	}
	if f := oneFinding(t, item(t, rep, roleARN("gone")).Findings, CheckRoleRead); f.Status != diag.StatusFail {
		t.Errorf("gone = %+v", f)
	}
	if f := oneFinding(t, item(t, rep, roleARN("denied")).Findings, CheckRoleRead); f.Status != diag.StatusUnknown {
		t.Errorf("denied = %+v", f)
	}
	if got := reachOf(t, rep, roleARN("ok")); !slices.Equal(got, []string{"shop/ok=intended"}) {
		t.Errorf("ok reach = %q", got)
	}
}

func TestAccessFindings(t *testing.T) {
	in := baseInput(nil)
	in.Failed = []*facts.CallError{
		{Op: "iam:ListRoles", Resource: testAccount, Code: facts.ErrAccessDenied, Message: "not authorized to perform iam:ListRoles"},
		{Op: "iam:GetAccountSummary", Resource: testAccount, Code: facts.ErrAccessDenied, Message: "not authorized"},
	}
	rep := Run(in)
	got := findingsWith(rep.Findings, CheckAccountRead)
	if len(got) != 2 {
		t.Fatalf("findings = %+v", rep.Findings)
	}
	for _, f := range got {
		if f.Status != diag.StatusUnknown || f.Object.Kind != "AWSAccount" || f.Object.Name != testAccount {
			t.Errorf("finding = %+v", f)
		}
	}
	if !strings.Contains(got[0].Message+got[1].Message, "only the roles named by annotations and associations were audited") {
		t.Errorf("messages = %q / %q", got[0].Message, got[1].Message)
	}
}

func TestCatalogue(t *testing.T) {
	seen := map[diag.CheckID]bool{}
	for _, c := range Catalogue() {
		if seen[c.ID] || !strings.HasPrefix(string(c.ID), "AUDIT-") || c.Title == "" || c.LooksAt == "" || c.Severity.Rank() == 0 {
			t.Errorf("bad entry %+v", c)
		}
		seen[c.ID] = true
	}
	for _, id := range []diag.CheckID{CheckReach, CheckRisk, CheckSelf, CheckDeadProv, CheckUnusedProv, CheckSize, CheckDuplicate, CheckStale,
		CheckPolicy, CheckRoleRead, CheckAccountRead} {
		if !seen[id] {
			t.Errorf("%s is not in the catalogue", id)
		}
	}
}
