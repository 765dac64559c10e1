package thumbprint

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Host roles in Report.Hosts.
const (
	RoleJWKS   = "jwks"
	RoleIssuer = "issuer"
)

// Report is everything Inspect learned about an issuer.
type Report struct {
	// Issuer is the issuer URL as requested.
	Issuer    string    `json:"issuer"`
	Discovery Discovery `json:"discovery"`
	// DiscoveryError is why the discovery document could not be used; Hosts
	// is empty then.
	DiscoveryError string `json:"discoveryError,omitempty"`
	// Hosts holds the jwks_uri host first and, when its host:port differs,
	// the issuer host second (REFERENCE §1.1: AWS checks both).
	Hosts []HostChain `json:"hosts,omitempty"`
	// Thumbprint is the jwks_uri host's: the value eksctl, Terraform and AWS
	// compute for an EKS issuer (REFERENCE §1.2, §1.3).
	Thumbprint string `json:"thumbprint,omitempty"`
	// Warnings are one-line facts worth showing, in a stable order: discovery
	// problems, hosts that could not be read, then expiry per host and depth.
	Warnings []string `json:"warnings,omitempty"`
}

// Inspect fetches the issuer's discovery document, then reads the TLS chain of
// the jwks_uri host and, when the host:port differs, of the issuer host
// (concurrently; the order in Report.Hosts is fixed).
//
// The Report is always returned with whatever was learned. The error is
// non-nil when the jwks_uri host's chain could not be read (including when
// discovery failed); Judge then reports Unreachable. A failure on the issuer
// host alone is recorded in that HostChain and in Warnings, not returned.
func Inspect(ctx context.Context, issuer string, o Options) (Report, error) {
	o = o.withDefaults()
	r := Report{Issuer: issuer}
	d, err := FetchDiscovery(ctx, issuer, o)
	r.Discovery = d
	if err != nil {
		r.DiscoveryError = err.Error()
		return r, err
	}
	r.Warnings = append(r.Warnings, d.Problems...)

	targets := []struct{ role, url string }{{RoleJWKS, d.JWKSURI}}
	if !sameEndpoint(d.JWKSURI, issuer) {
		targets = append(targets, struct{ role, url string }{RoleIssuer, issuer})
	}
	r.Hosts = make([]HostChain, len(targets))
	errs := make([]error, len(targets))
	var wg sync.WaitGroup
	for i, t := range targets {
		wg.Go(func() {
			r.Hosts[i], errs[i] = InspectHost(ctx, t.url, o)
			r.Hosts[i].Role = t.role
			if errs[i] != nil {
				r.Hosts[i].Error = errs[i].Error()
			}
		})
	}
	wg.Wait()
	r.Thumbprint = r.Hosts[0].Thumbprint

	for i, h := range r.Hosts {
		if errs[i] != nil {
			r.Warnings = append(r.Warnings, fmt.Sprintf("%s host %s: chain could not be read: %s", h.Role, h.Addr(), h.Error))
		}
	}
	r.Warnings = append(r.Warnings, expiryWarnings(r.Hosts, o.Now())...)
	if errs[0] != nil {
		return r, fmt.Errorf("jwks host: %w", errs[0])
	}
	return r, nil
}

// sameEndpoint reports whether two https URLs reach the same host:port, so
// the same chain; host names compare case-insensitively and 443 is implied.
func sameEndpoint(a, b string) bool {
	ua, errA := url.Parse(a)
	ub, errB := url.Parse(b)
	if errA != nil || errB != nil {
		return false
	}
	port := func(u *url.URL) string {
		if p := u.Port(); p != "" {
			return p
		}
		return "443"
	}
	return strings.EqualFold(ua.Hostname(), ub.Hostname()) && port(ua) == port(ub)
}

// expiryWarnings lists expired and soon-expiring certificates, host by host in
// Report order, leaf first, so the output is deterministic.
func expiryWarnings(hosts []HostChain, now time.Time) []string {
	var out []string
	for _, h := range hosts {
		for _, c := range h.Certs {
			switch {
			case c.Expired:
				out = append(out, fmt.Sprintf("%s host %s: certificate at depth %d (%s) expired on %s (%s ago)",
					h.Role, h.Addr(), c.Depth, c.Subject, c.NotAfter.UTC().Format(time.DateOnly), days(now.Sub(c.NotAfter))))
			case c.ExpiresSoon:
				out = append(out, fmt.Sprintf("%s host %s: certificate at depth %d (%s) expires on %s (in %s)",
					h.Role, h.Addr(), c.Depth, c.Subject, c.NotAfter.UTC().Format(time.DateOnly), days(c.NotAfter.Sub(now))))
			}
		}
	}
	return out
}

// days renders a duration in whole days, rounding down ("0 days" on the day).
func days(d time.Duration) string {
	n := int(d / (24 * time.Hour))
	if n == 1 {
		return "1 day"
	}
	return fmt.Sprintf("%d days", n)
}
