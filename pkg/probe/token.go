// Package probe does, live, what a pod's SDK does with its projected token:
// it verifies the token the way STS will (discovery, JWKS, key id,
// signature, issuer, audience) and calls sts:AssumeRoleWithWebIdentity.
// Tokens and the credentials STS returns never leave this package: callers
// get decoded claims and verdicts only.
package probe

import (
	"crypto/ecdsa"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"

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
	raw    string
	claims Claims
}

// parseToken decodes a compact JWS without trusting it.
func parseToken(raw string) (*token, error) {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return nil, errors.New("the token is not a JWT (want three dot-separated parts)")
	}
	t := &token{raw: raw}
	header, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		return nil, fmt.Errorf("decoding the token header: %w", err)
	}
	if _, err := base64.RawURLEncoding.DecodeString(parts[2]); err != nil {
		return nil, fmt.Errorf("decoding the token signature: %w", err)
	}
	var h struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
	}
	if err := json.Unmarshal(header, &h); err != nil {
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

// stsAlgorithms are the JWS algorithms STS accepts for a WebIdentityToken:
// RSA and ECDSA signatures (docs/behaviour.md#sts-validation-order, step 4).
var stsAlgorithms = []jose.SignatureAlgorithm{jose.RS256, jose.RS384, jose.RS512, jose.ES256, jose.ES384, jose.ES512}

// acceptedAlgorithms names stsAlgorithms in messages.
const acceptedAlgorithms = "STS accepts RS256, RS384, RS512, ES256, ES384 and ES512"

// jwks is an issuer's key set as STS can use it: every public RSA or EC key
// go-jose reads, and why each other key could not be used.
type jwks struct {
	keys []jose.JSONWebKey
	// unusable maps the kid of a key that was not read to the reason.
	unusable map[string]string
	all      []string // every kid, for evidence
}

// parseJWKS reads a JWK Set (RFC 7517 section 5) key by key, so one key STS
// could not use does not hide the others.
func parseJWKS(body []byte) (jwks, error) {
	var raw struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		return jwks{}, err
	}
	set := jwks{unusable: map[string]string{}}
	for _, r := range raw.Keys {
		var id struct {
			Kid string `json:"kid"`
			Kty string `json:"kty"`
		}
		_ = json.Unmarshal(r, &id)
		if id.Kid == "" {
			set.all = append(set.all, "(a key without kid)")
		} else {
			set.all = append(set.all, id.Kid)
		}
		var k jose.JSONWebKey
		if err := k.UnmarshalJSON(r); err != nil {
			set.unusable[id.Kid] = fmt.Sprintf("key %q (kty %q) cannot be read: %s", id.Kid, id.Kty, strings.TrimPrefix(err.Error(), "go-jose/go-jose: "))
			continue
		}
		switch k.Key.(type) {
		case *rsa.PublicKey, *ecdsa.PublicKey:
			set.keys = append(set.keys, k)
		default:
			set.unusable[id.Kid] = fmt.Sprintf("key %q has kty %q; STS verifies with public RSA or EC keys only", id.Kid, id.Kty)
		}
	}
	sort.Strings(set.all)
	return set, nil
}

// describeKey names a key's type the way the algorithms need it.
func describeKey(k jose.JSONWebKey) string {
	switch pub := k.Key.(type) {
	case *rsa.PublicKey:
		return "an RSA key"
	case *ecdsa.PublicKey:
		return "an EC " + pub.Curve.Params().Name + " key"
	}
	return fmt.Sprintf("a %T key", k.Key)
}

// keyFor is what alg needs: "an RSA key" or "an EC P-256 key", etc.
func keyFor(alg jose.SignatureAlgorithm) string {
	switch alg {
	case jose.ES256:
		return "an EC P-256 key"
	case jose.ES384:
		return "an EC P-384 key"
	case jose.ES512:
		return "an EC P-521 key"
	}
	return "an RSA key"
}

// findKey is step 4's first half: the JWKS keys the token's kid names.
// unusable is why a key of that kid could not be read ("" when none).
func findKey(t *token, set jwks) (keys []jose.JSONWebKey, unusable string, err error) {
	kid := t.claims.KeyID
	has := strings.Join(set.all, ", ")
	if has == "" {
		has = "no keys"
	}
	// A token without kid gets "Couldn't retrieve verification key" from STS
	// (docs/behaviour.md#sts-validation-order, step 4).
	if kid == "" {
		return nil, "", fmt.Errorf("the token has no kid; STS picks the verification key by kid (the JWKS has %s)", has)
	}
	for _, k := range set.keys {
		if k.KeyID == kid {
			keys = append(keys, k)
		}
	}
	unusable, named := set.unusable[kid]
	if len(keys) > 0 || named {
		return keys, unusable, nil
	}
	return nil, "", fmt.Errorf("no key with kid %q in the JWKS (it has %s)", kid, has)
}

// verifySignature is step 4's second half, with go-jose: an algorithm STS
// accepts, a key of the type that algorithm needs, and a signature that
// verifies with it. It returns what was verified.
func verifySignature(t *token, keys []jose.JSONWebKey, unusable string) (string, error) {
	alg := jose.SignatureAlgorithm(t.claims.Algorithm)
	if !slices.Contains(stsAlgorithms, alg) {
		return "", fmt.Errorf("the token is signed with %q; %s", t.claims.Algorithm, acceptedAlgorithms)
	}
	if len(keys) == 0 {
		return "", errors.New(unusable)
	}
	jws, err := jose.ParseSignedCompact(t.raw, stsAlgorithms)
	if err != nil {
		return "", fmt.Errorf("the token is not a compact JWS: %s", strings.TrimPrefix(err.Error(), "go-jose/go-jose: "))
	}
	fitted := false
	for _, k := range keys {
		if describeKey(k) != keyFor(alg) {
			continue
		}
		fitted = true
		if _, err := jws.Verify(k); err == nil {
			return fmt.Sprintf("%s with key %s", alg, k.KeyID), nil
		}
	}
	if !fitted {
		return "", fmt.Errorf("key %q is %s; %s needs %s", keys[0].KeyID, describeKey(keys[0]), alg, keyFor(alg))
	}
	return "", errors.New("the signature does not verify with the published key")
}
