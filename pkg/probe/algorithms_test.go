package probe

import (
	"context"
	"encoding/json"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/kubectl-irsa/kubectl-irsa/test/jwstest"
)

// algKeys are the keys of TestVerifyAlgorithms: RSA and one EC key per curve
// (built by an independent, standard-library signer), plus an HMAC key in
// the JWKS that no STS algorithm may use.
var algKeys = func() map[string]*jwstest.Key {
	keys := jwstest.MustKeys()
	keys["hmac"] = &jwstest.Key{Kid: "hmac", Secret: []byte("0123456789abcdef0123456789abcdef")}
	return keys
}()

// jwksServer serves discovery and a JWKS holding every key of algKeys, with
// the alg kube-apiserver would publish for it, and the extra keys.
func jwksServer(t *testing.T, extra ...map[string]string) *httptest.Server {
	t.Helper()
	algs := map[string]string{"rsa": "RS256", "p256": "ES256", "p384": "ES384", "p521": "ES512", "hmac": "HS256"}
	set := extra
	for name, k := range algKeys {
		set = append(set, k.PublicJWK(algs[name]))
	}
	var srv *httptest.Server
	srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/.well-known/openid-configuration":
			_ = json.NewEncoder(w).Encode(map[string]string{"issuer": srv.URL, "jwks_uri": srv.URL + "/openid/v1/jwks"})
		case "/openid/v1/jwks":
			_ = json.NewEncoder(w).Encode(map[string]any{"keys": set})
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	// The probe's first, publicly-trusting attempt fails by design here.
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

// TestVerifyAlgorithms: the probe accepts exactly the algorithms STS accepts
// (docs/behaviour.md#sts-validation-order, step 4: RS256/384/512 and
// ES256/384/512) and fails any other with a message naming that set.
func TestVerifyAlgorithms(t *testing.T) {
	t.Parallel()
	srv := jwksServer(t)
	host := strings.TrimPrefix(srv.URL, "https://")
	claims := claimsFor(srv.URL, time.Now().Add(10*time.Minute))
	const accepted = "STS accepts RS256, RS384, RS512, ES256, ES384 and ES512"
	tok := func(alg, kid, key string) func(t *testing.T) string {
		return func(t *testing.T) string {
			t.Helper()
			s, err := jwstest.Sign(alg, kid, algKeys[key], claims)
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
	}
	tampered := func(f func(t *testing.T) string) func(t *testing.T) string {
		return func(t *testing.T) string { return jwstest.Tamper(f(t)) }
	}
	tests := []struct {
		name   string
		token  func(t *testing.T) string
		failed string // prefix of the first failing step, "" for success
		detail string // text the failing step's detail must hold
	}{
		{name: "RS256", token: tok("RS256", "rsa", "rsa")},
		{name: "RS384", token: tok("RS384", "rsa", "rsa")},
		{name: "RS512", token: tok("RS512", "rsa", "rsa")},
		{name: "ES256 with a P-256 key", token: tok("ES256", "p256", "p256")},
		{name: "ES384 with a P-384 key", token: tok("ES384", "p384", "p384")},
		{name: "ES512 with a P-521 key", token: tok("ES512", "p521", "p521")},

		{name: "kid not in the JWKS", token: tok("ES256", "rotated-away", "p256"),
			failed: "key id", detail: `no key with kid "rotated-away" in the JWKS (it has hmac, p256, p384, p521, rsa)`},
		{name: "no kid", token: tok("ES256", "", "p256"), failed: "key id", detail: "the token has no kid"},
		{name: "tampered ES256 signature", token: tampered(tok("ES256", "p256", "p256")),
			failed: "signature", detail: "the signature does not verify with the published key"},
		{name: "tampered RS512 signature", token: tampered(tok("RS512", "rsa", "rsa")),
			failed: "signature", detail: "the signature does not verify with the published key"},
		{name: "ES256 signed by another key than kid names", token: tok("ES256", "p256", "p384"),
			failed: "signature", detail: "the signature does not verify"},
		{name: "ES256 naming a P-384 key", token: tok("ES256", "p384", "p384"),
			failed: "signature", detail: `key "p384" is an EC P-384 key; ES256 needs an EC P-256 key`},
		{name: "RS256 naming an EC key", token: tok("RS256", "p256", "rsa"),
			failed: "signature", detail: `key "p256" is an EC P-256 key; RS256 needs an RSA key`},
		{name: "ES256 naming an RSA key", token: tok("ES256", "rsa", "p256"),
			failed: "signature", detail: `key "rsa" is an RSA key; ES256 needs an EC P-256 key`},

		// Outside STS's set: refused whatever key they name.
		{name: "PS256", token: tok("PS256", "rsa", "rsa"), failed: "signature", detail: `the token is signed with "PS256"; ` + accepted},
		{name: "HS256 naming the RSA key", token: tok("HS256", "rsa", "hmac"), failed: "signature", detail: `the token is signed with "HS256"; ` + accepted},
		{name: "HS256 with a symmetric key in the JWKS", token: tok("HS256", "hmac", "hmac"), failed: "signature", detail: `the token is signed with "HS256"; ` + accepted},
		{name: "none", token: tok("none", "rsa", "rsa"), failed: "signature", detail: `the token is signed with "none"; ` + accepted},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			raw := tc.token(t)
			v := Verify(context.Background(), raw, host, []string{"sts.amazonaws.com"}, VerifyOptions{})
			got := failedStep(v)
			if tc.failed == "" {
				if got != "" || !v.OK {
					t.Fatalf("want success, got %q", got)
				}
				if want := strings.Fields(tc.name)[0]; v.Claims.Algorithm != want {
					t.Errorf("claims alg %q, want %q", v.Claims.Algorithm, want)
				}
			} else if v.OK || !strings.HasPrefix(got, tc.failed+": ") || !strings.Contains(got, tc.detail) {
				t.Fatalf("first failing step %q, want %q holding %q", got, tc.failed, tc.detail)
			}
			// The token, and so its signature, is never in what the probe reports.
			sig := raw[strings.LastIndexByte(raw, '.')+1:]
			b, _ := json.Marshal(v)
			if len(sig) > 8 && strings.Contains(string(b), sig) {
				t.Errorf("the verification holds the token's signature: %s", b)
			}
		})
	}
}

// TestVerifyUnusableKeys: a key STS cannot use (a type go-jose does not
// read, an Ed25519 key) is named when the token's kid picks it, and does not
// hide the other keys of the set.
func TestVerifyUnusableKeys(t *testing.T) {
	t.Parallel()
	srv := jwksServer(t,
		map[string]string{"kty": "XYZ", "kid": "odd"},
		map[string]string{"kty": "OKP", "crv": "Ed25519", "kid": "ed", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"})
	host := strings.TrimPrefix(srv.URL, "https://")
	claims := claimsFor(srv.URL, time.Now().Add(10*time.Minute))
	for _, tc := range []struct{ kid, failed string }{
		{"p256", ""},
		{"odd", `signature: key "odd" (kty "XYZ") cannot be read`},
		{"ed", `signature: key "ed" has kty "OKP"; STS verifies with public RSA or EC keys only`},
	} {
		raw, err := jwstest.Sign("ES256", tc.kid, algKeys["p256"], claims)
		if err != nil {
			t.Fatal(err)
		}
		v := Verify(context.Background(), raw, host, nil, VerifyOptions{})
		if got := failedStep(v); !strings.HasPrefix(got, tc.failed) || (tc.failed == "") != (got == "") {
			t.Errorf("kid %s: first failing step %q, want %q", tc.kid, got, tc.failed)
		}
		if !strings.Contains(v.Steps[1].Detail, "(7 keys)") {
			t.Errorf("jwks step %+v, want 7 keys", v.Steps[1])
		}
	}
}
