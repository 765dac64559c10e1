package tlsinspect

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha1"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

const day = 24 * time.Hour

// Subjects as crypto/x509 renders them (pkix.Name.String: most specific first).
const (
	subjLeaf    = "CN=irsa-test-leaf,O=kubectl-irsa tests"
	subjInter   = "CN=irsa-test-intermediate,O=kubectl-irsa tests"
	subjRoot    = "CN=irsa-test-root,O=kubectl-irsa tests"
	subjOldRoot = "CN=irsa-test-old-root,O=kubectl-irsa tests"
)

// testPKI is a real chain: root → intermediate → leaf, plus an older root that
// cross-signs the root, the way Starfield cross-signs Amazon's roots
// (docs/behaviour.md#common-eks-thumbprints).
type testPKI struct {
	base                              time.Time
	root, inter, leaf, oldRoot, cross *x509.Certificate
	leafKey                           *ecdsa.PrivateKey
	pool                              *x509.CertPool // holds root only
}

func newTestPKI(t *testing.T, extraDNS ...string) *testPKI {
	t.Helper()
	// x509 stores whole seconds; truncating keeps NotAfter arithmetic exact.
	base := time.Now().UTC().Truncate(time.Second)
	serial := int64(0)
	key := func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatalf("generate key: %v", err)
		}
		return k
	}
	mk := func(tmpl, parent *x509.Certificate, pub *ecdsa.PublicKey, signer *ecdsa.PrivateKey) *x509.Certificate {
		t.Helper()
		serial++
		tmpl.SerialNumber = big.NewInt(serial)
		if parent == nil {
			parent = tmpl
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, signer)
		if err != nil {
			t.Fatalf("create certificate %s: %v", tmpl.Subject, err)
		}
		c, err := x509.ParseCertificate(der)
		if err != nil {
			t.Fatalf("parse certificate: %v", err)
		}
		return c
	}
	caTmpl := func(cn string, notAfter time.Time) *x509.Certificate {
		return &x509.Certificate{
			Subject:               pkix.Name{CommonName: cn, Organization: []string{"kubectl-irsa tests"}},
			NotBefore:             base.Add(-time.Hour),
			NotAfter:              notAfter,
			IsCA:                  true,
			BasicConstraintsValid: true,
			KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		}
	}
	rootKey, oldKey, interKey, leafKey := key(), key(), key(), key()
	p := &testPKI{base: base, leafKey: leafKey}
	p.oldRoot = mk(caTmpl("irsa-test-old-root", base.Add(7300*day)), nil, &oldKey.PublicKey, oldKey)
	p.root = mk(caTmpl("irsa-test-root", base.Add(3650*day)), nil, &rootKey.PublicKey, rootKey)
	// Same subject and key as the root, signed by the old root.
	p.cross = mk(caTmpl("irsa-test-root", base.Add(3000*day)), p.oldRoot, &rootKey.PublicKey, oldKey)
	p.inter = mk(caTmpl("irsa-test-intermediate", base.Add(365*day)), p.root, &interKey.PublicKey, rootKey)
	p.leaf = mk(&x509.Certificate{
		Subject:     pkix.Name{CommonName: "irsa-test-leaf", Organization: []string{"kubectl-irsa tests"}},
		NotBefore:   base.Add(-time.Hour),
		NotAfter:    base.Add(90 * day),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:    append([]string{"localhost"}, extraDNS...),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1"), net.IPv6loopback},
	}, p.inter, &leafKey.PublicKey, interKey)
	p.pool = x509.NewCertPool()
	p.pool.AddCert(p.root)
	return p
}

// fp is the thumbprint computed independently of the package.
func fp(c *x509.Certificate) string {
	sum := sha1.Sum(c.Raw)
	return fmt.Sprintf("%x", sum)
}

// startTLS serves h over TLS with exactly the given chain (leaf first). mutate
// may adjust the tls.Config (e.g. MinVersion). A nil listener means httptest's
// own 127.0.0.1 listener.
func startTLS(t *testing.T, p *testPKI, chain []*x509.Certificate, h http.Handler, ln net.Listener, mutate func(*tls.Config)) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	if ln != nil {
		_ = srv.Listener.Close()
		srv.Listener = ln
	}
	var der [][]byte
	for _, c := range chain {
		der = append(der, c.Raw)
	}
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{{Certificate: der, PrivateKey: p.leafKey}}}
	if mutate != nil {
		mutate(srv.TLS)
	}
	// Refused handshakes (the TLS 1.2 probe) are expected; keep test output clean.
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

// oidcHandler serves a discovery document naming issuer and jwksURI, and an
// empty JWKS at /keys.
func oidcHandler(issuer, jwksURI string) http.Handler {
	mux := http.NewServeMux()
	prefix := ""
	if u, err := url.Parse(issuer); err == nil {
		prefix = strings.TrimRight(u.Path, "/")
	}
	mux.HandleFunc("GET "+prefix+wellKnownPath, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{"issuer": issuer, "jwks_uri": jwksURI})
	})
	mux.HandleFunc("GET /keys", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"keys":[]}`)
	})
	return mux
}

// listen opens a listener whose address is known before the server starts,
// so a discovery document can name its own URL.
func listen(t *testing.T, network, addr string) net.Listener {
	t.Helper()
	ln, err := net.Listen(network, addr)
	if err != nil {
		t.Fatalf("listen %s: %v", addr, err)
	}
	return ln
}

func portOf(ln net.Listener) string {
	return fmt.Sprint(ln.Addr().(*net.TCPAddr).Port)
}

// connectProxy is a minimal HTTP CONNECT proxy on loopback. route maps the
// requested target to the address actually dialled (an intercepting proxy
// does exactly that); ok=false answers 403.
type connectProxy struct {
	URL   *url.URL
	route func(target string) (dst string, ok bool)

	mu      sync.Mutex
	targets []string // one per tunnel opened
	auth    []string // Proxy-Authorization per CONNECT
	conns   []net.Conn
	wg      sync.WaitGroup
}

func startProxy(t *testing.T, route func(string) (string, bool)) *connectProxy {
	t.Helper()
	ln := listen(t, "tcp", "127.0.0.1:0")
	p := &connectProxy{URL: &url.URL{Scheme: "http", Host: ln.Addr().String()}, route: route}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.mu.Lock()
			p.conns = append(p.conns, c)
			p.mu.Unlock()
			p.wg.Add(1)
			go func() { defer p.wg.Done(); p.serve(c) }()
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		p.mu.Lock()
		for _, c := range p.conns {
			_ = c.Close()
		}
		p.mu.Unlock()
		p.wg.Wait()
	})
	return p
}

func (p *connectProxy) serve(c net.Conn) {
	defer func() { _ = c.Close() }()
	br := bufio.NewReader(c)
	req, err := http.ReadRequest(br)
	if err != nil {
		return
	}
	if req.Method != http.MethodConnect {
		_, _ = io.WriteString(c, "HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
		return
	}
	dst, ok := p.route(req.Host)
	if !ok {
		_, _ = io.WriteString(c, "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
		return
	}
	up, err := net.Dial("tcp", dst)
	if err != nil {
		_, _ = io.WriteString(c, "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
		return
	}
	p.mu.Lock()
	p.targets = append(p.targets, req.Host)
	p.auth = append(p.auth, req.Header.Get("Proxy-Authorization"))
	p.conns = append(p.conns, up)
	p.mu.Unlock()
	if _, err := io.WriteString(c, "HTTP/1.1 200 Connection established\r\n\r\n"); err != nil {
		_ = up.Close()
		return
	}
	done := make(chan struct{})
	go func() {
		_, _ = io.Copy(up, br)
		_ = up.Close()
		close(done)
	}()
	_, _ = io.Copy(c, up)
	_ = c.Close()
	<-done
}

func (p *connectProxy) tunnels() ([]string, []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.targets...), append([]string(nil), p.auth...)
}

// silentServer accepts TCP connections and never says a word, like a
// firewall that lets SYNs through to a dead service. Each accept is signalled
// on the returned channel.
func silentServer(t *testing.T) (string, <-chan struct{}) {
	t.Helper()
	ln := listen(t, "tcp", "127.0.0.1:0")
	accepted := make(chan struct{}, 16)
	var mu sync.Mutex
	var conns []net.Conn
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			select {
			case accepted <- struct{}{}:
			default:
			}
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		wg.Wait()
		mu.Lock()
		for _, c := range conns {
			_ = c.Close()
		}
		mu.Unlock()
	})
	return ln.Addr().String(), accepted
}
