package iampolicy

import (
	"strings"
	"testing"
)

// FuzzParseEvaluate feeds arbitrary documents through Parse, Evaluate and
// DiagnoseTrust: none may panic, and the results must keep their shape.
func FuzzParseEvaluate(f *testing.F) {
	seeds := []string{
		doc(cleanStatement),
		realIAMDocument,
		iamEncode(realisticTrustPolicy()),
		realisticTrustPolicy(),
		`{"Statement":{"Effect":"Deny","Principal":"*","NotAction":"iam:*","Condition":{"Null":{"k":"true"},"Bool":{"b":false}}}}`,
		doc(stmt("Allow", `{"AWS":"*"}`, `["sts:*"]`, `{"ForAllValues:StringLike":{"`+testSubKey+`":["system:serviceaccount:*:default"]},"ForAnyValue:StringNotEqualsIfExists":{"https://`+testAudKey+`":["x",1,true]}}`)),
		doc(stmt("Allow", fed("arn:aws:iam::ACCOUNT_ID:oidc-provider/OIDC_PROVIDER"), action, `{"StringEquals":{"OIDC_PROVIDER:sub":"system:serviceaccount:${NS}:app"}}`)),
		doc(stmt("Allow", fed(testProvider), action, `{"ArnLike":{"`+testSubKey+`":"arn:${aws:x}:*"},"StringEqualz":{"`+testProvider+`:sub":"a"}}`)),
		`%7B%22Statement%22%3A%5B%5D%7D`,
		`{"Statement":[]}`,
		"%",
		"{",
	}
	for _, s := range seeds {
		f.Add(s, testSubject, testAudience)
	}
	f.Fuzz(func(t *testing.T, document, subject, audience string) {
		p, err := Parse(document)
		if err != nil {
			if p != nil {
				t.Fatalf("Parse returned a policy and an error %v", err)
			}
			if msg := err.Error(); strings.ContainsAny(msg, "\n\r") {
				t.Fatalf("error is not one line: %q", msg)
			}
			return
		}
		exp := Expectation{ProviderARN: testProvider, IssuerHostPath: testIssuer, Subject: subject, Audience: audience}
		res := p.Evaluate(TrustRequest(exp))
		if len(res.Statements) != len(p.Statements) {
			t.Fatalf("%d statement results for %d statements", len(res.Statements), len(p.Statements))
		}
		for i, sr := range res.Statements {
			if sr.Index != i || len(sr.Conditions) != len(p.Statements[i].Conditions) {
				t.Fatalf("statement result %d malformed: %+v", i, sr)
			}
			if sr.Applies != (sr.PrincipalMatch && sr.ActionMatch && sr.ConditionsMatch) {
				t.Fatalf("statement %d: Applies inconsistent: %+v", i, sr)
			}
		}
		switch res.Decision {
		case DecisionAllow, DecisionExplicitDeny, DecisionImplicitDeny:
		default:
			t.Fatalf("decision %q", res.Decision)
		}
		d := DiagnoseTrust(p, exp)
		if d.Decision != res.Decision {
			t.Fatalf("DiagnoseTrust decision %s, Evaluate %s", d.Decision, res.Decision)
		}
		// Every denial is explained.
		if d.Decision != DecisionAllow && len(d.Problems) == 0 {
			t.Fatalf("denied without a problem: %+v", d.Result)
		}
		for _, pr := range append(d.Problems, d.Security...) {
			if pr.Kind.Severity() == "" || pr.StatementIndex < -1 || pr.StatementIndex >= len(p.Statements) {
				t.Fatalf("malformed problem %+v", pr)
			}
		}
		// Parsing is deterministic.
		again, err := Parse(document)
		if err != nil || len(again.Statements) != len(p.Statements) {
			t.Fatalf("second parse differs: %v", err)
		}
	})
}
