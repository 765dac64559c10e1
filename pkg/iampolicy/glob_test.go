package iampolicy

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestMatchLike(t *testing.T) {
	t.Parallel()
	tests := []struct {
		pattern, value string
		want           bool
	}{
		{"", "", true},
		{"", "a", false},
		{"*", "", true},
		{"*", "anything/at:all", true},
		{"**", "", true},
		{"***a", "a", true},
		{"a**b", "ab", true},
		{"a**b", "axxb", true},
		{"a*", "a", true},
		{"a*", "ba", false},
		{"*a", "ba", true},
		{"*a", "ab", false},
		{"?", "", false},
		{"?", "a", true},
		{"?", "ab", false},
		{"??", "ab", true},
		{"?", "é", true},   // one rune, two bytes
		{"??", "é", false}, // not two bytes
		{"?", "日", true},
		{"a?c", "a日c", true},
		{"*日", "今日", true},
		{"*", "\xff", true},
		{"?", "\xff", true}, // invalid UTF-8: one byte is one "character"
		{"abc", "ABC", false},
		{"ABC", "ABC", true},
		{"system:serviceaccount:prod:*", "system:serviceaccount:prod:app", true},
		{"system:serviceaccount:prod:*", "system:serviceaccount:staging:app", false},
		{"system:serviceaccount:*:app", "system:serviceaccount:prod:app", true},
		{"system:serviceaccount:*:app", "system:serviceaccount:prod:app2", false},
		{"system:serviceaccount:*", "system:serviceaccount:a:b", true},
		{"*/id/*", "oidc.eks.us-west-2.amazonaws.com/id/ABC", true}, // '*' crosses '/'
		{"[ab]", "a", false}, // no character classes
		{"[ab]", "[ab]", true},
		{`a\*`, `a\xyz`, true}, // backslash is not an escape
		{"${*}", "*", true},
		{"${*}", "x", false},
		{"${?}", "?", true},
		{"${?}", "x", false},
		{"${$}", "$", true},
		{"a${*}b*", "a*bcd", true},
		{"a${*}b*", "axbcd", false},
		{"${aws:username}", "${aws:username}", true}, // no context: literal
		{"${unterminated", "${unterminated", true},
		{"$", "$", true},
		{"a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab", true},
		{"a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false},
		{"*ab*ab*", "xxabyyab", true},
		{"*abc", "ababc", true},
		{"a*b*c", "abbbc", true},
		{"a*b*c", "acb", false},
	}
	for _, tt := range tests {
		if got := MatchLike(tt.pattern, tt.value); got != tt.want {
			t.Errorf("MatchLike(%q, %q) = %v, want %v", tt.pattern, tt.value, got, tt.want)
		}
	}
}

// referenceLike is a deliberately naive recursive matcher with the same
// semantics, used to cross-check the linear matcher.
func referenceLike(pattern, value string) bool {
	if pattern == "" {
		return value == ""
	}
	for _, esc := range []string{"${*}", "${?}", "${$}"} {
		if strings.HasPrefix(pattern, esc) {
			lit := esc[2:3]
			return strings.HasPrefix(value, lit) && referenceLike(pattern[len(esc):], value[1:])
		}
	}
	switch pattern[0] {
	case '*':
		for i := 0; ; {
			if referenceLike(pattern[1:], value[i:]) {
				return true
			}
			if i >= len(value) {
				return false
			}
			_, size := utf8.DecodeRuneInString(value[i:])
			i += size
		}
	case '?':
		if value == "" {
			return false
		}
		_, size := utf8.DecodeRuneInString(value)
		return referenceLike(pattern[1:], value[size:])
	}
	_, size := utf8.DecodeRuneInString(pattern)
	return strings.HasPrefix(value, pattern[:size]) && referenceLike(pattern[size:], value[size:])
}

func TestMatchLikeAgreesWithReference(t *testing.T) {
	t.Parallel()
	alphabet := []string{"a", "b", "*", "?", "${*}", "é", ":"}
	values := []string{"", "a", "b", "ab", "ba", "aab", "abab", "*", "?", "a*b", "é", "aé", "a:b", "abba", "bbbb", "a?b"}
	var patterns []string
	var build func(prefix string, depth int)
	build = func(prefix string, depth int) {
		patterns = append(patterns, prefix)
		if depth == 0 {
			return
		}
		for _, s := range alphabet {
			build(prefix+s, depth-1)
		}
	}
	build("", 4)
	for _, p := range patterns {
		for _, v := range values {
			if got, want := MatchLike(p, v), referenceLike(p, v); got != want {
				t.Fatalf("MatchLike(%q, %q) = %v, reference says %v", p, v, got, want)
			}
		}
	}
}

func TestMatchLikeIsNotExponential(t *testing.T) {
	t.Parallel()
	pattern := strings.Repeat("a*", 200) + "b"
	value := strings.Repeat("a", 5000)
	start := time.Now()
	if MatchLike(pattern, value) {
		t.Fatal("pattern ending in b matched a value without b")
	}
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Fatalf("pathological pattern took %v", elapsed)
	}
}

func TestActionGlobFoldsCase(t *testing.T) {
	t.Parallel()
	o := globOptions{wildcards: true, foldCase: true}
	for _, tt := range []struct {
		pattern, value string
		want           bool
	}{
		{"sts:assumerolewithwebidentity", "sts:AssumeRoleWithWebIdentity", true},
		{"STS:*", "sts:AssumeRoleWithWebIdentity", true},
		{"sts:assumerole", "sts:AssumeRoleWithWebIdentity", false},
		{"sts:AssumeRole?ithWebIdentity", "sts:AssumeRoleWithWebIdentity", true},
		{"K", "\u212a", true}, // Kelvin sign folds to K
	} {
		if got := globMatch(tt.pattern, tt.value, o); got != tt.want {
			t.Errorf("globMatch(%q, %q, fold) = %v, want %v", tt.pattern, tt.value, got, tt.want)
		}
	}
}

func TestInstantiateAndHasWildcard(t *testing.T) {
	t.Parallel()
	if got := instantiate("system:serviceaccount:*:app-?${*}", "ns", "x"); got != "system:serviceaccount:ns:app-x*" {
		t.Errorf("instantiate = %q", got)
	}
	for pattern, want := range map[string]bool{"a*": true, "a?": true, "a${*}": false, "a${?}b": false, "plain": false} {
		if got := hasWildcard(pattern); got != want {
			t.Errorf("hasWildcard(%q) = %v, want %v", pattern, got, want)
		}
	}
}

func FuzzMatchLike(f *testing.F) {
	for _, seed := range [][2]string{{"a*b", "axxb"}, {"${*}?", "*é"}, {"*a*a*b", "aaab"}, {"?", "\xff"}} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, pattern, value string) {
		if len(pattern) > 12 || len(value) > 24 {
			return // the reference matcher is exponential
		}
		if got, want := MatchLike(pattern, value), referenceLike(pattern, value); got != want {
			t.Fatalf("MatchLike(%q, %q) = %v, reference says %v", pattern, value, got, want)
		}
	})
}
