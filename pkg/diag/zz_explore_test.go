package diag_test

import (
	"fmt"
	"testing"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/diag"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/facts"
	"github.com/kubectl-irsa/kubectl-irsa/test/testutil"
)

func TestZZExplore(t *testing.T) {
	good := `{"Effect":"Allow","Principal":{"Federated":"` + provider + `"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"` + host + `:sub":"system:serviceaccount:shop:app","` + host + `:aud":"sts.amazonaws.com"}}}`
	bad := `{"Effect":"Allow","Principal":{"Federated":"` + provider + `"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"https://` + host + `:sub":"system:serviceaccount:shop:worker","https://` + host + `:aud":"sts.amazonaws.com"}}}`
	for _, pol := range []string{`{"Version":"2012-10-17","Statement":[` + good + `,` + bad + `]}`, `{"Version":"2012-10-17","Statement":[` + bad + `]}`} {
		s := awsScenario(func(a *facts.AWSFacts) { r := a.Roles[testutil.RoleARN]; r.TrustPolicy = pol; a.Roles[testutil.RoleARN] = r }).snapshot()
		for _, f := range findingsOf(t, s, "IRSA-TRUST-003") {
			fmt.Printf("%s %s %s %s\n  msg=%s\n  ev=%v\n  fix=%s\n", f.ID, f.Status, f.Severity, f.Object.String(), f.Message, f.Evidence, f.Remediation)
		}
		fmt.Println("--")
	}
	s := probeScenario("", "", nil, nil)
	s.Probes["shop/app"].AssumedRoleARN = "arn:aws:sts::111122223333:assumed-role/app/x"
	for _, id := range []string{"IRSA-PROBE-001", "IRSA-PROBE-002"} {
		for _, f := range findingsOf(t, s, diagID(id)) {
			fmt.Printf("%s %s %s %s\n  msg=%s\n  ev=%v\n  fix=%s\n", f.ID, f.Status, f.Severity, f.Object.String(), f.Message, f.Evidence, f.Remediation)
		}
	}
}

func diagID(s string) diag.CheckID { return diag.CheckID(s) }
