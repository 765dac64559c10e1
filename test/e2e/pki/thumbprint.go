package pki

import (
	"context"
	"crypto/sha1" //nolint:gosec // the IAM OIDC thumbprint is SHA-1 by AWS's definition
	"crypto/tls"
	"encoding/hex"
	"fmt"
)

// LastCertSHA1 is the SHA-1 of the last certificate the server at hostport
// sends: the thumbprint an IAM OIDC provider holds. It is computed here,
// independently of pkg/thumbprint, so that the test worlds (e2e scenarios,
// the demo's cluster, the bench) do not lean on the code they check.
func LastCertSHA1(ctx context.Context, hostport string) (string, error) {
	d := tls.Dialer{Config: &tls.Config{InsecureSkipVerify: true}} //nolint:gosec // the chain is hashed, not trusted
	conn, err := d.DialContext(ctx, "tcp", hostport)
	if err != nil {
		return "", fmt.Errorf("dial issuer %s: %w", hostport, err)
	}
	defer conn.Close()
	certs := conn.(*tls.Conn).ConnectionState().PeerCertificates
	if len(certs) == 0 {
		return "", fmt.Errorf("issuer %s sent no certificate", hostport)
	}
	sum := sha1.Sum(certs[len(certs)-1].Raw) //nolint:gosec // see the import
	return hex.EncodeToString(sum[:]), nil
}
