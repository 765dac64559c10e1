package plugin

import (
	"bytes"
	"testing"
	"time"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/thumbprint"
)

// TestThumbprintTableGolden pins the rendering of a realistic two-host
// report: an issuer whose jwks_uri lives on another host, each serving
// leaf → intermediate → cross-signed root.
func TestThumbprintTableGolden(t *testing.T) {
	t.Parallel()
	at := func(s string) time.Time {
		v, _ := time.Parse(time.RFC3339, s)
		return v
	}
	chain := func(leaf string) []thumbprint.CertInfo {
		return []thumbprint.CertInfo{
			{Depth: 0, Subject: "CN=" + leaf, Issuer: "CN=Example Issuing CA 1", NotAfter: at("2027-03-01T00:00:00Z"), SHA1: "1111111111111111111111111111111111111111"},
			{Depth: 1, Subject: "CN=Example Issuing CA 1", Issuer: "CN=Example Root CA", NotAfter: at("2030-01-01T00:00:00Z"), SHA1: "2222222222222222222222222222222222222222", IsCA: true},
			{Depth: 2, Subject: "CN=Example Root CA", Issuer: "CN=Old Example Root \x1b[31mCA", NotAfter: at("2028-06-01T00:00:00Z"), SHA1: "3333333333333333333333333333333333333333", IsCA: true},
		}
	}
	res := ThumbprintResult{APIVersion: APIVersion, Kind: KindThumbprintReport, Issuer: "https://issuer.example.internal", IssuerSource: "--issuer",
		TLS: thumbprint.Report{
			Discovery:  thumbprint.Discovery{JWKSURI: "https://keys.example.internal:8443/openid/v1/jwks"},
			Thumbprint: "3333333333333333333333333333333333333333",
			Hosts: []thumbprint.HostChain{
				{Role: thumbprint.RoleJWKS, Host: "keys.example.internal", Port: "8443", Certs: chain("keys.example.internal"), Thumbprint: "3333333333333333333333333333333333333333", VerifyError: "x509: certificate signed by unknown authority", PrivateCA: true},
				{Role: thumbprint.RoleIssuer, Host: "issuer.example.internal", Port: "443", Certs: chain("issuer.example.internal"), Thumbprint: "3333333333333333333333333333333333333333", VerifyError: "x509: certificate signed by unknown authority", PrivateCA: true},
			},
			Warnings: []string{"issuer.example.internal:443 depth 0 expires in 99 days"},
		},
		Provider:  &ProviderInfo{ARN: "arn:aws:iam::111122223333:oidc-provider/issuer.example.internal", Found: true, Thumbprints: []string{"9999999999999999999999999999999999999999"}},
		Judgement: &thumbprint.Judgement{Verdict: thumbprint.MismatchBreaks, Severity: "error", Message: "no entry matches the private chain"},
		Fix:       "aws iam update-open-id-connect-provider-thumbprint --open-id-connect-provider-arn arn:aws:iam::111122223333:oidc-provider/issuer.example.internal --thumbprint-list 3333333333333333333333333333333333333333 9999999999999999999999999999999999999999",
	}
	for file, format := range map[string]string{"thumbprint-table.txt": "", "thumbprint.yaml": "yaml"} {
		streams, _, out, _ := genericiooptions.NewTestIOStreams()
		o := &ThumbprintOptions{Output: outputFlag{Output: format}, IOStreams: streams}
		if err := o.print(res); err != nil {
			t.Fatal(err)
		}
		if bytes.ContainsRune(out.Bytes(), '\x1b') {
			t.Errorf("%s: raw escape sequence from a certificate subject reached the output", file)
		}
		golden(t, file, out.String())
	}
}
