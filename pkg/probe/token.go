// Package probe does, live, what a pod's SDK does with its projected token:
// it verifies the token the way STS will (discovery, JWKS, key id,
// signature, issuer, audience) and calls sts:AssumeRoleWithWebIdentity.
// Tokens and the credentials STS returns never leave this package: callers
// get decoded claims and verdicts only.
package probe

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"sort"
	"strings"
	"time"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/tokenclaims"
)

// Claims are the decoded claims of a projected service-account token
// (docs/behaviour.md#projected-service-account-token). They are safe to print; the token is not.
type Claims struct {
	Issuer    string    `json:"iss"`
	Subject   string    `json:"sub"`
	Audience  []string  `json:"aud"`
	Expiry    time.Time `json:"exp"`
	IssuedAt  time.Time `json:"iat"`
	Namespace string    `json:"namespace,omitempty"`
	Pod       string    `json:"pod,omitempty"`
	// ServiceAccount is the kubernetes.io.serviceaccount.name claim.
	ServiceAccount string `json:"serviceAccount,omitempty"`
	KeyID          string `json:"kid,omitempty"`
	Algorithm      string `json:"alg,omitempty"`
}

// token is a parsed JWT; unexported so it cannot be printed by accident.
type token struct {
	header, signature []byte
	signingInput      string
	claims            Claims
}

// parseToken decodes a compact JWS without trusting it.
func parseToken(raw string) (*token, error) {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return nil, errors.New("the token is not a JWT (want three dot-separated parts)")
	}
	t := &token{signingInput: parts[0] + "." + parts[1]}
	var err error
	if t.header, err = base64.RawURLEncoding.DecodeString(parts[0]); err != nil {
		return nil, fmt.Errorf("decoding the token header: %w", err)
	}
	if t.signature, err = base64.RawURLEncoding.DecodeString(parts[2]); err != nil {
		return nil, fmt.Errorf("decoding the token signature: %w", err)
	}
	var h struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
	}
	if err := json.Unmarshal(t.header, &h); err != nil {
		return nil, fmt.Errorf("the token header is not JSON: %w", err)
	}
	tc, err := tokenclaims.DecodePayload(parts[1])
	if err != nil {
		return nil, err
	}
	t.claims = Claims{Issuer: tc.Issuer, Subject: tc.Subject, Audience: tc.Audience, Expiry: time.Unix(tc.Expiry, 0).UTC(), IssuedAt: time.Unix(tc.IssuedAt, 0).UTC(),
		Namespace: tc.Namespace, Pod: tc.Pod, ServiceAccount: tc.ServiceAccount, KeyID: h.Kid, Algorithm: h.Alg}
	return t, nil
}

// jwk is the subset of RFC 7517 that Kubernetes publishes (RSA keys).
type jwk struct {
	Kty string `json:"kty"`
	Kid string `json:"kid"`
	Alg string `json:"alg"`
	N   string `json:"n"`
	E   string `json:"e"`
}

// jwks is a key set.
type jwks struct {
	Keys []jwk `json:"keys"`
}

func (k jwk) rsaKey() (*rsa.PublicKey, error) {
	if k.Kty != "RSA" {
		return nil, fmt.Errorf("key %q has type %q; STS verifies RS256 tokens with RSA keys", k.Kid, k.Kty)
	}
	n, err := base64.RawURLEncoding.DecodeString(k.N)
	if err != nil {
		return nil, fmt.Errorf("key %q: bad modulus: %w", k.Kid, err)
	}
	e, err := base64.RawURLEncoding.DecodeString(k.E)
	if err != nil || len(e) == 0 || len(e) > 8 {
		return nil, fmt.Errorf("key %q: bad exponent", k.Kid)
	}
	var exp int
	for _, b := range e {
		exp = exp<<8 | int(b)
	}
	return &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: exp}, nil
}

// kids lists the key ids of a set, sorted, for evidence.
func (s jwks) kids() []string {
	out := make([]string, 0, len(s.Keys))
	for _, k := range s.Keys {
		out = append(out, k.Kid)
	}
	sort.Strings(out)
	return out
}

// verifySignature checks an RS256 signature with the key of the token's kid.
func verifySignature(t *token, set jwks) (kidFound bool, err error) {
	if t.claims.Algorithm != "RS256" {
		return false, fmt.Errorf("the token is signed with %q; STS accepts RS256", t.claims.Algorithm)
	}
	for _, k := range set.Keys {
		if k.Kid != t.claims.KeyID {
			continue
		}
		pub, err := k.rsaKey()
		if err != nil {
			return true, err
		}
		sum := sha256.Sum256([]byte(t.signingInput))
		if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], t.signature); err != nil {
			return true, errors.New("the signature does not verify with the published key")
		}
		return true, nil
	}
	return false, fmt.Errorf("no key with kid %q in the JWKS (it has %s)", t.claims.KeyID, strings.Join(set.kids(), ", "))
}
