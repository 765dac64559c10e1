//go:build e2e && unix

package controlplane

import (
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"
)

// Start must fail, never skip, when a tool is missing.
func TestStartFailsWithoutTools(t *testing.T) {
	dir := t.TempDir()
	_, err := Start(t.Context(), nil, Options{BinDir: dir})
	if err == nil || !strings.Contains(err.Error(), "etcd missing in "+dir) {
		t.Fatalf("err = %v, want a missing-etcd error", err)
	}
}

// A component that dies is reported with the tail of its log, and nothing it
// started survives.
func TestStartReportsLogTailAndCleansUp(t *testing.T) {
	cp, err := Start(t.Context(), nil, Options{ExtraAPIServerFlags: []string{"--no-such-flag=1"}})
	if err == nil {
		_ = cp.Stop()
		t.Fatal("Start succeeded with an unknown kube-apiserver flag")
	}
	for _, want := range []string{"kube-apiserver exited before becoming ready", "unknown flag: --no-such-flag"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not contain %q:\n%v", want, err)
		}
	}
	if cp == nil {
		t.Fatal("Start returned no ControlPlane to inspect")
	}
	if _, statErr := os.Stat(cp.Dir); !os.IsNotExist(statErr) {
		t.Errorf("temp dir %s not removed: %v", cp.Dir, statErr)
	}
	for _, p := range cp.procs {
		if err := syscall.Kill(p.cmd.Process.Pid, 0); err == nil {
			t.Errorf("%s (pid %d) still running", p.name, p.cmd.Process.Pid)
		}
	}
}

// A healthy start serves the issuer discovery anonymously, as STS needs.
func TestAnonymousIssuerDiscovery(t *testing.T) {
	cp := MustStart(t.Context(), t, Options{})
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(cp.CAPEM)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
	t.Cleanup(client.CloseIdleConnections)
	for path, want := range map[string]string{
		"/.well-known/openid-configuration": `"issuer":"` + cp.Issuer + `"`,
		"/openid/v1/jwks":                   `"alg":"RS256"`,
	} {
		body, code, err := get(t.Context(), client, cp.Issuer+path, "") // no token: anonymous
		if err != nil || code != http.StatusOK {
			t.Fatalf("anonymous GET %s: %d %v\n%s", path, code, err, body)
		}
		if !strings.Contains(string(body), want) {
			t.Errorf("%s = %s, want it to contain %s", path, body, want)
		}
	}
	out, stderr, err := cp.Kubectl(t.Context(), "config", "current-context")
	if err != nil || strings.TrimSpace(out) != ContextName {
		t.Errorf("current context %q (%v %s), want %s", out, err, stderr, ContextName)
	}
}
