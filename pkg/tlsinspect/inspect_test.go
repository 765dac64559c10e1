package tlsinspect

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/thumbprint"
)

func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

type row struct {
	depth           int
	subject, issuer string
	isCA, selfSig   bool
}

func chainRows(h thumbprint.HostChain) []row {
	var out []row
	for _, c := range h.Certs {
		out = append(out, row{c.Depth, c.Subject, c.Issuer, c.IsCA, c.SelfSigned})
	}
	return out
}

// splitIssuer serves the discovery document on https://127.0.0.1:P1 (chain
// leaf, intermediate) and the JWKS on https://localhost:P2 (chain leaf,
// intermediate, cross-signed root), like a self-hosted issuer whose keys live
// elsewhere.
func splitIssuer(t *testing.T, p *testPKI) (issuer, jwksURI string) {
	t.Helper()
	jwksLn := listen(t, "tcp", "127.0.0.1:0")
	jwksURI = "https://localhost:" + portOf(jwksLn) + "/keys"
	startTLS(t, p, []*x509.Certificate{p.leaf, p.inter, p.cross}, oidcHandler("unused", "unused"), jwksLn, nil)
	issLn := listen(t, "tcp", "127.0.0.1:0")
	issuer = "https://127.0.0.1:" + portOf(issLn)
	startTLS(t, p, []*x509.Certificate{p.leaf, p.inter}, oidcHandler(issuer, jwksURI), issLn, nil)
	return issuer, jwksURI
}

func TestInspectSplitHostsHashesLastServedCertOfEachHost(t *testing.T) {
	p := newTestPKI(t)
	issuer, jwksURI := splitIssuer(t, p)

	r, err := Inspect(testCtx(t), issuer, Options{RootCAs: p.pool, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatalf("Inspect: %v", err)
	}
	if r.Discovery.JWKSURI != jwksURI || r.Discovery.Issuer != issuer || len(r.Discovery.Problems) != 0 {
		t.Fatalf("discovery = %+v", r.Discovery)
	}
	if len(r.Hosts) != 2 {
		t.Fatalf("hosts = %d, want 2 (jwks, issuer)", len(r.Hosts))
	}
	jw, is := r.Hosts[0], r.Hosts[1]
	if jw.Role != thumbprint.RoleJWKS || jw.Host != "localhost" || jw.ServerName != "localhost" || jw.URL != jwksURI {
		t.Errorf("jwks host = %+v", jw)
	}
	if is.Role != thumbprint.RoleIssuer || is.Host != "127.0.0.1" || is.URL != issuer {
		t.Errorf("issuer host = %+v", is)
	}

	// The thumbprint is of the LAST cert served (the cross-signed root), not
	// the self-signed root that verification used.
	if jw.Thumbprint != fp(p.cross) || r.Thumbprint != fp(p.cross) {
		t.Errorf("jwks thumbprint = %s, want cross-signed %s", jw.Thumbprint, fp(p.cross))
	}
	if jw.Thumbprint == fp(p.root) {
		t.Errorf("thumbprint is the trust-store root's; must be the last served certificate")
	}
	if is.Thumbprint != fp(p.inter) {
		t.Errorf("issuer thumbprint = %s, want intermediate %s", is.Thumbprint, fp(p.inter))
	}

	wantJW := []row{
		{0, subjLeaf, subjInter, false, false},
		{1, subjInter, subjRoot, true, false},
		{2, subjRoot, subjOldRoot, true, false},
	}
	if got := chainRows(jw); !reflect.DeepEqual(got, wantJW) {
		t.Errorf("jwks chain =\n%+v\nwant\n%+v", got, wantJW)
	}
	for i, c := range []*x509.Certificate{p.leaf, p.inter, p.cross} {
		if jw.Certs[i].SHA1 != fp(c) || !jw.Certs[i].NotAfter.Equal(c.NotAfter) {
			t.Errorf("jwks cert %d sha1/notAfter = %s/%s", i, jw.Certs[i].SHA1, jw.Certs[i].NotAfter)
		}
	}
	wantIs := []row{{0, subjLeaf, subjInter, false, false}, {1, subjInter, subjRoot, true, false}}
	if got := chainRows(is); !reflect.DeepEqual(got, wantIs) {
		t.Errorf("issuer chain = %+v, want %+v", got, wantIs)
	}
	for _, h := range r.Hosts {
		if !h.Verified || h.VerifyError != "" || h.PrivateCA || h.TLS13Only || h.TLSVersion != "TLS 1.3" || h.ViaProxy != "" {
			t.Errorf("%s: verified=%v err=%q private=%v tls13only=%v version=%q via=%q", h.Role, h.Verified, h.VerifyError, h.PrivateCA, h.TLS13Only, h.TLSVersion, h.ViaProxy)
		}
	}
	if len(r.Warnings) != 0 {
		t.Errorf("warnings = %q", r.Warnings)
	}

	// Publicly trusted (test root in RootCAs): both thumbprints present is a
	// Match, written upper-case as AWS docs show it; one missing is stale only.
	j := thumbprint.Judge(r, true, []string{strings.ToUpper(fp(p.cross)), fp(p.inter)})
	if j.Verdict != thumbprint.Match || j.Severity != thumbprint.SeverityInfo || j.Matched != strings.ToUpper(fp(p.cross)) {
		t.Errorf("judge both = %+v", j)
	}
	j = thumbprint.Judge(r, true, []string{fp(p.cross)})
	if j.Verdict != thumbprint.StaleIgnored || j.Severity != thumbprint.SeverityInfo {
		t.Errorf("judge jwks only, trusted = %+v", j)
	}
	if want := []string{fp(p.cross), fp(p.inter)}; !reflect.DeepEqual(j.Required, want) {
		t.Errorf("required = %q, want %q", j.Required, want)
	}

	// Same servers, test root unknown: STS checks thumbprints of BOTH hosts
	// (docs/behaviour.md#thumbprint-input), so the missing issuer-host entry breaks.
	r2, err := Inspect(testCtx(t), issuer, Options{RootCAs: x509.NewCertPool(), Timeout: 5 * time.Second})
	if err != nil {
		t.Fatalf("Inspect untrusted: %v", err)
	}
	for _, h := range r2.Hosts {
		if h.Verified || !h.PrivateCA || !strings.Contains(h.VerifyError, "unknown authority") {
			t.Errorf("%s untrusted: verified=%v private=%v err=%q", h.Role, h.Verified, h.PrivateCA, h.VerifyError)
		}
	}
	j = thumbprint.Judge(r2, true, []string{fp(p.cross)})
	if j.Verdict != thumbprint.MismatchBreaks || j.Severity != thumbprint.SeverityError {
		t.Fatalf("judge untrusted = %+v", j)
	}
	if !strings.Contains(j.Message, "lacks "+fp(p.inter)+" (last certificate served by issuer host 127.0.0.1:") ||
		!strings.Contains(j.Message, "OpenIDConnect provider's HTTPS certificate doesn't match configured thumbprint") {
		t.Errorf("message = %s", j.Message)
	}
}

func TestInspectHostServedRootIsHashedWhenSent(t *testing.T) {
	p := newTestPKI(t)
	srv := startTLS(t, p, []*x509.Certificate{p.leaf, p.inter, p.root}, oidcHandler("x", "y"), nil, nil)
	h, err := InspectHost(testCtx(t), srv.URL+"/keys", Options{RootCAs: p.pool})
	if err != nil {
		t.Fatalf("InspectHost: %v", err)
	}
	last := h.Certs[len(h.Certs)-1]
	if h.Thumbprint != fp(p.root) || last.SHA1 != fp(p.root) || !last.SelfSigned || !last.IsCA || last.Subject != subjRoot || last.Issuer != subjRoot {
		t.Errorf("last = %+v thumbprint %s, want self-signed root %s", last, h.Thumbprint, fp(p.root))
	}
	if !h.Verified {
		t.Errorf("not verified: %s", h.VerifyError)
	}
}

func TestInspectHostVerification(t *testing.T) {
	p := newTestPKI(t)
	srv := startTLS(t, p, []*x509.Certificate{p.leaf, p.inter}, oidcHandler("x", "y"), nil, nil)
	for _, tc := range []struct {
		name     string
		roots    *x509.CertPool
		verified bool
	}{
		{"test root trusted", p.pool, true},
		{"empty pool", x509.NewCertPool(), false},
		{"system roots", nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, err := InspectHost(testCtx(t), srv.URL, Options{RootCAs: tc.roots})
			if err != nil {
				t.Fatalf("InspectHost must report, not fail, for an unverifiable chain: %v", err)
			}
			if h.Verified != tc.verified || h.PrivateCA == tc.verified {
				t.Errorf("verified=%v private=%v err=%q", h.Verified, h.PrivateCA, h.VerifyError)
			}
			if !tc.verified && !strings.Contains(h.VerifyError, "x509: certificate signed by unknown authority") {
				t.Errorf("verify error = %q", h.VerifyError)
			}
			if h.Thumbprint != fp(p.inter) || h.Port != portOf(srv.Listener) {
				t.Errorf("thumbprint %s port %s", h.Thumbprint, h.Port)
			}
		})
	}
}

func TestInspectHostIPv6Loopback(t *testing.T) {
	ln, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	}
	p := newTestPKI(t)
	startTLS(t, p, []*x509.Certificate{p.leaf, p.inter}, oidcHandler("x", "y"), ln, nil)
	port := portOf(ln)
	h, err := InspectHost(testCtx(t), "https://[::1]:"+port+"/keys", Options{RootCAs: p.pool})
	if err != nil {
		t.Fatalf("InspectHost: %v", err)
	}
	if h.Host != "::1" || h.Port != port || h.Addr() != "[::1]:"+port || !h.Verified || h.Thumbprint != fp(p.inter) {
		t.Errorf("got host=%q port=%q addr=%q verified=%v (%s) thumb=%s", h.Host, h.Port, h.Addr(), h.Verified, h.VerifyError, h.Thumbprint)
	}
}

func TestInspectHostDefaultsPort443(t *testing.T) {
	// The proxy refuses, so nothing is dialled beyond loopback; what matters
	// is the address asked for.
	px := startProxy(t, func(string) (string, bool) { return "", false })
	h, err := InspectHost(testCtx(t), "https://localhost/keys", Options{Proxy: http.ProxyURL(px.URL)})
	if err == nil || !strings.Contains(err.Error(), "CONNECT localhost:443: proxy answered 403 Forbidden") {
		t.Fatalf("err = %v", err)
	}
	if h.Port != "443" || h.Host != "localhost" || h.ViaProxy != px.URL.String() {
		t.Errorf("host chain = %+v", h)
	}
}

func TestInspectTLS13OnlyHostFallsBackToThumbprint(t *testing.T) {
	p := newTestPKI(t)
	ln := listen(t, "tcp", "127.0.0.1:0")
	issuer := "https://127.0.0.1:" + portOf(ln)
	startTLS(t, p, []*x509.Certificate{p.leaf, p.inter}, oidcHandler(issuer, issuer+"/keys"), ln,
		func(c *tls.Config) { c.MinVersion = tls.VersionTLS13 })

	r, err := Inspect(testCtx(t), issuer, Options{RootCAs: p.pool})
	if err != nil {
		t.Fatalf("Inspect: %v", err)
	}
	if len(r.Hosts) != 1 {
		t.Fatalf("hosts = %d, want 1 (issuer and jwks share host:port)", len(r.Hosts))
	}
	h := r.Hosts[0]
	if !h.Verified || !h.TLS13Only || h.TLSVersion != "TLS 1.3" {
		t.Fatalf("verified=%v tls13only=%v version=%s", h.Verified, h.TLS13Only, h.TLSVersion)
	}
	j := thumbprint.Judge(r, true, []string{"9e99a48a9960b14926bb7f3b02e22da2b0ab7280"})
	if j.Verdict != thumbprint.MismatchBreaks || !strings.Contains(j.Message, h.Addr()+" requires TLS 1.3") {
		t.Errorf("judge = %+v", j)
	}
	if j := thumbprint.Judge(r, true, []string{fp(p.inter)}); j.Verdict != thumbprint.Match {
		t.Errorf("judge with thumbprint = %+v", j)
	}
}

func TestInspectExpiryWarningsWithInjectedClock(t *testing.T) {
	p := newTestPKI(t)
	ln := listen(t, "tcp", "127.0.0.1:0")
	issuer := "https://127.0.0.1:" + portOf(ln)
	startTLS(t, p, []*x509.Certificate{p.leaf, p.inter}, oidcHandler(issuer, issuer+"/keys"), ln, nil)
	addr := "127.0.0.1:" + portOf(ln)
	leafDate := p.leaf.NotAfter.Format(time.DateOnly)
	interDate := p.inter.NotAfter.Format(time.DateOnly)

	for _, tc := range []struct {
		name         string
		now          time.Time
		warnDays     int
		want         []string
		verified     bool
		verifyErrSub string
	}{
		{"fresh", p.base, 0, nil, true, ""},
		{"leaf in 10 days", p.leaf.NotAfter.Add(-10 * day), 0, []string{
			"jwks host " + addr + ": certificate at depth 0 (" + subjLeaf + ") expires on " + leafDate + " (in 10 days)",
		}, true, ""},
		{"leaf in 10 days, WarnDays 5", p.leaf.NotAfter.Add(-10 * day), 5, nil, true, ""},
		{"leaf in 10 days, warnings off", p.leaf.NotAfter.Add(-10 * day), -1, nil, true, ""},
		{"leaf expired, intermediate soon", p.base.Add(360 * day), 0, []string{
			"jwks host " + addr + ": certificate at depth 0 (" + subjLeaf + ") expired on " + leafDate + " (270 days ago)",
			"jwks host " + addr + ": certificate at depth 1 (" + subjInter + ") expires on " + interDate + " (in 5 days)",
		}, false, "expired"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			now := tc.now
			r, err := Inspect(testCtx(t), issuer, Options{RootCAs: p.pool, WarnDays: tc.warnDays, Now: func() time.Time { return now }})
			if err != nil {
				t.Fatalf("Inspect: %v", err)
			}
			if !reflect.DeepEqual(r.Warnings, tc.want) {
				t.Errorf("warnings =\n%q\nwant\n%q", r.Warnings, tc.want)
			}
			h := r.Hosts[0]
			if h.Verified != tc.verified || !strings.Contains(h.VerifyError, tc.verifyErrSub) || h.PrivateCA {
				// An expired chain is not a private CA: it must not be
				// mistaken for interception.
				t.Errorf("verified=%v private=%v err=%q", h.Verified, h.PrivateCA, h.VerifyError)
			}
		})
	}
}

func TestFetchDiscovery(t *testing.T) {
	ln := listen(t, "tcp", "127.0.0.1:0")
	base := "https://127.0.0.1:" + portOf(ln)
	p := newTestPKI(t)
	mux := http.NewServeMux()
	doc := func(path, body, ct string) {
		mux.HandleFunc("GET "+path+wellKnownPath, func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", ct)
			_, _ = io.WriteString(w, body)
		})
	}
	const js = "application/json"
	doc("/ok/id/ABC", `{"issuer":"`+base+`/ok/id/ABC","jwks_uri":"`+base+`/keys"}`, js)
	doc("/html", `<html>hello</html>`, "text/html")
	doc("/nojwks", `{"issuer":"`+base+`/nojwks"}`, js)
	doc("/httpjwks", `{"issuer":"`+base+`/httpjwks","jwks_uri":"http://127.0.0.1/keys"}`, js)
	doc("/slash", `{"issuer":"`+base+`/slash/","jwks_uri":"`+base+`/keys"}`, js)
	doc("/other", `{"issuer":"https://elsewhere.example","jwks_uri":"`+base+`/keys"}`, js)
	doc("/noiss", `{"jwks_uri":"`+base+`/keys"}`, js)
	doc("/array", `[]`, js)
	startTLS(t, p, []*x509.Certificate{p.leaf, p.inter}, mux, ln, nil)

	// The discovery fetch reads private-CA issuers too (docs/behaviour.md#thumbprints-per-issuer-type), so
	// no RootCAs here.
	o := Options{Timeout: 5 * time.Second}
	for _, tc := range []struct {
		name, issuer string
		wantErr      string // a substring of the error; empty means success
		wantIs       error
		wantProblem  string
	}{
		{name: "ok with path", issuer: base + "/ok/id/ABC"},
		{name: "trailing slash requested", issuer: base + "/ok/id/ABC/",
			wantProblem: `discovery issuer "` + base + `/ok/id/ABC" differs from the issuer "` + base + `/ok/id/ABC/" only by a trailing slash`},
		{name: "404", issuer: base + "/missing", wantErr: "discovery document " + base + "/missing/.well-known/openid-configuration: HTTP 404 Not Found"},
		{name: "not json", issuer: base + "/html", wantErr: "not a JSON object (content-type text/html): invalid character '<'"},
		{name: "json array", issuer: base + "/array", wantErr: "not a JSON object (content-type application/json)"},
		{name: "no jwks_uri", issuer: base + "/nojwks", wantIs: ErrMissingJWKSURI, wantErr: "/nojwks/.well-known/openid-configuration: jwks_uri is missing"},
		{name: "http jwks_uri", issuer: base + "/httpjwks", wantIs: ErrNotHTTPS, wantErr: `jwks_uri "http://127.0.0.1/keys": unsupported URL scheme "http"`},
		{name: "http issuer", issuer: "http://127.0.0.1:1/x", wantIs: ErrNotHTTPS, wantErr: `issuer "http://127.0.0.1:1/x": unsupported URL scheme "http"`},
		{name: "issuer slash in doc", issuer: base + "/slash", wantProblem: "only by a trailing slash"},
		{name: "other issuer", issuer: base + "/other", wantProblem: `discovery issuer "https://elsewhere.example" does not equal the issuer "` + base + `/other"`},
		{name: "no issuer field", issuer: base + "/noiss", wantProblem: "has no issuer field"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := FetchDiscovery(testCtx(t), tc.issuer, o)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tc.wantErr)
				}
				if strings.Contains(err.Error(), "\n") {
					t.Errorf("error is not one line: %q", err)
				}
				if tc.wantIs != nil && !errors.Is(err, tc.wantIs) {
					t.Errorf("errors.Is(%v, %v) = false", err, tc.wantIs)
				}
				return
			}
			if err != nil {
				t.Fatalf("FetchDiscovery: %v", err)
			}
			if d.JWKSURI != base+"/keys" {
				t.Errorf("jwks_uri = %q", d.JWKSURI)
			}
			if d.URL != strings.TrimRight(tc.issuer, "/")+wellKnownPath {
				t.Errorf("url = %q", d.URL)
			}
			switch {
			case tc.wantProblem == "" && len(d.Problems) != 0:
				t.Errorf("problems = %q", d.Problems)
			case tc.wantProblem != "" && (len(d.Problems) != 1 || !strings.Contains(d.Problems[0], tc.wantProblem)):
				t.Errorf("problems = %q, want one containing %q", d.Problems, tc.wantProblem)
			}
		})
	}

	// An issuer mismatch is a problem to report, not a failure of Inspect.
	r, err := Inspect(testCtx(t), base+"/other", Options{RootCAs: p.pool})
	if err != nil || len(r.Warnings) != 1 || !strings.Contains(r.Warnings[0], "does not equal the issuer") || r.Thumbprint != fp(p.inter) {
		t.Errorf("Inspect with mismatched issuer: err=%v warnings=%q thumb=%s", err, r.Warnings, r.Thumbprint)
	}
}

func TestInspectDiscoveryFailureIsUnreachable(t *testing.T) {
	p := newTestPKI(t)
	srv := startTLS(t, p, []*x509.Certificate{p.leaf, p.inter}, http.NotFoundHandler(), nil, nil)
	r, err := Inspect(testCtx(t), srv.URL, Options{})
	if err == nil || !strings.Contains(err.Error(), "HTTP 404") || len(r.Hosts) != 0 || r.DiscoveryError != err.Error() {
		t.Fatalf("err=%v report=%+v", err, r)
	}
	j := thumbprint.Judge(r, true, []string{fp(p.inter)})
	if j.Verdict != thumbprint.Unreachable || j.Severity != thumbprint.SeverityWarning || !strings.Contains(j.Message, "HTTP 404 Not Found") || j.Required != nil {
		t.Errorf("judge = %+v", j)
	}
}

func TestInspectHostNothingListeningFailsFast(t *testing.T) {
	ln := listen(t, "tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	_ = ln.Close()
	start := time.Now()
	h, err := InspectHost(testCtx(t), "https://"+addr+"/keys", Options{Timeout: 20 * time.Second})
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Errorf("took %s; a refused connection must fail fast", elapsed)
	}
	if !errors.Is(err, syscall.ECONNREFUSED) || !strings.HasPrefix(err.Error(), "tls "+addr+": dial: ") {
		t.Errorf("err = %v, want connection refused", err)
	}
	if h.Thumbprint != "" || len(h.Certs) != 0 {
		t.Errorf("no chain expected, got %+v", h)
	}
}

func TestInspectHostSilentServerHonoursTimeout(t *testing.T) {
	addr, _ := silentServer(t)
	start := time.Now()
	_, err := InspectHost(testCtx(t), "https://"+addr, Options{Timeout: 300 * time.Millisecond})
	elapsed := time.Since(start)
	if err == nil || !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "timed out after 300ms") {
		t.Errorf("err = %v, want a timeout", err)
	}
	if elapsed < 300*time.Millisecond || elapsed > 3*time.Second {
		t.Errorf("returned after %s, want about 300ms", elapsed)
	}
}

func TestFetchDiscoverySilentServerHonoursTimeout(t *testing.T) {
	addr, _ := silentServer(t)
	start := time.Now()
	_, err := FetchDiscovery(testCtx(t), "https://"+addr, Options{Timeout: 300 * time.Millisecond})
	if err == nil || time.Since(start) > 3*time.Second {
		t.Fatalf("err = %v after %s", err, time.Since(start))
	}
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Errorf("err = %v, want a timeout", err)
	}
}

func TestInspectHostContextCancellation(t *testing.T) {
	addr, accepted := silentServer(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		// Cancel once the TCP connection is up and the handshake is pending.
		<-accepted
		cancel()
	}()
	start := time.Now()
	_, err := InspectHost(ctx, "https://"+addr, Options{Timeout: time.Minute})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Errorf("cancellation took %s", elapsed)
	}

	// Already cancelled: nothing is dialled.
	_, err = Inspect(ctx, "https://"+addr, Options{})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Inspect with cancelled ctx: %v", err)
	}
}

func TestInspectThroughConnectProxy(t *testing.T) {
	p := newTestPKI(t)
	ln := listen(t, "tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	issuer := "https://" + addr + "/id/ABC"
	startTLS(t, p, []*x509.Certificate{p.leaf, p.inter}, oidcHandler(issuer, "https://"+addr+"/keys"), ln, nil)
	px := startProxy(t, func(target string) (string, bool) { return target, target == addr })
	withCreds := *px.URL
	withCreds.User = url.UserPassword("irsa", "s3cret")

	r, err := Inspect(testCtx(t), issuer, Options{RootCAs: p.pool, Proxy: http.ProxyURL(&withCreds)})
	if err != nil {
		t.Fatalf("Inspect via proxy: %v", err)
	}
	h := r.Hosts[0]
	if h.ViaProxy != px.URL.String() || strings.Contains(h.ViaProxy, "s3cret") {
		t.Errorf("ViaProxy = %q, want %q without credentials", h.ViaProxy, px.URL.String())
	}
	if h.Thumbprint != fp(p.inter) || !h.Verified {
		t.Errorf("thumbprint=%s verified=%v", h.Thumbprint, h.Verified)
	}
	// Discovery GET, the chain read, and the TLS 1.2 probe (chain verified,
	// 1.3 negotiated): three tunnels, all authenticated.
	targets, auth := px.tunnels()
	if want := []string{addr, addr, addr}; !reflect.DeepEqual(targets, want) {
		t.Errorf("tunnels = %q, want %q", targets, want)
	}
	wantAuth := "Basic " + base64.StdEncoding.EncodeToString([]byte("irsa:s3cret"))
	for i, a := range auth {
		if a != wantAuth {
			t.Errorf("tunnel %d Proxy-Authorization = %q", i, a)
		}
	}

	// NO_PROXY-style: the proxy func says "direct" for this URL.
	direct := func(*http.Request) (*url.URL, error) { return nil, nil }
	r, err = Inspect(testCtx(t), issuer, Options{RootCAs: p.pool, Proxy: direct})
	if err != nil || r.Hosts[0].ViaProxy != "" || r.Thumbprint != fp(p.inter) {
		t.Errorf("direct: err=%v via=%q thumb=%s", err, r.Hosts[0].ViaProxy, r.Thumbprint)
	}
	if targets, _ := px.tunnels(); len(targets) != 3 {
		t.Errorf("direct run opened tunnels: %q", targets)
	}

	// A proxy func error is reported, not ignored.
	broken := func(*http.Request) (*url.URL, error) { return nil, errors.New("bad HTTPS_PROXY value") }
	if _, err := InspectHost(testCtx(t), issuer, Options{Proxy: broken}); err == nil || !strings.Contains(err.Error(), "proxy for "+addr+": bad HTTPS_PROXY value") {
		t.Errorf("broken proxy: %v", err)
	}
}

func TestInterceptingProxyOnPublicLookingIssuer(t *testing.T) {
	const host = "oidc.eks.us-west-2.amazonaws.com"
	const issuer = "https://" + host + "/id/EXAMPLED539D4633E53DE1B71EXAMPLE"
	p := newTestPKI(t, host)
	srv := startTLS(t, p, []*x509.Certificate{p.leaf, p.inter}, oidcHandler(issuer, issuer+"/keys"), nil, nil)
	backend := srv.Listener.Addr().String()
	// Like a corporate MITM: every CONNECT to the AWS host lands on a server
	// presenting a chain from a private CA.
	px := startProxy(t, func(target string) (string, bool) { return backend, target == host+":443" })

	// An empty pool stands in for "public roots" that do not include the
	// interceptor's CA.
	r, err := Inspect(testCtx(t), issuer, Options{RootCAs: x509.NewCertPool(), Proxy: http.ProxyURL(px.URL)})
	if err != nil {
		t.Fatalf("Inspect: %v", err)
	}
	h := r.Hosts[0]
	if len(r.Hosts) != 1 || h.Host != host || h.Port != "443" || h.Verified || !h.PrivateCA || h.ViaProxy != px.URL.String() {
		t.Fatalf("host = %+v", h)
	}
	if targets, _ := px.tunnels(); !reflect.DeepEqual(targets, []string{host + ":443", host + ":443"}) {
		t.Errorf("tunnels = %q (discovery + chain; no TLS 1.2 probe for an unverified chain)", targets)
	}
	local := fp(p.inter)
	for _, list := range [][]string{{"9e99a48a9960b14926bb7f3b02e22da2b0ab7280"}, {local}, nil} {
		j := thumbprint.Judge(r, true, list)
		if j.Verdict != thumbprint.LikelyInterceptingProxy || j.Severity != thumbprint.SeverityWarning {
			t.Errorf("list %q: judge = %+v", list, j)
			continue
		}
		if j.Required != nil {
			t.Errorf("list %q: the local thumbprint must not be proposed, got Required %q", list, j.Required)
		}
		for _, want := range []string{
			"a TLS-intercepting proxy (" + px.URL.String() + ") is the likely cause",
			"ends in \"" + subjRoot + "\"",
			"do not put the local thumbprint " + local + " in the provider",
		} {
			if !strings.Contains(j.Message, want) {
				t.Errorf("message %q lacks %q", j.Message, want)
			}
		}
	}
}

func TestInspectHostSilentProxyHonoursTimeout(t *testing.T) {
	proxyAddr, _ := silentServer(t)
	start := time.Now()
	h, err := InspectHost(testCtx(t), "https://localhost:8443/keys", Options{
		Timeout: 300 * time.Millisecond,
		Proxy:   http.ProxyURL(&url.URL{Scheme: "http", Host: proxyAddr}),
	})
	elapsed := time.Since(start)
	if err == nil || !errors.Is(err, context.DeadlineExceeded) ||
		!strings.Contains(err.Error(), "tls localhost:8443: timed out after 300ms: proxy "+proxyAddr+": CONNECT localhost:8443") {
		t.Errorf("err = %v", err)
	}
	if elapsed > 3*time.Second || h.ViaProxy != "http://"+proxyAddr {
		t.Errorf("returned after %s via %q", elapsed, h.ViaProxy)
	}
}

func TestInspectHostUnsupportedProxyScheme(t *testing.T) {
	_, err := InspectHost(testCtx(t), "https://localhost:8443", Options{
		Proxy: http.ProxyURL(&url.URL{Scheme: "socks5", Host: "127.0.0.1:1080", User: url.UserPassword("u", "secret")}),
	})
	if err == nil || !strings.Contains(err.Error(), `unsupported proxy scheme "socks5"`) || strings.Contains(err.Error(), "secret") {
		t.Errorf("err = %v", err)
	}
}
