package plugin

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/diag"
)

// A notice (CREDS-001 for a Pod Identity subject: which credentials each
// container gets) is shown without --show-passed, first, and never fails a
// run; other passes stay hidden, and -o json shows what the table shows.
func TestNoticesShowWithoutShowPassed(t *testing.T) {
	t.Parallel()
	container := diag.ObjectRef{Kind: "Pod", Namespace: "shop", Name: "web", Container: "app"}
	findings := []diag.Finding{
		{ID: "PODID-AGENT-001", Severity: diag.SeverityError, Status: diag.StatusFail, Object: diag.ObjectRef{Kind: "DaemonSet", Namespace: "kube-system", Name: "eks-pod-identity-agent"}, Message: "No agent"},
		{ID: "PODID-ROLE-001", Severity: diag.SeverityError, Status: diag.StatusPass, Object: diag.ObjectRef{Kind: "IAMRole", Name: "arn:aws:iam::111122223333:role/pi-app"}, Message: "The IAM role exists"},
		{ID: "CREDS-001", Severity: diag.SeverityInfo, Status: diag.StatusPass, Object: container, Message: "Gets credentials from Pod Identity (role arn:aws:iam::111122223333:role/pi-app)", Notice: true},
	}
	diag.SortFindings(findings)
	ds := []diag.Diagnosis{{Subject: diag.ObjectRef{Kind: "ServiceAccount", Namespace: "shop", Name: "app"}, Findings: findings}}
	var table strings.Builder
	if err := printDiagnoses(&table, ds, printOptions{}); err != nil {
		t.Fatal(err)
	}
	rows := strings.Split(strings.TrimSpace(table.String()), "\n")
	if len(rows) != 3 || !strings.Contains(rows[1], "CREDS-001") || !strings.Contains(rows[2], "PODID-AGENT-001") {
		t.Errorf("want the header, the notice, then the failure:\n%s", table.String())
	}
	var js strings.Builder
	if err := printDiagnoses(&js, ds, printOptions{outputFlag: outputFlag{Output: "json"}}); err != nil {
		t.Fatal(err)
	}
	var l DiagnosisList
	if err := json.Unmarshal([]byte(js.String()), &l); err != nil {
		t.Fatal(err)
	}
	if got := l.Items[0].Findings; len(got) != 2 || got[0].ID != "CREDS-001" || !got[0].Notice {
		t.Errorf("-o json findings %+v, want the notice and the failure", got)
	}
	if diag.Failing([]diag.Diagnosis{{Findings: findings[:1]}}, diag.SeverityInfo) {
		t.Error("a notice fails the run")
	}
}
