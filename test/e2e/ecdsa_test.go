//go:build e2e

package e2e

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/kubectl-irsa/kubectl-irsa/test/e2e/controlplane"
	"github.com/kubectl-irsa/kubectl-irsa/test/e2e/pki"
)

// TestProbeECDSAServiceAccountKey runs --probe against a control plane whose
// kube-apiserver signs service account tokens with an ECDSA P-256 key, as a
// self-managed cluster may. STS accepts ES256 (docs/behaviour.md#sts-validation-order,
// step 4), so the probe's verification (IRSA-PROBE-002) and the emulated
// STS (IRSA-PROBE-003) must both accept the real token.
func TestProbeECDSAServiceAccountKey(t *testing.T) {
	s := startSuiteWith(t, controlplane.Options{ServiceAccountKey: pki.ECDSAP256})
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	assertIssuerKeys(ctx, t, s.cp, "EC", "ES256")

	w := s.newWorld(ctx, t, "e2e-probe-ecdsa", nil)
	w.irsaSA("app", w.healthy(acctA, "app", "app"))
	w.pod(w.newPod("web", "app"))
	flags := []string{"--probe", "--show-passed"}
	snapshot := filepath.Join(t.TempDir(), "snapshot.json")
	out, stderr, code := w.irsa(append([]string{"diagnose", "pod/web", "-n", w.ns, "-o", "json", "--save-snapshot", snapshot}, flags...)...)
	if code != 0 {
		t.Errorf("exit code %d, want 0\nstderr: %s", code, stderr)
	}
	fs := findings(t, out)
	assertIDs(t, "failing", statusIDs(fs, "fail"), nil, fs)
	verified := hit(t, fs, "IRSA-PROBE-002", "pass")
	signed := false
	for _, e := range verified.Evidence {
		if e.Key == "signature" {
			mentions(t, verified, "signature evidence", e.Value, "ES256")
			signed = true
		}
	}
	if !signed {
		t.Errorf("IRSA-PROBE-002 has no signature step: %+v", verified.Evidence)
	}
	hit(t, fs, "IRSA-PROBE-003", "pass")
	if n := w.aws.Count("sts:AssumeRoleWithWebIdentity"); n != 1 {
		t.Errorf("%d AssumeRoleWithWebIdentity calls, want 1", n)
	}
	replay(w, snapshot, flags, out, code)
	// The emulated STS on its own, with a token from `kubectl create token`.
	if got := w.assumeWithAPIServerToken("app"); got != "" {
		t.Errorf("emulated STS refuses an ES256 API-server token: %s", got)
	}
	if t.Failed() {
		t.Logf("diagnose output:\n%s\nstderr:\n%s", out, stderr)
	}
}

// assertIssuerKeys checks that the issuer's anonymous JWKS publishes only
// keys of type kty for alg, so the test runs on the key type it names.
func assertIssuerKeys(ctx context.Context, t *testing.T, cp *controlplane.ControlPlane, kty, alg string) {
	t.Helper()
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(cp.CAPEM)
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
	defer client.CloseIdleConnections()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, cp.Issuer+"/openid/v1/jwks", http.NoBody)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var set struct {
		Keys []struct{ Kty, Alg, Crv string } `json:"keys"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("anonymous JWKS: HTTP %d, %v", resp.StatusCode, err)
	}
	if len(set.Keys) == 0 {
		t.Fatal("the JWKS has no keys")
	}
	for _, k := range set.Keys {
		if k.Kty != kty || k.Alg != alg {
			t.Fatalf("the issuer publishes a %s key for %s (crv %q), want %s for %s", k.Kty, k.Alg, k.Crv, kty, alg)
		}
	}
}
