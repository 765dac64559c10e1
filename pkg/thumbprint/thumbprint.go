// Package thumbprint reads the TLS chain that an OIDC issuer serves and judges
// it against an IAM OIDC provider's ThumbprintList.
//
// The thumbprint is computed exactly as AWS documents it and as eksctl and
// Terraform implement it (REFERENCE §1.1–§1.3): SHA-1 over the DER bytes of the
// LAST certificate the server sent, written as 40 lower-case hex characters. It
// is deliberately not the root of a chain built from the local trust store:
// AWS hashes what the server sends, and Amazon's servers end the chain with a
// cross-signed certificate whose hash differs from the self-signed root of the
// same name (§1.7).
//
// The host that matters is the one named by jwks_uri in the discovery document,
// plus the issuer host when it differs (§1.1 "include the thumbprints for
// both"). Whether a mismatch matters at all depends on whether the chain is
// publicly trusted (§1.5, §1.6); Judge encodes that table.
//
// The package only reads: it never changes AWS. It uses the standard library
// only, so both `kubectl irsa thumbprint` and `diagnose` can call it.
package thumbprint

import (
	"crypto/sha1" // #nosec G505 -- SHA-1 is what IAM defines the thumbprint as (REFERENCE §1.1); not used for security.
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// MaxThumbprints is the number of entries IAM allows in a provider's
// ThumbprintList (REFERENCE §1.4).
const MaxThumbprints = 5

const (
	defaultTimeout  = 10 * time.Second
	defaultWarnDays = 30
)

// Sentinel errors, wrapped by the functions of this package so that callers can
// classify a failure with errors.Is.
var (
	// ErrNotHTTPS means a URL (issuer or jwks_uri) does not use https; STS and
	// IAM only accept https issuers (REFERENCE §1.4), and a thumbprint only
	// exists for TLS endpoints.
	ErrNotHTTPS = errors.New("https is required")
	// ErrMissingJWKSURI means the discovery document has no jwks_uri, so the
	// host whose certificate is hashed cannot be known (REFERENCE §1.1).
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
	// roots, which stand in for AWS's trusted-CA library (REFERENCE §1.5).
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
// fmt.Sprintf("%x", sha1.Sum(cert.Raw)) (REFERENCE §1.2, §1.3).
func sha1Hex(c *x509.Certificate) string {
	sum := sha1.Sum(c.Raw) // #nosec G401 -- see the import comment.
	return hex.EncodeToString(sum[:])
}

// ValidEntry reports whether s is a well-formed ThumbprintList entry: exactly
// 40 hexadecimal characters, either case (REFERENCE §1.4). Entries with colons
// or whitespace (openssl's output pasted as is) are not valid: IAM compares
// them literally, so they can never match.
func ValidEntry(s string) bool {
	if len(s) != 40 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// normalizeEntry strips what people commonly paste along with a fingerprint
// (colons, spaces, openssl's "SHA1 Fingerprint=" prefix). It is used only to
// tell the user what an invalid entry would have matched, never to accept one.
func normalizeEntry(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndex(s, "="); i >= 0 {
		s = s[i+1:]
	}
	return strings.ToLower(strings.Map(func(r rune) rune {
		if r == ':' || r == ' ' || r == '\t' || r == '\n' || r == '\r' {
			return -1
		}
		return r
	}, s))
}

// UpdatedList returns the ThumbprintList to send to
// UpdateOpenIDConnectProviderThumbprint. That call REPLACES the whole list
// (REFERENCE §1.8), so the result must carry every entry that is still needed:
//
//   - required come first, in order, lower-cased and de-duplicated. There can be
//     two of them when the issuer and jwks_uri hosts differ (§1.1: AWS checks
//     both). None is ever dropped; an invalid one or more than MaxThumbprints is
//     an error.
//   - then the current entries that are well-formed and for which stillValid
//     (called with the lower-cased entry; nil keeps all) returns true, in their
//     current order, lower-cased and de-duplicated case-insensitively.
//   - the list is capped at MaxThumbprints by dropping the last kept entries.
func UpdatedList(current, required []string, stillValid func(string) bool) ([]string, error) {
	if len(required) == 0 {
		return nil, errors.New("no thumbprint to put in the list")
	}
	seen := make(map[string]bool, MaxThumbprints)
	out := make([]string, 0, MaxThumbprints)
	for _, t := range required {
		if !ValidEntry(t) {
			return nil, fmt.Errorf("thumbprint %q is not 40 hexadecimal characters", t)
		}
		t = strings.ToLower(t)
		if seen[t] {
			continue
		}
		seen[t] = true
		out = append(out, t)
	}
	if len(out) > MaxThumbprints {
		return nil, fmt.Errorf("%d thumbprints are required but IAM allows at most %d", len(out), MaxThumbprints)
	}
	for _, c := range current {
		if len(out) == MaxThumbprints {
			break
		}
		if !ValidEntry(c) {
			continue
		}
		c = strings.ToLower(c)
		if seen[c] || (stillValid != nil && !stillValid(c)) {
			continue
		}
		seen[c] = true
		out = append(out, c)
	}
	return out, nil
}

// UpdateCommand returns the AWS CLI line that sets the provider's
// ThumbprintList to list. Arguments are shell-quoted when needed so the line
// can be pasted as is.
func UpdateCommand(providerARN string, list []string) string {
	var b strings.Builder
	b.WriteString("aws iam update-open-id-connect-provider-thumbprint --open-id-connect-provider-arn ")
	b.WriteString(shellQuote(providerARN))
	b.WriteString(" --thumbprint-list")
	for _, t := range list {
		b.WriteByte(' ')
		b.WriteString(shellQuote(t))
	}
	return b.String()
}

// shellQuote leaves words made only of characters that no POSIX shell treats
// specially untouched (every real ARN and thumbprint) and single-quotes the rest.
func shellQuote(s string) string {
	safe := s != ""
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:=@,+%", r)) {
			safe = false
			break
		}
	}
	if safe {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
