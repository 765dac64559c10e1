package thumbprint

import (
	"reflect"
	"strings"
	"testing"
)

func TestValidEntry(t *testing.T) {
	for s, want := range map[string]bool{
		"9e99a48a9960b14926bb7f3b02e22da2b0ab7280":           true,
		"9E99A48A9960B14926BB7F3B02E22DA2B0AB7280":           true,
		"9e99a48a9960b14926bb7f3b02e22da2b0ab728":            false, // 39
		"9e99a48a9960b14926bb7f3b02e22da2b0ab72800":          false, // 41
		"9e99a48a9960b14926bb7f3b02e22da2b0ab728g":           false,
		" 9e99a48a9960b14926bb7f3b02e22da2b0ab728":           false, //nolint:gocritic // the leading space is the case under test
		"9E:99:A4:8A:99:60:B1:49:26:BB:7F:3B:02:E2:2D:A2:B0": false,
		"": false,
	} {
		if got := ValidEntry(s); got != want {
			t.Errorf("ValidEntry(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestUpdatedList(t *testing.T) {
	const (
		a = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		b = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
		c = "cccccccccccccccccccccccccccccccccccccccc"
		d = "dddddddddddddddddddddddddddddddddddddddd"
		e = "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee"
		f = "ffffffffffffffffffffffffffffffffffffffff"
		n = "0123456789012345678901234567890123456789"
		m = "9876543210987654321098765432109876543210"
	)
	keepAll := func(string) bool { return true }
	for _, tc := range []struct {
		name       string
		current    []string
		required   []string
		stillValid func(string) bool
		want       []string
		wantErr    string
	}{
		{name: "new first, valid kept", current: []string{a, b}, required: []string{n}, stillValid: keepAll, want: []string{n, a, b}},
		{name: "nil stillValid keeps all well-formed", current: []string{a, "junk", b}, required: []string{n}, want: []string{n, a, b}},
		{name: "stale dropped", current: []string{a, b, c}, required: []string{n}, stillValid: func(s string) bool { return s == b }, want: []string{n, b}},
		{name: "stillValid sees lower case", current: []string{strings.ToUpper(a)}, required: []string{n}, stillValid: func(s string) bool { return s == a }, want: []string{n, a}},
		{name: "dedupe case-insensitively", current: []string{strings.ToUpper(n), a, strings.ToUpper(a)}, required: []string{strings.ToUpper(n)}, stillValid: keepAll, want: []string{n, a}},
		{name: "two required hosts, deduped", current: []string{a}, required: []string{n, m, n}, stillValid: keepAll, want: []string{n, m, a}},
		{name: "cap at five keeps new and earliest", current: []string{a, b, c, d, e, f}, required: []string{n}, stillValid: keepAll, want: []string{n, a, b, c, d}},
		{name: "already full and present", current: []string{a, b, n, c, d}, required: []string{n}, stillValid: keepAll, want: []string{n, a, b, c, d}},
		{name: "five required fit", required: []string{a, b, c, d, e}, current: []string{f}, want: []string{a, b, c, d, e}},
		{name: "six required impossible", required: []string{a, b, c, d, e, f}, wantErr: "6 thumbprints are required but IAM allows at most 5"},
		{name: "invalid new thumbprint", current: []string{a}, required: []string{"AB:CD"}, wantErr: `thumbprint "AB:CD" is not 40 hexadecimal characters`},
		{name: "nothing to add", current: []string{a}, wantErr: "no thumbprint to put in the list"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := UpdatedList(tc.current, tc.required, tc.stillValid)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("UpdatedList: %v", err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestUpdateCommand(t *testing.T) {
	got := UpdateCommand("arn:aws:iam::111122223333:oidc-provider/oidc.eks.us-west-2.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE",
		[]string{"06b25927c42a721631c1efd9431e648fa62e1e39", "9e99a48a9960b14926bb7f3b02e22da2b0ab7280"})
	want := "aws iam update-open-id-connect-provider-thumbprint --open-id-connect-provider-arn " +
		"arn:aws:iam::111122223333:oidc-provider/oidc.eks.us-west-2.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE " +
		"--thumbprint-list 06b25927c42a721631c1efd9431e648fa62e1e39 9e99a48a9960b14926bb7f3b02e22da2b0ab7280"
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	got = UpdateCommand("arn:aws:iam::111122223333:oidc-provider/it's $HOME", []string{"a b"})
	want = `aws iam update-open-id-connect-provider-thumbprint --open-id-connect-provider-arn 'arn:aws:iam::111122223333:oidc-provider/it'\''s $HOME' --thumbprint-list 'a b'`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}
