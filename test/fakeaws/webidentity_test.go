package fakeaws_test

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/kubectl-irsa/kubectl-irsa/test/fakeaws"
)

// idp is an OIDC issuer on a loopback TLS server with its own key, the way
// a cluster's API server serves discovery and JWKS.
type idp struct {
	srv        *httptest.Server
	key        *rsa.PrivateKey
	kid        string
	thumbprint string // SHA-1 of the certificate the server sends
}

func newIDP(t *testing.T) *idp {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	p := &idp{key: key, kid: "key-1"}
	mux := http.NewServeMux()
	p.srv = httptest.NewTLSServer(mux)
	t.Cleanup(p.srv.Close)
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]string{"issuer": p.srv.URL, "jwks_uri": p.srv.URL + "/openid/v1/jwks"})
	})
	mux.HandleFunc("/openid/v1/jwks", func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]any{"keys": []map[string]string{{
			"kty": "RSA", "alg": "RS256", "use": "sig", "kid": p.kid,
			"n": base64.RawURLEncoding.EncodeToString(key.N.Bytes()),
			"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(key.E)).Bytes()),
		}}})
	})
	sum := sha1.Sum(p.srv.Certificate().Raw)
	p.thumbprint = hex.EncodeToString(sum[:])
	return p
}

func (p *idp) host() string { return strings.TrimPrefix(p.srv.URL, "https://") }

// sign makes an RS256 JWT; claims override the defaults, nil values delete.
func (p *idp) sign(t *testing.T, kid string, key *rsa.PrivateKey, claims map[string]any) string {
	t.Helper()
	c := map[string]any{
		"iss": p.srv.URL,
		"sub": "system:serviceaccount:shop:app",
		"aud": []string{"sts.amazonaws.com"},
		"exp": time.Now().Add(time.Hour).Unix(),
		"iat": time.Now().Unix(),
	}
	for k, v := range claims {
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
	}
	enc := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return base64.RawURLEncoding.EncodeToString(b)
	}
	in := enc(map[string]string{"alg": "RS256", "kid": kid}) + "." + enc(c)
	digest := sha256.Sum256([]byte(in))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	return in + "." + base64.RawURLEncoding.EncodeToString(sig)
}

const (
	webAcct = "111122223333"
	webRole = "arn:aws:iam::111122223333:role/team/app"
)

func trustFor(p *idp, acct, cond string) string {
	return fmt.Sprintf(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::%s:oidc-provider/%s"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":%s}}`,
		acct, p.host(), cond)
}

func exactCond(p *idp, sub string) string {
	return fmt.Sprintf(`{"StringEquals":{"%[1]s:sub":"%[2]s","%[1]s:aud":"sts.amazonaws.com"}}`, p.host(), sub)
}

func TestAssumeRoleWithWebIdentity(t *testing.T) {
	p := newIDP(t)
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	provider := fakeaws.Provider{ARN: "arn:aws:iam::" + webAcct + ":oidc-provider/" + p.host(), URL: p.srv.URL,
		ClientIDs: []string{"sts.amazonaws.com"}, Thumbprints: []string{strings.Repeat("0", 40), strings.ToUpper(p.thumbprint)}}
	good := trustFor(p, webAcct, exactCond(p, "system:serviceaccount:shop:app"))

	tests := []struct {
		name     string
		provider *fakeaws.Provider // nil: the default one
		trust    string            // "": good
		noRole   bool
		roleARN  string
		token    func() string
		code     string
		status   int
		message  string // exact, or a regexp when it starts with ^
	}{
		{name: "success", token: func() string { return p.sign(t, p.kid, p.key, nil) }},
		{name: "success within the five minutes of clock skew",
			token: func() string {
				return p.sign(t, p.kid, p.key, map[string]any{"exp": time.Now().Add(-2 * time.Minute).Unix()})
			}},
		{name: "success with a single-string aud and StringLike",
			trust: trustFor(p, webAcct, fmt.Sprintf(`{"StringLike":{"%s:sub":"system:serviceaccount:shop:*"}}`, p.host())),
			token: func() string { return p.sign(t, p.kid, p.key, map[string]any{"aud": "sts.amazonaws.com"}) }},
		{name: "not a JWT", token: func() string { return "not-a-jwt" }, code: "InvalidIdentityToken", status: 400},
		{name: "missing aud", token: func() string { return p.sign(t, p.kid, p.key, map[string]any{"aud": nil}) },
			code: "InvalidIdentityToken", status: 400, message: "Missing a required claim: aud"},
		{name: "missing sub", token: func() string { return p.sign(t, p.kid, p.key, map[string]any{"sub": nil}) },
			code: "InvalidIdentityToken", status: 400, message: "Missing a required claim: sub"},
		{name: "no provider", provider: &fakeaws.Provider{}, token: func() string { return p.sign(t, p.kid, p.key, nil) },
			code: "InvalidIdentityToken", status: 400, message: "No OpenIDConnect provider found in your account for " + p.srv.URL},
		{name: "provider only in another account",
			provider: &fakeaws.Provider{ARN: "arn:aws:iam::444455556666:oidc-provider/" + p.host(), URL: p.host(), ClientIDs: []string{"sts.amazonaws.com"}, Thumbprints: []string{p.thumbprint}},
			token:    func() string { return p.sign(t, p.kid, p.key, nil) },
			code:     "InvalidIdentityToken", status: 400, message: "No OpenIDConnect provider found in your account for " + p.srv.URL},
		{name: "stale thumbprint",
			provider: &fakeaws.Provider{ARN: provider.ARN, URL: p.host(), ClientIDs: []string{"sts.amazonaws.com"}, Thumbprints: []string{strings.Repeat("a", 40)}},
			token:    func() string { return p.sign(t, p.kid, p.key, nil) },
			code:     "InvalidIdentityToken", status: 400, message: "OpenIDConnect provider's HTTPS certificate doesn't match configured thumbprint"},
		{name: "issuer unreachable",
			provider: &fakeaws.Provider{ARN: "arn:aws:iam::" + webAcct + ":oidc-provider/127.0.0.1:1", URL: "127.0.0.1:1", ClientIDs: []string{"sts.amazonaws.com"}, Thumbprints: []string{p.thumbprint}},
			trust:    strings.ReplaceAll(good, p.host(), "127.0.0.1:1"),
			token:    func() string { return p.sign(t, p.kid, p.key, map[string]any{"iss": "https://127.0.0.1:1"}) },
			code:     "IDPCommunicationError", status: 400,
			message: "Couldn't retrieve verification key from your identity provider,  please reference AssumeRoleWithWebIdentity documentation for requirements"},
		{name: "unknown kid", token: func() string { return p.sign(t, "rotated-away", p.key, nil) },
			code: "InvalidIdentityToken", status: 400,
			message: "Couldn't retrieve verification key from your identity provider,  please reference AssumeRoleWithWebIdentity documentation for requirements"},
		{name: "signed with another key", token: func() string { return p.sign(t, p.kid, other, nil) },
			code: "InvalidIdentityToken", status: 400},
		{name: "audience not a client ID", token: func() string { return p.sign(t, p.kid, p.key, map[string]any{"aud": []string{"sts.amazon.com"}}) },
			code: "InvalidIdentityToken", status: 400, message: "Incorrect token audience"},
		{name: "expired beyond the skew", token: func() string {
			return p.sign(t, p.kid, p.key, map[string]any{"exp": time.Now().Add(-6 * time.Minute).Unix()})
		},
			code: "ExpiredTokenException", status: 400, message: `^Token expired: current date/time \d+ must be before the expiration date/time \d+$`},
		{name: "role missing", noRole: true, token: func() string { return p.sign(t, p.kid, p.key, nil) },
			code: "AccessDenied", status: 403, message: "Not authorized to perform sts:AssumeRoleWithWebIdentity"},
		{name: "trust names another namespace", trust: trustFor(p, webAcct, exactCond(p, "system:serviceaccount:default:app")),
			token: func() string { return p.sign(t, p.kid, p.key, nil) },
			code:  "AccessDenied", status: 403, message: "Not authorized to perform sts:AssumeRoleWithWebIdentity"},
		{name: "explicit Deny", trust: fmt.Sprintf(`{"Statement":[%s,{"Effect":"Deny","Principal":"*","Action":"sts:*"}]}`,
			strings.TrimSuffix(strings.TrimPrefix(good, `{"Version":"2012-10-17","Statement":`), "}")),
			token: func() string { return p.sign(t, p.kid, p.key, nil) },
			code:  "AccessDenied", status: 403, message: "Not authorized to perform sts:AssumeRoleWithWebIdentity"},
		{name: "sts:AssumeRole only", trust: strings.Replace(good, "sts:AssumeRoleWithWebIdentity", "sts:AssumeRole", 1),
			token: func() string { return p.sign(t, p.kid, p.key, nil) },
			code:  "AccessDenied", status: 403, message: "Not authorized to perform sts:AssumeRoleWithWebIdentity"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake, cfg := start(t)
			pr := provider
			if tt.provider != nil {
				pr = *tt.provider
			}
			if pr.ARN != "" {
				fake.AddProvider(pr)
			}
			if !tt.noRole {
				trust := tt.trust
				if trust == "" {
					trust = good
				}
				fake.AddRole(fakeaws.Role{ARN: webRole, TrustPolicy: trust})
			}
			// No credentials at all: the token is the only credential, and
			// the SDK sends this call unsigned.
			cfg.Credentials = nil
			out, err := sts.NewFromConfig(cfg).AssumeRoleWithWebIdentity(t.Context(), &sts.AssumeRoleWithWebIdentityInput{
				RoleArn: aws.String(webRole), RoleSessionName: aws.String("1700000000000000000"), WebIdentityToken: aws.String(tt.token()),
			})
			if tt.code == "" {
				if err != nil {
					t.Fatalf("AssumeRoleWithWebIdentity: %v", err)
				}
				if got := aws.ToString(out.AssumedRoleUser.Arn); got != "arn:aws:sts::"+webAcct+":assumed-role/app/1700000000000000000" {
					t.Errorf("AssumedRoleUser.Arn = %s", got)
				}
				c := out.Credentials
				if c == nil || !strings.HasPrefix(aws.ToString(c.AccessKeyId), "ASIA") || aws.ToString(c.SecretAccessKey) == "" || aws.ToString(c.SessionToken) == "" || c.Expiration == nil {
					t.Errorf("Credentials = %+v", c)
				}
				if aws.ToString(out.SubjectFromWebIdentityToken) != "system:serviceaccount:shop:app" || aws.ToString(out.Audience) != "sts.amazonaws.com" {
					t.Errorf("subject %q audience %q", aws.ToString(out.SubjectFromWebIdentityToken), aws.ToString(out.Audience))
				}
				return
			}
			var ae smithy.APIError
			if !errors.As(err, &ae) {
				t.Fatalf("err = %v, want API error %s", err, tt.code)
			}
			if ae.ErrorCode() != tt.code {
				t.Errorf("code %s, want %s (%s)", ae.ErrorCode(), tt.code, ae.ErrorMessage())
			}
			switch {
			case tt.message == "":
			case strings.HasPrefix(tt.message, "^"):
				if !regexp.MustCompile(tt.message).MatchString(ae.ErrorMessage()) {
					t.Errorf("message %q does not match %s", ae.ErrorMessage(), tt.message)
				}
			case ae.ErrorMessage() != tt.message:
				t.Errorf("message %q, want %q", ae.ErrorMessage(), tt.message)
			}
			var re interface{ HTTPStatusCode() int }
			if errors.As(err, &re) && re.HTTPStatusCode() != tt.status {
				t.Errorf("HTTP status %d, want %d", re.HTTPStatusCode(), tt.status)
			}
			if n := fake.Count("sts:AssumeRoleWithWebIdentity"); n < 1 {
				t.Errorf("call not logged")
			}
		})
	}
}

// TestAssumeRoleWithWebIdentityWire checks the raw error envelope STS sends
// and that the call log names the role but never holds the token.
func TestAssumeRoleWithWebIdentityWire(t *testing.T) {
	fake := fakeaws.New()
	base := fakeaws.Serve(t, fake)
	form := url.Values{"Action": {"AssumeRoleWithWebIdentity"}, "Version": {"2011-06-15"}, "RoleArn": {webRole},
		"RoleSessionName": {"s"}, "WebIdentityToken": {"a.b.c"}}
	resp, err := http.Post(base, "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	want := regexp.MustCompile(`^<\?xml version="1\.0" encoding="UTF-8"\?>\s*<ErrorResponse xmlns="https://sts\.amazonaws\.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>InvalidIdentityToken</Code><Message>[^<]+</Message></Error><RequestId>[0-9a-f-]{36}</RequestId></ErrorResponse>$`)
	if resp.StatusCode != http.StatusBadRequest || !want.Match(body) {
		t.Errorf("status %d body %s", resp.StatusCode, body)
	}
	calls := fake.Calls()
	if len(calls) != 1 || calls[0].Op != "AssumeRoleWithWebIdentity" || calls[0].Service != "sts" || calls[0].Resource != webRole {
		t.Errorf("calls = %+v", calls)
	}
	if strings.Contains(fmt.Sprintf("%+v", calls), "a.b.c") {
		t.Error("the call log holds the token")
	}
}
