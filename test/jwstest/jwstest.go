// Package jwstest signs compact JWS tokens and publishes JWKs with the
// standard library only, so tests of code that verifies tokens with a JOSE
// library check it against an independent signer.
//
// It signs with every algorithm a test needs, including those STS refuses
// (docs/behaviour.md#sts-validation-order, step 4): RS256/384/512,
// ES256/384/512, PS256/384/512, HS256/384/512 and "none".
package jwstest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"hash"
	"math/big"
	"strings"
)

var b64 = base64.RawURLEncoding

// Key is a signing key with its key id.
type Key struct {
	Kid string
	// Signer is an *rsa.PrivateKey or an *ecdsa.PrivateKey; nil for an HMAC key.
	Signer crypto.Signer
	// Secret is the HMAC key of an "oct" key.
	Secret []byte
}

// NewRSA generates a 2048-bit RSA key.
func NewRSA(kid string) (*Key, error) {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("generate RSA key: %w", err)
	}
	return &Key{Kid: kid, Signer: k}, nil
}

// NewEC generates an ECDSA key on curve c (elliptic.P256(), P384() or P521()).
func NewEC(kid string, c elliptic.Curve) (*Key, error) {
	k, err := ecdsa.GenerateKey(c, rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate EC key: %w", err)
	}
	return &Key{Kid: kid, Signer: k}, nil
}

// MustKeys generates an RSA key and one EC key per curve, named "rsa",
// "p256", "p384" and "p521"; it panics on failure (test setup).
func MustKeys() map[string]*Key {
	keys := map[string]*Key{}
	r, err := NewRSA("rsa")
	if err != nil {
		panic(err)
	}
	keys["rsa"] = r
	for name, c := range map[string]elliptic.Curve{"p256": elliptic.P256(), "p384": elliptic.P384(), "p521": elliptic.P521()} {
		k, err := NewEC(name, c)
		if err != nil {
			panic(err)
		}
		keys[name] = k
	}
	return keys
}

// PublicJWK is k's public key as a JWK (RFC 7517, RFC 7518 section 6), the
// way kube-apiserver publishes it: kty, kid, use "sig" and alg (when not "").
func (k *Key) PublicJWK(alg string) map[string]string {
	j := map[string]string{"kid": k.Kid, "use": "sig"}
	if alg != "" {
		j["alg"] = alg
	}
	switch s := k.Signer.(type) {
	case *rsa.PrivateKey:
		j["kty"] = "RSA"
		j["n"] = b64.EncodeToString(s.N.Bytes())
		j["e"] = b64.EncodeToString(big.NewInt(int64(s.E)).Bytes())
	case *ecdsa.PrivateKey:
		pt, err := s.PublicKey.Bytes() // 0x04 || X || Y, each coordinate padded to the curve size
		if err != nil {
			panic(err)
		}
		size := (len(pt) - 1) / 2
		j["kty"] = "EC"
		j["crv"] = s.Curve.Params().Name
		j["x"] = b64.EncodeToString(pt[1 : 1+size])
		j["y"] = b64.EncodeToString(pt[1+size:])
	default:
		j["kty"] = "oct"
		j["k"] = b64.EncodeToString(k.Secret)
	}
	return j
}

// Sign builds a compact JWS over claims with header {"alg": alg, "kid":
// kid} ("kid" left out when ""), signed with k's key as alg prescribes
// (RFC 7518 section 3). It does not check that alg suits the key: a test
// may want an RS256 header over an ECDSA signature.
func Sign(alg, kid string, k *Key, claims any) (string, error) {
	h := map[string]string{"alg": alg}
	if kid != "" {
		h["kid"] = kid
	}
	hb, err := json.Marshal(h)
	if err != nil {
		return "", err
	}
	cb, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	in := b64.EncodeToString(hb) + "." + b64.EncodeToString(cb)
	sig, err := signature(alg, k, []byte(in))
	if err != nil {
		return "", err
	}
	return in + "." + b64.EncodeToString(sig), nil
}

func hashFor(alg string) (crypto.Hash, error) {
	switch alg[2:] {
	case "256":
		return crypto.SHA256, nil
	case "384":
		return crypto.SHA384, nil
	case "512":
		return crypto.SHA512, nil
	}
	return 0, fmt.Errorf("jwstest: no hash for %q", alg)
}

func signature(alg string, k *Key, input []byte) ([]byte, error) {
	if alg == "none" {
		return nil, nil
	}
	if len(alg) != 5 {
		return nil, fmt.Errorf("jwstest: unknown alg %q", alg)
	}
	h, err := hashFor(alg)
	if err != nil {
		return nil, err
	}
	if alg[:2] == "HS" {
		var mac hash.Hash
		switch h {
		case crypto.SHA256:
			mac = hmac.New(sha256.New, k.Secret)
		case crypto.SHA384:
			mac = hmac.New(sha512.New384, k.Secret)
		default:
			mac = hmac.New(sha512.New, k.Secret)
		}
		mac.Write(input)
		return mac.Sum(nil), nil
	}
	d := h.New()
	d.Write(input)
	digest := d.Sum(nil)
	switch s := k.Signer.(type) {
	case *rsa.PrivateKey:
		switch alg[:2] {
		case "RS":
			return rsa.SignPKCS1v15(rand.Reader, s, h, digest)
		case "PS":
			return rsa.SignPSS(rand.Reader, s, h, digest, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
		}
	case *ecdsa.PrivateKey:
		if alg[:2] == "ES" {
			r, ss, err := ecdsa.Sign(rand.Reader, s, digest)
			if err != nil {
				return nil, err
			}
			// JWS wants R || S, each padded to the curve's byte size (RFC 7518 section 3.4).
			size := (s.Curve.Params().BitSize + 7) / 8
			out := make([]byte, 2*size)
			r.FillBytes(out[:size])
			ss.FillBytes(out[size:])
			return out, nil
		}
	}
	return nil, fmt.Errorf("jwstest: cannot sign %s with %T", alg, k.Signer)
}

// Tamper returns tok with one bit of its signature flipped.
func Tamper(tok string) string {
	i := strings.LastIndexByte(tok, '.') + 1
	sig, err := b64.DecodeString(tok[i:])
	if err != nil || len(sig) == 0 {
		return tok + "A"
	}
	sig[len(sig)/2] ^= 0x01
	return tok[:i] + b64.EncodeToString(sig)
}
