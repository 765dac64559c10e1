package tlsinspect

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/thumbprint"
)

// TestOpenSSLCrossCheck follows the procedure AWS documents (docs/behaviour.md#thumbprint-input):
// openssl s_client -showcerts, take the LAST certificate printed, openssl x509
// -fingerprint -sha1, strip the colons.
func TestOpenSSLCrossCheck(t *testing.T) {
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("openssl not on PATH")
	}
	p := newTestPKI(t)
	for _, tc := range []struct {
		name  string
		chain []*x509.Certificate
		want  *x509.Certificate
	}{
		{"cross-signed top", []*x509.Certificate{p.leaf, p.inter, p.cross}, p.cross},
		{"intermediate top", []*x509.Certificate{p.leaf, p.inter}, p.inter},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := startTLS(t, p, tc.chain, oidcHandler("x", "y"), nil, nil)
			port := portOf(srv.Listener)
			h, err := InspectHost(testCtx(t), "https://localhost:"+port+"/keys", Options{RootCAs: p.pool})
			if err != nil {
				t.Fatalf("InspectHost: %v", err)
			}

			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			out, err := exec.CommandContext(ctx, openssl, "s_client", "-showcerts", "-connect", "127.0.0.1:"+port, "-servername", "localhost").Output()
			if err != nil {
				t.Fatalf("openssl s_client: %v", err)
			}
			var last *pem.Block
			for rest := out; ; {
				var b *pem.Block
				b, rest = pem.Decode(rest)
				if b == nil {
					break
				}
				if b.Type == "CERTIFICATE" {
					last = b
				}
			}
			if last == nil {
				t.Fatalf("no certificate in openssl output:\n%s", out)
			}
			cmd := exec.CommandContext(ctx, openssl, "x509", "-fingerprint", "-sha1", "-noout")
			cmd.Stdin = bytes.NewReader(pem.EncodeToMemory(last))
			fpOut, err := cmd.Output()
			if err != nil {
				t.Fatalf("openssl x509: %v", err)
			}
			s := strings.TrimSpace(string(fpOut))
			s = strings.TrimPrefix(strings.TrimPrefix(s, "SHA1 Fingerprint="), "sha1 Fingerprint=")
			s = strings.ReplaceAll(s, ":", "")
			if !thumbprint.ValidEntry(s) {
				t.Fatalf("unexpected openssl output %q", fpOut)
			}
			if !strings.EqualFold(s, h.Thumbprint) || h.Thumbprint != fp(tc.want) {
				t.Errorf("openssl %s, package %s, independent %s", s, h.Thumbprint, fp(tc.want))
			}
		})
	}
}
