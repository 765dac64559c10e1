package probe

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

var testKey = func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err) // test setup
	}
	return k
}()

// sign builds an RS256 JWT the way the API server does.
func sign(t *testing.T, key *rsa.PrivateKey, kid string, claims map[string]any) string {
	t.Helper()
	h, _ := json.Marshal(map[string]string{"alg": "RS256", "kid": kid})
	p, _ := json.Marshal(claims)
	in := base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(p)
	sum := sha256.Sum256([]byte(in))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	return in + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// issuerServer serves discovery and a JWKS with testKey under kid "k1".
func issuerServer(t *testing.T, discoveryStatus int) *httptest.Server {
	t.Helper()
	var srv *httptest.Server
	srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/.well-known/openid-configuration":
			if discoveryStatus != http.StatusOK {
				w.WriteHeader(discoveryStatus)
				return
			}
			_ = json.NewEncoder(w).Encode(map[string]string{"issuer": srv.URL, "jwks_uri": srv.URL + "/openid/v1/jwks"})
		case "/openid/v1/jwks":
			n := base64.RawURLEncoding.EncodeToString(testKey.N.Bytes())
			e := base64.RawURLEncoding.EncodeToString(big.NewInt(int64(testKey.E)).Bytes())
			_ = json.NewEncoder(w).Encode(map[string]any{"keys": []map[string]string{{"kty": "RSA", "kid": "k1", "alg": "RS256", "use": "sig", "n": n, "e": e}}})
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func claimsFor(iss string, exp time.Time) map[string]any {
	return map[string]any{"iss": iss, "sub": "system:serviceaccount:shop:app", "aud": []string{"sts.amazonaws.com"}, "exp": exp.Unix(), "iat": exp.Add(-10 * time.Minute).Unix(),
		"kubernetes.io": map[string]any{"namespace": "shop", "pod": map[string]string{"name": "web"}, "serviceaccount": map[string]string{"name": "app"}}}
}

func failedStep(v Verification) string {
	for _, s := range v.Steps {
		if !s.OK {
			return s.Name + ": " + s.Detail
		}
	}
	return ""
}

func TestVerify(t *testing.T) {
	t.Parallel()
	srv := issuerServer(t, http.StatusOK)
	host := strings.TrimPrefix(srv.URL, "https://")
	now := time.Now()
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	tests := []struct {
		name      string
		token     string
		provider  string
		clientIDs []string
		failed    string // prefix of the first failing step, "" for success
	}{
		{"good key", sign(t, testKey, "k1", claimsFor(srv.URL, now.Add(10*time.Minute))), host, []string{"sts.amazonaws.com"}, ""},
		{"unknown kid", sign(t, testKey, "k9", claimsFor(srv.URL, now.Add(10*time.Minute))), host, nil, `key id: no key with kid "k9" in the JWKS (it has k1)`},
		{"bad signature", sign(t, other, "k1", claimsFor(srv.URL, now.Add(10*time.Minute))), host, nil, "signature: the signature does not verify"},
		{"expired beyond the skew", sign(t, testKey, "k1", claimsFor(srv.URL, now.Add(-6*time.Minute))), host, nil, "expiry"},
		{"expired within the 5-minute skew", sign(t, testKey, "k1", claimsFor(srv.URL, now.Add(-4*time.Minute))), host, nil, ""},
		{"issuer differs from provider URL", sign(t, testKey, "k1", claimsFor(srv.URL, now.Add(10*time.Minute))), host + "/", nil, "issuer"},
		{"audience not a client ID", sign(t, testKey, "k1", claimsFor(srv.URL, now.Add(10*time.Minute))), host, []string{"sts.amazon.com"}, "audience: aud sts.amazonaws.com, client IDs sts.amazon.com"},
		{"not a JWT", "abc.def", host, nil, "token: the token is not a JWT"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			v := Verify(context.Background(), tc.token, tc.provider, tc.clientIDs, VerifyOptions{})
			got := failedStep(v)
			if tc.failed == "" && (got != "" || !v.OK) {
				t.Fatalf("want success, got %q", got)
			}
			if tc.failed != "" && (!strings.HasPrefix(got, tc.failed) || v.OK) {
				t.Fatalf("first failing step %q, want prefix %q", got, tc.failed)
			}
		})
	}
	good := Verify(context.Background(), sign(t, testKey, "k1", claimsFor(srv.URL, now.Add(10*time.Minute))), host, nil, VerifyOptions{})
	if c := good.Claims; c.Subject != "system:serviceaccount:shop:app" || c.Pod != "web" || c.Namespace != "shop" || c.KeyID != "k1" {
		t.Errorf("claims %+v", c)
	}
	if !strings.Contains(good.Steps[0].Detail, "chain not publicly trusted") {
		t.Errorf("a private chain must be called out: %+v", good.Steps[0])
	}
}

func TestVerifyDiscoveryForbidden(t *testing.T) {
	t.Parallel()
	srv := issuerServer(t, http.StatusUnauthorized)
	v := Verify(context.Background(), sign(t, testKey, "k1", claimsFor(srv.URL, time.Now().Add(time.Hour))), "", nil, VerifyOptions{})
	if got := failedStep(v); !strings.Contains(got, "HTTP 401") || !strings.Contains(got, "system:unauthenticated") {
		t.Errorf("failing step %q", got)
	}
}

// stsServer answers AssumeRoleWithWebIdentity as STS does (query protocol,
// XML), and records what it was sent.
func stsServer(t *testing.T, status int, body string, seen *string) *sts.Client {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		*seen = r.Form.Get("Action") + " " + r.Form.Get("RoleArn") + " " + r.Form.Get("DurationSeconds")
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(status)
		fmt.Fprint(w, body)
	}))
	t.Cleanup(srv.Close)
	return sts.New(sts.Options{Region: "us-west-2", BaseEndpoint: aws.String(srv.URL), Credentials: aws.AnonymousCredentials{}})
}

func TestAssume(t *testing.T) {
	t.Parallel()
	var seen string
	ok := stsServer(t, 200, `<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleWithWebIdentityResult>`+
		`<AssumedRoleUser><Arn>arn:aws:sts::111122223333:assumed-role/app/kubectl-irsa-probe-1</Arn><AssumedRoleId>AROA:x</AssumedRoleId></AssumedRoleUser>`+
		`<Credentials><AccessKeyId>ASIAEXAMPLEEXAMPLE</AccessKeyId><SecretAccessKey>secretsecret</SecretAccessKey><SessionToken>tok</SessionToken><Expiration>2030-01-01T00:00:00Z</Expiration></Credentials>`+
		`</AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>`, &seen)
	res := Assume(context.Background(), ok, "arn:aws:iam::111122223333:role/app", "tok.en.x")
	if res.AssumedRoleARN != "arn:aws:sts::111122223333:assumed-role/app/kubectl-irsa-probe-1" || res.Code != "" {
		t.Errorf("success: %+v", res)
	}
	if b, _ := json.Marshal(res); strings.Contains(string(b), "ASIA") || strings.Contains(string(b), "secret") {
		t.Errorf("credentials kept in the result: %s", b)
	}
	if seen != "AssumeRoleWithWebIdentity arn:aws:iam::111122223333:role/app 900" {
		t.Errorf("request %q", seen)
	}
	denied := stsServer(t, 403, `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>AccessDenied</Code>`+
		`<Message>Not authorized to perform sts:AssumeRoleWithWebIdentity</Message></Error><RequestId>r</RequestId></ErrorResponse>`, &seen)
	res = Assume(context.Background(), denied, "arn:aws:iam::111122223333:role/app", "tok.en.x")
	if res.Code != "AccessDenied" || res.HTTPStatus != 403 || res.Message != "Not authorized to perform sts:AssumeRoleWithWebIdentity" {
		t.Errorf("denied: %+v", res)
	}
}
