package plugin

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/runtime"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/diag"
	"github.com/kubectl-irsa/kubectl-irsa/test/fakeaws"
	"github.com/kubectl-irsa/kubectl-irsa/test/fakekube"
	"github.com/kubectl-irsa/kubectl-irsa/test/testutil"
)

// One missing OIDC provider, three service accounts: the table shows it
// once and says how many it affects; JSON keeps it on every subject.
func TestSharedFindingOnceInTheTable(t *testing.T) {
	t.Parallel()
	objs := []runtime.Object{testutil.Namespace("shop", nil), testutil.Webhook()}
	a := fakeaws.New()
	a.SetCaller(fakeaws.Caller{Account: worldAccount, ARN: "arn:aws:iam::111122223333:user/operator"})
	for _, sa := range []string{"api", "web", "worker"} {
		role := "arn:aws:iam::111122223333:role/" + sa
		objs = append(objs, testutil.NewSA("shop", sa).RoleARN(role).Build(),
			testutil.NewPod("shop", sa+"-1", sa).Mutate(role, "sts.amazonaws.com").Build())
		a.AddRole(fakeaws.Role{ARN: role, TrustPolicy: trustFor(worldProvider, worldHost, "system:serviceaccount:shop:"+sa), AttachedPolicyARNs: []string{"p"}})
	}
	srv := fakekube.New(t, objs...)
	srv.SetIssuer(worldIssuer)
	deps := fakeAWS(t, a)
	table := runAWS(t, srv, deps, "diagnose", "--issuer", worldIssuer)
	var rows []string
	for _, line := range strings.Split(table.stdout, "\n") {
		if strings.Contains(line, "IRSA-OIDC-001") {
			rows = append(rows, line)
		}
	}
	if len(rows) != 1 || !strings.HasPrefix(rows[0], "api (+2) ") || !strings.HasSuffix(rows[0], "(3 service accounts)") {
		t.Errorf("IRSA-OIDC-001 rows: %q, want one for api (+2) ending in (3 service accounts)\n%s", rows, table.stdout)
	}
	js := runAWS(t, srv, deps, "diagnose", "--issuer", worldIssuer, "-o", "json")
	if got := len(findingsByID(t, js).of(t, "IRSA-OIDC-001")); got != 3 {
		t.Errorf("-o json has %d IRSA-OIDC-001 findings, want one per service account (3)", got)
	}
	if table.code != ExitFindings || js.code != ExitFindings {
		t.Errorf("exit codes %d and %d, want %d", table.code, js.code, ExitFindings)
	}
}

// -o wide keeps one row per finding: a multi-line evidence value (the
// indented trust policy) is folded onto it; -o yaml keeps it indented.
func TestWideFoldsMultiLineEvidence(t *testing.T) {
	t.Parallel()
	ds := []diag.Diagnosis{{Subject: diag.ObjectRef{Kind: "ServiceAccount", Namespace: "shop", Name: "app"}, Findings: []diag.Finding{{
		ID: "IRSA-TRUST-001", Severity: diag.SeverityError, Status: diag.StatusFail, Object: diag.ObjectRef{Kind: "IAMRole", Name: "arn:aws:iam::111122223333:role/app"},
		Message: "denied", Evidence: []diag.Evidence{{Key: "trust policy", Value: "{\n  \"Version\": \"2012-10-17\"\n}", Source: "iam:GetRole"}}}}}}
	var wide, yaml strings.Builder
	if err := printDiagnoses(&wide, ds, printOptions{outputFlag: outputFlag{Output: "wide"}}); err != nil {
		t.Fatal(err)
	}
	if lines := strings.Count(strings.TrimSpace(wide.String()), "\n"); lines != 1 || !strings.Contains(wide.String(), `trust policy={ "Version": "2012-10-17" }`) {
		t.Errorf("wide output has %d rows after the header:\n%s", lines, wide.String())
	}
	if err := printDiagnoses(&yaml, ds, printOptions{outputFlag: outputFlag{Output: "yaml"}}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(yaml.String(), "  \"Version\": \"2012-10-17\"") {
		t.Errorf("yaml lost the indentation:\n%s", yaml.String())
	}
}
