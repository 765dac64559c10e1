package tokenclaims

import (
	"encoding/base64"
	"reflect"
	"testing"
)

func TestDecodePayload(t *testing.T) {
	t.Parallel()
	enc := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	got, err := DecodePayload(enc(`{"iss":"https://i","sub":"system:serviceaccount:shop:app","aud":["sts.amazonaws.com"],"exp":1700086400,"iat":1700000000,` +
		`"kubernetes.io":{"namespace":"shop","pod":{"name":"web"},"serviceaccount":{"name":"app"}}}`))
	want := Claims{Issuer: "https://i", Subject: "system:serviceaccount:shop:app", Audience: []string{"sts.amazonaws.com"}, Expiry: 1700086400, IssuedAt: 1700000000,
		Namespace: "shop", Pod: "web", ServiceAccount: "app"}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, %v", got, err)
	}
	if c, err := DecodePayload(enc(`{"aud":"one"}`)); err != nil || !reflect.DeepEqual(c.Audience, []string{"one"}) {
		t.Errorf("string aud: %+v %v", c, err)
	}
	if c, err := DecodePayload(enc(`{"aud":"x"}`) + "=="); err != nil || c.Audience[0] != "x" {
		t.Errorf("padded segment: %+v %v", c, err)
	}
	for _, bad := range []string{"!!!", enc("not json")} {
		if _, err := DecodePayload(bad); err == nil {
			t.Errorf("DecodePayload(%q) succeeded", bad)
		}
	}
}
