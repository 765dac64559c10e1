package tokenclaims

import (
	"encoding/base64"
	"encoding/json"
	"reflect"
	"testing"
	"unicode/utf8"
)

// payload is the canonical JSON of c: the claims of a projected token
// (docs/behaviour.md#projected-service-account-token), aud as an array.
func payload(c Claims) []byte {
	p := map[string]any{"iss": c.Issuer, "sub": c.Subject, "exp": c.Expiry, "iat": c.IssuedAt,
		"kubernetes.io": map[string]any{"namespace": c.Namespace, "pod": map[string]string{"name": c.Pod}, "serviceaccount": map[string]string{"name": c.ServiceAccount}}}
	if c.Audience != nil {
		p["aud"] = c.Audience
	}
	b, err := json.Marshal(p)
	if err != nil {
		panic(err)
	}
	return b
}

// FuzzDecodePayload decodes arbitrary payload segments, as pasted into
// explain or returned by TokenRequest, and claims built from arbitrary
// values. Nothing may panic; claims survive encoding and decoding unchanged,
// padded or not; and whatever a segment decodes to decodes the same again
// once written back as a payload.
func FuzzDecodePayload(f *testing.F) {
	enc := base64.RawURLEncoding.EncodeToString
	f.Add(enc([]byte(`{"iss":"https://oidc.eks.us-west-2.amazonaws.com/id/ABC","sub":"system:serviceaccount:shop:app","aud":["sts.amazonaws.com"],"exp":1700086400,"iat":1700000000,"kubernetes.io":{"namespace":"shop","pod":{"name":"web"},"serviceaccount":{"name":"app"}}}`)),
		"https://i", "system:serviceaccount:shop:app", "sts.amazonaws.com", int64(1700086400), int64(1700000000), "shop", "web", "app")
	f.Add(enc([]byte(`{"aud":"one","exp":"12"}`)), "", "", "", int64(0), int64(0), "", "", "")
	f.Add(enc([]byte(`{"aud":[1,"x",null],"exp":1e3,"iat":-5,"kubernetes.io":[]}`))+"==", "i", "s", "", int64(-1), int64(1<<62), "n", "p", "s")
	f.Add(enc([]byte(`{"aud":null}`)), "", "", "", int64(0), int64(0), "", "", "")
	f.Add("!!!", "\xff", "", "a", int64(0), int64(0), "", "", "")
	f.Add(enc([]byte("not json")), "", "", "", int64(0), int64(0), "", "", "")
	f.Fuzz(func(t *testing.T, segment, iss, sub, aud string, exp, iat int64, ns, pod, sa string) {
		// Arbitrary segments: no panic; trailing padding changes nothing; what
		// decodes is a fixed point.
		c, err := DecodePayload(segment)
		if padded, perr := DecodePayload(segment + "=="); (err == nil) != (perr == nil) || !reflect.DeepEqual(padded, c) {
			t.Fatalf("%q and %q== decode differently: %+v (%v) / %+v (%v)", segment, segment, c, err, padded, perr)
		}
		if err == nil {
			again, err := DecodePayload(enc(payload(c)))
			if err != nil || !reflect.DeepEqual(again, c) {
				t.Fatalf("%q decodes to %+v, which decodes back as %+v (%v)", segment, c, again, err)
			}
		}

		// Claims built from values round-trip, with and without padding.
		for _, s := range []string{iss, sub, aud, ns, pod, sa} {
			if !utf8.ValidString(s) {
				return // JSON carries only UTF-8; such claims cannot be in a token
			}
		}
		want := Claims{Issuer: iss, Subject: sub, Audience: []string{aud}, Expiry: exp, IssuedAt: iat, Namespace: ns, Pod: pod, ServiceAccount: sa}
		raw := payload(want)
		for _, seg := range []string{enc(raw), base64.URLEncoding.EncodeToString(raw)} {
			got, err := DecodePayload(seg)
			if err != nil || !reflect.DeepEqual(got, want) {
				t.Fatalf("claims %+v came back as %+v (%v)", want, got, err)
			}
		}
		// aud as a single string is the same audience.
		single := map[string]any{"aud": aud}
		b, _ := json.Marshal(single)
		if got, err := DecodePayload(enc(b)); err != nil || !reflect.DeepEqual(got.Audience, []string{aud}) {
			t.Fatalf("aud %q as a string came back as %q (%v)", aud, got.Audience, err)
		}
	})
}
