// Package pki generates the throwaway certificates and keys the end-to-end
// control plane and the test webhook need. Everything is made in memory with
// crypto/x509, so the tests depend on neither openssl nor cfssl.
package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"time"
)

// validity outlasts thumbprint's --warn-days (30 by default), so a demo or a
// scenario sees an expiry warning only when it builds one on purpose. The
// keys live in a temporary directory removed at teardown.
const validity = 90 * 24 * time.Hour

// CA is a self-signed certificate authority.
type CA struct {
	Cert    *x509.Certificate
	CertPEM []byte
	key     crypto.Signer
}

// KeyPair is a PEM-encoded certificate and its private key.
type KeyPair struct {
	CertPEM []byte
	KeyPEM  []byte
}

// NewCA creates a self-signed CA with the given common name.
func NewCA(commonName string) (*CA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate ca key: %w", err)
	}
	serial, err := serialNumber()
	if err != nil {
		return nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: commonName},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(validity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, fmt.Errorf("create ca certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("parse ca certificate: %w", err)
	}
	return &CA{Cert: cert, CertPEM: encodePEM("CERTIFICATE", der), key: key}, nil
}

// ServingCert issues a server certificate for the loopback names the tests
// dial: 127.0.0.1, ::1 and localhost, plus any extra hosts.
func (ca *CA) ServingCert(commonName string, extraHosts ...string) (*KeyPair, error) {
	hosts := append([]string{"127.0.0.1", "::1", "localhost"}, extraHosts...)
	tmpl := &x509.Certificate{
		Subject:     pkix.Name{CommonName: commonName},
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	return ca.issue(tmpl)
}

// ClientCert issues a client certificate; organizations become Kubernetes groups.
func (ca *CA) ClientCert(commonName string, organizations ...string) (*KeyPair, error) {
	tmpl := &x509.Certificate{
		Subject:     pkix.Name{CommonName: commonName, Organization: organizations},
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	return ca.issue(tmpl)
}

func (ca *CA) issue(tmpl *x509.Certificate) (*KeyPair, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate key for %q: %w", tmpl.Subject.CommonName, err)
	}
	serial, err := serialNumber()
	if err != nil {
		return nil, err
	}
	now := time.Now()
	tmpl.SerialNumber = serial
	tmpl.NotBefore = now.Add(-time.Hour)
	tmpl.NotAfter = now.Add(validity)
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, key.Public(), ca.key)
	if err != nil {
		return nil, fmt.Errorf("sign certificate for %q: %w", tmpl.Subject.CommonName, err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("marshal key for %q: %w", tmpl.Subject.CommonName, err)
	}
	return &KeyPair{CertPEM: encodePEM("CERTIFICATE", der), KeyPEM: encodePEM("PRIVATE KEY", keyDER)}, nil
}

// ServiceAccountKeyType is the kind of key kube-apiserver signs service
// account tokens with. STS accepts RSA (RS256/384/512) and ECDSA
// (ES256/384/512) signatures (docs/behaviour.md#sts-validation-order, step 4);
// kube-apiserver signs with RS256 for an RSA key and ES256 for a P-256 key.
type ServiceAccountKeyType int

const (
	// RSA2048 is a 2048-bit RSA key (RS256 tokens), what clusters use most.
	RSA2048 ServiceAccountKeyType = iota
	// ECDSAP256 is an ECDSA P-256 key (ES256 tokens).
	ECDSAP256
)

func (t ServiceAccountKeyType) String() string {
	switch t {
	case RSA2048:
		return "RSA-2048"
	case ECDSAP256:
		return "ECDSA-P256"
	}
	return fmt.Sprintf("ServiceAccountKeyType(%d)", int(t))
}

// ServiceAccountKeys is the key pair kube-apiserver signs service account
// tokens with (--service-account-signing-key-file) and verifies them with
// (--service-account-key-file).
type ServiceAccountKeys struct {
	PrivateKeyPEM []byte
	PublicKeyPEM  []byte
}

// NewServiceAccountKeys generates a 2048-bit RSA key pair.
func NewServiceAccountKeys() (*ServiceAccountKeys, error) {
	return NewServiceAccountKeysOfType(RSA2048)
}

// NewServiceAccountKeysOfType generates a key pair of type t.
func NewServiceAccountKeysOfType(t ServiceAccountKeyType) (*ServiceAccountKeys, error) {
	var key crypto.Signer
	var privPEM []byte
	switch t {
	case RSA2048:
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return nil, fmt.Errorf("generate service account key: %w", err)
		}
		key, privPEM = k, encodePEM("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(k))
	case ECDSAP256:
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, fmt.Errorf("generate service account key: %w", err)
		}
		der, err := x509.MarshalECPrivateKey(k)
		if err != nil {
			return nil, fmt.Errorf("marshal service account key: %w", err)
		}
		key, privPEM = k, encodePEM("EC PRIVATE KEY", der)
	default:
		return nil, fmt.Errorf("unknown service account key type %s", t)
	}
	pub, err := x509.MarshalPKIXPublicKey(key.Public())
	if err != nil {
		return nil, fmt.Errorf("marshal service account public key: %w", err)
	}
	return &ServiceAccountKeys{PrivateKeyPEM: privPEM, PublicKeyPEM: encodePEM("PUBLIC KEY", pub)}, nil
}

func serialNumber() (*big.Int, error) {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("generate serial number: %w", err)
	}
	return n, nil
}

func encodePEM(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}
