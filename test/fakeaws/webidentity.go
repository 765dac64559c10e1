package fakeaws

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha1" //nolint:gosec // the IAM OIDC thumbprint is SHA-1 by AWS's definition
	"crypto/tls"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

const opWebIdentity = "AssumeRoleWithWebIdentity"

// Messages STS answers with (docs/behaviour.md#sts-validation-order), kept verbatim: tools match on
// them, the double space included.
const (
	msgNoVerificationKey   = "Couldn't retrieve verification key from your identity provider,  please reference AssumeRoleWithWebIdentity documentation for requirements"
	msgThumbprintMismatch  = "OpenIDConnect provider's HTTPS certificate doesn't match configured thumbprint"
	msgIncorrectAudience   = "Incorrect token audience"
	msgNotAuthorizedWebIDP = "Not authorized to perform sts:AssumeRoleWithWebIdentity"
	// Not among the observed strings of docs/behaviour.md#sts-validation-order; chosen to read like
	// STS. Tests should not depend on their exact text.
	msgNotAJWT       = "The ID Token provided is not a valid JWT. (You may see this error if you sent an Access Token)"
	msgBadSignature  = "Signature verification failed for the ID Token"
	webIdentitySkew  = 5 * time.Minute
	idpFetchTimeout  = 5 * time.Second
	maxIDPBodyBytes  = 1 << 20
	defaultSessionTS = 3600
)

func isWebIdentityCall(req request) bool { return req.service == "sts" && req.op == opWebIdentity }

func invalidToken(msg string) *apiError {
	return &apiError{status: http.StatusBadRequest, code: "InvalidIdentityToken", message: msg}
}

// jwtClaims are the claims STS and EKS Auth read. aud may be a string or an
// array.
type jwtClaims struct {
	Iss string          `json:"iss"`
	Sub string          `json:"sub"`
	Aud json.RawMessage `json:"aud"`
	Exp *json.Number    `json:"exp"`
	// Kubernetes is the private claim kube-apiserver puts in service
	// account tokens: namespace, service account and the pod the token is
	// bound to, which EKS Auth turns into session tags.
	Kubernetes *kubernetesClaim `json:"kubernetes.io"`
}

type kubernetesClaim struct {
	Namespace      string       `json:"namespace"`
	ServiceAccount *namedUIDRef `json:"serviceaccount"`
	Pod            *namedUIDRef `json:"pod"`
}

type namedUIDRef struct {
	Name string `json:"name"`
	UID  string `json:"uid"`
}

type jwtHeader struct {
	Alg string `json:"alg"`
	Kid string `json:"kid"`
}

type parsedToken struct {
	raw    string
	header jwtHeader
	claims jwtClaims
	aud    []string
	exp    int64
}

// parseJWT is step 1 of docs/behaviour.md#sts-validation-order: a compact JWS with the claims STS
// requires. The signature is only decoded here; it is verified once the key
// is known.
func parseJWT(tok string) (*parsedToken, *apiError) {
	p, missing, ok := decodeJWT(tok)
	switch {
	case !ok:
		return nil, invalidToken(msgNotAJWT)
	case missing != "":
		return nil, invalidToken("Missing a required claim: " + missing)
	}
	return p, nil
}

// decodeJWT splits and decodes a compact JWS, STS's and EKS Auth's first
// step. ok is false when tok is not a JWT at all; missing names the first
// absent claim of aud, sub, iss and exp.
func decodeJWT(tok string) (p *parsedToken, missing string, ok bool) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return nil, "", false
	}
	dec := base64.RawURLEncoding
	hb, err1 := dec.DecodeString(parts[0])
	cb, err2 := dec.DecodeString(parts[1])
	_, err3 := dec.DecodeString(parts[2])
	if err1 != nil || err2 != nil || err3 != nil {
		return nil, "", false
	}
	p = &parsedToken{raw: tok}
	if json.Unmarshal(hb, &p.header) != nil {
		return nil, "", false
	}
	d := json.NewDecoder(strings.NewReader(string(cb)))
	d.UseNumber()
	if d.Decode(&p.claims) != nil {
		return nil, "", false
	}
	var one string
	switch {
	case len(p.claims.Aud) == 0 || string(p.claims.Aud) == "null":
	case json.Unmarshal(p.claims.Aud, &one) == nil:
		if one != "" {
			p.aud = []string{one}
		}
	case json.Unmarshal(p.claims.Aud, &p.aud) == nil:
	default:
		return nil, "", false
	}
	switch {
	case len(p.aud) == 0:
		missing = "aud"
	case p.claims.Sub == "":
		missing = "sub"
	case p.claims.Iss == "":
		missing = "iss"
	case p.claims.Exp == nil:
		missing = "exp"
	}
	if missing != "" {
		return p, missing, true
	}
	f, err := p.claims.Exp.Float64()
	if err != nil {
		return nil, "", false
	}
	p.exp = int64(f)
	return p, "", true
}

// serveWebIdentity implements sts:AssumeRoleWithWebIdentity in the order of
// docs/behaviour.md#sts-validation-order; each failure masks the later checks, as in STS.
func (s *Server) serveWebIdentity(ctx context.Context, w http.ResponseWriter, req request) {
	out, aerr := s.assumeRoleWithWebIdentity(ctx, req)
	s.recordTrail(req, out, aerr)
	if aerr != nil {
		s.writeError(w, req.service, aerr)
		return
	}
	w.Header().Set("X-Amzn-Requestid", out.Metadata.RequestID)
	writeXML(w, http.StatusOK, out)
}

func (s *Server) assumeRoleWithWebIdentity(ctx context.Context, req request) (*assumeRoleWithWebIdentityResponse, *apiError) {
	param := func(k string) string {
		if v := req.params[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	roleARN, session, raw := param("RoleArn"), param("RoleSessionName"), param("WebIdentityToken")
	for _, p := range []struct{ name, v string }{{"roleArn", roleARN}, {"roleSessionName", session}, {"webIdentityToken", raw}} {
		if p.v == "" {
			return nil, &apiError{status: http.StatusBadRequest, code: "ValidationError",
				message: fmt.Sprintf("1 validation error detected: Value null at '%s' failed to satisfy constraint: Member must not be null", p.name)}
		}
	}
	duration := int64(defaultSessionTS)
	if v := param("DurationSeconds"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 900 || n > 43200 {
			return nil, &apiError{status: http.StatusBadRequest, code: "ValidationError",
				message: fmt.Sprintf("1 validation error detected: Value '%s' at 'durationSeconds' failed to satisfy constraint: Member must have value between 900 and 43200", v)}
		}
		duration = n
	}

	// 1. A JWT with the required claims.
	tok, aerr := parseJWT(raw)
	if aerr != nil {
		return nil, aerr
	}
	// 2. A provider for iss in the ROLE's account (not the caller's: the call
	// is unsigned, there is no caller).
	acct := accountOf(roleARN)
	prov, ok := s.providerForIssuer(acct, tok.claims.Iss)
	if !ok {
		return nil, invalidToken("No OpenIDConnect provider found in your account for " + tok.claims.Iss)
	}
	// 3. Discovery and JWKS over TLS, trusted only through the thumbprints.
	keys, aerr := fetchIssuerKeys(ctx, tok.claims.Iss, prov.Thumbprints)
	if aerr != nil {
		return nil, aerr
	}
	// 4. A signature in an algorithm STS accepts, with the key named by kid.
	if aerr := verifyWebIdentitySignature(tok, keys); aerr != nil {
		return nil, aerr
	}
	// 5. aud among the client IDs.
	audience := ""
	for _, a := range tok.aud {
		if slices.Contains(prov.ClientIDs, a) {
			audience = a
			break
		}
	}
	if audience == "" {
		return nil, invalidToken(msgIncorrectAudience)
	}
	// 6. exp, with IAM's five minutes of clock skew.
	now := time.Now()
	if now.After(time.Unix(tok.exp, 0).Add(webIdentitySkew)) {
		return nil, &apiError{status: http.StatusBadRequest, code: "ExpiredTokenException",
			message: fmt.Sprintf("Token expired: current date/time %d must be before the expiration date/time %d", now.Unix(), tok.exp)}
	}
	// 8. The role and its trust policy: one message for every cause.
	denied := &apiError{status: http.StatusForbidden, code: "AccessDenied", message: msgNotAuthorizedWebIDP}
	role, ok := s.roleByARN(roleARN)
	if !ok {
		return nil, denied
	}
	host := strings.TrimPrefix(tok.claims.Iss, "https://")
	rc := trustRequest{
		action:    "sts:" + opWebIdentity,
		federated: prov.ARN,
		keys: map[string][]string{
			strings.ToLower(host + ":sub"): {tok.claims.Sub},
			strings.ToLower(host + ":aud"): tok.aud,
		},
	}
	allowed, err := evaluateTrust(role.TrustPolicy, rc)
	if err != nil || !allowed {
		return nil, denied
	}

	meta := responseMetadata{RequestID: requestID()}
	partition := "aws"
	if parts := strings.SplitN(roleARN, ":", 3); len(parts) == 3 {
		partition = parts[1]
	}
	return &assumeRoleWithWebIdentityResponse{
		Xmlns:    stsNS,
		Audience: audience,
		Provider: tok.claims.Iss,
		Subject:  tok.claims.Sub,
		User: assumedRoleUser{
			Arn:           fmt.Sprintf("arn:%s:sts::%s:assumed-role/%s/%s", partition, role.account, role.Name, session),
			AssumedRoleID: roleID(role.ARN) + ":" + session,
		},
		Credentials: stsCredentials{
			AccessKeyID:     "ASIA" + strings.ToUpper(strings.ReplaceAll(meta.RequestID, "-", ""))[:16],
			SecretAccessKey: "fakeaws-secret-" + meta.RequestID,
			SessionToken:    "fakeaws-session-" + meta.RequestID,
			Expiration:      now.Add(time.Duration(duration) * time.Second).UTC().Format(time.RFC3339),
		},
		Metadata: meta,
	}, nil
}

// providerForIssuer finds the provider whose URL is iss without its scheme,
// in account acct.
func (s *Server) providerForIssuer(acct, iss string) (Provider, bool) {
	if !strings.HasPrefix(iss, "https://") {
		return Provider{}, false
	}
	want := strings.TrimPrefix(iss, "https://")
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, a := range sortedKeys(s.providers) {
		p := s.providers[a]
		if p.account == acct && p.URL == want {
			cp := *p
			cp.ClientIDs = slices.Clone(p.ClientIDs)
			cp.Thumbprints = slices.Clone(p.Thumbprints)
			return cp, true
		}
	}
	return Provider{}, false
}

// roleByARN finds the role by its ARN; STS also accepts an ARN without the
// role's path, so a name match in the same account counts too.
func (s *Server) roleByARN(roleARN string) (Role, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r, ok := s.roles[roleARN]; ok {
		return *r, true
	}
	acct := accountOf(roleARN)
	name := roleARN[strings.LastIndex(roleARN, "/")+1:]
	for _, a := range sortedKeys(s.roles) {
		if r := s.roles[a]; r.account == acct && r.Name == name {
			return *r, true
		}
	}
	return Role{}, false
}

var errThumbprint = errors.New("served certificate matches no thumbprint")

// keysFailure is why an issuer's keys could not be fetched.
type keysFailure int

const (
	keysFetched keysFailure = iota
	// keysUnreachable: no answer, not loopback HTTPS, or not a discovery
	// document and JWKS.
	keysUnreachable
	// keysUntrusted: the TLS check refused the certificate.
	keysUntrusted
)

// thumbprintCheck trusts a TLS connection only when the SHA-1 of the LAST
// certificate the server sends is in thumbprints, which is what STS does for
// an issuer that no public CA vouches for
// (docs/behaviour.md#oidc-provider-thumbprint); the emulator knows no public
// CAs.
func thumbprintCheck(thumbprints []string) func(tls.ConnectionState) error {
	return func(cs tls.ConnectionState) error {
		if len(cs.PeerCertificates) == 0 {
			return errThumbprint
		}
		sum := sha1.Sum(cs.PeerCertificates[len(cs.PeerCertificates)-1].Raw) //nolint:gosec // the IAM OIDC thumbprint is SHA-1 by AWS's definition
		got := hex.EncodeToString(sum[:])
		for _, t := range thumbprints {
			if strings.EqualFold(t, got) {
				return nil
			}
		}
		return errThumbprint
	}
}

// fetchIssuerKeys is STS's fetch: discovery and JWKS trusted through the
// provider's thumbprints, failures worded as STS words them.
func fetchIssuerKeys(ctx context.Context, issuer string, thumbprints []string) (map[string][]jose.JSONWebKey, *apiError) {
	keys, failure := fetchJWKS(ctx, issuer, thumbprintCheck(thumbprints))
	switch failure {
	case keysUntrusted:
		return nil, invalidToken(msgThumbprintMismatch)
	case keysUnreachable:
		return nil, &apiError{status: http.StatusBadRequest, code: "IDPCommunicationError", message: msgNoVerificationKey}
	}
	return keys, nil
}

// fetchJWKS fetches ISSUER/.well-known/openid-configuration and its jwks_uri,
// each connection accepted only if verify (nil: any certificate) accepts it.
// Only loopback HTTPS hosts are contacted.
func fetchJWKS(ctx context.Context, issuer string, verify func(tls.ConnectionState) error) (map[string][]jose.JSONWebKey, keysFailure) {
	client := &http.Client{
		Timeout: idpFetchTimeout,
		Transport: &http.Transport{
			Proxy: nil, // never through a proxy: the emulator talks to loopback only
			TLSClientConfig: &tls.Config{
				InsecureSkipVerify: true, //nolint:gosec // trust is decided by verify
				VerifyConnection:   verify,
			},
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	defer client.CloseIdleConnections()

	get := func(raw string, into any) keysFailure {
		u, err := url.Parse(raw)
		if err != nil || u.Scheme != "https" || !loopbackHost(u.Hostname()) {
			return keysUnreachable
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, raw, http.NoBody)
		if err != nil {
			return keysUnreachable
		}
		resp, err := client.Do(req)
		if err != nil {
			if errors.Is(err, errThumbprint) {
				return keysUntrusted
			}
			return keysUnreachable
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(io.LimitReader(resp.Body, maxIDPBodyBytes))
		if err != nil || resp.StatusCode != http.StatusOK || json.Unmarshal(body, into) != nil {
			return keysUnreachable
		}
		return keysFetched
	}

	var disc struct {
		JWKSURI string `json:"jwks_uri"`
	}
	if f := get(strings.TrimRight(issuer, "/")+"/.well-known/openid-configuration", &disc); f != keysFetched {
		return nil, f
	}
	var jwks struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if f := get(disc.JWKSURI, &jwks); f != keysFetched {
		return nil, f
	}
	// Key by key, with go-jose: a key it cannot read, or one that is not a
	// public RSA or EC key, is skipped and cannot verify anything.
	keys := map[string][]jose.JSONWebKey{}
	for _, raw := range jwks.Keys {
		var k jose.JSONWebKey
		if k.UnmarshalJSON(raw) != nil {
			continue
		}
		switch k.Key.(type) {
		case *rsa.PublicKey, *ecdsa.PublicKey:
			keys[k.KeyID] = append(keys[k.KeyID], k)
		}
	}
	return keys, keysFetched
}

// webIdentityAlgorithms are the signing algorithms STS accepts for a
// WebIdentityToken: RS256/384/512 and ES256/384/512
// (docs/behaviour.md#sts-validation-order, step 4).
var webIdentityAlgorithms = []jose.SignatureAlgorithm{jose.RS256, jose.RS384, jose.RS512, jose.ES256, jose.ES384, jose.ES512}

// verifyWebIdentitySignature is step 4 of docs/behaviour.md#sts-validation-order: the kid
// names a key of the JWKS, and the token is signed, in an algorithm STS
// accepts, by that key (go-jose). Any other algorithm (HS256, PS256, none)
// is refused whatever the key.
func verifyWebIdentitySignature(tok *parsedToken, keys map[string][]jose.JSONWebKey) *apiError {
	switch checkSignature(tok, keys) {
	case sigNoKey:
		return invalidToken(msgNoVerificationKey)
	case sigMalformed:
		return invalidToken(msgNotAJWT)
	case sigBad:
		return invalidToken(msgBadSignature)
	}
	return nil
}

// sigResult is the outcome of checkSignature.
type sigResult int

const (
	sigValid sigResult = iota
	sigNoKey
	sigMalformed
	// sigBad: an algorithm outside webIdentityAlgorithms, or a signature no
	// key of the kid verifies.
	sigBad
)

// checkSignature verifies tok against the key its kid names, for STS and
// EKS Auth alike; only the wording of the failures differs between them.
func checkSignature(tok *parsedToken, keys map[string][]jose.JSONWebKey) sigResult {
	candidates, ok := keys[tok.header.Kid]
	if !ok || tok.header.Kid == "" {
		return sigNoKey
	}
	alg := jose.SignatureAlgorithm(tok.header.Alg)
	if !slices.Contains(webIdentityAlgorithms, alg) {
		return sigBad
	}
	jws, err := jose.ParseSignedCompact(tok.raw, webIdentityAlgorithms)
	if err != nil {
		return sigMalformed
	}
	for _, k := range candidates {
		if keyFits(alg, k) {
			if _, err := jws.Verify(k); err == nil {
				return sigValid
			}
		}
	}
	return sigBad
}

// keyFits: RS* needs an RSA key, ES256/384/512 an EC key on P-256/384/521.
func keyFits(alg jose.SignatureAlgorithm, k jose.JSONWebKey) bool {
	switch pub := k.Key.(type) {
	case *rsa.PublicKey:
		return alg == jose.RS256 || alg == jose.RS384 || alg == jose.RS512
	case *ecdsa.PublicKey:
		return (alg == jose.ES256 && pub.Curve == elliptic.P256()) ||
			(alg == jose.ES384 && pub.Curve == elliptic.P384()) ||
			(alg == jose.ES512 && pub.Curve == elliptic.P521())
	}
	return false
}

func loopbackHost(h string) bool {
	if h == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(h)
	return err == nil && ip.IsLoopback()
}

type assumedRoleUser struct {
	Arn           string `xml:"Arn"`
	AssumedRoleID string `xml:"AssumedRoleId"`
}

type stsCredentials struct {
	AccessKeyID     string `xml:"AccessKeyId"`
	SecretAccessKey string `xml:"SecretAccessKey"`
	SessionToken    string `xml:"SessionToken"`
	Expiration      string `xml:"Expiration"`
}

type assumeRoleWithWebIdentityResponse struct {
	XMLName     xml.Name         `xml:"AssumeRoleWithWebIdentityResponse"`
	Xmlns       string           `xml:"xmlns,attr"`
	Audience    string           `xml:"AssumeRoleWithWebIdentityResult>Audience"`
	User        assumedRoleUser  `xml:"AssumeRoleWithWebIdentityResult>AssumedRoleUser"`
	Provider    string           `xml:"AssumeRoleWithWebIdentityResult>Provider"`
	Credentials stsCredentials   `xml:"AssumeRoleWithWebIdentityResult>Credentials"`
	Subject     string           `xml:"AssumeRoleWithWebIdentityResult>SubjectFromWebIdentityToken"`
	Metadata    responseMetadata `xml:"ResponseMetadata"`
}
