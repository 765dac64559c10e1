package jwstest

import (
	"crypto/ecdsa"
	"crypto/rsa"
	"encoding/json"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// Issuer is an OIDC issuer on a loopback TLS server, the way a cluster's API
// server serves /.well-known/openid-configuration and its JWKS, signing with
// Key. It is what EKS Auth and STS emulators fetch keys from.
type Issuer struct {
	// URL is the issuer (https://127.0.0.1:PORT), the tokens' iss.
	URL string
	// Key signs the tokens; its public half is the JWKS.
	Key *Key
	// Server is the TLS server, for its certificate (thumbprints).
	Server *httptest.Server
}

// StartIssuer serves key's JWKS until tb's cleanup; a nil key is a fresh
// RSA key named "k1".
func StartIssuer(tb testing.TB, key *Key) *Issuer {
	tb.Helper()
	if key == nil {
		k, err := NewRSA("k1")
		if err != nil {
			tb.Fatal(err)
		}
		key = k
	}
	is := &Issuer{Key: key}
	mux := http.NewServeMux()
	is.Server = httptest.NewUnstartedServer(mux)
	// TLS handshake noise of clients that refuse the certificate is expected.
	is.Server.Config.ErrorLog = log.New(io.Discard, "", 0)
	is.Server.StartTLS()
	tb.Cleanup(is.Server.Close)
	is.URL = is.Server.URL
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]string{"issuer": is.URL, "jwks_uri": is.URL + "/openid/v1/jwks"})
	})
	mux.HandleFunc("/openid/v1/jwks", func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]any{"keys": []map[string]string{key.PublicJWK(is.alg())}})
	})
	return is
}

// alg is the algorithm kube-apiserver would use for the key: RS256 for RSA,
// ES256/384/512 by curve for ECDSA.
func (is *Issuer) alg() string {
	switch s := is.Key.Signer.(type) {
	case *rsa.PrivateKey:
		return "RS256"
	case *ecdsa.PrivateKey:
		switch s.Curve.Params().BitSize {
		case 384:
			return "ES384"
		case 521:
			return "ES512"
		}
		return "ES256"
	}
	return "HS256"
}

// Sign signs claims with the issuer's key under its kid.
func (is *Issuer) Sign(tb testing.TB, claims map[string]any) string {
	tb.Helper()
	tok, err := Sign(is.alg(), is.Key.Kid, is.Key, claims)
	if err != nil {
		tb.Fatal(err)
	}
	return tok
}

// ServiceAccountClaims are the claims of a projected service account token
// bound to a pod, as kube-apiserver issues them: iss, sub
// system:serviceaccount:NAMESPACE:NAME, aud, iat, nbf, exp, and the
// kubernetes.io claim with the namespace, service account and pod. Callers
// change or delete entries to build bad tokens.
func ServiceAccountClaims(issuer, audience, namespace, serviceAccount, pod, podUID string, exp time.Time) map[string]any {
	now := time.Now()
	return map[string]any{
		"iss": issuer,
		"sub": "system:serviceaccount:" + namespace + ":" + serviceAccount,
		"aud": []string{audience},
		"iat": now.Unix(),
		"nbf": now.Unix(),
		"exp": exp.Unix(),
		"kubernetes.io": map[string]any{
			"namespace":      namespace,
			"serviceaccount": map[string]string{"name": serviceAccount, "uid": "0b3e8f5c-5d7a-4c1e-9a55-000000000001"},
			"pod":            map[string]string{"name": pod, "uid": podUID},
		},
	}
}
