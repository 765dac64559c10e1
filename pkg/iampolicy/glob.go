package iampolicy

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// MatchLike reports whether value matches an IAM StringLike pattern
// (docs/behaviour.md#condition-operators): '*' matches any run of characters (empty included, '/'
// and ':' included), '?' matches exactly one character (a rune, not a byte),
// matching is case-sensitive, and there are no character classes — which is
// why path.Match and filepath.Match are wrong here. IAM's escapes ${*}, ${?}
// and ${$} stand for a literal '*', '?' and '$'. Any other ${...} is compared
// as literal text, because MatchLike has no request context to resolve
// policy variables from.
//
// The matcher backtracks only to the most recent '*', so the cost is
// O(len(pattern)·len(value)) even for patterns like "a*a*a*a*b".
func MatchLike(pattern, value string) bool {
	return globMatch(pattern, value, globOptions{wildcards: true, escapes: true})
}

// globOptions selects which of IAM's matching rules apply.
type globOptions struct {
	// wildcards makes '*' and '?' special (StringLike, ArnLike, actions);
	// without it they are literal (StringEquals, docs/behaviour.md#condition-operators).
	wildcards bool
	// foldCase compares case-insensitively (actions, *IgnoreCase).
	foldCase bool
	// escapes enables IAM's policy-variable syntax: ${*}, ${?}, ${$} and,
	// when resolve is set, ${key} / ${key, 'default'}.
	escapes bool
	// resolve returns the value of a policy variable; nil leaves ${key} as
	// literal text.
	resolve func(name string) (string, bool)
}

type tokenKind uint8

const (
	tokenLiteral tokenKind = iota
	tokenStar
	tokenOne
	tokenUnresolved
)

// nextToken reads the pattern token starting at byte i and returns its kind,
// the literal text it stands for, and the index after it.
func nextToken(pattern string, i int, o *globOptions) (tokenKind, string, int) {
	c := pattern[i]
	if o.wildcards {
		switch c {
		case '*':
			return tokenStar, "", i + 1
		case '?':
			return tokenOne, "", i + 1
		}
	}
	if o.escapes && c == '$' && strings.HasPrefix(pattern[i:], "${") {
		end := strings.IndexByte(pattern[i:], '}')
		if end > 0 {
			name := pattern[i+2 : i+end]
			next := i + end + 1
			switch name {
			case "*", "?", "$":
				return tokenLiteral, name, next
			}
			if o.resolve != nil {
				if v, ok := resolveVariable(name, o.resolve); ok {
					return tokenLiteral, v, next
				}
				return tokenUnresolved, "", next
			}
		}
	}
	_, size := utf8.DecodeRuneInString(pattern[i:])
	return tokenLiteral, pattern[i : i+size], i + size
}

// resolveVariable handles "${key}" and "${key, 'default'}": IAM substitutes
// the request's value of key, or the default when the key is missing, and
// otherwise the comparison cannot succeed.
func resolveVariable(spec string, resolve func(string) (string, bool)) (string, bool) {
	name, fallback, hasDefault := strings.Cut(spec, ",")
	name = strings.TrimSpace(name)
	if v, ok := resolve(name); ok {
		return v, true
	}
	if hasDefault {
		fallback = strings.TrimSpace(fallback)
		if len(fallback) >= 2 && fallback[0] == '\'' && fallback[len(fallback)-1] == '\'' {
			return fallback[1 : len(fallback)-1], true
		}
	}
	return "", false
}

// globMatch is a greedy matcher that remembers only the last '*': when a
// later token fails it lets that star absorb one more rune and retries. That
// is complete for patterns whose only wildcard is "any run", and it cannot
// blow up exponentially.
func globMatch(pattern, value string, o globOptions) bool {
	p, v := 0, 0
	starNext, starValue := -1, 0
	for {
		if p < len(pattern) {
			kind, literal, next := nextToken(pattern, p, &o)
			switch kind {
			case tokenStar:
				starNext, starValue = next, v
				p = next
				continue
			case tokenOne:
				if v < len(value) {
					_, size := utf8.DecodeRuneInString(value[v:])
					v += size
					p = next
					continue
				}
			case tokenLiteral:
				if n, ok := matchPrefix(value[v:], literal, o.foldCase); ok {
					v += n
					p = next
					continue
				}
			case tokenUnresolved:
				return false
			}
		} else if v == len(value) {
			return true
		}
		if starNext < 0 || starValue >= len(value) {
			return false
		}
		_, size := utf8.DecodeRuneInString(value[starValue:])
		starValue += size
		v, p = starValue, starNext
	}
}

// matchPrefix reports whether s starts with literal and how many bytes of s
// that prefix spans (with case folding the byte lengths can differ).
func matchPrefix(s, literal string, fold bool) (int, bool) {
	if !fold {
		if strings.HasPrefix(s, literal) {
			return len(literal), true
		}
		return 0, false
	}
	n := 0
	for _, want := range literal {
		if n >= len(s) {
			return 0, false
		}
		got, size := utf8.DecodeRuneInString(s[n:])
		if got != want && !equalFoldRune(got, want) {
			return 0, false
		}
		n += size
	}
	return n, true
}

// equalFoldRune is strings.EqualFold for one rune.
func equalFoldRune(a, b rune) bool {
	for r := unicode.SimpleFold(a); r != a; r = unicode.SimpleFold(r) {
		if r == b {
			return true
		}
	}
	return false
}

// hasWildcard reports whether an IAM StringLike pattern contains an
// unescaped '*' or '?'.
func hasWildcard(pattern string) bool {
	o := globOptions{wildcards: true, escapes: true}
	for i := 0; i < len(pattern); {
		kind, _, next := nextToken(pattern, i, &o)
		if kind == tokenStar || kind == tokenOne {
			return true
		}
		i = next
	}
	return false
}

// instantiate replaces every unescaped '*' with star and every '?' with one,
// turning a StringLike pattern into a concrete string it matches. The IRSA
// security checks use it to find out what a wildcard admits.
func instantiate(pattern, star, one string) string {
	o := globOptions{wildcards: true, escapes: true}
	var b strings.Builder
	for i := 0; i < len(pattern); {
		kind, literal, next := nextToken(pattern, i, &o)
		switch kind {
		case tokenStar:
			b.WriteString(star)
		case tokenOne:
			b.WriteString(one)
		default:
			b.WriteString(literal)
		}
		i = next
	}
	return b.String()
}
