// Package thumbprint is the pure half of the thumbprint logic: the facts of a
// served TLS chain (Report), the verdict against an IAM OIDC provider's
// ThumbprintList (Judge, JudgeProvider) and the corrected list (UpdatedList).
// It does no I/O, so pkg/diag and the thumbprint command share one verdict;
// pkg/tlsinspect reads the chains. Why the last served certificate is the one
// hashed, and when STS consults the list at all: docs/behaviour.md.
package thumbprint

import (
	"errors"
	"fmt"
	"strings"
)

// MaxThumbprints is the number of entries IAM allows in a provider's
// ThumbprintList (docs/behaviour.md#thumbprint-format-and-limits).
const MaxThumbprints = 5

// ValidEntry reports whether s is a well-formed ThumbprintList entry: exactly
// 40 hexadecimal characters, either case (docs/behaviour.md#thumbprint-format-and-limits). Entries with colons
// or whitespace (openssl's output pasted as is) are not valid: IAM compares
// them literally, so they can never match.
func ValidEntry(s string) bool {
	if len(s) != 40 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// normalizeEntry strips what people commonly paste along with a fingerprint
// (colons, spaces, openssl's "SHA1 Fingerprint=" prefix). It is used only to
// tell the user what an invalid entry would have matched, never to accept one.
func normalizeEntry(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndex(s, "="); i >= 0 {
		s = s[i+1:]
	}
	return strings.ToLower(strings.Map(func(r rune) rune {
		if r == ':' || r == ' ' || r == '\t' || r == '\n' || r == '\r' {
			return -1
		}
		return r
	}, s))
}

// UpdatedList returns the ThumbprintList to send to
// UpdateOpenIDConnectProviderThumbprint. That call REPLACES the whole list
// (docs/behaviour.md#creating-and-updating-thumbprints), so the result must carry every entry that is still needed:
//
//   - required come first, in order, lower-cased and de-duplicated. There can be
//     two of them when the issuer and jwks_uri hosts differ (docs/behaviour.md#thumbprint-input: AWS checks
//     both). None is ever dropped; an invalid one or more than MaxThumbprints is
//     an error.
//   - then the current entries that are well-formed and for which stillValid
//     (called with the lower-cased entry; nil keeps all) returns true, in their
//     current order, lower-cased and de-duplicated case-insensitively.
//   - the list is capped at MaxThumbprints by dropping the last kept entries.
func UpdatedList(current, required []string, stillValid func(string) bool) ([]string, error) {
	if len(required) == 0 {
		return nil, errors.New("no thumbprint to put in the list")
	}
	seen := make(map[string]bool, MaxThumbprints)
	out := make([]string, 0, MaxThumbprints)
	for _, t := range required {
		if !ValidEntry(t) {
			return nil, fmt.Errorf("thumbprint %q is not 40 hexadecimal characters", t)
		}
		t = strings.ToLower(t)
		if seen[t] {
			continue
		}
		seen[t] = true
		out = append(out, t)
	}
	if len(out) > MaxThumbprints {
		return nil, fmt.Errorf("%d thumbprints are required but IAM allows at most %d", len(out), MaxThumbprints)
	}
	for _, c := range current {
		if len(out) == MaxThumbprints {
			break
		}
		if !ValidEntry(c) {
			continue
		}
		c = strings.ToLower(c)
		if seen[c] || (stillValid != nil && !stillValid(c)) {
			continue
		}
		seen[c] = true
		out = append(out, c)
	}
	return out, nil
}

// UpdateCommand returns the AWS CLI line that sets the provider's
// ThumbprintList to list. Arguments are shell-quoted when needed so the line
// can be pasted as is.
func UpdateCommand(providerARN string, list []string) string {
	var b strings.Builder
	b.WriteString("aws iam update-open-id-connect-provider-thumbprint --open-id-connect-provider-arn ")
	b.WriteString(shellQuote(providerARN))
	b.WriteString(" --thumbprint-list")
	for _, t := range list {
		b.WriteByte(' ')
		b.WriteString(shellQuote(t))
	}
	return b.String()
}

// shellQuote leaves words made only of characters that no POSIX shell treats
// specially untouched (every real ARN and thumbprint) and single-quotes the rest.
func shellQuote(s string) string {
	safe := s != ""
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:=@,+%", r)) {
			safe = false
			break
		}
	}
	if safe {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
