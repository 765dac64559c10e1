package tlsinspect

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/thumbprint"
)

// Inspect fetches the issuer's discovery document, then reads the TLS chain of
// the jwks_uri host and, when the host:port differs, of the issuer host
// (concurrently; the order in Report.Hosts is fixed).
//
// The Report is always returned with whatever was learned. The error is
// non-nil when the jwks_uri host's chain could not be read (including when
// discovery failed); Judge then reports Unreachable. A failure on the issuer
// host alone is recorded in that HostChain and in Warnings, not returned.
func Inspect(ctx context.Context, issuer string, o Options) (thumbprint.Report, error) {
	o = o.withDefaults()
	r := thumbprint.Report{Issuer: issuer}
	d, err := FetchDiscovery(ctx, issuer, o)
	r.Discovery = d
	if err != nil {
		r.DiscoveryError = err.Error()
		return r, err
	}
	r.Warnings = append(r.Warnings, d.Problems...)

	targets := []struct{ role, url string }{{thumbprint.RoleJWKS, d.JWKSURI}}
	if !sameEndpoint(d.JWKSURI, issuer) {
		targets = append(targets, struct{ role, url string }{thumbprint.RoleIssuer, issuer})
	}
	r.Hosts = make([]thumbprint.HostChain, len(targets))
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
func expiryWarnings(hosts []thumbprint.HostChain, now time.Time) []string {
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
