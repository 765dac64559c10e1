package plugin

import (
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/runtime"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/audit"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/diag"
	"github.com/kubectl-irsa/kubectl-irsa/test/fakeaws"
	"github.com/kubectl-irsa/kubectl-irsa/test/fakekube"
	"github.com/kubectl-irsa/kubectl-irsa/test/testutil"
)

const (
	auditDeadHost     = "oidc.eks.us-west-2.amazonaws.com/id/DEADBEEFDEADBEEFDEADBEEFDEADBEEF"
	auditDeadProvider = "arn:aws:iam::111122223333:oidc-provider/" + auditDeadHost
	auditUnusedProv   = "arn:aws:iam::111122223333:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/UNUSED0000000000000000000000000"
)

// auditStatement is one Allow statement for provider whose :sub operator
// and values are given; aud pins sts.amazonaws.com unless noAud.
func auditStatement(provider, host, op string, noAud bool, subs ...string) string {
	list, _ := json.Marshal(subs)
	cond := fmt.Sprintf(`%q:{%q:%s}`, op, host+":sub", list)
	if !noAud {
		if op == "StringEquals" {
			cond = fmt.Sprintf(`"StringEquals":{%q:%s,%q:"sts.amazonaws.com"}`, host+":sub", list, host+":aud")
		} else {
			cond += fmt.Sprintf(`,"StringEquals":{%q:"sts.amazonaws.com"}`, host+":aud")
		}
	}
	return fmt.Sprintf(`{"Effect":"Allow","Principal":{"Federated":%q},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{%s}}`, provider, cond)
}

func auditPolicy(statements ...string) string {
	return `{"Version":"2012-10-17","Statement":[` + strings.Join(statements, ",") + `]}`
}

// auditKubeWorld is world() plus three annotated service accounts.
func auditKubeWorld(t *testing.T) *fakekube.Server {
	t.Helper()
	objs := append(world(), []runtime.Object{
		testutil.NewSA("shop", "reports").RoleARN("arn:aws:iam::111122223333:role/reports").Build(),
		testutil.NewSA("shop", "batch").RoleARN("arn:aws:iam::111122223333:role/batch").Build(),
		testutil.NewSA("billing", "payments").RoleARN("arn:aws:iam::111122223333:role/payments").Build(),
	}...)
	srv := fakekube.New(t, objs...)
	srv.SetIssuer(worldIssuer)
	return srv
}

// auditAWSWorld is awsWorld() plus the audit's roles: one trusting a
// namespace wildcard, one with a dead provider and a duplicate statement,
// one whose :sub is misspelt, one unannotated role trusting every "app"
// service account, and a provider no role references.
func auditAWSWorld() *fakeaws.Server {
	a := awsWorld()
	a.AddProvider(fakeaws.Provider{ARN: auditUnusedProv, URL: "oidc.eks.us-east-1.amazonaws.com/id/UNUSED0000000000000000000000000", ClientIDs: []string{"sts.amazonaws.com"}})
	a.AddRole(fakeaws.Role{ARN: "arn:aws:iam::111122223333:role/reports",
		TrustPolicy: auditPolicy(auditStatement(worldProvider, worldHost, "StringLike", false, "system:serviceaccount:shop:*"))})
	payments := auditStatement(worldProvider, worldHost, "StringEquals", false, "system:serviceaccount:billing:payments")
	a.AddRole(fakeaws.Role{ARN: "arn:aws:iam::111122223333:role/payments",
		TrustPolicy: auditPolicy(payments, auditStatement(auditDeadProvider, auditDeadHost, "StringEquals", false, "system:serviceaccount:billing:payments"), payments)})
	a.AddRole(fakeaws.Role{ARN: "arn:aws:iam::111122223333:role/batch",
		TrustPolicy: auditPolicy(auditStatement(worldProvider, worldHost, "StringEquals", false, "system:serviceaccount:shop:batchh"))})
	a.AddRole(fakeaws.Role{ARN: "arn:aws:iam::111122223333:role/shared",
		TrustPolicy: auditPolicy(auditStatement(worldProvider, worldHost, "StringLike", true, "system:serviceaccount:*:app"))})
	return a
}

func decodeAudit(t *testing.T, r result) AuditList {
	t.Helper()
	var l AuditList
	if err := json.Unmarshal([]byte(r.stdout), &l); err != nil {
		t.Fatalf("stdout is not an AuditList: %v\n%s\nstderr: %s", err, r.stdout, r.stderr)
	}
	return l
}

// auditIDs lists "id object status" of every finding, roles first.
func auditIDs(l AuditList) []string {
	var out []string
	for _, it := range l.Items {
		for _, f := range it.Findings {
			out = append(out, string(f.ID)+" "+f.Object.String()+" "+string(f.Status))
		}
	}
	for _, f := range l.Findings {
		out = append(out, string(f.ID)+" "+f.Object.String()+" "+string(f.Status))
	}
	return out
}

func TestAuditGolden(t *testing.T) {
	t.Parallel()
	srv := auditKubeWorld(t)
	tests := []struct {
		file string
		args []string
	}{
		{"audit-table.txt", []string{"audit", "-A"}},
		{"audit-namespace.txt", []string{"audit"}},
		{"audit-wide.txt", []string{"audit", "-A", "--roles", "all", "-o", "wide"}},
		{"audit.json", []string{"audit", "-A", "--roles", "all", "-o", "json"}},
		{"audit.dot", []string{"audit", "-A", "--roles", "all", "-o", "dot"}},
		{"audit.yaml", []string{"audit", "-n", "billing", "-o", "yaml"}},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			t.Parallel()
			r := runAWS(t, srv, fakeAWS(t, auditAWSWorld()), tc.args...)
			if r.code == ExitError {
				t.Fatalf("exit 1: %s", r.stderr)
			}
			golden(t, tc.file, r.stdout)
		})
	}
}

func TestAuditFindingsAndReach(t *testing.T) {
	t.Parallel()
	srv := auditKubeWorld(t)
	r := runAWS(t, srv, fakeAWS(t, auditAWSWorld()), "audit", "-A", "--roles", "all", "-o", "json")
	if r.code != ExitFindings {
		t.Fatalf("exit %d, want 2 (AUDIT-SELF-001 is an error): %s", r.code, r.stderr)
	}
	l := decodeAudit(t, r)
	if l.APIVersion != APIVersion || l.Kind != KindAuditList || l.Issuer != worldIssuer {
		t.Errorf("header = %s %s %s", l.APIVersion, l.Kind, l.Issuer)
	}
	want := []string{
		"AUDIT-SELF-001 serviceaccount/batch fail",
		"AUDIT-STALE-001 arn:aws:iam::111122223333:role/batch fail",
		"AUDIT-DUP-001 arn:aws:iam::111122223333:role/payments fail",
		"AUDIT-PROVIDER-001 arn:aws:iam::111122223333:role/payments fail",
		"AUDIT-REACH-001 arn:aws:iam::111122223333:role/reports fail",
		"AUDIT-RISK-001 arn:aws:iam::111122223333:role/reports fail",
		"AUDIT-RISK-001 arn:aws:iam::111122223333:role/shared fail",
		"AUDIT-REACH-001 arn:aws:iam::111122223333:role/shared fail",
		"AUDIT-RISK-001 arn:aws:iam::111122223333:role/shared fail",
		"AUDIT-PROVIDER-002 " + auditUnusedProv + " fail",
	}
	if got := auditIDs(l); !slices.Equal(got, want) {
		t.Errorf("findings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	reach := map[string][]string{}
	for _, it := range l.Items {
		for _, sa := range it.ServiceAccounts {
			reach[it.Role] = append(reach[it.Role], fmt.Sprintf("%s/%s=%v", sa.Namespace, sa.Name, sa.Intended))
		}
	}
	wantReach := map[string][]string{
		"arn:aws:iam::111122223333:role/app":         {"shop/app=true"},
		"arn:aws:iam::111122223333:role/team/legacy": {"shop/legacy=true"},
		"arn:aws:iam::111122223333:role/payments":    {"billing/payments=true"},
		"arn:aws:iam::111122223333:role/reports": {"shop/app=false", "shop/batch=false", "shop/default=false", "shop/legacy=false",
			"shop/plain=false", "shop/reports=true"},
		"arn:aws:iam::111122223333:role/shared": {"shop/app=false"},
	}
	for role, w := range wantReach {
		if !slices.Equal(reach[role], w) {
			t.Errorf("%s reach = %q, want %q", role, reach[role], w)
		}
	}
	if len(reach["arn:aws:iam::111122223333:role/batch"]) != 0 {
		t.Errorf("batch reach = %q", reach["arn:aws:iam::111122223333:role/batch"])
	}
}

func TestAuditExitCodes(t *testing.T) {
	t.Parallel()
	srv := auditKubeWorld(t)
	cases := []struct {
		args []string
		code int
	}{
		{[]string{"audit", "-A"}, ExitFindings},      // AUDIT-SELF-001 (error)
		{[]string{"audit", "-n", "billing"}, ExitOK}, // dead provider and duplicate are warnings
		{[]string{"audit", "-n", "billing", "--fail-on", "warning"}, ExitFindings},
		{[]string{"audit", "-A", "--fail-on", "none"}, ExitOK},
		{[]string{"audit", "--roles", "some"}, ExitError},
		{[]string{"audit", "--path-prefix", "/eks/"}, ExitError},
		{[]string{"audit", "--roles", "all", "--path-prefix", "eks"}, ExitError},
		{[]string{"audit", "-o", "xml"}, ExitError},
		{[]string{"audit", "--skip-aws"}, ExitError},
		{[]string{"audit", "pod/x"}, ExitError},
		{[]string{"audit", "-n", "nowhere"}, ExitError},
	}
	for _, c := range cases {
		r := runAWS(t, srv, fakeAWS(t, auditAWSWorld()), c.args...)
		if r.code != c.code {
			t.Errorf("%v: exit %d, want %d\nstdout: %s\nstderr: %s", c.args, r.code, c.code, r.stdout, r.stderr)
		}
	}
}

// TestAuditListRolesDenied: the listing and the quota denied are
// `unknown`; the annotated roles are still audited through GetRole.
func TestAuditListRolesDenied(t *testing.T) {
	t.Parallel()
	srv := auditKubeWorld(t)
	a := auditAWSWorld()
	a.Fail("iam:ListRoles", "", "AccessDenied", "", 0)
	a.Fail("iam:GetAccountSummary", "", "AccessDenied", "", 0)
	r := runAWS(t, srv, fakeAWS(t, a), "audit", "-A", "--roles", "all", "-o", "json")
	l := decodeAudit(t, r)
	var unknown []string
	for _, f := range l.Findings {
		if f.ID == audit.CheckAccountRead && f.Status == diag.StatusUnknown {
			unknown = append(unknown, evidenceText(f.Evidence))
		}
	}
	if len(unknown) != 2 || !strings.Contains(unknown[0]+unknown[1], "iam:ListRoles") || !strings.Contains(unknown[0]+unknown[1], "iam:GetAccountSummary") {
		t.Errorf("unknown findings = %q", unknown)
	}
	var roles []string
	for _, it := range l.Items {
		roles = append(roles, it.Role)
	}
	// The unannotated role "shared" is only found by the listing.
	want := []string{"arn:aws:iam::111122223333:role/app", "arn:aws:iam::111122223333:role/batch", "arn:aws:iam::111122223333:role/payments",
		"arn:aws:iam::111122223333:role/reports", "arn:aws:iam::111122223333:role/team/legacy"}
	if !slices.Equal(roles, want) {
		t.Errorf("roles = %q, want %q", roles, want)
	}
	for _, f := range l.Findings {
		if f.ID == audit.CheckUnusedProv {
			t.Errorf("AUDIT-PROVIDER-002 without a complete listing: %+v", f)
		}
	}
}

var auditElapsed = regexp.MustCompile(` in [0-9.]+s: `)

func TestAuditSummaryOnStderr(t *testing.T) {
	t.Parallel()
	srv := auditKubeWorld(t)
	r := runAWS(t, srv, fakeAWS(t, auditAWSWorld()), "audit", "-A", "--roles", "all", "-o", "json")
	got := auditElapsed.ReplaceAllString(r.stderr, " in Xs: ")
	want := "audited 6 roles against 8 service accounts in Xs: 6 unintended (service account, role) pairs, 2 errors, 6 warnings, 2 info findings, 0 unknown\n"
	if got != want {
		t.Errorf("stderr = %q, want %q", got, want)
	}
}

// TestAuditEscapesTerminal: a trust policy's text reaches the table
// escaped.
func TestAuditEscapesTerminal(t *testing.T) {
	t.Parallel()
	srv := auditKubeWorld(t)
	a := auditAWSWorld()
	a.AddRole(fakeaws.Role{ARN: "arn:aws:iam::111122223333:role/reports",
		TrustPolicy: auditPolicy(auditStatement(worldProvider, worldHost, "StringLike", false, "system:serviceaccount:shop:\x1b]0;pwned\a*"))})
	r := runAWS(t, srv, fakeAWS(t, a), "audit", "-n", "shop")
	if strings.ContainsAny(r.stdout, "\x1b\a") || !strings.Contains(r.stdout, "^[]0;pwned^G") {
		t.Errorf("stdout not escaped: %q", r.stdout)
	}
	d := runAWS(t, srv, fakeAWS(t, a), "audit", "-n", "shop", "-o", "dot")
	if strings.ContainsAny(d.stdout, "\x1b\a") {
		t.Errorf("dot not escaped: %q", d.stdout)
	}
}

func TestAuditChecksListed(t *testing.T) {
	t.Parallel()
	r := runArgs(t, "checks")
	for _, c := range audit.Catalogue() {
		if !strings.Contains(r.stdout, string(c.ID)+" ") {
			t.Errorf("kubectl irsa checks does not list %s", c.ID)
		}
	}
}

// TestAuditProgress: on a terminal, the status line counts the service
// accounts (no pods: audit lists none) and the AWS calls, says what is
// judged, and is blanked before the summary line.
func TestAuditProgress(t *testing.T) {
	t.Parallel()
	srv := auditKubeWorld(t)
	deps := fakeAWS(t, auditAWSWorld())
	deps.Terminal = func(io.Writer) (int, bool) { return 120, true }
	deps.clock = stepClock(time.Second)
	r := runAWS(t, srv, deps, "audit", "-A", "-o", "json", "--fail-on", "none")
	if r.code != ExitOK || !json.Valid([]byte(r.stdout)) {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	progress, summaryLine, ok := strings.Cut(r.stderr, "audited ")
	if !ok || !strings.HasPrefix(summaryLine, "5 roles against 8 service accounts in ") {
		t.Errorf("summary %q", summaryLine)
	}
	for _, want := range []string{"\rcollecting: 8 service accounts", "; AWS 0/5 roles, ", "\rauditing 5 roles against 8 service accounts"} {
		if !strings.Contains(progress, want) {
			t.Errorf("progress %q lacks %q", progress, want)
		}
	}
	if strings.Contains(progress, "pods") {
		t.Errorf("progress counts pods: %q", progress)
	}
	if !strings.HasSuffix(progress, "\r") {
		t.Errorf("progress not cleared before the summary: %q", progress)
	}
}

// TestAuditWithoutIssuer: no --issuer, no EKS cluster, and an API server
// that publishes no issuer: the audit cannot run (exit 1) and says why.
func TestAuditWithoutIssuer(t *testing.T) {
	t.Parallel()
	srv := fakekube.New(t, world()...)
	r := runAWS(t, srv, fakeAWS(t, auditAWSWorld()), "audit")
	if r.code != ExitError || !strings.Contains(r.stderr, "cannot resolve the cluster's OIDC issuer") || !strings.Contains(r.stderr, "pass --issuer or --cluster") {
		t.Errorf("exit %d, stderr %q", r.code, r.stderr)
	}
	// --issuer is enough.
	r = runAWS(t, srv, fakeAWS(t, auditAWSWorld()), "audit", "--issuer", worldIssuer, "-o", "json")
	if r.code == ExitError || decodeAudit(t, r).Issuer != worldIssuer {
		t.Errorf("--issuer: exit %d, stderr %q", r.code, r.stderr)
	}
}
