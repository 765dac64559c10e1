package probe

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Step is one stage of STS's validation (docs/behaviour.md#sts-validation-order), in its order.
type Step struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail,omitempty"`
}

// Verification is the token checked the way STS checks it.
type Verification struct {
	Claims Claims `json:"claims"`
	Steps  []Step `json:"steps"`
	// OK is true when every step passed.
	OK bool `json:"ok"`
}

// VerifyOptions configure Verify.
type VerifyOptions struct {
	// HTTPClient fetches discovery and JWKS anonymously; nil means one with
	// the system roots and a 10 s timeout.
	HTTPClient *http.Client
	Now        func() time.Time
}

// Verify checks a token as STS will before it looks at the trust policy:
// discovery and JWKS reachable anonymously over HTTPS, the token's kid in the
// JWKS, a signature in an algorithm STS accepts (RS256/384/512,
// ES256/384/512: docs/behaviour.md#sts-validation-order, step 4) that
// verifies with that key (go-jose), iss equal to the provider URL, aud among
// the client IDs, and exp (with STS's 5-minute skew) in the future.
// providerURL is the IAM provider's URL without scheme ("" when unknown).
func Verify(ctx context.Context, raw, providerURL string, clientIDs []string, o VerifyOptions) Verification {
	client := o.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	t, err := parseToken(raw)
	if err != nil {
		return Verification{Steps: []Step{{Name: "token", Detail: err.Error()}}}
	}
	v := Verification{Claims: t.claims}
	add := func(name string, ok bool, detail string) bool {
		v.Steps = append(v.Steps, Step{Name: name, OK: ok, Detail: detail})
		return ok
	}
	issuer := strings.TrimSuffix(t.claims.Issuer, "/")
	var doc struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	body, note, err := fetch(ctx, client, issuer+"/.well-known/openid-configuration")
	if err != nil || json.Unmarshal(body, &doc) != nil || doc.JWKSURI == "" {
		detail := "discovery document has no jwks_uri"
		if err != nil {
			detail = err.Error()
		}
		add("discovery", false, detail)
		return v
	}
	add("discovery", true, strings.TrimSpace(issuer+"/.well-known/openid-configuration "+note))
	body, note, err = fetch(ctx, client, doc.JWKSURI)
	var set jwks
	if err == nil {
		set, err = parseJWKS(body)
		if err != nil {
			err = errors.New("the JWKS is not a JSON key set")
		}
	}
	if err != nil {
		add("jwks", false, err.Error())
		return v
	}
	add("jwks", true, strings.TrimSpace(fmt.Sprintf("%s (%d keys) %s", doc.JWKSURI, len(set.all), note)))
	keys, unusable, err := findKey(t, set)
	if !add("key id", err == nil, keyDetail(t, err)) {
		return v
	}
	verified, err := verifySignature(t, keys, unusable)
	if err != nil {
		verified = err.Error()
	}
	if !add("signature", err == nil, verified) {
		return v
	}
	issOK := providerURL == "" || strings.TrimPrefix(t.claims.Issuer, "https://") == providerURL
	add("issuer", issOK, fmt.Sprintf("iss %s, provider URL %s", t.claims.Issuer, providerURL))
	audOK := len(clientIDs) == 0 || slices.ContainsFunc(t.claims.Audience, func(a string) bool { return slices.Contains(clientIDs, a) })
	add("audience", audOK, fmt.Sprintf("aud %s, client IDs %s", strings.Join(t.claims.Audience, ","), strings.Join(clientIDs, ",")))
	// IAM allows five minutes of clock skew past exp (docs/behaviour.md#sts-validation-order step 6).
	add("expiry", now().Before(t.claims.Expiry.Add(5*time.Minute)), "exp "+t.claims.Expiry.Format(time.RFC3339))
	v.OK = true
	for _, s := range v.Steps {
		v.OK = v.OK && s.OK
	}
	return v
}

func keyDetail(t *token, err error) string {
	if err == nil {
		return "kid " + t.claims.KeyID
	}
	return err.Error()
}

// fetch GETs a URL anonymously. When the chain is not publicly trusted it
// retries without verification and says so: STS would then rely on the
// provider's thumbprint (docs/behaviour.md#thumbprints-per-issuer-type), which IRSA-OIDC-003 judges.
func fetch(ctx context.Context, client *http.Client, url string) ([]byte, string, error) {
	if !strings.HasPrefix(url, "https://") {
		return nil, "", fmt.Errorf("%s is not https: STS fetches discovery and keys over HTTPS only", url)
	}
	body, err := get(ctx, client, url)
	var unknownCA x509.UnknownAuthorityError
	if err != nil && errors.As(err, &unknownCA) {
		insecure := *client
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // facts only; trust is judged by the thumbprint check
		insecure.Transport = tr
		body, err = get(ctx, &insecure, url)
		return body, "(chain not publicly trusted: STS relies on the provider's thumbprint, see IRSA-OIDC-003)", err
	}
	return body, "", err
}

func get(ctx context.Context, client *http.Client, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, http.NoBody)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: HTTP %d (STS fetches it anonymously: on a self-managed cluster bind system:service-account-issuer-discovery to system:unauthenticated)", url, resp.StatusCode)
	}
	return io.ReadAll(io.LimitReader(resp.Body, 1<<20))
}
