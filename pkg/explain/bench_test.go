package explain

import (
	"strings"
	"testing"
)

// A 55 KB log of repeated Go v1 errors, and a line-less text dense with
// codes (the shape that once made matching quadratic).
func BenchmarkExplainAllLog(b *testing.B) {
	log := strings.Repeat(prefixed(goV1("InvalidIdentityToken", "No OpenIDConnect provider found in your account for "+issuerUS, 400))+"\n", 200)
	for b.Loop() {
		ExplainAll(log)
	}
}

func BenchmarkExplainAllDenseLine(b *testing.B) {
	text := strings.Repeat("InvalidIdentityToken Incorrect token audience ", 2000)
	for b.Loop() {
		ExplainAll(text)
	}
}
