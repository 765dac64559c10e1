package thumbprint

import (
	"fmt"
	"strings"
)

// Verdict is the outcome of Judge. The values are stable identifiers that
// callers may persist or match on.
type Verdict string

// Verdicts, per docs/behaviour.md#trusted-ca-library, #thumbprints-per-issuer-type.
const (
	// Match: every inspected host's thumbprint is in the list.
	Match Verdict = "Match"
	// StaleIgnored: no match, but every chain verifies against public roots,
	// so STS validates it with its trusted-CA library and ignores the list.
	StaleIgnored Verdict = "StaleIgnored"
	// MismatchBreaks: STS checks thumbprints for this issuer (a chain that
	// does not verify publicly, or a TLS-1.3-only host) and a needed one is
	// missing; tokens fail with "OpenIDConnect provider's HTTPS certificate
	// doesn't match configured thumbprint".
	MismatchBreaks Verdict = "MismatchBreaks"
	// ProviderMissing: no IAM OIDC provider exists for the issuer.
	ProviderMissing Verdict = "ProviderMissing"
	// Unreachable: the jwks_uri host's chain could not be read from here.
	Unreachable Verdict = "Unreachable"
	// InvalidEntries: some entries are not 40 hex characters and can never
	// match (colons, whitespace, truncation).
	InvalidEntries Verdict = "InvalidEntries"
	// LikelyInterceptingProxy: an AWS-operated host served a chain that does
	// not verify against public roots, so what was read locally is not what
	// STS sees.
	LikelyInterceptingProxy Verdict = "LikelyInterceptingProxy"
)

// Severities, matching the plugin's finding severities.
const (
	SeverityError   = "error"
	SeverityWarning = "warning"
	SeverityInfo    = "info"
)

// Judgement is Judge's answer.
type Judgement struct {
	Verdict  Verdict `json:"verdict"`
	Severity string  `json:"severity"`
	// Message is one line for a human.
	Message string `json:"message"`
	// Matched is the list entry, as written, that matched the jwks_uri host's
	// thumbprint, if any.
	Matched string `json:"matched,omitempty"`
	// Required are the thumbprints the list must contain for STS's fallback
	// check (jwks_uri host first, then the issuer host), ready for
	// UpdatedList. It is empty when the local view must not be used as a fix
	// (LikelyInterceptingProxy, Unreachable, ProviderMissing).
	Required []string `json:"required,omitempty"`
	// Invalid are the entries that are not 40 hex characters.
	Invalid []string `json:"invalid,omitempty"`
}

const thumbprintMismatchError = "InvalidIdentityToken: OpenIDConnect provider's HTTPS certificate doesn't match configured thumbprint"

// Judge compares r with the provider's ThumbprintList. providerFound says
// whether an IAM OIDC provider exists for r.Issuer (in the role's account);
// when it is false the list is ignored.
//
// Checks run in order of severity so the verdict is the most important
// finding: ProviderMissing, Unreachable, LikelyInterceptingProxy,
// MismatchBreaks, InvalidEntries, then Match or StaleIgnored. Entries compare
// case-insensitively (docs/behaviour.md#thumbprint-format-and-limits); malformed entries are only flagged,
// never repaired.
func Judge(r Report, providerFound bool, providerThumbprints []string) Judgement {
	if !providerFound {
		return Judgement{
			Verdict:  ProviderMissing,
			Severity: SeverityError,
			Message:  fmt.Sprintf("no IAM OIDC provider exists for %s; STS fails with \"No OpenIDConnect provider found in your account for %s\"", r.Issuer, r.Issuer),
		}
	}

	valid, invalid := classifyEntries(providerThumbprints)

	if len(r.Hosts) == 0 || len(r.Hosts[0].Certs) == 0 {
		reason := unreadReason(r)
		// docs/behaviour.md#thumbprints-per-issuer-type (local view): a proxy, missing egress or VPC-endpoint DNS
		// (NXDOMAIN for the EKS issuer) can make the local view differ.
		return Judgement{
			Verdict:  Unreachable,
			Severity: SeverityWarning,
			Message:  fmt.Sprintf("could not read the jwks_uri TLS chain for %s (%s); the thumbprint cannot be checked from here, and a proxy, missing egress or VPC-endpoint DNS can make this view differ from what STS sees", r.Issuer, reason),
			Invalid:  invalid,
		}
	}

	var chains []HostChain
	for _, h := range r.Hosts {
		if len(h.Certs) > 0 {
			chains = append(chains, h)
		}
	}

	if j, ok := interception(r, chains, valid, invalid); ok {
		return j
	}

	var required, missing, why []string
	fallback := false
	for _, h := range chains {
		if !contains(required, h.Thumbprint) {
			required = append(required, h.Thumbprint)
		}
		if _, ok := valid[h.Thumbprint]; !ok && !contains(missing, h.Thumbprint) {
			missing = append(missing, h.Thumbprint)
		}
		// docs/behaviour.md#trusted-ca-library: thumbprints are used only when the chain is not
		// signed by a trusted CA or TLS 1.3 is required; then both hosts are
		// checked (docs/behaviour.md#thumbprint-input).
		switch {
		case !h.Verified:
			fallback = true
			why = append(why, fmt.Sprintf("%s chain does not verify: %s", h.Addr(), h.VerifyError))
		case h.TLS13Only:
			fallback = true
			why = append(why, fmt.Sprintf("%s requires TLS 1.3", h.Addr()))
		}
	}
	j := Judgement{
		Matched:  valid[strings.ToLower(r.Hosts[0].Thumbprint)],
		Required: required,
		Invalid:  invalid,
	}
	hint := nearMisses(invalid, missing)

	switch {
	case fallback && len(missing) > 0:
		j.Verdict, j.Severity = MismatchBreaks, SeverityError
		j.Message = fmt.Sprintf("ThumbprintList %s lacks %s (%s); STS checks thumbprints for this issuer because %s, so tokens fail with %q%s",
			listString(providerThumbprints), strings.Join(missing, ", "), servedBy(chains, missing), strings.Join(why, "; "), thumbprintMismatchError, hint)
	case len(invalid) > 0:
		j.Verdict, j.Severity = InvalidEntries, SeverityWarning
		state := "the valid entries cover every host"
		if len(missing) > 0 {
			state = "STS ignores the list for this publicly trusted issuer"
		}
		j.Message = fmt.Sprintf("ThumbprintList entries %s are not 40 hexadecimal characters and can never match (%s)%s", listString(invalid), state, hint)
	case len(missing) == 0:
		j.Verdict, j.Severity = Match, SeverityInfo
		j.Message = fmt.Sprintf("ThumbprintList contains %s (%s)", strings.Join(required, ", "), servedBy(chains, required))
		if !fallback {
			j.Message += "; the chain verifies against public roots, so STS does not consult it anyway"
		}
	default:
		j.Verdict, j.Severity = StaleIgnored, SeverityInfo
		j.Message = fmt.Sprintf("ThumbprintList %s lacks %s (%s), but the chain verifies against public roots, so STS validates it with its trusted-CA library and ignores the thumbprint: stale, not a failure cause",
			listString(providerThumbprints), strings.Join(missing, ", "), servedBy(chains, missing))
	}
	return j
}

// classifyEntries splits a ThumbprintList into its valid entries, keyed by
// their lower-case form (the first spelling wins), and the invalid ones.
func classifyEntries(entries []string) (valid map[string]string, invalid []string) {
	valid = make(map[string]string, len(entries)) // lower-case → as written
	for _, e := range entries {
		if !ValidEntry(e) {
			invalid = append(invalid, e)
			continue
		}
		if _, dup := valid[strings.ToLower(e)]; !dup {
			valid[strings.ToLower(e)] = e
		}
	}
	return valid, invalid
}

// unreadReason says why r holds no chain for the jwks_uri host.
func unreadReason(r Report) string {
	reason := r.DiscoveryError
	if reason == "" && len(r.Hosts) > 0 {
		reason = r.Hosts[0].Error
	}
	if reason == "" {
		reason = "no chain was read"
	}
	return reason
}

// interception returns the LikelyInterceptingProxy judgement for the first
// AWS-operated host whose chain does not verify against public roots.
func interception(r Report, chains []HostChain, valid map[string]string, invalid []string) (Judgement, bool) {
	for _, h := range chains {
		if h.PrivateCA && awsOperatedHost(h.Host) {
			via := "a TLS-intercepting proxy"
			if h.ViaProxy != "" {
				via += " (" + h.ViaProxy + ")"
			}
			last := h.Certs[len(h.Certs)-1]
			return Judgement{
				Verdict:  LikelyInterceptingProxy,
				Severity: SeverityWarning,
				Message: fmt.Sprintf("%s is served by AWS with a publicly trusted chain, but the chain read from here ends in %q, which does not verify against public roots; %s is the likely cause, STS sees AWS's own chain, so do not put the local thumbprint %s in the provider",
					h.Addr(), last.Issuer, via, h.Thumbprint),
				Matched: valid[strings.ToLower(r.Hosts[0].Thumbprint)],
				Invalid: invalid,
			}, true
		}
	}
	return Judgement{}, false
}

// servedBy names, for each thumbprint, the host whose last certificate it is.
func servedBy(chains []HostChain, thumbs []string) string {
	var parts []string
	for _, t := range thumbs {
		for _, h := range chains {
			if h.Thumbprint == t {
				parts = append(parts, fmt.Sprintf("last certificate served by %s host %s", h.Role, h.Addr()))
				break
			}
		}
	}
	return strings.Join(parts, "; ")
}

// nearMisses tells the user when a malformed entry is the right thumbprint
// written the openssl way (upper case with colons) or with stray whitespace.
func nearMisses(invalid, missing []string) string {
	var out []string
	for _, e := range invalid {
		n := normalizeEntry(e)
		if ValidEntry(n) && contains(missing, n) {
			out = append(out, fmt.Sprintf("entry %q would match if written as %s", e, n))
		}
	}
	if len(out) == 0 {
		return ""
	}
	return "; " + strings.Join(out, "; ")
}

func listString(list []string) string {
	if len(list) == 0 {
		return "[]"
	}
	q := make([]string, len(list))
	for i, s := range list {
		q[i] = fmt.Sprintf("%q", s)
	}
	return "[" + strings.Join(q, " ") + "]"
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

// awsOperatedHost reports whether host is one AWS serves with an Amazon Trust
// Services chain (docs/behaviour.md#thumbprints-per-issuer-type: EKS issuers and S3-hosted discovery), so an
// unknown-authority chain for it means something on the path replaced the
// certificate. Only the suffixes of partitions whose endpoints use public CAs
// are listed (aws, aws-us-gov: amazonaws.com; aws-cn: amazonaws.com.cn); the
// ISO partitions use private CAs, where an untrusted chain is expected.
func awsOperatedHost(host string) bool {
	h := strings.ToLower(strings.TrimSuffix(host, "."))
	if rest, ok := strings.CutSuffix(h, ".api.aws"); ok {
		// Dual-stack EKS issuer host, oidc-eks.<region>.api.aws.
		labels := strings.Split(rest, ".")
		return len(labels) == 2 && labels[0] == "oidc-eks"
	}
	if rest, ok := strings.CutSuffix(h, ".cloudfront.net"); ok {
		return rest != "" && !strings.Contains(rest, ".")
	}
	for _, suffix := range []string{".amazonaws.com.cn", ".amazonaws.com"} {
		rest, ok := strings.CutSuffix(h, suffix)
		if !ok {
			continue
		}
		labels := strings.Split(rest, ".")
		if len(labels) == 3 && labels[0] == "oidc" && labels[1] == "eks" {
			return true
		}
		for _, l := range labels {
			// s3, s3-<region>, s3-website-…, s3-accesspoint, with or without
			// a bucket label in front.
			if l == "s3" || strings.HasPrefix(l, "s3-") {
				return true
			}
		}
		return false
	}
	return false
}
