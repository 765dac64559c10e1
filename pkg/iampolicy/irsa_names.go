package iampolicy

import (
	"fmt"
	"strings"
)

// subjectPrefix starts every projected service-account token's sub
// (docs/behaviour.md#projected-service-account-token).
const subjectPrefix = "system:serviceaccount:"

// normalizeIssuer strips the scheme and trailing slashes from an issuer URL,
// giving the form IAM uses in condition keys and provider ARNs (docs/behaviour.md#trust-policy-condition-keys, #iam-oidc-providers).
func normalizeIssuer(issuer string) string {
	s := strings.TrimSpace(issuer)
	for _, scheme := range []string{"https://", "http://"} {
		if len(s) >= len(scheme) && strings.EqualFold(s[:len(scheme)], scheme) {
			s = s[len(scheme):]
			break
		}
	}
	return strings.TrimRight(s, "/")
}

// parseSubject splits system:serviceaccount:<namespace>:<name>.
func parseSubject(sub string) (namespace, name string, ok bool) {
	rest, found := strings.CutPrefix(sub, subjectPrefix)
	if !found {
		return "", "", false
	}
	namespace, name, found = strings.Cut(rest, ":")
	if !found || namespace == "" || name == "" || strings.Contains(name, ":") {
		return "", "", false
	}
	return namespace, name, true
}

// providerARN is arn:<partition>:iam::<account>:oidc-provider/<issuer>.
type providerARN struct {
	partition, account, issuer string
}

func parseProviderARN(arn string) (providerARN, bool) {
	parts, ok := splitARN(arn, false)
	if !ok || parts[0] != "arn" || parts[2] != "iam" {
		return providerARN{}, false
	}
	issuer, found := strings.CutPrefix(parts[5], "oidc-provider/")
	if !found || issuer == "" {
		return providerARN{}, false
	}
	return providerARN{partition: parts[1], account: parts[4], issuer: issuer}, true
}

// eksIssuer is oidc.eks.<region>.<dns suffix>/id/<ID> (docs/behaviour.md#eks-describecluster, #partitions-and-audiences).
type eksIssuer struct {
	region, dnsSuffix, id string
}

func parseEKSIssuer(hostPath string) (eksIssuer, bool) {
	host, path, _ := strings.Cut(hostPath, "/")
	rest, ok := strings.CutPrefix(host, "oidc.eks.")
	if !ok {
		return eksIssuer{}, false
	}
	region, suffix, ok := strings.Cut(rest, ".")
	id, hasID := strings.CutPrefix(path, "id/")
	if !ok || region == "" || suffix == "" || !hasID || id == "" || strings.Contains(id, "/") {
		return eksIssuer{}, false
	}
	return eksIssuer{region: region, dnsSuffix: suffix, id: id}, true
}

// describeIssuerDifference says how found differs from the cluster's issuer:
// a role copied from another cluster, region or partition is the usual cause
// (docs/behaviour.md#f4-accessdenied-from-the-trust-policy, #f13-china-and-govcloud).
func describeIssuerDifference(found, expected string) string {
	if strings.EqualFold(found, expected) {
		return "differs only in letter case"
	}
	f, fok := parseEKSIssuer(found)
	e, eok := parseEKSIssuer(expected)
	if fok && eok {
		var diffs []string
		if f.dnsSuffix != e.dnsSuffix {
			diffs = append(diffs, fmt.Sprintf("other partition's domain %q (cluster: %q)", f.dnsSuffix, e.dnsSuffix))
		}
		if f.region != e.region {
			diffs = append(diffs, fmt.Sprintf("other region %q (cluster: %q)", f.region, e.region))
		}
		if f.id != e.id {
			if strings.EqualFold(f.id, e.id) {
				diffs = append(diffs, "cluster ID differs only in letter case")
			} else {
				diffs = append(diffs, fmt.Sprintf("trusts the OIDC provider of another cluster (ID %s), not this cluster's (ID %s)", f.id, e.id))
			}
		}
		return strings.Join(diffs, "; ")
	}
	host, _, _ := strings.Cut(found, "/")
	expectedHost, _, _ := strings.Cut(expected, "/")
	switch {
	case strings.HasPrefix(host, "oidc.") && strings.Contains(host, ".eks.") && !strings.HasPrefix(host, "oidc.eks."):
		return fmt.Sprintf("malformed EKS issuer host %q: EKS issuers are oidc.eks.<region>.<domain>", host)
	case strings.EqualFold(found, expectedHost):
		return "issuer path missing: the issuer is " + expected
	}
	return fmt.Sprintf("another issuer %q (cluster: %q)", found, expected)
}

// describeProviderDifference says how a Federated principal differs from the
// provider the pod's token is checked against.
func describeProviderDifference(found, expected string) string {
	if strings.EqualFold(found, expected) {
		return "differs only in letter case; IAM compares principal ARNs exactly"
	}
	e, eok := parseProviderARN(expected)
	f, fok := parseProviderARN(found)
	if !fok {
		switch {
		case eok && strings.EqualFold(normalizeIssuer(found), e.issuer):
			return "a provider URL, not an ARN: the Federated principal must be the provider ARN"
		case strings.HasPrefix(found, "arn:"):
			return "not an IAM OIDC provider ARN"
		}
		return "not an ARN"
	}
	if !eok {
		return "another provider"
	}
	var diffs []string
	if f.partition != e.partition {
		diffs = append(diffs, fmt.Sprintf("other partition %q (cluster: %q)", f.partition, e.partition))
	}
	if f.account != e.account {
		diffs = append(diffs, fmt.Sprintf("other account %q (the provider is in %q; it must be in the role's account)", f.account, e.account))
	}
	if f.issuer != e.issuer {
		diffs = append(diffs, describeIssuerDifference(f.issuer, e.issuer))
	}
	return strings.Join(diffs, "; ")
}

// conditionKey is a condition key cut into the parts that go wrong
// (docs/behaviour.md#trust-policy-condition-keys): "https://" or a provider ARN before the issuer, the
// issuer host/path, and the claim after the last ':'. Claim names never
// contain ':', but an issuer may carry a port (https://127.0.0.1:6443 on a
// self-managed or local cluster), so cutting at the first ':' would read
// "127.0.0.1:6443:sub" as issuer "127.0.0.1", claim "6443:sub".
type conditionKey struct {
	scheme    string
	arnPrefix string
	issuer    string
	claim     string
	hasClaim  bool
}

func parseConditionKey(key string) conditionKey {
	var k conditionKey
	rest := key
	for _, scheme := range []string{"https://", "http://"} {
		if len(rest) >= len(scheme) && strings.EqualFold(rest[:len(scheme)], scheme) {
			k.scheme, rest = rest[:len(scheme)], rest[len(scheme):]
			break
		}
	}
	if strings.HasPrefix(strings.ToLower(rest), "arn:") {
		// Five ':' end the ARN's fixed part; "oidc-provider/" belongs to
		// the prefix too, so what remains is "<issuer>:<claim>".
		n := 0
		for i := 0; i < len(rest); i++ {
			if rest[i] == ':' {
				n++
				if n == 5 {
					cut := i + 1
					if strings.HasPrefix(rest[cut:], "oidc-provider/") {
						cut += len("oidc-provider/")
					}
					k.arnPrefix, rest = rest[:cut], rest[cut:]
					break
				}
			}
		}
	}
	i := strings.LastIndexByte(rest, ':')
	if i < 0 || isPort(rest[i+1:]) {
		// "host:6443" with nothing after the port has no claim at all.
		k.issuer = rest
		return k
	}
	k.issuer, k.claim, k.hasClaim = rest[:i], rest[i+1:], true
	return k
}

// isPort reports whether s looks like a TCP port rather than a claim name.
func isPort(s string) bool {
	if s == "" || len(s) > 5 {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// refersToIssuer reports whether the key is meant as "<issuer>:<claim>"
// rather than a global key such as aws:SourceIp or sts:ExternalId.
func (k conditionKey) refersToIssuer() bool {
	return k.scheme != "" || k.arnPrefix != "" || strings.ContainsAny(k.issuer, "./")
}

// supportedClaims are the only claims IAM exposes for an OIDC provider
// (docs/behaviour.md#trust-policy-condition-keys); key names are case-insensitive.
var supportedClaims = []string{"sub", "aud", "amr", "azp"}

// canonicalClaim returns the lower-case spelling of a supported claim.
func canonicalClaim(claim string) (string, bool) {
	for _, c := range supportedClaims {
		if strings.EqualFold(claim, c) {
			return c, true
		}
	}
	return claim, false
}

// placeholderWords are upper-case template tokens seen in copied trust
// policies (docs/behaviour.md#f4-accessdenied-from-the-trust-policy: "OIDC_PROVIDER:sub", webhook README's
// "oidc.REGION.eks.amazonaws.com/CLUSTER_ID"). Kubernetes names, regions and
// partitions are lower-case and account IDs are digits, so an upper-case word
// from this list cannot be a real value.
var placeholderWords = map[string]bool{
	"OIDC_PROVIDER": true, "OIDC_PROVIDER_URL": true, "OIDC_URL": true, "OIDC_ID": true,
	"PROVIDER_URL": true, "ISSUER_URL": true, "OIDC_ISSUER": true,
	"ACCOUNT_ID": true, "AWS_ACCOUNT_ID": true, "ACCOUNT_NUMBER": true, "ACCOUNTID": true,
	"REPLACE_ME": true, "REPLACEME": true, "CHANGE_ME": true, "CHANGEME": true, "TODO": true,
	"CLUSTER_ID": true, "CLUSTER_NAME": true, "REGION": true, "AWS_REGION": true, "PARTITION": true,
	"NAMESPACE": true, "SERVICE_ACCOUNT": true, "SERVICE_ACCOUNT_NAME": true, "SA_NAME": true,
}

// findPlaceholder returns the first unsubstituted template placeholder in s,
// or "". IAM's own escapes ${*}, ${?} and ${$} are not placeholders.
func findPlaceholder(s string) string {
	for _, delim := range [][2]string{{"${", "}"}, {"$(", ")"}, {"{{", "}}"}, {"<", ">"}} {
		start := 0
		for {
			i := strings.Index(s[start:], delim[0])
			if i < 0 {
				break
			}
			i += start
			end := strings.Index(s[i+len(delim[0]):], delim[1])
			if end < 0 {
				break
			}
			token := s[i : i+len(delim[0])+end+len(delim[1])]
			start = i + len(token)
			if delim[0] == "${" {
				switch token {
				case "${*}", "${?}", "${$}":
					continue
				}
			}
			return token
		}
	}
	// A shell variable such as $OIDC_PROVIDER.
	for i := 0; i+1 < len(s); i++ {
		if s[i] == '$' && (s[i+1] == '_' || (s[i+1] >= 'A' && s[i+1] <= 'Z')) {
			j := i + 1
			for j < len(s) && isWordByte(s[j]) {
				j++
			}
			return s[i:j]
		}
	}
	for _, word := range splitWords(s) {
		switch {
		case placeholderWords[word]:
			return word
		case strings.HasPrefix(word, "YOUR_"):
			return word
		}
	}
	return ""
}

func splitWords(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return !isWordRune(r) })
}

func isWordByte(b byte) bool {
	return isWordRune(rune(b))
}

// isWordRune reports an ASCII letter, digit or underscore; every other rune,
// non-ASCII included, separates words.
func isWordRune(r rune) bool {
	return r == '_' || (r >= '0' && r <= '9') || (r >= 'A' && r <= 'Z') || (r >= 'a' && r <= 'z')
}
