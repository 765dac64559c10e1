package tlsinspect

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/thumbprint"
)

// InspectHost opens a TLS connection to the host and port of rawURL (port 443
// by default) with SNI set to the host, through the proxy that Options.Proxy
// returns for rawURL (an HTTP CONNECT tunnel), and records the chain exactly as
// served.
//
// A chain that does not verify is not an error: it is captured without
// verification and then verified by hand, so that the facts (and the
// thumbprint STS would compare for a private CA, docs/behaviour.md#thumbprints-per-issuer-type) are still
// reported. Errors mean no chain could be read: bad URL, proxy failure, dial
// or handshake failure, timeout or cancellation. The returned HostChain always
// carries the URL, host, port and proxy that were attempted.
func InspectHost(ctx context.Context, rawURL string, o Options) (thumbprint.HostChain, error) {
	o = o.withDefaults()
	h := thumbprint.HostChain{URL: rawURL}
	u, err := parseHTTPS(rawURL, "url")
	if err != nil {
		return h, err
	}
	h.Host, h.Port, h.ServerName = u.Hostname(), u.Port(), u.Hostname()
	if h.Port == "" {
		h.Port = "443"
	}
	addr := h.Addr()

	proxyURL, err := proxyFor(ctx, u, o)
	if err != nil {
		return h, fmt.Errorf("proxy for %s: %w", addr, err)
	}
	if proxyURL != nil {
		h.ViaProxy = (&url.URL{Scheme: proxyURL.Scheme, Host: proxyURL.Host}).String()
	}

	state, err := handshake(ctx, addr, h.ServerName, proxyURL, o, 0)
	if err != nil {
		return h, handshakeError(ctx, addr, o, err)
	}
	h.TLSVersion = tls.VersionName(state.Version)
	certs := state.PeerCertificates
	if len(certs) == 0 {
		return h, fmt.Errorf("tls %s: %w", addr, ErrNoCertificates)
	}
	now := o.Now()
	for i, c := range certs {
		h.Certs = append(h.Certs, certInfo(i, c, now, o.WarnDays))
	}
	// docs/behaviour.md#thumbprint-input: the last certificate SENT, never a
	// root picked from VerifiedChains or the local store.
	h.Thumbprint = h.Certs[len(h.Certs)-1].SHA1

	if err := verifyChain(certs, h.Host, now, o.RootCAs); err != nil {
		h.VerifyError = err.Error()
		var ua x509.UnknownAuthorityError
		h.PrivateCA = errors.As(err, &ua)
	} else {
		h.Verified = true
	}

	if h.Verified && state.Version == tls.VersionTLS13 {
		// A failed TCP dial says nothing about TLS versions, so only a
		// handshake refusal counts as "TLS 1.3 only".
		_, perr := handshake(ctx, addr, h.ServerName, proxyURL, o, tls.VersionTLS12)
		var he *handshakeErr
		h.TLS13Only = perr != nil && errors.As(perr, &he) && ctx.Err() == nil && !isTimeout(perr)
	}
	return h, nil
}

// proxyFor asks Options.Proxy the same question net/http asks, with a GET
// request for the URL, so HTTPS_PROXY/NO_PROXY apply identically to the
// discovery fetch and to the raw TLS dial.
func proxyFor(ctx context.Context, u *url.URL, o Options) (*url.URL, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), http.NoBody)
	if err != nil {
		return nil, err
	}
	return o.Proxy(req)
}

// handshakeErr marks a failure of the TLS handshake itself, after the
// connection (and any tunnel) was established.
type handshakeErr struct{ err error }

func (e *handshakeErr) Error() string { return "tls handshake: " + e.err.Error() }
func (e *handshakeErr) Unwrap() error { return e.err }

// handshake dials addr (directly or through proxyURL) and completes a TLS
// handshake without verification, all within Options.Timeout. maxVersion 0
// means the library default.
func handshake(ctx context.Context, addr, serverName string, proxyURL *url.URL, o Options, maxVersion uint16) (tls.ConnectionState, error) {
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	conn, err := dial(ctx, addr, proxyURL, o)
	if err != nil {
		return tls.ConnectionState{}, err
	}
	defer func() { _ = conn.Close() }()
	cfg := &tls.Config{
		ServerName: serverName,
		// Verification is done by hand in verifyChain: an untrusted chain is
		// a fact to report, not a reason to stop (docs/behaviour.md#thumbprints-per-issuer-type).
		InsecureSkipVerify: true, // #nosec G402 -- the chain is verified manually and never trusted for data.
		MinVersion:         tls.VersionTLS12,
		MaxVersion:         maxVersion,
	}
	tc := tls.Client(conn, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		if ctx.Err() != nil {
			return tls.ConnectionState{}, ctx.Err()
		}
		return tls.ConnectionState{}, &handshakeErr{err}
	}
	return tc.ConnectionState(), nil
}

// handshakeError turns a failure into one line that says what happened, with
// timeouts and cancellation spelled out (and still matchable with errors.Is).
func handshakeError(parent context.Context, addr string, o Options, err error) error {
	switch {
	case parent.Err() != nil:
		return fmt.Errorf("tls %s: %w", addr, parent.Err())
	case isTimeout(err):
		return fmt.Errorf("tls %s: timed out after %s: %w", addr, o.Timeout, err)
	default:
		return fmt.Errorf("tls %s: %w", addr, err)
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}

// dial opens a TCP connection to addr, or a CONNECT tunnel to it through
// proxyURL. The context bounds every step.
func dial(ctx context.Context, addr string, proxyURL *url.URL, o Options) (net.Conn, error) {
	var d net.Dialer
	if proxyURL == nil {
		conn, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			return nil, fmt.Errorf("dial: %w", err)
		}
		return conn, nil
	}
	var paddr string
	switch strings.ToLower(proxyURL.Scheme) {
	case "http":
		paddr = hostPortDefault(proxyURL, "80")
	case "https":
		paddr = hostPortDefault(proxyURL, "443")
	default:
		return nil, fmt.Errorf("proxy %s: unsupported proxy scheme %q (http and https are)", proxyURL.Redacted(), proxyURL.Scheme)
	}
	conn, err := d.DialContext(ctx, "tcp", paddr)
	if err != nil {
		return nil, fmt.Errorf("dial proxy %s: %w", paddr, err)
	}
	if strings.EqualFold(proxyURL.Scheme, "https") {
		tc := tls.Client(conn, &tls.Config{ServerName: proxyURL.Hostname(), RootCAs: o.RootCAs, MinVersion: tls.VersionTLS12})
		if err := tc.HandshakeContext(ctx); err != nil {
			_ = conn.Close()
			return nil, fmt.Errorf("tls to proxy %s: %w", paddr, err)
		}
		conn = tc
	}
	tunnel, err := connect(ctx, conn, addr, proxyURL)
	if err != nil {
		_ = conn.Close()
		if ctx.Err() != nil {
			return nil, fmt.Errorf("proxy %s: CONNECT %s: %w", paddr, addr, ctx.Err())
		}
		return nil, fmt.Errorf("proxy %s: CONNECT %s: %w", paddr, addr, err)
	}
	return tunnel, nil
}

// connect performs the HTTP CONNECT exchange on conn. A silent proxy must not
// hang us: the connection is closed as soon as the context is done (timeout
// or cancellation), and the caller then reports ctx.Err().
func connect(ctx context.Context, conn net.Conn, addr string, proxyURL *url.URL) (net.Conn, error) {
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	defer stop()
	req := &http.Request{
		Method: http.MethodConnect,
		URL:    &url.URL{Opaque: addr},
		Host:   addr,
		Header: make(http.Header),
	}
	if u := proxyURL.User; u != nil {
		pass, _ := u.Password()
		req.Header.Set("Proxy-Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(u.Username()+":"+pass)))
	}
	if err := req.Write(conn); err != nil {
		return nil, err
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, req)
	if err != nil {
		return nil, err
	}
	// The body of a successful CONNECT is the tunnel itself, so it is not
	// read or closed here.
	if resp.StatusCode != http.StatusOK {
		_ = resp.Body.Close()
		return nil, fmt.Errorf("proxy answered %s", statusText(resp))
	}
	if br.Buffered() > 0 {
		return &bufferedConn{Conn: conn, r: br}, nil
	}
	return conn, nil
}

// bufferedConn hands back bytes the proxy sent right after its response
// headers before reading from the connection again.
type bufferedConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *bufferedConn) Read(p []byte) (int, error) { return c.r.Read(p) }

func hostPortDefault(u *url.URL, port string) string {
	if p := u.Port(); p != "" {
		port = p
	}
	return net.JoinHostPort(u.Hostname(), port)
}

// verifyChain does what crypto/tls would have done: the leaf for host, the
// other served certificates as intermediates, roots (nil: system roots).
func verifyChain(certs []*x509.Certificate, host string, now time.Time, roots *x509.CertPool) error {
	inter := x509.NewCertPool()
	for _, c := range certs[1:] {
		inter.AddCert(c)
	}
	_, err := certs[0].Verify(x509.VerifyOptions{
		DNSName:       host,
		Roots:         roots,
		Intermediates: inter,
		CurrentTime:   now,
	})
	return err
}

func certInfo(depth int, c *x509.Certificate, now time.Time, warnDays int) thumbprint.CertInfo {
	ci := thumbprint.CertInfo{
		Depth:     depth,
		Subject:   c.Subject.String(),
		Issuer:    c.Issuer.String(),
		NotBefore: c.NotBefore,
		NotAfter:  c.NotAfter,
		SHA1:      sha1Hex(c),
		// Signature checked with its own key, not CheckSignatureFrom, which
		// would also demand CA basic constraints and so miss self-signed leaves.
		SelfSigned: bytes.Equal(c.RawSubject, c.RawIssuer) &&
			c.CheckSignature(c.SignatureAlgorithm, c.RawTBSCertificate, c.Signature) == nil,
		IsCA:    c.BasicConstraintsValid && c.IsCA,
		Expired: now.After(c.NotAfter),
	}
	if !ci.Expired && warnDays > 0 && c.NotAfter.Before(now.AddDate(0, 0, warnDays)) {
		ci.ExpiresSoon = true
	}
	return ci
}
