package iampolicy

import (
	"errors"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"unicode"
)

// iamEncode percent-encodes every byte outside RFC 3986's unreserved set,
// the way IAM encodes AssumeRolePolicyDocument (docs/behaviour.md#iam-getrole): '+' becomes
// %2B and a space %20.
func iamEncode(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x80 && (unicode.IsLetter(rune(c)) || unicode.IsDigit(rune(c)) || strings.IndexByte("-._~", c) >= 0) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

func mustParse(t *testing.T, doc string) *Policy {
	t.Helper()
	p, err := Parse(doc)
	if err != nil {
		t.Fatalf("Parse: %v\n%s", err, doc)
	}
	return p
}

// realIAMDocument is a trust policy as GetRole returns it to aws-sdk-go-v2,
// byte for byte (pretty-printed JSON, URL-encoded, '+' in the Sid as %2B).
const realIAMDocument = "%7B%0A%20%20%22Version%22%3A%20%222012-10-17%22%2C%0A%20%20%22Statement%22%3A%20%5B%0A%20%20%20%20%7B%0A" +
	"%20%20%20%20%20%20%22Sid%22%3A%20%22irsa%2Bprod%22%2C%0A%20%20%20%20%20%20%22Effect%22%3A%20%22Allow%22%2C%0A" +
	"%20%20%20%20%20%20%22Principal%22%3A%20%7B%0A%20%20%20%20%20%20%20%20%22Federated%22%3A%20%22arn%3Aaws%3Aiam%3A%3A111122223333%3Aoidc-provider%2Foidc.eks.us-west-2.amazonaws.com%2Fid%2FEXAMPLED539D4633E53DE1B71EXAMPLE%22%0A%20%20%20%20%20%20%7D%2C%0A" +
	"%20%20%20%20%20%20%22Action%22%3A%20%22sts%3AAssumeRoleWithWebIdentity%22%2C%0A" +
	"%20%20%20%20%20%20%22Condition%22%3A%20%7B%0A%20%20%20%20%20%20%20%20%22StringEquals%22%3A%20%7B%0A" +
	"%20%20%20%20%20%20%20%20%20%20%22oidc.eks.us-west-2.amazonaws.com%2Fid%2FEXAMPLED539D4633E53DE1B71EXAMPLE%3Asub%22%3A%20%22system%3Aserviceaccount%3Aprod%3Aapp%22%2C%0A" +
	"%20%20%20%20%20%20%20%20%20%20%22oidc.eks.us-west-2.amazonaws.com%2Fid%2FEXAMPLED539D4633E53DE1B71EXAMPLE%3Aaud%22%3A%20%22sts.amazonaws.com%22%0A" +
	"%20%20%20%20%20%20%20%20%7D%0A%20%20%20%20%20%20%7D%0A%20%20%20%20%7D%0A%20%20%5D%0A%7D"

func TestParseURLEncodedAsIAMSendsIt(t *testing.T) {
	t.Parallel()
	p := mustParse(t, realIAMDocument)
	want := &Policy{
		Version: "2012-10-17",
		Statements: []Statement{{
			Index:     0,
			Sid:       "irsa+prod",
			Effect:    "Allow",
			Principal: &Principal{Federated: []string{testProvider}},
			Actions:   []string{"sts:AssumeRoleWithWebIdentity"},
			Conditions: []Condition{
				{Operator: "StringEquals", Key: testIssuer + ":sub", Values: []string{testSubject}},
				{Operator: "StringEquals", Key: testIssuer + ":aud", Values: []string{"sts.amazonaws.com"}},
			},
		}},
	}
	if !reflect.DeepEqual(p, want) {
		t.Fatalf("Parse(encoded) =\n%+v\nwant\n%+v", p, want)
	}
	// The same document encoded by our RFC 3986 encoder parses identically,
	// and so does its plain JSON form.
	plain := `{"Version":"2012-10-17","Statement":[{"Sid":"irsa+prod","Effect":"Allow","Principal":{"Federated":"` + testProvider +
		`"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"` + testIssuer + `:sub":"` + testSubject +
		`","` + testIssuer + `:aud":"sts.amazonaws.com"}}}]}`
	lowerHex := regexp.MustCompile(`%[0-9A-F]{2}`).ReplaceAllStringFunc(iamEncode(plain), strings.ToLower)
	for name, doc := range map[string]string{"plain": plain, "encoded": iamEncode(plain), "lower-case hex": lowerHex} {
		if got := mustParse(t, doc); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: got %+v", name, got)
		}
	}
}

func TestParsePlusSign(t *testing.T) {
	t.Parallel()
	// Plain JSON: a literal '+' must survive (QueryUnescape would make it a
	// space).
	p := mustParse(t, `{"Statement":{"Sid":"a+b","Effect":"Allow","Action":"sts:*"}}`)
	if p.Statements[0].Sid != "a+b" {
		t.Errorf("plain Sid = %q, want a+b", p.Statements[0].Sid)
	}
	// Encoded: %2B is '+', %20 is a space.
	p = mustParse(t, iamEncode(`{"Statement":{"Sid":"a+b c","Effect":"Allow","Action":"sts:*"}}`))
	if p.Statements[0].Sid != "a+b c" {
		t.Errorf("encoded Sid = %q, want %q", p.Statements[0].Sid, "a+b c")
	}
}

func TestParseLeadingWhitespaceAndBOM(t *testing.T) {
	t.Parallel()
	for _, doc := range []string{
		"  \n\t{\"Statement\":[]}",
		"\ufeff{\"Statement\":[]}",
		"  %7B%22Statement%22%3A%5B%5D%7D  ",
		"%EF%BB%BF%7B%22Statement%22%3A%5B%5D%7D",
	} {
		p := mustParse(t, doc)
		if len(p.Statements) != 0 {
			t.Errorf("Parse(%q): %d statements, want 0", doc, len(p.Statements))
		}
	}
}

func TestParseStatementObjectOrArray(t *testing.T) {
	t.Parallel()
	single := mustParse(t, `{"Version":"2008-10-17","Statement":{"Effect":"Deny","Principal":"*","Action":"*"}}`)
	if len(single.Statements) != 1 || single.Statements[0].Index != 0 || single.Statements[0].Effect != "Deny" || single.Version != "2008-10-17" {
		t.Errorf("single statement: %+v", single)
	}
	list := mustParse(t, `{"Statement":[{"Sid":"a","Effect":"Allow","Action":"x:y"},{"Sid":"b","Effect":"Deny","Action":["x:z","x:w"]}]}`)
	if len(list.Statements) != 2 {
		t.Fatalf("list: %d statements", len(list.Statements))
	}
	if s := list.Statements[1]; s.Index != 1 || s.Sid != "b" || !reflect.DeepEqual(s.Actions, []string{"x:z", "x:w"}) {
		t.Errorf("second statement: %+v", s)
	}
}

func TestParsePrincipalForms(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		principal string
		want      Principal
	}{
		{"star string", `"*"`, Principal{Wildcard: true}},
		{"AWS star", `{"AWS":"*"}`, Principal{Wildcard: true, AWS: []string{"*"}}},
		{"AWS star in array", `{"AWS":["arn:aws:iam::1:root","*"]}`, Principal{Wildcard: true, AWS: []string{"arn:aws:iam::1:root", "*"}}},
		{"federated string", `{"Federated":"` + testProvider + `"}`, Principal{Federated: []string{testProvider}}},
		{"federated array", `{"Federated":["a","b"]}`, Principal{Federated: []string{"a", "b"}}},
		{"service", `{"Service":"pods.eks.amazonaws.com"}`, Principal{Service: []string{"pods.eks.amazonaws.com"}}},
		{"canonical user", `{"CanonicalUser":"79a59df9"}`, Principal{CanonicalUser: []string{"79a59df9"}}},
		{"mixed", `{"Service":["a"],"AWS":"arn:aws:iam::1:root"}`, Principal{Service: []string{"a"}, AWS: []string{"arn:aws:iam::1:root"}}},
		{"empty object", `{}`, Principal{}},
	}
	for _, tt := range tests {
		p := mustParse(t, `{"Statement":{"Effect":"Allow","Principal":`+tt.principal+`,"Action":"*"}}`)
		if got := p.Statements[0].Principal; got == nil || !reflect.DeepEqual(*got, tt.want) {
			t.Errorf("%s: Principal = %+v, want %+v", tt.name, got, tt.want)
		}
		np := mustParse(t, `{"Statement":{"Effect":"Allow","NotPrincipal":`+tt.principal+`,"Action":"*"}}`)
		if got := np.Statements[0].NotPrincipal; got == nil || np.Statements[0].Principal != nil || !reflect.DeepEqual(*got, tt.want) {
			t.Errorf("%s: NotPrincipal = %+v, want %+v", tt.name, got, tt.want)
		}
	}
}

func TestParseConditionValuesAndOrder(t *testing.T) {
	t.Parallel()
	p := mustParse(t, `{"Statement":{"Effect":"Allow","Action":"*","Condition":{
		"StringLike":{"k:z":"v1","k:a":["v2","v3"]},
		"Bool":{"aws:SecureTransport":true},
		"NumericLessThan":{"n":[5,-1.5e3]},
		"Null":{"k:x":"false"},
		"ForAnyValue:StringEquals":{"k:m":[]},
		"StringEquals":{"k:mixed":["s",false,7]}}}}`)
	want := []Condition{
		{Operator: "StringLike", Key: "k:z", Values: []string{"v1"}},
		{Operator: "StringLike", Key: "k:a", Values: []string{"v2", "v3"}},
		{Operator: "Bool", Key: "aws:SecureTransport", Values: []string{"true"}},
		{Operator: "NumericLessThan", Key: "n", Values: []string{"5", "-1.5e3"}},
		{Operator: "Null", Key: "k:x", Values: []string{"false"}},
		{Operator: "ForAnyValue:StringEquals", Key: "k:m", Values: []string{}},
		{Operator: "StringEquals", Key: "k:mixed", Values: []string{"s", "false", "7"}},
	}
	if got := p.Statements[0].Conditions; !reflect.DeepEqual(got, want) {
		t.Errorf("conditions =\n%#v\nwant\n%#v", got, want)
	}
	// Parsing twice gives the same order: output is deterministic.
	again := mustParse(t, `{"Statement":{"Effect":"Allow","Action":"*","Condition":{"B":{"k2":"x","k1":"y"},"A":{"k":"z"}}}}`)
	order := []string{}
	for _, c := range again.Statements[0].Conditions {
		order = append(order, c.Operator+"/"+c.Key)
	}
	if got := strings.Join(order, ","); got != "B/k2,B/k1,A/k" {
		t.Errorf("condition order = %s, want document order B/k2,B/k1,A/k", got)
	}
}

func TestParseNotAction(t *testing.T) {
	t.Parallel()
	p := mustParse(t, `{"Statement":{"Effect":"Allow","Principal":"*","NotAction":"sts:AssumeRole"}}`)
	if s := p.Statements[0]; s.Actions != nil || !reflect.DeepEqual(s.NotActions, []string{"sts:AssumeRole"}) {
		t.Errorf("NotAction: %+v", s)
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, doc, wantInMessage string
	}{
		{"empty", "", "empty document"},
		{"blank", "  \n ", "empty document"},
		{"not json", "hello", "neither a json object"},
		{"bad escape", "%7B%ZZ", "url-decode"},
		{"truncated", `{"Statement":[`, "unexpected end"},
		{"array top level", `[]`, "neither a json object"},
		{"encoded array", `%5B%5D`, "neither a json object"},
		{"trailing garbage", `{"Statement":[]} x`, "invalid character"},
		{"no statement", `{"Version":"2012-10-17"}`, "no statement element"},
		{"statement number", `{"Statement":5}`, "statement must be an object"},
		{"statement array of strings", `{"Statement":["x"]}`, "statement 0: must be a json object"},
		{"version number", `{"Version":1,"Statement":[]}`, "version must be a string"},
		{"effect lower case", `{"Statement":{"Effect":"allow","Action":"*"}}`, `effect "allow"`},
		{"effect missing", `{"Statement":{"Action":"*"}}`, `effect ""`},
		{"sid number", `{"Statement":{"Sid":1,"Effect":"Allow"}}`, "sid must be a string"},
		{"principal string", `{"Statement":{"Effect":"Allow","Principal":"arn:aws:iam::1:root"}}`, "only \"*\" is allowed"},
		{"principal type", `{"Statement":{"Effect":"Allow","Principal":{"Federate":"x"}}}`, `unknown principal type "Federate"`},
		{"principal number", `{"Statement":{"Effect":"Allow","Principal":{"AWS":1}}}`, "must be a string or an array of strings"},
		{"principal null", `{"Statement":{"Effect":"Allow","Principal":{"AWS":null}}}`, "must be a string or an array of strings"},
		{"both principals", `{"Statement":{"Effect":"Allow","Principal":"*","NotPrincipal":"*"}}`, "both principal and notprincipal"},
		{"both actions", `{"Statement":{"Effect":"Allow","Action":"*","NotAction":"*"}}`, "both action and notaction"},
		{"action number", `{"Statement":{"Effect":"Allow","Action":7}}`, "action: must be a string"},
		{"condition array", `{"Statement":{"Effect":"Allow","Condition":[]}}`, "condition: must be a json object"},
		{"condition operator string", `{"Statement":{"Effect":"Allow","Condition":{"StringEquals":"x"}}}`, `"StringEquals": must be a json object`},
		{"condition value null", `{"Statement":{"Effect":"Allow","Condition":{"StringEquals":{"k":null}}}}`, "condition value must be"},
		{"condition value object", `{"Statement":{"Effect":"Allow","Condition":{"StringEquals":{"k":{"a":1}}}}}`, "condition value must be"},
		{"condition nested array", `{"Statement":{"Effect":"Allow","Condition":{"StringEquals":{"k":[["a"]]}}}}`, "condition value must be"},
		{"huge", "{" + strings.Repeat(" ", maxDocumentBytes) + "}", "more than the"},
	}
	for _, tt := range tests {
		p, err := Parse(tt.doc)
		if err == nil {
			t.Errorf("%s: Parse succeeded: %+v", tt.name, p)
			continue
		}
		if !errors.Is(err, ErrMalformedPolicy) {
			t.Errorf("%s: error %v does not wrap ErrMalformedPolicy", tt.name, err)
		}
		msg := err.Error()
		if !strings.Contains(strings.ToLower(msg), strings.ToLower(tt.wantInMessage)) {
			t.Errorf("%s: error %q does not mention %q", tt.name, msg, tt.wantInMessage)
		}
		if strings.ContainsAny(msg, "\n\r") || msg[0] != strings.ToLower(msg[:1])[0] {
			t.Errorf("%s: error %q is not one lower-case line", tt.name, msg)
		}
	}
}
