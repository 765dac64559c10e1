//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/audit"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/plugin"
	"github.com/kubectl-irsa/kubectl-irsa/test/e2e/controlplane"
	"github.com/kubectl-irsa/kubectl-irsa/test/fakeaws"
)

var updateAuditGolden = flag.Bool("update-audit", false, "rewrite test/e2e/testdata/audit.dot")

const (
	auditNS       = "e2e-audit"
	auditDeadHost = "oidc.eks.us-west-2.amazonaws.com/id/DEADBEEFDEADBEEFDEADBEEFDEADBEEF"
	auditUnused   = "oidc.eks.eu-west-1.amazonaws.com/id/UNUSED00000000000000000000000000"
)

// startAuditSuite is the part of the suite the audit needs: the control
// plane (whose issuer the plugin discovers) and the plugin. No webhook:
// the audit reads service accounts and IAM, never pods.
func startAuditSuite(t *testing.T) *suite {
	t.Helper()
	return startControlPlane(t, controlplane.Options{})
}

func (w *world) arn(name string) string { return "arn:aws:iam::" + acctA + ":role/" + name }

// like is a StringLike :sub condition with the audience pinned.
func (w *world) like(subs ...string) map[string]map[string]any {
	return map[string]map[string]any{
		"StringLike":   {w.issuerHost + ":sub": subs},
		"StringEquals": {w.issuerHost + ":aud": stsAud},
	}
}

// auditWorld is a dozen service accounts and roles, each role made to
// produce one of the audit's findings (docs/audit.md).
func auditWorld(w *world) {
	w.aws.SetCaller(fakeaws.Caller{ARN: "arn:aws:iam::" + acctA + ":user/e2e"})
	w.aws.AddProvider(fakeaws.Provider{ARN: w.providerARN(acctA), URL: w.issuerHost, ClientIDs: []string{stsAud}})
	w.aws.AddProvider(fakeaws.Provider{ARN: providerARN(acctA, auditUnused), URL: auditUnused, ClientIDs: []string{stsAud}})
	dead := statement{"Effect": "Allow", "Principal": map[string]any{"Federated": providerARN(acctA, auditDeadHost)},
		"Action": "sts:AssumeRoleWithWebIdentity", "Condition": map[string]map[string]any{"StringEquals": {
			auditDeadHost + ":sub": w.subject("payments"), auditDeadHost + ":aud": stsAud}}}

	// api: exactly its service account.
	w.role(acctA, "api", w.policy(w.webIdentity(acctA, w.exact("api"))))
	// worker: worker* lets worker-1 in too.
	w.role(acctA, "worker", w.policy(w.webIdentity(acctA, w.like(w.subject("worker*")))))
	// batch: a misspelt :sub, so batch cannot assume it (and the statement is stale).
	w.role(acctA, "batch", w.policy(w.webIdentity(acctA, w.exact("bach"))))
	// reports: the whole namespace but the ci-* service accounts.
	notCI := w.like(w.subject("*"))
	notCI["StringNotLike"] = map[string]any{w.issuerHost + ":sub": w.subject("ci-*")}
	w.role(acctA, "reports", w.policy(w.webIdentity(acctA, notCI)))
	// payments: a recreated cluster's statement and a duplicate.
	w.role(acctA, "payments", w.policy(w.webIdentity(acctA, w.exact("payments")), dead, w.webIdentity(acctA, w.exact("payments"))))
	// guarded: the namespace, with a Deny for ci-runner.
	deny := w.webIdentity(acctA, map[string]map[string]any{"StringEquals": {w.issuerHost + ":sub": w.subject("ci-runner")}})
	deny["Effect"] = "Deny"
	w.role(acctA, "guarded", w.policy(w.webIdentity(acctA, w.like(w.subject("ci-*"), w.subject("guarded"))), deny))
	// broken: a document that does not parse.
	w.role(acctA, "broken", `{"Version":"2012-10-17","Statement":[`)
	// big: one statement per team cluster, near the 2,048 quota.
	var big []statement
	for i := 0; ; i++ {
		next := append(slices.Clone(big), w.webIdentity(acctA, map[string]map[string]any{"StringEquals": {
			w.issuerHost + ":sub": []string{w.subject("big"), w.subject(fmt.Sprintf("big-%d", i))}, w.issuerHost + ":aud": stsAud}}))
		if audit.PolicyLength(w.policy(next...)) > audit.DefaultSizeQuota {
			break
		}
		big = next
	}
	w.role(acctA, "big", w.policy(big...))
	// shared: no annotation names it; any "api" service account of any
	// namespace, and no :aud. Only --roles all finds it.
	w.role(acctA, "shared", w.policy(w.webIdentity(acctA, map[string]map[string]any{"StringLike": {w.issuerHost + ":sub": "system:serviceaccount:*:api"}})))
	// elsewhere: trusts another cluster only; not this cluster's business.
	w.role(acctA, "elsewhere", w.policy(dead))

	for _, sa := range []string{"api", "worker", "batch", "reports", "payments", "guarded", "broken", "big"} {
		w.irsaSA(sa, w.arn(sa))
	}
	// ghost: annotated with a role that does not exist.
	w.irsaSA("ghost", w.arn("ghost"))
	for _, sa := range []string{"worker-1", "ci-runner", "ci-lint", "viewer"} {
		w.sa(w.newSA(sa))
	}
}

// auditReport decodes -o json.
func auditReport(t *testing.T, out string) plugin.AuditList {
	t.Helper()
	var l plugin.AuditList
	if err := json.Unmarshal([]byte(out), &l); err != nil {
		t.Fatalf("not an AuditList: %v\n%s", err, out)
	}
	return l
}

func TestAudit(t *testing.T) {
	s := startAuditSuite(t)
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	w := s.newWorld(ctx, t, auditNS, nil)
	auditWorld(w)

	t.Run("reach and findings", func(t *testing.T) {
		out, stderr, code := w.irsa("audit", "-n", auditNS, "--roles", "all", "-o", "json")
		if code != plugin.ExitFindings {
			t.Errorf("exit %d, want 2 (AUDIT-SELF-001 and AUDIT-POLICY-001 are errors)\n%s", code, stderr)
		}
		l := auditReport(t, out)
		var got []string
		for _, it := range l.Items {
			for _, f := range it.Findings {
				got = append(got, fmt.Sprintf("%s %s %s", f.ID, strings.TrimPrefix(f.Object.String(), "arn:aws:iam::"+acctA+":role/"), f.Status))
			}
		}
		for _, f := range l.Findings {
			got = append(got, fmt.Sprintf("%s %s %s", f.ID, f.Object.Name, f.Status))
		}
		want := []string{
			"AUDIT-SELF-001 serviceaccount/batch fail",
			"AUDIT-STALE-001 batch fail",
			"AUDIT-SIZE-001 big fail",
			"AUDIT-POLICY-001 broken fail",
			"AUDIT-ROLE-001 ghost fail",
			"AUDIT-REACH-001 guarded fail",
			"AUDIT-RISK-001 guarded fail",
			"AUDIT-DUP-001 payments fail",
			"AUDIT-PROVIDER-001 payments fail",
			"AUDIT-REACH-001 reports fail",
			"AUDIT-RISK-001 reports fail",
			"AUDIT-RISK-001 shared fail",
			"AUDIT-REACH-001 shared fail",
			"AUDIT-RISK-001 shared fail",
			"AUDIT-REACH-001 worker fail",
			"AUDIT-RISK-001 worker fail",
			"AUDIT-PROVIDER-002 " + providerARN(acctA, auditUnused) + " fail",
		}
		if !slices.Equal(got, want) {
			t.Errorf("findings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		reach := map[string]string{}
		for _, it := range l.Items {
			var sas []string
			for _, r := range it.ServiceAccounts {
				mark := "!"
				if r.Intended {
					mark = ""
				}
				sas = append(sas, mark+r.Name)
			}
			reach[strings.TrimPrefix(it.Role, "arn:aws:iam::"+acctA+":role/")] = strings.Join(sas, " ")
		}
		wantReach := map[string]string{
			"api":      "api",
			"worker":   "worker !worker-1",
			"batch":    "",
			"reports":  "!api !batch !big !broken !ghost !guarded !payments reports !viewer !worker !worker-1",
			"payments": "payments",
			"guarded":  "!ci-lint guarded",
			"broken":   "",
			"big":      "big",
			"ghost":    "",
			"shared":   "!api",
		}
		if len(reach) != len(wantReach) {
			t.Errorf("roles audited: %v", reach)
		}
		for role, want := range wantReach {
			if got, ok := reach[role]; !ok || got != want {
				t.Errorf("%s reach = %q, want %q", role, got, want)
			}
		}
		if t.Failed() {
			t.Logf("stdout:\n%s\nstderr:\n%s\nAWS calls: %+v", out, stderr, w.aws.Calls())
		}
		// One paged ListRoles pass; GetRole only for the role the listing
		// did not return (ghost, which does not exist).
		if n := w.aws.Count("GetRole"); n != 1 {
			t.Errorf("%d GetRole calls with --roles all, want 1", n)
		}
		if !strings.Contains(stderr, "audited 10 roles against 13 service accounts") {
			t.Errorf("no summary line on stderr: %q", stderr)
		}
	})

	t.Run("dot golden", func(t *testing.T) {
		out, stderr, code := w.irsa("audit", "-n", auditNS, "--roles", "all", "-o", "dot")
		if code != plugin.ExitFindings {
			t.Errorf("exit %d\n%s", code, stderr)
		}
		p := filepath.Join("testdata", "audit.dot")
		if *updateAuditGolden {
			if err := os.MkdirAll("testdata", 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte(out), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(p)
		if err != nil {
			t.Fatalf("%v (run with -update-audit)", err)
		}
		if !bytes.Equal(want, []byte(out)) {
			t.Errorf("-o dot differs from %s (run with -update-audit):\n%s", p, out)
		}
	})

	t.Run("table and exit codes", func(t *testing.T) {
		out, stderr, code := w.irsa("audit", "-n", auditNS)
		t.Logf("kubectl irsa audit -n %s\n%s%s", auditNS, out, stderr)
		if code != plugin.ExitFindings || !strings.HasPrefix(out, "ROLE") || !strings.Contains(out, "UNINTENDED") {
			t.Errorf("table exit %d:\n%s", code, out)
		}
		if strings.Contains(out, "role/shared") {
			t.Errorf("--roles annotated audited the unannotated role:\n%s", out)
		}
		if _, _, code := w.irsa("audit", "-n", auditNS, "--fail-on", "none"); code != plugin.ExitOK {
			t.Errorf("--fail-on none: exit %d", code)
		}
		if _, _, code := w.irsa("audit", "-n", auditNS, "--roles", "everything"); code != plugin.ExitError {
			t.Errorf("--roles everything: exit %d", code)
		}
	})

	t.Run("listing and quota denied", func(t *testing.T) {
		w.aws.Fail("iam:ListRoles", "", "AccessDenied", "", 0)
		w.aws.Fail("iam:GetAccountSummary", "", "AccessDenied", "", 0)
		defer w.aws.ClearFaults()
		out, stderr, code := w.irsa("audit", "-n", auditNS, "--roles", "all", "-o", "json")
		if code != plugin.ExitFindings {
			t.Errorf("exit %d\n%s", code, stderr)
		}
		l := auditReport(t, out)
		var unknown []string
		for _, f := range l.Findings {
			if f.ID == audit.CheckAccountRead && f.Status == "unknown" {
				unknown = append(unknown, f.Evidence[0].Source)
			}
			if f.ID == audit.CheckUnusedProv {
				t.Errorf("AUDIT-PROVIDER-002 without the listing: %+v", f)
			}
		}
		slices.Sort(unknown)
		if !slices.Equal(unknown, []string{"iam:GetAccountSummary", "iam:ListRoles"}) {
			t.Errorf("unknown findings from %q", unknown)
		}
		var roles []string
		for _, it := range l.Items {
			roles = append(roles, strings.TrimPrefix(it.Role, "arn:aws:iam::"+acctA+":role/"))
		}
		if want := []string{"api", "batch", "big", "broken", "ghost", "guarded", "payments", "reports", "worker"}; !slices.Equal(roles, want) {
			t.Errorf("roles = %q, want the annotated %q", roles, want)
		}
	})
}
