package explain

import (
	"regexp"
	"strings"
	"unicode"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/tokenclaims"
)

// Secrets must never be echoed (README "never prints a token or a
// credential"). Users paste whole
// log excerpts, which may carry the pod's web identity token, an access key
// pair from a static-credential mistake (docs/behaviour.md#f9-node-role-instead-of-irsa) or the Pod
// Identity agent's JSON response (docs/behaviour.md#pod-identity-flow: AccessKeyId,
// SecretAccessKey, Token). Redaction runs before any matching, so every
// field of an Explanation is built from redacted text only.

var (
	// A JWT is three base64url segments; its header is JSON, so it starts
	// with "eyJ" (base64 of `{"`). A truncated paste may lack the signature.
	jwtRe = regexp.MustCompile(`eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{2,}(?:\.[A-Za-z0-9_-]*)?`)

	// Values after a key that names a secret, in env, INI, JSON, YAML,
	// header or query form.
	secretKV = regexp.MustCompile(`(?i)((?:aws_)?secret_?access_?key|secret_?key|(?:aws_)?session_?token|security_?token|x-amz-security-token|x-aws-ec2-metadata-token|["']token["']|["']secret["']|authorization|password)(["']?[ \t]*[:=][ \t]*["']?)((?:bearer[ \t]+)?[^\s"',;&}\]]+)`)

	// Access key ids: long-term (AKIA), temporary (ASIA) and the other
	// key-bearing prefixes. No word boundaries, so glued keys go too.
	accessKeyRe = regexp.MustCompile(`(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}`)

	// Secret access keys are 40 base64 characters; session tokens are
	// hundreds. Hex thumbprints (one case) and EKS OIDC ids (32 chars) are
	// not caught because a candidate needs upper, lower case and a digit.
	base64Run = regexp.MustCompile(`[A-Za-z0-9/+]{40,}={0,2}`)
)

// claims are the useful, non-secret claims of a projected service account
// token (docs/behaviour.md#projected-service-account-token).
type claims struct {
	Iss, Sub       string
	Aud            []string
	Exp, Iat       int64
	Namespace, Pod string
	ServiceAccount string
}

func redact(s string) (string, []claims) {
	var cl []claims
	s = jwtRe.ReplaceAllStringFunc(s, func(tok string) string {
		if c, ok := decodeJWT(tok); ok {
			cl = append(cl, c)
		}
		return Redacted
	})
	s = secretKV.ReplaceAllString(s, "${1}${2}"+Redacted)
	s = accessKeyRe.ReplaceAllString(s, Redacted)
	s = redactRuns(s)
	return s, cl
}

func redactRuns(s string) string {
	idx := base64Run.FindAllStringIndex(s, -1)
	if len(idx) == 0 {
		return s
	}
	var b strings.Builder
	last := 0
	for _, m := range idx {
		run := s[m[0]:m[1]]
		if !mixed(run) || inURL(s, m[0]) {
			continue
		}
		b.WriteString(s[last:m[0]])
		b.WriteString(Redacted)
		last = m[1]
	}
	b.WriteString(s[last:])
	return b.String()
}

func mixed(run string) bool {
	var up, low, dig bool
	for _, r := range run {
		switch {
		case unicode.IsUpper(r):
			up = true
		case unicode.IsLower(r):
			low = true
		case unicode.IsDigit(r):
			dig = true
		}
	}
	return up && low && dig
}

// inURL reports whether position i lies in a white-space-delimited token
// that is a URL: an issuer such as https://oidc.eks.<region>.amazonaws.com/id/<ID>/.well-known/…
// has long mixed runs that are not secrets.
func inURL(s string, i int) bool {
	from := max(0, i-2048)
	start := from + strings.LastIndexAny(s[from:i], " \t\n\"'`<>(") + 1
	return strings.Contains(s[start:i], "://")
}

func decodeJWT(tok string) (claims, bool) {
	parts := strings.Split(tok, ".")
	if len(parts) < 2 {
		return claims{}, false
	}
	tc, err := tokenclaims.DecodePayload(parts[1])
	if err != nil {
		return claims{}, false
	}
	c := claims{Iss: tc.Issuer, Sub: tc.Subject, Aud: tc.Audience, Exp: tc.Expiry, Iat: tc.IssuedAt,
		Namespace: tc.Namespace, Pod: tc.Pod, ServiceAccount: tc.ServiceAccount}
	// Claims are copied into the output; redact them too in case a token
	// carried a secret in a claim.
	for _, f := range []*string{&c.Iss, &c.Sub, &c.Namespace, &c.Pod, &c.ServiceAccount} {
		*f = scrub(*f)
	}
	for i := range c.Aud {
		c.Aud[i] = scrub(c.Aud[i])
	}
	return c, c.Iss != "" || c.Sub != "" || len(c.Aud) > 0
}

// scrub redacts a claim value without decoding nested tokens.
func scrub(v string) string {
	v = jwtRe.ReplaceAllString(v, Redacted)
	v = secretKV.ReplaceAllString(v, "${1}${2}"+Redacted)
	v = accessKeyRe.ReplaceAllString(v, Redacted)
	return redactRuns(v)
}
