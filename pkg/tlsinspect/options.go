// Package tlsinspect reads the TLS chains that an OIDC issuer serves, as facts
// for pkg/thumbprint to judge.
//
// The thumbprint is computed exactly as AWS documents it and as eksctl and
// Terraform implement it (docs/behaviour.md#thumbprint-input, #eksctl-and-terraform): SHA-1 over the DER bytes of the
// LAST certificate the server sent, written as 40 lower-case hex characters. It
// is deliberately not the root of a chain built from the local trust store:
// AWS hashes what the server sends, and Amazon's servers end the chain with a
// cross-signed certificate whose hash differs from the self-signed root of the
// same name (docs/behaviour.md#common-eks-thumbprints).
//
// The host that matters is the one named by jwks_uri in the discovery document,
// plus the issuer host when it differs (docs/behaviour.md#thumbprint-input "include the thumbprints for
// both"). Whether a mismatch matters at all depends on whether the chain is
// publicly trusted (docs/behaviour.md#trusted-ca-library, #thumbprints-per-issuer-type); pkg/thumbprint's Judge encodes that table.
//
// The package only reads: it never changes AWS. It uses the standard library
// only, so both `kubectl irsa thumbprint` and `diagnose` can call it.
package tlsinspect

import (
	"crypto/sha1" // #nosec G505 -- SHA-1 is what IAM defines the thumbprint as (docs/behaviour.md#thumbprint-input); not used for security.
	"crypto/x509"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"time"
)

const (
	defaultTimeout  = 10 * time.Second
	defaultWarnDays = 30
)

// Sentinel errors, wrapped by the functions of this package so that callers can
// classify a failure with errors.Is.
var (
	// ErrNotHTTPS means a URL (issuer or jwks_uri) does not use https; STS and
	// IAM only accept https issuers (docs/behaviour.md#thumbprint-format-and-limits), and a thumbprint only
	// exists for TLS endpoints.
	ErrNotHTTPS = errors.New("https is required")
	// ErrMissingJWKSURI means the discovery document has no jwks_uri, so the
	// host whose certificate is hashed cannot be known (docs/behaviour.md#thumbprint-input).
	ErrMissingJWKSURI = errors.New("jwks_uri is missing")
	// ErrNoCertificates means the TLS handshake completed without a single
	// certificate, so there is nothing to hash.
	ErrNoCertificates = errors.New("server sent no certificates")
)

// Options tunes the network side. The zero value is usable.
type Options struct {
	// Timeout bounds each network operation: one discovery request, and each
	// host inspection (TCP dial, proxy CONNECT and TLS handshake together).
	// Zero means 10s.
	Timeout time.Duration
	// Proxy picks the proxy for a URL. It is used for the discovery request and
	// for the raw TLS dial, which goes through an HTTP CONNECT tunnel, so that
	// the chain is read the same way the discovery document was. Nil means
	// http.ProxyFromEnvironment (HTTPS_PROXY / NO_PROXY); return (nil, nil) to
	// connect directly.
	Proxy func(*http.Request) (*url.URL, error)
	// RootCAs are the roots the chain is verified against. Nil means the system
	// roots, which stand in for AWS's trusted-CA library (docs/behaviour.md#trusted-ca-library).
	RootCAs *x509.CertPool
	// Now is the clock used for verification and expiry warnings. Nil means
	// time.Now.
	Now func() time.Time
	// WarnDays is how close to expiry a certificate must be to get a warning.
	// Zero means 30; a negative value disables "expires soon" warnings (expired
	// certificates are always reported).
	WarnDays int
}

func (o Options) withDefaults() Options {
	if o.Timeout <= 0 {
		o.Timeout = defaultTimeout
	}
	if o.Proxy == nil {
		o.Proxy = http.ProxyFromEnvironment
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.WarnDays == 0 {
		o.WarnDays = defaultWarnDays
	}
	return o
}

// sha1Hex is the thumbprint formula of eksctl and Terraform:
// fmt.Sprintf("%x", sha1.Sum(cert.Raw)) (docs/behaviour.md#eksctl-and-terraform, #eksctl-and-terraform).
func sha1Hex(c *x509.Certificate) string {
	sum := sha1.Sum(c.Raw) // #nosec G401 -- see the import comment.
	return hex.EncodeToString(sum[:])
}
