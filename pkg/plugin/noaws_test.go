package plugin

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/diag"
)

// withoutAWSConfig leaves the process with no AWS region, profile or
// credentials, as on a laptop that never ran `aws configure`. Any request
// that got through anyway would go to a closed loopback port.
func withoutAWSConfig(t *testing.T) {
	t.Helper()
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "AWS_") {
			t.Setenv(k, "")
			if err := os.Unsetenv(k); err != nil {
				t.Fatal(err)
			}
		}
	}
	t.Setenv("AWS_CONFIG_FILE", os.DevNull)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", os.DevNull)
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
	t.Setenv("AWS_MAX_ATTEMPTS", "1")
}

// Computing a thumbprint needs no AWS: with no AWS configuration and no
// kubeconfig the chain is read and shown, exit 0, and the comparison with
// the provider says why it could not be made.
func TestThumbprintWithoutAWSConfig(t *testing.T) {
	withoutAWSConfig(t)
	issuer, thumb := privateIssuer(t)
	r := runArgs(t, "--kubeconfig", os.DevNull, "thumbprint", "--issuer", issuer, "-o", "json")
	if r.code != ExitOK {
		t.Fatalf("exit %d, want 0: %s", r.code, r.stderr)
	}
	var res ThumbprintResult
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
		t.Fatalf("%v\n%s", err, r.stdout)
	}
	if res.TLS.Thumbprint != thumb || res.Judgement != nil || res.Provider == nil || !strings.Contains(res.Provider.Error, "sts:GetCallerIdentity failed") {
		t.Errorf("thumbprint %q (want %q), judgement %+v, provider %+v: want the thumbprint and an unreadable provider", res.TLS.Thumbprint, thumb, res.Judgement, res.Provider)
	}
	t.Setenv("KUBECONFIG", os.DevNull)
	table := runArgs(t, "thumbprint", "--issuer", issuer)
	if table.code != ExitOK || !strings.Contains(table.stdout, "Thumbprint:  "+thumb) || !strings.Contains(table.stdout, "Provider:    could not be read: sts:GetCallerIdentity failed") {
		t.Errorf("table: exit %d\n%s\n%s", table.code, table.stdout, table.stderr)
	}
}

// diagnose --issuer with no AWS configuration: the Kubernetes checks run,
// the AWS checks say `unknown` and how to give them credentials.
func TestDiagnoseWithoutAWSConfig(t *testing.T) {
	withoutAWSConfig(t)
	srv := newWorld(t)
	r := runArgs(t, "--kubeconfig", srv.Kubeconfig(t, "shop"), "--cache-dir", t.TempDir(), "diagnose", "sa/app", "-o", "json", "--show-passed",
		"--issuer", "https://oidc.eks.us-west-2.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE")
	if r.code == ExitError {
		t.Fatalf("exit 1: %s", r.stderr)
	}
	byID := findingsByID(t, r)
	for _, id := range []diag.CheckID{"IRSA-ROLE-001", "IRSA-OIDC-001"} {
		fs := byID.of(t, id)
		if len(fs) == 0 || fs[0].Status != diag.StatusUnknown || !strings.Contains(fs[0].Remediation, "configure AWS credentials") {
			t.Errorf("%s: %+v, want unknown with how to configure credentials", id, fs)
		}
	}
	if fs := byID.of(t, "IRSA-SA-001"); len(fs) != 1 || fs[0].Status != diag.StatusPass {
		t.Errorf("the Kubernetes side did not run: IRSA-SA-001 %+v", fs)
	}
}
