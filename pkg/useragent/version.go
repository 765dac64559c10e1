package useragent

import (
	"strings"
)

// maxVersionComponents bounds how many dot-separated numbers a version may
// have: .NET uses four (3.7.302.0), nothing uses more than a handful.
const maxVersionComponents = 8

// version is a parsed version: its numeric components, as decimal strings so
// no component can overflow, and what follows them.
type version struct {
	numbers []string
	// preRelease is a suffix such as "-rc.9", "dev3" or "-SNAPSHOT"; a
	// version with one sorts before the same numbers without.
	preRelease string
}

// parseVersion reads "1.10.2", "v1.47.11", "3.3.659.1", "3.0.0-rc.9",
// "2.0.0dev3" or "1.2.3+build". It rejects anything that does not start with
// a number, so a product token that carries a word is not mistaken for a
// version.
func parseVersion(text string) (version, bool) {
	rest := strings.TrimPrefix(strings.TrimPrefix(text, "v"), "V")
	var parsed version
	for {
		digits := leadingDigits(rest)
		if digits == "" || len(parsed.numbers) == maxVersionComponents {
			return version{}, false
		}
		parsed.numbers = append(parsed.numbers, digits)
		rest = rest[len(digits):]
		if len(rest) < 2 || rest[0] != '.' || !isDigit(rest[1]) {
			break
		}
		rest = rest[1:]
	}
	if rest == "" {
		return parsed, true
	}
	if !validSuffix(rest) {
		return version{}, false
	}
	// Build metadata after "+" does not order versions (as in semver).
	if rest[0] != '+' {
		parsed.preRelease, _, _ = strings.Cut(rest, "+")
	}
	return parsed, true
}

func leadingDigits(text string) string {
	end := 0
	for end < len(text) && isDigit(text[end]) {
		end++
	}
	return text[:end]
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isLetter(c byte) bool { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') }

// validSuffix accepts what SDK versions put after their numbers: a "-", "+"
// or letter, then letters, digits and the separators "-", ".", "_" and "+".
// A trailing "." or a second number glued on by something else is refused.
func validSuffix(suffix string) bool {
	if first := suffix[0]; first != '-' && first != '+' && !isLetter(first) {
		return false
	}
	for i := 0; i < len(suffix); i++ {
		c := suffix[i]
		if !isLetter(c) && !isDigit(c) && c != '-' && c != '.' && c != '_' && c != '+' {
			return false
		}
	}
	return true
}

func validVersion(text string) bool {
	_, ok := parseVersion(text)
	return ok
}

// Compare orders two versions numerically: -1 if a < b, 0 if equal, 1 if
// a > b. Missing components count as zero (1.2 == 1.2.0), components compare
// as numbers (1.10 > 1.9), a leading "v" is ignored and a pre-release sorts
// before its release (3.0.0-rc.9 < 3.0.0). orderable is false when either
// is not a version.
func Compare(a, b string) (order int, orderable bool) {
	left, ok := parseVersion(a)
	if !ok {
		return 0, false
	}
	right, ok := parseVersion(b)
	if !ok {
		return 0, false
	}
	for i := 0; i < max(len(left.numbers), len(right.numbers)); i++ {
		if order := compareNumbers(component(left.numbers, i), component(right.numbers, i)); order != 0 {
			return order, true
		}
	}
	return comparePreRelease(left.preRelease, right.preRelease), true
}

func component(numbers []string, i int) string {
	if i < len(numbers) {
		return numbers[i]
	}
	return "0"
}

// compareNumbers compares two decimal strings of any length.
func compareNumbers(a, b string) int {
	a = strings.TrimLeft(a, "0")
	b = strings.TrimLeft(b, "0")
	if len(a) != len(b) {
		if len(a) < len(b) {
			return -1
		}
		return 1
	}
	return strings.Compare(a, b)
}

// comparePreRelease orders equal numbers by suffix: none is the release and
// sorts last; two pre-releases compare as text, which is enough to be
// deterministic (the minimum tables hold no pre-releases).
func comparePreRelease(a, b string) int {
	switch {
	case a == b:
		return 0
	case a == "":
		return 1
	case b == "":
		return -1
	default:
		return strings.Compare(a, b)
	}
}
