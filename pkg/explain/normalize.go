package explain

import (
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// document is pasted text made ready for matching: line endings unified,
// JSON/Go-quoted escapes decoded and secrets redacted.
type document struct {
	text string
	// claims are the claims of the JWTs found (and removed) in the text.
	claims []claims
}

// maxInput bounds the text looked at; a pasted log beyond 4 MiB is cut.
const maxInput = 4 << 20

func prepare(raw string) document {
	if len(raw) > maxInput {
		raw = raw[:maxInput]
	}
	s := strings.ToValidUTF8(raw, "\uFFFD")
	s = unifyNewlines(s)
	// Errors are often pasted from JSON log lines or Go %q output, where the
	// Go v1 wrapper's "\ncaused by:" and "\tstatus code:" (docs/behaviour.md#sts-validation-order)
	// arrive as literal backslash escapes. JSON-in-JSON doubles them, so
	// decode up to three times.
	for i := 0; i < 3 && looksEscaped(s); i++ {
		u := unescape(s)
		if u == s {
			break
		}
		s = unifyNewlines(u)
	}
	// Coloured logs carry ANSI sequences; other control characters would
	// reach the terminal through facts and messages.
	s = ansiSeq.ReplaceAllString(s, "")
	s = strings.Map(func(r rune) rune {
		if r < 0x20 && r != '\n' && r != '\t' || r == 0x7f {
			return -1
		}
		return r
	}, s)
	s, cl := redact(s)
	return document{text: s, claims: cl}
}

var ansiSeq = regexp.MustCompile(`\x1b\[[0-9;?]*[A-Za-z]`)

func unifyNewlines(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.ReplaceAll(s, "\r", "\n")
}

func looksEscaped(s string) bool {
	for _, m := range []string{`\n`, `\t`, `\"`, `\u00`, `\r`} {
		if strings.Contains(s, m) {
			return true
		}
	}
	return false
}

// windowsPath matches a raw (unescaped) Windows path such as the Pod Identity
// token path C:\var\run\secrets\… (docs/behaviour.md#windows-pods, #pod-identity-injection); its "\t" and "\v"
// are not escapes and must survive decoding.
var windowsPath = regexp.MustCompile(`[A-Za-z]:\\[A-Za-z0-9_.\-]+(?:\\[A-Za-z0-9_.\-]+)*`)

// unescape decodes the escapes of JSON and Go quoted strings, leaving
// anything it does not understand as it is.
func unescape(s string) string {
	protected := windowsPath.FindAllStringIndex(s, -1)
	var b strings.Builder
	b.Grow(len(s))
	p := 0
	for i := 0; i < len(s); i++ {
		for p < len(protected) && protected[p][1] <= i {
			p++
		}
		if p < len(protected) && protected[p][0] <= i {
			b.WriteByte(s[i])
			continue
		}
		if s[i] != '\\' || i+1 >= len(s) {
			b.WriteByte(s[i])
			continue
		}
		switch c := s[i+1]; c {
		case 'n':
			b.WriteByte('\n')
		case 't':
			b.WriteByte('\t')
		case 'r':
			b.WriteByte('\r')
		case '"', '\\', '/', '\'':
			b.WriteByte(c)
		case 'u':
			if i+6 <= len(s) {
				if v, err := strconv.ParseUint(s[i+2:i+6], 16, 16); err == nil {
					r := rune(v)
					if !utf8.ValidRune(r) {
						r = utf8.RuneError
					}
					b.WriteRune(r)
					i += 5
					continue
				}
			}
			b.WriteString(`\u`)
		default:
			b.WriteByte('\\')
			b.WriteByte(c)
		}
		i++
	}
	return b.String()
}

// joinWrapped removes line breaks (and the indentation after them) for a
// second attempt at matching text a terminal hard-wrapped inside words.
var wrapBreak = regexp.MustCompile(`\n[ \t]*`)

func joinWrapped(s string) string { return wrapBreak.ReplaceAllString(s, "") }

// collapse squeezes every run of white space to one space.
var spaceRun = regexp.MustCompile(`\s+`)

func collapse(s string) string { return strings.TrimSpace(spaceRun.ReplaceAllString(s, " ")) }

func itoa(n int) string { return strconv.Itoa(n) }

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}
