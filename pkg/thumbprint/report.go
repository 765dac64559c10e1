package thumbprint

import (
	"net"
	"time"
)

// Discovery is what the issuer's OpenID discovery document says.
type Discovery struct {
	// URL is the discovery document that was fetched.
	URL string `json:"url"`
	// Issuer is the document's "issuer" field, as written.
	Issuer string `json:"issuer,omitempty"`
	// JWKSURI is the document's "jwks_uri": the host STS fetches keys from and
	// whose chain is hashed (docs/behaviour.md#thumbprint-input).
	JWKSURI string `json:"jwksUri,omitempty"`
	// Problems are facts that do not stop the inspection but break STS, such
	// as an issuer field that differs from the requested issuer (docs/behaviour.md#thumbprints-per-issuer-type).
	Problems []string `json:"problems,omitempty"`
}

// CertInfo describes one certificate as the server sent it.
type CertInfo struct {
	// Depth is the position in the served chain: 0 is the leaf.
	Depth     int       `json:"depth"`
	Subject   string    `json:"subject"`
	Issuer    string    `json:"issuer"`
	NotBefore time.Time `json:"notBefore"`
	NotAfter  time.Time `json:"notAfter"`
	// SHA1 is the lower-case hex SHA-1 of the DER bytes; for the last
	// certificate it equals HostChain.Thumbprint.
	SHA1       string `json:"sha1"`
	SelfSigned bool   `json:"selfSigned"`
	IsCA       bool   `json:"isCA"`
	// Expired and ExpiresSoon are judged with Options.Now and Options.WarnDays.
	Expired     bool `json:"expired"`
	ExpiresSoon bool `json:"expiresSoon"`
}

// HostChain is what one TLS endpoint served.
type HostChain struct {
	// Role is "jwks" or "issuer" when filled by Inspect; empty from InspectHost.
	Role       string `json:"role,omitempty"`
	URL        string `json:"url"`
	Host       string `json:"host"`
	Port       string `json:"port"`
	ServerName string `json:"serverName"`
	// ViaProxy is the proxy (scheme://host:port, no credentials) the
	// connection was tunnelled through, or empty for a direct connection.
	ViaProxy   string     `json:"viaProxy,omitempty"`
	TLSVersion string     `json:"tlsVersion,omitempty"`
	Certs      []CertInfo `json:"certs,omitempty"`
	// Thumbprint is the SHA-1 of the last certificate served (docs/behaviour.md#thumbprint-input).
	Thumbprint string `json:"thumbprint,omitempty"`
	// Verified reports whether the served chain verifies for Host against
	// Options.RootCAs (nil: system roots) at Options.Now.
	Verified    bool   `json:"verified"`
	VerifyError string `json:"verifyError,omitempty"`
	// PrivateCA means verification failed because the chain does not lead to
	// a trusted root (a private or self-signed CA, or an intercepting proxy),
	// as opposed to an expired certificate or a name mismatch.
	PrivateCA bool `json:"privateCA"`
	// TLS13Only means a TLS 1.2 handshake was refused after a TLS 1.3 one
	// succeeded. AWS then falls back to thumbprint checking even for a
	// publicly trusted chain (docs/behaviour.md#trusted-ca-library). It is probed only when the
	// answer can change the verdict: the chain verified and 1.3 was negotiated.
	TLS13Only bool `json:"tls13Only"`
	// Error is why the chain could not be read; set by Inspect only.
	Error string `json:"error,omitempty"`
}

// Addr is host:port as dialled.
func (h HostChain) Addr() string { return net.JoinHostPort(h.Host, h.Port) }

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
	// the issuer host second (docs/behaviour.md#thumbprint-input: AWS checks both).
	Hosts []HostChain `json:"hosts,omitempty"`
	// Thumbprint is the jwks_uri host's: the value eksctl, Terraform and AWS
	// compute for an EKS issuer (docs/behaviour.md#eksctl-and-terraform, #eksctl-and-terraform).
	Thumbprint string `json:"thumbprint,omitempty"`
	// Warnings are one-line facts worth showing, in a stable order: discovery
	// problems, hosts that could not be read, then expiry per host and depth.
	Warnings []string `json:"warnings,omitempty"`
}
