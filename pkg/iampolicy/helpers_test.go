package iampolicy

import (
	"strings"
	"testing"
)

const (
	testIssuer   = "oidc.eks.us-west-2.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"
	testProvider = "arn:aws:iam::111122223333:oidc-provider/" + testIssuer
	testSubject  = "system:serviceaccount:prod:app"
	testAudience = "sts.amazonaws.com"
	testSubKey   = testIssuer + ":sub"
	testAudKey   = testIssuer + ":aud"
)

var testExpectation = Expectation{
	ProviderARN:    testProvider,
	IssuerHostPath: testIssuer,
	Subject:        testSubject,
	Audience:       testAudience,
}

// stmt builds one statement's JSON from raw JSON fragments; an empty
// fragment leaves the element out.
func stmt(effect, principal, action, condition string) string {
	parts := []string{`"Effect":"` + effect + `"`}
	if principal != "" {
		parts = append(parts, `"Principal":`+principal)
	}
	if action != "" {
		parts = append(parts, `"Action":`+action)
	}
	if condition != "" {
		parts = append(parts, `"Condition":`+condition)
	}
	return "{" + strings.Join(parts, ",") + "}"
}

// doc wraps statements into a 2012-10-17 policy.
func doc(statements ...string) string {
	return `{"Version":"2012-10-17","Statement":[` + strings.Join(statements, ",") + `]}`
}

// fed is a Federated principal for the given ARNs.
func fed(arns ...string) string {
	return `{"Federated":["` + strings.Join(arns, `","`) + `"]}`
}

// irsaCondition is the canonical StringEquals sub+aud condition.
func irsaCondition(issuer, subject, audience string) string {
	return `{"StringEquals":{"` + issuer + `:sub":"` + subject + `","` + issuer + `:aud":"` + audience + `"}}`
}

// cleanStatement allows exactly testSubject.
var cleanStatement = stmt("Allow", fed(testProvider), `"sts:AssumeRoleWithWebIdentity"`, irsaCondition(testIssuer, testSubject, testAudience))

func diagnose(t *testing.T, policy string) TrustDiagnosis {
	t.Helper()
	return DiagnoseTrust(mustParse(t, policy), testExpectation)
}

func kinds(problems []Problem) []ProblemKind {
	out := make([]ProblemKind, len(problems))
	for i, p := range problems {
		out[i] = p.Kind
	}
	return out
}

func findKind(problems []Problem, kind ProblemKind) (Problem, bool) {
	for _, p := range problems {
		if p.Kind == kind {
			return p, true
		}
	}
	return Problem{}, false
}
