package explain

import (
	"strings"
	"testing"
)

// FuzzExplain feeds arbitrary text, with credentials planted in the middle,
// through Explain and ExplainAll: nothing may panic, results keep their
// shape and no planted secret survives in any field.
func FuzzExplain(f *testing.F) {
	for _, se := range stsErrors {
		for _, w := range wrappers {
			f.Add(w.fn(se.code, se.msg, se.status))
		}
	}
	for _, c := range sdkCases {
		f.Add(c.text)
		f.Add(jsonLine(c.text))
	}
	f.Add("[" + reqID + "]: (AccessDeniedException): denied, fault: client")
	f.Add(`\u0041\\n\"C:\var\run\secrets\eks.amazonaws.com\serviceaccount\token\t`)
	f.Add("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.sig " + strings.Repeat("A", 41))
	f.Add("")

	jwt, sig := makeJWT(projectedClaims)
	planted := " " + akid + " " + secret + " AWS_SESSION_TOKEN=" + stoken + " " + jwt + " "
	leaks := []string{akid, secret, stoken, jwt, sig}

	f.Fuzz(func(t *testing.T, s string) {
		k := len(s) / 2
		text := s[:k] + planted + s[k:]
		e, ok := Explain(text)
		all := ExplainAll(text)
		if ok != (len(all) > 0) || (ok && e.ID != all[0].ID) || (!ok && e.ID != IDUnknown) {
			t.Fatalf("Explain/ExplainAll disagree: ok=%v id=%q all=%d", ok, e.ID, len(all))
		}
		for _, x := range append(all, e) {
			if x.ID == "" || x.Title == "" || x.Wrapper == "" || len(x.Causes) == 0 || len(x.Next) == 0 {
				t.Fatalf("incomplete explanation: %#v", x)
			}
		}
		out := allOutput(append(all, e)...)
		for _, l := range leaks {
			if strings.Contains(out, l) {
				t.Fatalf("planted secret %q leaked for input %q", l, s)
			}
		}
	})
}
