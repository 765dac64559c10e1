package fakeaws_test

import (
	"crypto/rsa"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/kubectl-irsa/kubectl-irsa/test/fakeaws"
	"github.com/kubectl-irsa/kubectl-irsa/test/jwstest"
)

// newAlgIDP is an issuer whose JWKS holds an RSA key ("rsa"), one EC key per
// curve ("p256", "p384", "p521") and a symmetric key ("hmac"), each signed
// with by jwstest, a standard-library signer independent of the emulator's
// JOSE library.
func newAlgIDP(t *testing.T) (*idp, map[string]*jwstest.Key) {
	t.Helper()
	keys := jwstest.MustKeys()
	keys["hmac"] = &jwstest.Key{Kid: "hmac", Secret: []byte("0123456789abcdef0123456789abcdef")}
	algs := map[string]string{"rsa": "RS256", "p256": "ES256", "p384": "ES384", "p521": "ES512", "hmac": "HS256"}
	set := make([]map[string]string, 0, len(keys))
	for name, k := range keys {
		set = append(set, k.PublicJWK(algs[name]))
	}
	p := &idp{key: keys["rsa"].Signer.(*rsa.PrivateKey), kid: "rsa"}
	mux := http.NewServeMux()
	p.srv = httptest.NewUnstartedServer(mux)
	p.srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	p.srv.StartTLS()
	t.Cleanup(p.srv.Close)
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]string{"issuer": p.srv.URL, "jwks_uri": p.srv.URL + "/openid/v1/jwks"})
	})
	mux.HandleFunc("/openid/v1/jwks", func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]any{"keys": set})
	})
	sum := sha1.Sum(p.srv.Certificate().Raw) //nolint:gosec // the IAM OIDC thumbprint is SHA-1 by AWS's definition
	p.thumbprint = hex.EncodeToString(sum[:])
	return p, keys
}

// TestAssumeRoleWithWebIdentityAlgorithms: the emulated STS accepts the
// signing algorithms STS documents for WebIdentityToken (RS256/384/512,
// ES256/384/512; docs/behaviour.md#sts-validation-order, step 4) and refuses
// any other, a bad signature and an unknown kid as STS does.
func TestAssumeRoleWithWebIdentityAlgorithms(t *testing.T) {
	p, keys := newAlgIDP(t)
	claims := map[string]any{"iss": p.srv.URL, "sub": "system:serviceaccount:shop:app", "aud": []string{"sts.amazonaws.com"},
		"exp": time.Now().Add(time.Hour).Unix(), "iat": time.Now().Unix()}
	tests := []struct {
		name, alg, kid, key string
		tamper              bool
		code, message       string // "" code: success
	}{
		{name: "RS256", alg: "RS256", kid: "rsa", key: "rsa"},
		{name: "RS384", alg: "RS384", kid: "rsa", key: "rsa"},
		{name: "RS512", alg: "RS512", kid: "rsa", key: "rsa"},
		{name: "ES256", alg: "ES256", kid: "p256", key: "p256"},
		{name: "ES384", alg: "ES384", kid: "p384", key: "p384"},
		{name: "ES512", alg: "ES512", kid: "p521", key: "p521"},
		{name: "unknown kid", alg: "ES256", kid: "rotated-away", key: "p256", code: "InvalidIdentityToken",
			message: "Couldn't retrieve verification key from your identity provider,  please reference AssumeRoleWithWebIdentity documentation for requirements"},
		{name: "tampered ES256 signature", alg: "ES256", kid: "p256", key: "p256", tamper: true, code: "InvalidIdentityToken"},
		{name: "tampered RS384 signature", alg: "RS384", kid: "rsa", key: "rsa", tamper: true, code: "InvalidIdentityToken"},
		{name: "ES256 signed by another key", alg: "ES256", kid: "p256", key: "p384", code: "InvalidIdentityToken"},
		{name: "ES256 naming a P-384 key", alg: "ES256", kid: "p384", key: "p384", code: "InvalidIdentityToken"},
		{name: "RS256 naming an EC key", alg: "RS256", kid: "p256", key: "rsa", code: "InvalidIdentityToken"},
		{name: "PS256", alg: "PS256", kid: "rsa", key: "rsa", code: "InvalidIdentityToken"},
		{name: "HS256 naming the RSA key", alg: "HS256", kid: "rsa", key: "hmac", code: "InvalidIdentityToken"},
		{name: "HS256 with a symmetric key in the JWKS", alg: "HS256", kid: "hmac", key: "hmac", code: "InvalidIdentityToken"},
		{name: "none", alg: "none", kid: "rsa", key: "rsa", code: "InvalidIdentityToken"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake, cfg := start(t)
			fake.AddProvider(fakeaws.Provider{ARN: "arn:aws:iam::" + webAcct + ":oidc-provider/" + p.host(), URL: p.host(),
				ClientIDs: []string{"sts.amazonaws.com"}, Thumbprints: []string{p.thumbprint}})
			fake.AddRole(fakeaws.Role{ARN: webRole, TrustPolicy: trustFor(p, webAcct, exactCond(p, "system:serviceaccount:shop:app"))})
			tok, err := jwstest.Sign(tt.alg, tt.kid, keys[tt.key], claims)
			if err != nil {
				t.Fatal(err)
			}
			if tt.tamper {
				tok = jwstest.Tamper(tok)
			}
			cfg.Credentials = nil
			out, err := sts.NewFromConfig(cfg).AssumeRoleWithWebIdentity(t.Context(), &sts.AssumeRoleWithWebIdentityInput{
				RoleArn: aws.String(webRole), RoleSessionName: aws.String("s"), WebIdentityToken: aws.String(tok),
			})
			if tt.code == "" {
				if err != nil {
					t.Fatalf("AssumeRoleWithWebIdentity: %v", err)
				}
				if got := aws.ToString(out.AssumedRoleUser.Arn); got != "arn:aws:sts::"+webAcct+":assumed-role/app/s" {
					t.Errorf("AssumedRoleUser.Arn = %s", got)
				}
				return
			}
			var ae smithy.APIError
			if !errors.As(err, &ae) {
				t.Fatalf("err = %v, want API error %s", err, tt.code)
			}
			if ae.ErrorCode() != tt.code || (tt.message != "" && ae.ErrorMessage() != tt.message) {
				t.Errorf("%s: %s, want %s %q", ae.ErrorCode(), ae.ErrorMessage(), tt.code, tt.message)
			}
			var re interface{ HTTPStatusCode() int }
			if errors.As(err, &re) && re.HTTPStatusCode() != http.StatusBadRequest {
				t.Errorf("HTTP status %d, want 400", re.HTTPStatusCode())
			}
		})
	}
}
