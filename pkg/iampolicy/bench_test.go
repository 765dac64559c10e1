package iampolicy

import "testing"

// BenchmarkEvaluate measures one evaluation of a realistic 4-statement IRSA
// trust policy (target: at least 100,000 evaluations per second on one core).
func BenchmarkEvaluate(b *testing.B) {
	p, err := Parse(iamEncode(realisticTrustPolicy()))
	if err != nil {
		b.Fatal(err)
	}
	exp := testExpectation
	exp.Subject = "system:serviceaccount:prod:worker-7"
	req := TrustRequest(exp)
	b.ReportAllocs()
	for b.Loop() {
		if p.Evaluate(req).Decision != DecisionAllow {
			b.Fatal("not allowed")
		}
	}
}

// BenchmarkDiagnoseTrust measures the full diagnosis of a denied request.
func BenchmarkDiagnoseTrust(b *testing.B) {
	p, err := Parse(iamEncode(realisticTrustPolicy()))
	if err != nil {
		b.Fatal(err)
	}
	exp := testExpectation
	exp.Subject = "system:serviceaccount:prod:api"
	b.ReportAllocs()
	for b.Loop() {
		if DiagnoseTrust(p, exp).Decision != DecisionImplicitDeny {
			b.Fatal("not denied")
		}
	}
}

// BenchmarkParse measures decoding an IAM URL-encoded document.
func BenchmarkParse(b *testing.B) {
	encoded := iamEncode(realisticTrustPolicy())
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(encoded); err != nil {
			b.Fatal(err)
		}
	}
}
