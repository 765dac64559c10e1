package tlsinspect

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/thumbprint"
)

const (
	wellKnownPath = "/.well-known/openid-configuration"
	// maxDiscoveryBytes bounds what we read: a discovery document is a few
	// hundred bytes, anything far larger is not one.
	maxDiscoveryBytes = 1 << 20
	maxRedirects      = 5
)

// parseHTTPS parses an absolute https URL. what names the URL in errors.
func parseHTTPS(raw, what string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("parse %s %q: %w", what, raw, err)
	}
	if !strings.EqualFold(u.Scheme, "https") {
		return nil, fmt.Errorf("%s %q: unsupported URL scheme %q: %w", what, raw, u.Scheme, ErrNotHTTPS)
	}
	if u.Hostname() == "" {
		return nil, fmt.Errorf("%s %q has no host", what, raw)
	}
	return u, nil
}

// FetchDiscovery GETs <issuer without trailing slash>/.well-known/openid-configuration
// and returns its issuer and jwks_uri.
//
// It returns an error when the document cannot be used: a non-https issuer or
// jwks_uri, a transport failure, a status other than 200, a body that is not a
// JSON object, or a missing jwks_uri. The returned Discovery carries whatever
// was read before the failure. An issuer field that differs from issuer is
// not an error: it is recorded in Discovery.Problems, because the chain can
// still be inspected while STS would reject the tokens (docs/behaviour.md#thumbprints-per-issuer-type).
func FetchDiscovery(ctx context.Context, issuer string, o Options) (thumbprint.Discovery, error) {
	o = o.withDefaults()
	d := thumbprint.Discovery{}
	u, err := parseHTTPS(issuer, "issuer")
	if err != nil {
		return d, err
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return d, fmt.Errorf("issuer %q must not contain a query or fragment", issuer)
	}
	d.URL = strings.TrimRight(issuer, "/") + wellKnownPath

	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, d.URL, http.NoBody)
	if err != nil {
		return d, fmt.Errorf("discovery document %s: %w", d.URL, err)
	}
	req.Header.Set("Accept", "application/json")

	transport := &http.Transport{
		Proxy:       o.Proxy,
		DialContext: (&net.Dialer{Timeout: o.Timeout}).DialContext,
		// Certificate verification is skipped on purpose for this one read-only
		// GET of a public document that carries no credentials: private-CA
		// issuers are exactly the ones whose thumbprint STS checks
		// (docs/behaviour.md#thumbprints-per-issuer-type), so refusing to read their discovery document would hide the
		// case this package exists to diagnose. Trust in the chain is judged
		// separately and reported by InspectHost.
		TLSClientConfig:       &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS12}, // #nosec G402 -- see above.
		TLSHandshakeTimeout:   o.Timeout,
		ResponseHeaderTimeout: o.Timeout,
		DisableKeepAlives:     true,
	}
	defer transport.CloseIdleConnections()
	client := &http.Client{
		Transport: transport,
		Timeout:   o.Timeout,
		CheckRedirect: func(r *http.Request, via []*http.Request) error {
			if len(via) >= maxRedirects {
				return fmt.Errorf("stopped after %d redirects", maxRedirects)
			}
			if !strings.EqualFold(r.URL.Scheme, "https") {
				return fmt.Errorf("redirect to %q: %w", r.URL.String(), ErrNotHTTPS)
			}
			return nil
		},
	}
	resp, err := client.Do(req)
	if err != nil {
		return d, fmt.Errorf("fetch discovery document: %w", err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return d, fmt.Errorf("discovery document %s: HTTP %s", d.URL, statusText(resp))
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxDiscoveryBytes+1))
	if err != nil {
		return d, fmt.Errorf("discovery document %s: read body: %w", d.URL, err)
	}
	if len(body) > maxDiscoveryBytes {
		return d, fmt.Errorf("discovery document %s: larger than %d bytes", d.URL, maxDiscoveryBytes)
	}
	var doc struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		ct := resp.Header.Get("Content-Type")
		if ct == "" {
			ct = "none"
		}
		return d, fmt.Errorf("discovery document %s: not a JSON object (content-type %s): %w", d.URL, ct, err)
	}
	d.Issuer, d.JWKSURI = doc.Issuer, doc.JWKSURI

	switch {
	case doc.Issuer == "":
		d.Problems = append(d.Problems, fmt.Sprintf("discovery document %s has no issuer field; STS requires it to equal the token's iss claim", d.URL))
	case doc.Issuer != issuer && strings.TrimRight(doc.Issuer, "/") == strings.TrimRight(issuer, "/"):
		// kOps once wrote the issuer with a trailing slash; the token iss, the
		// provider URL and this field must be identical (docs/behaviour.md#thumbprints-per-issuer-type).
		d.Problems = append(d.Problems, fmt.Sprintf("discovery issuer %q differs from the issuer %q only by a trailing slash; the token iss claim, the IAM provider URL and the discovery issuer must be identical", doc.Issuer, issuer))
	case doc.Issuer != issuer:
		d.Problems = append(d.Problems, fmt.Sprintf("discovery issuer %q does not equal the issuer %q; STS requires them to be identical", doc.Issuer, issuer))
	}

	if doc.JWKSURI == "" {
		return d, fmt.Errorf("discovery document %s: %w", d.URL, ErrMissingJWKSURI)
	}
	if _, err := parseHTTPS(doc.JWKSURI, "jwks_uri"); err != nil {
		return d, fmt.Errorf("discovery document %s: %w", d.URL, err)
	}
	return d, nil
}

// statusText renders "404 Not Found" even when the server sent a bare code.
func statusText(resp *http.Response) string {
	if resp.Status != "" {
		return resp.Status
	}
	return fmt.Sprintf("%d %s", resp.StatusCode, http.StatusText(resp.StatusCode))
}
