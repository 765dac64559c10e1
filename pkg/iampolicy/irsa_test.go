package iampolicy

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

const (
	action       = `"sts:AssumeRoleWithWebIdentity"`
	otherID      = "0123456789ABCDEF0123456789ABCDEF"
	otherCluster = "oidc.eks.us-west-2.amazonaws.com/id/" + otherID
)

func TestDiagnoseCleanPolicy(t *testing.T) {
	t.Parallel()
	for name, policy := range map[string]string{
		"plain":                   doc(cleanStatement),
		"encoded":                 iamEncode(doc(cleanStatement)),
		"single statement object": `{"Version":"2012-10-17","Statement":` + cleanStatement + `}`,
		"action array and wildcard": doc(stmt("Allow", fed("arn:aws:iam::1:oidc-provider/x", testProvider), `["sts:TagSession","sts:AssumeRole*"]`,
			irsaCondition(testIssuer, testSubject, testAudience))),
		"sub and aud as arrays": doc(stmt("Allow", fed(testProvider), action,
			`{"StringEquals":{"`+testSubKey+`":["system:serviceaccount:prod:other","`+testSubject+`"],"`+testAudKey+`":["`+testAudience+`"]}}`)),
	} {
		d := diagnose(t, policy)
		if d.Decision != DecisionAllow || d.Result.Decision != DecisionAllow {
			t.Errorf("%s: decision %s, want Allow; problems %+v", name, d.Decision, d.Problems)
		}
		if len(d.Problems) != 0 || len(d.Security) != 0 {
			t.Errorf("%s: problems %+v, security %+v, want none", name, d.Problems, d.Security)
		}
	}
}

func TestDiagnosePartitions(t *testing.T) {
	t.Parallel()
	tests := []struct{ partition, issuer string }{
		{"aws", "oidc.eks.us-east-1.amazonaws.com/id/" + otherID},
		{"aws-cn", "oidc.eks.cn-north-1.amazonaws.com.cn/id/" + otherID},
		{"aws-cn", "oidc.eks.cn-northwest-1.amazonaws.com.cn/id/88E5" + otherID[4:]},
		{"aws-us-gov", "oidc.eks.us-gov-west-1.amazonaws.com/id/" + otherID},
	}
	for _, tt := range tests {
		provider := "arn:" + tt.partition + ":iam::123456789012:oidc-provider/" + tt.issuer
		exp := Expectation{ProviderARN: provider, IssuerHostPath: tt.issuer, Subject: testSubject, Audience: testAudience}
		policy := mustParse(t, iamEncode(doc(stmt("Allow", fed(provider), action, irsaCondition(tt.issuer, testSubject, testAudience)))))
		d := DiagnoseTrust(policy, exp)
		if d.Decision != DecisionAllow || len(d.Problems) != 0 || len(d.Security) != 0 {
			t.Errorf("%s %s: %s problems=%+v security=%+v", tt.partition, tt.issuer, d.Decision, d.Problems, d.Security)
		}
		// The same policy seen from the commercial test cluster names the
		// partition difference.
		d = DiagnoseTrust(policy, testExpectation)
		if tt.partition != "aws" {
			p, ok := findKind(d.Problems, KindNoStatementForProvider)
			if !ok || !strings.Contains(p.Detail, `other partition "`+tt.partition+`"`) || p.Found != provider {
				t.Errorf("%s: cross-partition problem = %+v", tt.partition, d.Problems)
			}
		}
	}
}

// TestDiagnoseProblemKinds covers every functional ProblemKind with the
// first (best-ranked) problem asserted field by field.
func TestDiagnoseProblemKinds(t *testing.T) {
	t.Parallel()
	otherAccount := "arn:aws:iam::999988887777:oidc-provider/" + testIssuer
	otherRegion := "arn:aws:iam::111122223333:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"
	chinaIssuer := "oidc.eks.cn-north-1.amazonaws.com.cn/id/EXAMPLED539D4633E53DE1B71EXAMPLE"
	china := "arn:aws-cn:iam::111122223333:oidc-provider/" + chinaIssuer
	subCond := func(op, key, value string) string {
		return `{"` + op + `":{"` + key + `":"` + value + `"},"StringEquals":{"` + testAudKey + `":"` + testAudience + `"}}`
	}
	audCond := func(value string) string {
		return `{"StringEquals":{"` + testSubKey + `":"` + testSubject + `","` + testAudKey + `":"` + value + `"}}`
	}
	allow := func(condition string) string { return doc(stmt("Allow", fed(testProvider), action, condition)) }

	tests := []struct {
		name     string
		policy   string
		decision Decision
		first    Problem
		detail   string
		kinds    []ProblemKind // the full list, when it matters
	}{
		{
			name:     "other account",
			policy:   doc(stmt("Allow", fed(otherAccount), action, irsaCondition(testIssuer, testSubject, testAudience))),
			decision: DecisionImplicitDeny,
			first:    Problem{Kind: KindNoStatementForProvider, StatementIndex: 0, Key: "Principal.Federated", Expected: testProvider, Found: otherAccount},
			detail:   `other account "999988887777"`,
			kinds:    []ProblemKind{KindNoStatementForProvider},
		},
		{
			name:     "other cluster id",
			policy:   doc(stmt("Allow", fed("arn:aws:iam::111122223333:oidc-provider/"+otherCluster), action, irsaCondition(otherCluster, testSubject, testAudience))),
			decision: DecisionImplicitDeny,
			first:    Problem{Kind: KindNoStatementForProvider, StatementIndex: 0, Key: "Principal.Federated", Expected: testProvider, Found: "arn:aws:iam::111122223333:oidc-provider/" + otherCluster},
			detail:   `trusts the OIDC provider of another cluster (ID ` + otherID + `)`,
			kinds:    []ProblemKind{KindNoStatementForProvider},
		},
		{
			name:     "other region",
			policy:   doc(stmt("Allow", fed(otherRegion), action, "")),
			decision: DecisionImplicitDeny,
			first:    Problem{Kind: KindNoStatementForProvider, StatementIndex: 0, Key: "Principal.Federated", Expected: testProvider, Found: otherRegion},
			detail:   `other region "eu-west-1"`,
		},
		{
			name:     "other partition",
			policy:   doc(stmt("Allow", fed(china), action, irsaCondition(chinaIssuer, testSubject, testAudience))),
			decision: DecisionImplicitDeny,
			first:    Problem{Kind: KindNoStatementForProvider, StatementIndex: 0, Key: "Principal.Federated", Expected: testProvider, Found: china},
			detail:   `other partition "aws-cn" (cluster: "aws"); other partition's domain "amazonaws.com.cn"`,
		},
		{
			name:     "bare provider URL as principal",
			policy:   doc(stmt("Allow", fed(testIssuer), action, "")),
			decision: DecisionImplicitDeny,
			first:    Problem{Kind: KindNoStatementForProvider, StatementIndex: 0, Key: "Principal.Federated", Expected: testProvider, Found: testIssuer},
			detail:   "a provider URL, not an ARN",
		},
		{
			name:     "provider ARN in other case, second statement",
			policy:   doc(stmt("Allow", `{"Service":"ec2.amazonaws.com"}`, `"sts:AssumeRole"`, ""), stmt("Allow", fed(strings.ToLower(testProvider)), action, "")),
			decision: DecisionImplicitDeny,
			first:    Problem{Kind: KindNoStatementForProvider, StatementIndex: 1, Key: "Principal.Federated", Expected: testProvider, Found: strings.ToLower(testProvider)},
			detail:   "differs only in letter case",
		},
		{
			name:     "no federated principal",
			policy:   doc(stmt("Allow", `{"Service":"ec2.amazonaws.com"}`, `"sts:AssumeRole"`, "")),
			decision: DecisionImplicitDeny,
			first:    Problem{Kind: KindNoStatementForProvider, StatementIndex: -1, Key: "Principal.Federated", Expected: testProvider},
			detail:   "principals present: Service: ec2.amazonaws.com",
		},
		{
			name:     "no allow statement",
			policy:   doc(),
			decision: DecisionImplicitDeny,
			first:    Problem{Kind: KindNoStatementForProvider, StatementIndex: -1, Key: "Principal.Federated", Expected: testProvider},
			detail:   "no Allow statement",
		},
		{
			name:     "placeholder in principal",
			policy:   doc(stmt("Allow", fed("arn:aws:iam::ACCOUNT_ID:oidc-provider/OIDC_PROVIDER"), action, "")),
			decision: DecisionImplicitDeny,
			first:    Problem{Kind: KindNoStatementForProvider, StatementIndex: 0, Key: "Principal.Federated", Expected: testProvider, Found: "arn:aws:iam::ACCOUNT_ID:oidc-provider/OIDC_PROVIDER"},
			kinds:    []ProblemKind{KindNoStatementForProvider, KindUnsubstitutedPlaceholder},
		},
		{
			name:     "only sts:AssumeRole",
			policy:   doc(stmt("Allow", fed(testProvider), `"sts:AssumeRole"`, irsaCondition(testIssuer, testSubject, testAudience))),
			decision: DecisionImplicitDeny,
			first:    Problem{Kind: KindActionMissing, StatementIndex: 0, Key: "Action", Expected: "sts:AssumeRoleWithWebIdentity", Found: "sts:AssumeRole"},
			kinds:    []ProblemKind{KindActionMissing},
		},
		{
			name:     "NotAction excludes it",
			policy:   doc(`{"Effect":"Allow","Principal":` + fed(testProvider) + `,"NotAction":["sts:AssumeRoleWithWebIdentity"]}`),
			decision: DecisionImplicitDeny,
			first:    Problem{Kind: KindActionMissing, StatementIndex: 0, Key: "Action", Expected: "sts:AssumeRoleWithWebIdentity", Found: "NotAction: sts:AssumeRoleWithWebIdentity"},
		},
		{
			name:     "sub names another namespace",
			policy:   allow(subCond("StringEquals", testSubKey, "system:serviceaccount:staging:app")),
			decision: DecisionImplicitDeny,
			first:    Problem{Kind: KindSubMismatch, StatementIndex: 0, Key: testSubKey, Expected: testSubject, Found: "system:serviceaccount:staging:app"},
			detail:   `the policy trusts namespace "staging", not the pod's "prod"`,
			kinds:    []ProblemKind{KindSubMismatch},
		},
		{
			name:     "sub names another service account",
			policy:   allow(subCond("StringEquals", testSubKey, "system:serviceaccount:prod:worker")),
			decision: DecisionImplicitDeny,
			first:    Problem{Kind: KindSubMismatch, StatementIndex: 0, Key: testSubKey, Expected: testSubject, Found: "system:serviceaccount:prod:worker"},
			detail:   `the policy trusts service account "worker", not the pod's "app"`,
		},
		{
			name:     "sub differs in case",
			policy:   allow(subCond("StringEquals", testSubKey, "system:serviceaccount:Prod:app")),
			decision: DecisionImplicitDeny,
			first:    Problem{Kind: KindSubMismatch, StatementIndex: 0, Key: testSubKey, Expected: testSubject, Found: "system:serviceaccount:Prod:app"},
			detail:   "differs only in letter case",
		},
		{
			name:     "sub StringLike for another namespace",
			policy:   allow(subCond("StringLike", testSubKey, "system:serviceaccount:dev:*")),
			decision: DecisionImplicitDeny,
			first:    Problem{Kind: KindSubMismatch, StatementIndex: 0, Key: testSubKey, Expected: testSubject, Found: "system:serviceaccount:dev:*"},
			detail:   `the pattern "system:serviceaccount:dev:*" does not match`,
		},
		{
			name:     "sub excluded by StringNotEquals",
			policy:   allow(subCond("StringNotEquals", testSubKey, testSubject)),
			decision: DecisionImplicitDeny,
			first:    Problem{Kind: KindSubMismatch, StatementIndex: 0, Key: testSubKey, Expected: testSubject, Found: testSubject},
			detail:   "StringNotEquals excludes this service account",
		},
		{
			name:     "aud China typo",
			policy:   allow(audCond("sts.amazonaws.com.cn")),
			decision: DecisionImplicitDeny,
			first:    Problem{Kind: KindAudMismatch, StatementIndex: 0, Key: testAudKey, Expected: testAudience, Found: "sts.amazonaws.com.cn"},
			detail:   "every partition",
			kinds:    []ProblemKind{KindAudMismatch},
		},
		{
			name:     "aud kOps value",
			policy:   allow(audCond("amazonaws.com")),
			decision: DecisionImplicitDeny,
			first:    Problem{Kind: KindAudMismatch, StatementIndex: 0, Key: testAudKey, Expected: testAudience, Found: "amazonaws.com"},
		},
		{
			name:     "wildcard under StringEquals",
			policy:   allow(subCond("StringEquals", testSubKey, "system:serviceaccount:prod:*")),
			decision: DecisionImplicitDeny,
			first:    Problem{Kind: KindWildcardUnderStringEquals, StatementIndex: 0, Key: testSubKey, Expected: "StringLike", Found: "system:serviceaccount:prod:*"},
			detail:   "under StringLike it would match",
			kinds:    []ProblemKind{KindWildcardUnderStringEquals},
		},
		{
			name:     "question mark under StringEqualsIgnoreCase",
			policy:   allow(subCond("StringEqualsIgnoreCase", testSubKey, "system:serviceaccount:prod:ap?")),
			decision: DecisionImplicitDeny,
			first:    Problem{Kind: KindWildcardUnderStringEquals, StatementIndex: 0, Key: testSubKey, Expected: "StringLike", Found: "system:serviceaccount:prod:ap?"},
		},
		{
			name:     "key with https scheme",
			policy:   allow(subCond("StringEquals", "https://"+testSubKey, testSubject)),
			decision: DecisionImplicitDeny,
			first:    Problem{Kind: KindKeyWithScheme, StatementIndex: 0, Key: "https://" + testSubKey, Expected: testSubKey, Found: "https://" + testSubKey},
			kinds:    []ProblemKind{KindKeyWithScheme},
		},
		{
			// ForAnyValue is false on a missing key even with IfExists
			// (docs/behaviour.md#condition-operators), so this statement admits nobody.
			name:     "ForAnyValue IfExists on a key with https scheme",
			policy:   allow(subCond("ForAnyValue:StringEqualsIfExists", "https://"+testSubKey, testSubject)),
			decision: DecisionImplicitDeny,
			first:    Problem{Kind: KindKeyWithScheme, StatementIndex: 0, Key: "https://" + testSubKey, Expected: testSubKey, Found: "https://" + testSubKey},
			kinds:    []ProblemKind{KindKeyWithScheme},
		},
		{
			name:     "key with https scheme and wrong value",
			policy:   allow(subCond("StringEquals", "https://"+testSubKey, "system:serviceaccount:prod:worker")),
			decision: DecisionImplicitDeny,
			first:    Problem{Kind: KindKeyWithScheme, StatementIndex: 0, Key: "https://" + testSubKey, Expected: testSubKey, Found: "https://" + testSubKey},
			kinds:    []ProblemKind{KindKeyWithScheme, KindSubMismatch},
		},
		{
			name:     "key is the provider ARN",
			policy:   allow(subCond("StringEquals", testProvider+":sub", testSubject)),
			decision: DecisionImplicitDeny,
			first:    Problem{Kind: KindKeyWithProviderARN, StatementIndex: 0, Key: testProvider + ":sub", Expected: testSubKey, Found: testProvider + ":sub"},
			detail:   "condition keys must be the provider URL (" + testSubKey + "), not the provider ARN",
			kinds:    []ProblemKind{KindKeyWithProviderARN},
		},
		{
			name:     "key with trailing slash",
			policy:   allow(subCond("StringEquals", testIssuer+"/:sub", testSubject)),
			decision: DecisionImplicitDeny,
			first:    Problem{Kind: KindKeyTrailingSlash, StatementIndex: 0, Key: testIssuer + "/:sub", Expected: testSubKey, Found: testIssuer + "/:sub"},
			kinds:    []ProblemKind{KindKeyTrailingSlash},
		},
		{
			name:     "key of another cluster",
			policy:   allow(subCond("StringEquals", otherCluster+":sub", testSubject)),
			decision: DecisionImplicitDeny,
			first:    Problem{Kind: KindKeyOtherIssuer, StatementIndex: 0, Key: otherCluster + ":sub", Expected: testSubKey, Found: otherCluster + ":sub"},
			detail:   `trusts the OIDC provider of another cluster (ID ` + otherID + `), not this cluster's (ID EXAMPLED539D4633E53DE1B71EXAMPLE)`,
			kinds:    []ProblemKind{KindKeyOtherIssuer},
		},
		{
			name:     "key with region and eks swapped",
			policy:   allow(subCond("StringEquals", "oidc.us-west-2.eks.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE:sub", testSubject)),
			decision: DecisionImplicitDeny,
			first: Problem{Kind: KindKeyOtherIssuer, StatementIndex: 0, Key: "oidc.us-west-2.eks.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE:sub",
				Expected: testSubKey, Found: "oidc.us-west-2.eks.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE:sub"},
			detail: "malformed EKS issuer host",
		},
		{
			name:     "aud and sub swapped",
			policy:   allow(`{"StringEquals":{"` + testSubKey + `":"` + testAudience + `","` + testAudKey + `":"` + testSubject + `"}}`),
			decision: DecisionImplicitDeny,
			first:    Problem{Kind: KindAudSubSwapped, StatementIndex: 0, Key: testAudKey, Expected: testAudience, Found: testSubject},
			kinds:    []ProblemKind{KindAudSubSwapped, KindAudSubSwapped},
		},
		{
			name:     "aud key used for the service account",
			policy:   allow(`{"StringEquals":{"` + testAudKey + `":"` + testSubject + `"}}`),
			decision: DecisionImplicitDeny,
			first:    Problem{Kind: KindAudSubSwapped, StatementIndex: 0, Key: testAudKey, Expected: testAudience, Found: testSubject},
		},
		{
			name:     "placeholder key",
			policy:   allow(subCond("StringEquals", "OIDC_PROVIDER:sub", testSubject)),
			decision: DecisionImplicitDeny,
			first:    Problem{Kind: KindUnsubstitutedPlaceholder, StatementIndex: 0, Key: "OIDC_PROVIDER:sub", Expected: testSubKey, Found: "OIDC_PROVIDER:sub"},
			detail:   `"OIDC_PROVIDER"`,
			kinds:    []ProblemKind{KindUnsubstitutedPlaceholder},
		},
		{
			name:     "placeholder key in template syntax",
			policy:   allow(subCond("StringEquals", "${oidc_provider}:sub", testSubject)),
			decision: DecisionImplicitDeny,
			first:    Problem{Kind: KindUnsubstitutedPlaceholder, StatementIndex: 0, Key: "${oidc_provider}:sub", Expected: testSubKey, Found: "${oidc_provider}:sub"},
		},
		{
			name:     "placeholder value",
			policy:   allow(subCond("StringEquals", testSubKey, "system:serviceaccount:<namespace>:app")),
			decision: DecisionImplicitDeny,
			first:    Problem{Kind: KindUnsubstitutedPlaceholder, StatementIndex: 0, Key: testSubKey, Expected: testSubject, Found: "system:serviceaccount:<namespace>:app"},
			detail:   `"<namespace>"`,
		},
		{
			name:     "custom claim as key",
			policy:   allow(subCond("StringEquals", testIssuer+":kubernetes.io/namespace", "prod")),
			decision: DecisionImplicitDeny,
			first: Problem{Kind: KindUnsupportedClaimKey, StatementIndex: 0, Key: testIssuer + ":kubernetes.io/namespace", Expected: testSubKey,
				Found: testIssuer + ":kubernetes.io/namespace"},
			kinds: []ProblemKind{KindUnsupportedClaimKey},
		},
		{
			name: "explicit deny",
			policy: doc(cleanStatement, `{"Sid":"NoProd","Effect":"Deny","Principal":"*","Action":"sts:*","Condition":{"StringLike":{"`+
				testSubKey+`":"system:serviceaccount:prod:*"}}}`),
			decision: DecisionExplicitDeny,
			first:    Problem{Kind: KindExplicitDeny, StatementIndex: 1, Expected: "no applicable Deny", Found: `Deny statement 1 (Sid "NoProd")`},
			kinds:    []ProblemKind{KindExplicitDeny},
		},
		{
			name:     "unsupported operator",
			policy:   allow(subCond("StringEqualz", testSubKey, testSubject)),
			decision: DecisionImplicitDeny,
			first:    Problem{Kind: KindUnsupportedOperator, StatementIndex: 0, Key: testSubKey, Found: "StringEqualz"},
			kinds:    []ProblemKind{KindUnsupportedOperator},
		},
		{
			name:     "global key the pod does not send",
			policy:   allow(`{"StringEquals":{"` + testSubKey + `":"` + testSubject + `","` + testAudKey + `":"` + testAudience + `","aws:PrincipalTag/team":"x"}}`),
			decision: DecisionImplicitDeny,
			first:    Problem{Kind: KindConditionUnmet, StatementIndex: 0, Key: "aws:PrincipalTag/team", Expected: "StringEquals x", Found: "(missing)"},
			kinds:    []ProblemKind{KindConditionUnmet},
		},
		{
			name:     "amr claim",
			policy:   allow(`{"StringEquals":{"` + testSubKey + `":"` + testSubject + `","` + testAudKey + `":"` + testAudience + `","` + testIssuer + `:amr":"authenticated"}}`),
			decision: DecisionImplicitDeny,
			first:    Problem{Kind: KindConditionUnmet, StatementIndex: 0, Key: testIssuer + ":amr", Expected: "StringEquals authenticated", Found: "(missing)"},
			detail:   "no amr claim",
		},
		{
			name:     "key case differs (allowed, warning only)",
			policy:   allow(subCond("StringEquals", strings.ToUpper(testIssuer)+":SUB", testSubject)),
			decision: DecisionAllow,
			first:    Problem{Kind: KindKeyCaseDiffers, StatementIndex: 0, Key: strings.ToUpper(testIssuer) + ":SUB", Expected: testSubKey, Found: strings.ToUpper(testIssuer) + ":SUB"},
			kinds:    []ProblemKind{KindKeyCaseDiffers},
		},
	}
	for _, tt := range tests {
		d := diagnose(t, tt.policy)
		if d.Decision != tt.decision {
			t.Errorf("%s: decision = %s, want %s", tt.name, d.Decision, tt.decision)
		}
		if len(d.Problems) == 0 {
			t.Errorf("%s: no problems", tt.name)
			continue
		}
		got := d.Problems[0]
		detail := got.Detail
		got.Detail = ""
		if got != tt.first {
			t.Errorf("%s: first problem =\n  %+v\nwant\n  %+v\n(all: %+v)", tt.name, got, tt.first, d.Problems)
		}
		if !strings.Contains(detail, tt.detail) || detail == "" {
			t.Errorf("%s: detail %q does not contain %q", tt.name, detail, tt.detail)
		}
		if tt.kinds != nil && !reflect.DeepEqual(kinds(d.Problems), tt.kinds) {
			t.Errorf("%s: kinds = %v, want %v", tt.name, kinds(d.Problems), tt.kinds)
		}
		if d.Decision == DecisionAllow && got.Kind.Severity() != SeverityWarning {
			t.Errorf("%s: allowed policy reported an error-level problem %+v", tt.name, got)
		}
	}
}

func TestDiagnoseSwappedSecondProblem(t *testing.T) {
	t.Parallel()
	d := diagnose(t, doc(stmt("Allow", fed(testProvider), action,
		`{"StringEquals":{"`+testSubKey+`":"`+testAudience+`","`+testAudKey+`":"`+testSubject+`"}}`)))
	want := Problem{Kind: KindAudSubSwapped, StatementIndex: 0, Key: testSubKey, Expected: testSubject, Found: testAudience}
	if len(d.Problems) != 2 {
		t.Fatalf("problems = %+v", d.Problems)
	}
	got := d.Problems[1]
	got.Detail = ""
	if got != want {
		t.Errorf("second problem = %+v, want %+v", got, want)
	}
}

func TestDiagnoseRanksClosestStatementFirst(t *testing.T) {
	t.Parallel()
	farther := stmt("Allow", fed(testProvider), action, irsaCondition(testIssuer, "system:serviceaccount:dev:web", "other-aud"))
	closer := stmt("Allow", fed(testProvider), action, irsaCondition(testIssuer, "system:serviceaccount:prod:ap", testAudience))
	d := diagnose(t, doc(farther, closer))
	want := []Problem{
		{Kind: KindSubMismatch, StatementIndex: 1, Key: testSubKey, Expected: testSubject, Found: "system:serviceaccount:prod:ap"},
		{Kind: KindSubMismatch, StatementIndex: 0, Key: testSubKey, Expected: testSubject, Found: "system:serviceaccount:dev:web"},
		{Kind: KindAudMismatch, StatementIndex: 0, Key: testAudKey, Expected: testAudience, Found: "other-aud"},
	}
	var got []Problem
	for _, p := range d.Problems {
		p.Detail = ""
		got = append(got, p)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("problems =\n%+v\nwant\n%+v", got, want)
	}
}

func TestDiagnoseDefectsReportedWhenAllowed(t *testing.T) {
	t.Parallel()
	// The pod is allowed by statement 0; statement 1 (same provider) guards
	// with a negated condition on an https:// key, which never fires.
	broken := stmt("Deny", fed(testProvider), action, `{"StringNotEquals":{"https://`+testSubKey+`":"x"}}`)
	d := diagnose(t, doc(cleanStatement, broken))
	if d.Decision != DecisionExplicitDeny {
		t.Fatalf("decision = %s (a negated operator on a missing key is true)", d.Decision)
	}
	if !reflect.DeepEqual(kinds(d.Problems), []ProblemKind{KindExplicitDeny, KindKeyWithScheme}) {
		t.Errorf("kinds = %v", kinds(d.Problems))
	}
	// Statements for other providers are not linted: other clusters' keys
	// are legitimately different.
	other := stmt("Allow", fed("arn:aws:iam::111122223333:oidc-provider/"+otherCluster), action, irsaCondition(otherCluster, testSubject, testAudience))
	if d := diagnose(t, doc(other, cleanStatement)); len(d.Problems) != 0 || d.Decision != DecisionAllow {
		t.Errorf("multi-cluster policy: %s %+v", d.Decision, d.Problems)
	}
}

// realisticTrustPolicy is four statements as seen in practice: two service
// accounts of this cluster, one of a second cluster, and an EC2 statement.
func realisticTrustPolicy() string {
	otherRegion := "oidc.eks.eu-central-1.amazonaws.com/id/" + otherID
	return doc(
		`{"Sid":"ProdApp","Effect":"Allow","Principal":`+fed(testProvider)+`,"Action":"sts:AssumeRoleWithWebIdentity","Condition":`+irsaCondition(testIssuer, testSubject, testAudience)+`}`,
		`{"Sid":"ProdWorkers","Effect":"Allow","Principal":`+fed(testProvider)+`,"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringLike":{"`+testSubKey+`":"system:serviceaccount:prod:worker-*"},"StringEquals":{"`+testAudKey+`":"sts.amazonaws.com"}}}`,
		`{"Sid":"DR","Effect":"Allow","Principal":`+fed("arn:aws:iam::111122223333:oidc-provider/"+otherRegion)+`,"Action":"sts:AssumeRoleWithWebIdentity","Condition":`+irsaCondition(otherRegion, testSubject, testAudience)+`}`,
		`{"Sid":"EC2","Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}`,
	)
}

func TestDiagnoseRealisticPolicy(t *testing.T) {
	t.Parallel()
	p := mustParse(t, iamEncode(realisticTrustPolicy()))
	allowed := []string{testSubject, "system:serviceaccount:prod:worker-1"}
	for _, sub := range allowed {
		exp := testExpectation
		exp.Subject = sub
		d := DiagnoseTrust(p, exp)
		if d.Decision != DecisionAllow || len(d.Problems) != 0 {
			t.Errorf("%s: %s %+v", sub, d.Decision, d.Problems)
		}
		// Statement 1's wildcard is a security finding whoever asks.
		if !reflect.DeepEqual(kinds(d.Security), []ProblemKind{KindServiceAccountWildcard}) || d.Security[0].StatementIndex != 1 {
			t.Errorf("%s: security = %+v", sub, d.Security)
		}
	}
	exp := testExpectation
	exp.Subject = "system:serviceaccount:prod:api"
	d := DiagnoseTrust(p, exp)
	want := []Problem{
		{Kind: KindSubMismatch, StatementIndex: 0, Key: testSubKey, Expected: exp.Subject, Found: testSubject},
		{Kind: KindSubMismatch, StatementIndex: 1, Key: testSubKey, Expected: exp.Subject, Found: "system:serviceaccount:prod:worker-*"},
	}
	var got []Problem
	for _, p := range d.Problems {
		p.Detail = ""
		got = append(got, p)
	}
	if d.Decision != DecisionImplicitDeny || !reflect.DeepEqual(got, want) {
		t.Errorf("prod:api: %s\n%+v\nwant\n%+v", d.Decision, got, want)
	}
}

func TestSecurityKinds(t *testing.T) {
	t.Parallel()
	likeSub := func(pattern string) string {
		return doc(stmt("Allow", fed(testProvider), action,
			`{"StringLike":{"`+testSubKey+`":"`+pattern+`"},"StringEquals":{"`+testAudKey+`":"`+testAudience+`"}}`))
	}
	tests := []struct {
		name     string
		policy   string
		decision Decision
		want     []Problem // Detail ignored
	}{
		{
			name:     "no sub condition",
			policy:   doc(stmt("Allow", fed(testProvider), action, `{"StringEquals":{"`+testAudKey+`":"`+testAudience+`"}}`)),
			decision: DecisionAllow,
			want:     []Problem{{Kind: KindNoSubCondition, StatementIndex: 0, Key: testSubKey, Expected: testSubject}},
		},
		{
			name:     "no condition at all",
			policy:   doc(stmt("Allow", fed(testProvider), action, "")),
			decision: DecisionAllow,
			want: []Problem{
				{Kind: KindNoSubCondition, StatementIndex: 0, Key: testSubKey, Expected: testSubject},
				{Kind: KindMissingAudCondition, StatementIndex: 0, Key: testAudKey, Expected: testAudience},
			},
		},
		{
			name: "only a negated sub condition",
			policy: doc(stmt("Allow", fed(testProvider), action,
				`{"StringNotEquals":{"`+testSubKey+`":"system:serviceaccount:kube-system:x"},"StringEquals":{"`+testAudKey+`":"`+testAudience+`"}}`)),
			decision: DecisionAllow,
			want:     []Problem{{Kind: KindNoSubCondition, StatementIndex: 0, Key: testSubKey, Expected: testSubject}},
		},
		{
			name:     "sub wildcard all",
			policy:   likeSub("system:serviceaccount:*"),
			decision: DecisionAllow,
			want:     []Problem{{Kind: KindSubWildcardAll, StatementIndex: 0, Key: testSubKey, Expected: testSubject, Found: "system:serviceaccount:*"}},
		},
		{
			name:     "namespace wildcard",
			policy:   likeSub("system:serviceaccount:*:app"),
			decision: DecisionAllow,
			want:     []Problem{{Kind: KindNamespaceWildcard, StatementIndex: 0, Key: testSubKey, Expected: testSubject, Found: "system:serviceaccount:*:app"}},
		},
		{
			name:     "service account wildcard",
			policy:   likeSub("system:serviceaccount:prod:*"),
			decision: DecisionAllow,
			want:     []Problem{{Kind: KindServiceAccountWildcard, StatementIndex: 0, Key: testSubKey, Expected: testSubject, Found: "system:serviceaccount:prod:*"}},
		},
		{
			name: "default service account",
			policy: doc(stmt("Allow", fed(testProvider), action,
				`{"StringEquals":{"`+testSubKey+`":["`+testSubject+`","system:serviceaccount:prod:default"],"`+testAudKey+`":"`+testAudience+`"}}`)),
			decision: DecisionAllow,
			want:     []Problem{{Kind: KindDefaultServiceAccount, StatementIndex: 0, Key: testSubKey, Expected: testSubject, Found: "system:serviceaccount:prod:default"}},
		},
		{
			name:     "missing aud",
			policy:   doc(stmt("Allow", fed(testProvider), action, `{"StringEquals":{"`+testSubKey+`":"`+testSubject+`"}}`)),
			decision: DecisionAllow,
			want:     []Problem{{Kind: KindMissingAudCondition, StatementIndex: 0, Key: testAudKey, Expected: testAudience}},
		},
		{
			name:     "aud wildcard pins nothing",
			policy:   doc(stmt("Allow", fed(testProvider), action, `{"StringEquals":{"`+testSubKey+`":"`+testSubject+`"},"StringLike":{"`+testAudKey+`":"*"}}`)),
			decision: DecisionAllow,
			want:     []Problem{{Kind: KindMissingAudCondition, StatementIndex: 0, Key: testAudKey, Expected: testAudience}},
		},
		{
			name: "ForAllValues on claims",
			policy: doc(stmt("Allow", fed(testProvider), action,
				`{"ForAllValues:StringEquals":{"`+testSubKey+`":"`+testSubject+`","`+testAudKey+`":"`+testAudience+`"}}`)),
			decision: DecisionAllow,
			want: []Problem{
				{Kind: KindForAllValuesOnClaim, StatementIndex: 0, Key: testAudKey, Expected: "StringEquals", Found: "ForAllValues:StringEquals"},
				{Kind: KindForAllValuesOnClaim, StatementIndex: 0, Key: testSubKey, Expected: "StringEquals", Found: "ForAllValues:StringEquals"},
			},
		},
		{
			name:     "principal wildcard",
			policy:   doc(stmt("Allow", `"*"`, action, irsaCondition(testIssuer, testSubject, testAudience))),
			decision: DecisionAllow,
			want:     []Problem{{Kind: KindPrincipalWildcard, StatementIndex: 0, Key: "Principal", Expected: testProvider, Found: "*"}},
		},
		{
			name:     "AWS star principal without conditions",
			policy:   doc(stmt("Allow", `{"AWS":"*"}`, `"sts:*"`, "")),
			decision: DecisionAllow,
			want: []Problem{
				{Kind: KindPrincipalWildcard, StatementIndex: 0, Key: "Principal", Expected: testProvider, Found: "*"},
				{Kind: KindNoSubCondition, StatementIndex: 0, Key: testSubKey, Expected: testSubject},
				{Kind: KindMissingAudCondition, StatementIndex: 0, Key: testAudKey, Expected: testAudience},
			},
		},
		{
			name:     "broken sub key does not count as a constraint",
			policy:   doc(stmt("Allow", fed(testProvider), action, `{"StringNotEquals":{"https://`+testSubKey+`":"x"},"StringEquals":{"`+testAudKey+`":"`+testAudience+`"}}`)),
			decision: DecisionAllow,
			want:     []Problem{{Kind: KindNoSubCondition, StatementIndex: 0, Key: testSubKey, Expected: testSubject}},
		},
		{
			name:     "insecure statement that denies this pod is still reported",
			policy:   doc(cleanStatement, stmt("Allow", fed(testProvider), action, `{"StringLike":{"`+testSubKey+`":"system:serviceaccount:*:builder"},"StringEquals":{"`+testAudKey+`":"other"}}`)),
			decision: DecisionAllow,
			want:     []Problem{{Kind: KindNamespaceWildcard, StatementIndex: 1, Key: testSubKey, Expected: testSubject, Found: "system:serviceaccount:*:builder"}},
		},
	}
	for _, tt := range tests {
		d := diagnose(t, tt.policy)
		if d.Decision != tt.decision {
			t.Errorf("%s: decision %s, want %s", tt.name, d.Decision, tt.decision)
		}
		var got []Problem
		for _, p := range d.Security {
			if p.Detail == "" {
				t.Errorf("%s: %s has no detail", tt.name, p.Kind)
			}
			if !p.Kind.IsSecurity() {
				t.Errorf("%s: %s is not a security kind", tt.name, p.Kind)
			}
			p.Detail = ""
			got = append(got, p)
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: security =\n%+v\nwant\n%+v", tt.name, got, tt.want)
		}
	}
}

func TestSubPatternClassification(t *testing.T) {
	t.Parallel()
	tests := []struct {
		pattern string
		want    []ProblemKind
	}{
		{"*", []ProblemKind{KindSubWildcardAll}},
		{"system:*", []ProblemKind{KindSubWildcardAll}},
		{"system:serviceaccount:*", []ProblemKind{KindSubWildcardAll}},
		{"system:serviceaccount:*:*", []ProblemKind{KindSubWildcardAll}},
		{"system:serviceaccount:?*:*", []ProblemKind{KindSubWildcardAll}},
		{"system:serviceaccount:*:app", []ProblemKind{KindNamespaceWildcard}},
		{"system:serviceaccount:team-*:app", []ProblemKind{KindNamespaceWildcard}},
		{"system:serviceaccount:team-*:*", []ProblemKind{KindNamespaceWildcard}},
		{"system:serviceaccount:prod*", []ProblemKind{KindNamespaceWildcard}},
		{"system:serviceaccount:pro?:app", []ProblemKind{KindNamespaceWildcard}},
		{"system:serviceaccount:*:default", []ProblemKind{KindNamespaceWildcard, KindDefaultServiceAccount}},
		{"system:serviceaccount:prod:*", []ProblemKind{KindServiceAccountWildcard}},
		{"system:serviceaccount:prod:app-?", []ProblemKind{KindServiceAccountWildcard}},
		{"system:serviceaccount:prod:app*", []ProblemKind{KindServiceAccountWildcard}},
		{"system:serviceaccount:prod:app", nil},
		{"system:serviceaccount:prod:app${*}", nil},
		{"system:serviceaccount:prod:default", []ProblemKind{KindDefaultServiceAccount}},
	}
	for _, tt := range tests {
		d := diagnose(t, doc(stmt("Allow", fed(testProvider), action,
			`{"StringLike":{"`+testSubKey+`":"`+tt.pattern+`"},"StringEquals":{"`+testAudKey+`":"`+testAudience+`"}}`)))
		got := kinds(d.Security)
		if len(got) == 0 {
			got = nil
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%q: security kinds = %v, want %v", tt.pattern, got, tt.want)
		}
	}
}

func TestSuggestedStatement(t *testing.T) {
	t.Parallel()
	want := `{
  "Effect": "Allow",
  "Principal": {
    "Federated": "arn:aws:iam::111122223333:oidc-provider/oidc.eks.us-west-2.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"
  },
  "Action": "sts:AssumeRoleWithWebIdentity",
  "Condition": {
    "StringEquals": {
      "oidc.eks.us-west-2.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE:sub": "system:serviceaccount:prod:app",
      "oidc.eks.us-west-2.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE:aud": "sts.amazonaws.com"
    }
  }
}`
	d := diagnose(t, doc(stmt("Allow", fed(testProvider), `"sts:AssumeRole"`, "")))
	if d.SuggestedStatement != want {
		t.Errorf("suggestion =\n%s\nwant\n%s", d.SuggestedStatement, want)
	}
	// The suggestion is valid, allows exactly this pod, and is clean.
	fixed := DiagnoseTrust(mustParse(t, doc(d.SuggestedStatement)), testExpectation)
	if fixed.Decision != DecisionAllow || len(fixed.Problems) != 0 || len(fixed.Security) != 0 {
		t.Errorf("suggestion does not fix the policy: %+v", fixed)
	}
	other := testExpectation
	other.Subject = "system:serviceaccount:prod:other"
	if DiagnoseTrust(mustParse(t, doc(d.SuggestedStatement)), other).Decision != DecisionImplicitDeny {
		t.Error("suggestion admits another service account")
	}
	if got := SuggestedStatement(Expectation{ProviderARN: testProvider}); got != "" {
		t.Errorf("suggestion without subject = %q, want empty", got)
	}
	noAud := SuggestedStatement(Expectation{ProviderARN: testProvider, Subject: testSubject})
	if strings.Contains(noAud, ":aud") || !strings.Contains(noAud, testSubKey) {
		t.Errorf("suggestion without audience:\n%s", noAud)
	}
}

func TestDiagnoseEdgeInputs(t *testing.T) {
	t.Parallel()
	d := DiagnoseTrust(nil, testExpectation)
	if d.Decision != DecisionImplicitDeny || len(d.Problems) != 1 || d.Problems[0].Kind != KindNoStatementForProvider || d.Problems[0].StatementIndex != -1 {
		t.Errorf("nil policy: %+v", d)
	}
	// A zero Expectation must not panic and explains the denial.
	d = DiagnoseTrust(mustParse(t, doc(cleanStatement)), Expectation{})
	if d.Decision != DecisionImplicitDeny || len(d.Problems) == 0 {
		t.Errorf("zero expectation: %+v", d)
	}
	// Issuer given with scheme and trailing slash is normalised.
	exp := testExpectation
	exp.IssuerHostPath = "https://" + testIssuer + "/"
	if d := DiagnoseTrust(mustParse(t, doc(cleanStatement)), exp); d.Decision != DecisionAllow || len(d.Problems) != 0 {
		t.Errorf("normalised issuer: %+v", d)
	}
	// Unknown audience: the aud condition cannot hold.
	exp = testExpectation
	exp.Audience = ""
	d = DiagnoseTrust(mustParse(t, doc(cleanStatement)), exp)
	if p, ok := findKind(d.Problems, KindAudMismatch); !ok || p.Expected != "" || p.Found != testAudience || !strings.Contains(p.Detail, "unknown") {
		t.Errorf("unknown audience: %+v", d.Problems)
	}
}

func TestDiagnoseIsDeterministic(t *testing.T) {
	t.Parallel()
	policy := mustParse(t, doc(
		stmt("Allow", fed(testProvider), action, `{"StringEquals":{"https://`+testSubKey+`":"a","`+otherCluster+`:aud":"b","x:kubernetes.io/namespace":"c"},"StringLike":{"`+testSubKey+`":["system:serviceaccount:*","system:serviceaccount:prod:default"]}}`),
		stmt("Deny", fed(testProvider), action, `{"StringEquals":{"`+testIssuer+`/:sub":"z"}}`),
		stmt("Allow", fed("arn:aws:iam::1:oidc-provider/x", "arn:aws:iam::2:oidc-provider/y"), `"sts:*"`, ""),
	))
	first := DiagnoseTrust(policy, testExpectation)
	for range 50 {
		if again := DiagnoseTrust(policy, testExpectation); !reflect.DeepEqual(first, again) {
			t.Fatalf("diagnosis changed between runs:\n%+v\n%+v", first, again)
		}
	}
}

func TestProblemKindCatalogue(t *testing.T) {
	t.Parallel()
	all := ProblemKinds()
	seen := map[ProblemKind]bool{}
	for _, k := range all {
		if seen[k] {
			t.Errorf("duplicate kind %s", k)
		}
		seen[k] = true
		if k.Severity() == "" {
			t.Errorf("%s has no severity", k)
		}
	}
	if len(all) != 24 {
		t.Errorf("%d kinds, want 24", len(all))
	}
	if ProblemKind("Nope").Severity() != "" || ProblemKind("Nope").IsSecurity() {
		t.Error("unknown kind has a severity")
	}
	if !KindNoSubCondition.IsSecurity() || KindSubMismatch.IsSecurity() || KindKeyCaseDiffers.Severity() != SeverityWarning {
		t.Error("severity mapping wrong")
	}
}

func TestFindPlaceholder(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"OIDC_PROVIDER:sub":                         "OIDC_PROVIDER",
		"oidc.eks.REGION.amazonaws.com/id/X:sub":    "REGION",
		"arn:aws:iam::<account-id>:oidc-provider/x": "<account-id>",
		"${oidc}:sub":                               "${oidc}",
		"$(terraform output -raw x):sub":            "$(terraform output -raw x)",
		"{{ .Values.oidc }}:sub":                    "{{ .Values.oidc }}",
		"$OIDC_PROVIDER:sub":                        "$OIDC_PROVIDER",
		"arn:aws:iam::YOUR_ACCOUNT:x":               "YOUR_ACCOUNT",
		"system:serviceaccount:ns:${*}":             "",
		"a${?}b${$}":                                "",
		testSubKey:                                  "",
		testProvider:                                "",
		"system:serviceaccount:prod:app":            "",
		"oidc.eks.us-west-2.amazonaws.com":          "",
		"price$5":                                   "",
	}
	for in, want := range tests {
		if got := findPlaceholder(in); got != want {
			t.Errorf("findPlaceholder(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDiagnoseHostilePolicyStaysFast(t *testing.T) {
	t.Parallel()
	pattern := strings.Repeat("*a", 30000) + "*b"
	policy := doc(stmt("Allow", fed(testProvider), action,
		`{"StringLike":{"`+testSubKey+`":"`+pattern+`"},"StringEquals":{"`+testAudKey+`":"`+pattern+`"}}`))
	start := time.Now()
	d := diagnose(t, policy)
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Errorf("diagnosis of a hostile policy took %v", elapsed)
	}
	if d.Decision != DecisionImplicitDeny || len(d.Problems) == 0 {
		t.Errorf("hostile policy: %s %d problems", d.Decision, len(d.Problems))
	}
}

// An issuer with a port (a self-managed or local cluster such as
// https://127.0.0.1:6443) has keys like "127.0.0.1:6443:sub": the claim is
// after the last ':', not the first.
func TestDiagnoseIssuerWithPort(t *testing.T) {
	t.Parallel()
	const issuer = "127.0.0.1:6443"
	const provider = "arn:aws:iam::111122223333:oidc-provider/" + issuer
	exp := Expectation{ProviderARN: provider, IssuerHostPath: issuer, Subject: testSubject, Audience: testAudience}
	clean := doc(stmt("Allow", fed(provider), action, irsaCondition(issuer, testSubject, testAudience)))
	d := DiagnoseTrust(mustParse(t, clean), exp)
	if d.Decision != DecisionAllow || len(d.Problems) != 0 || len(d.Security) != 0 {
		t.Errorf("clean policy: decision %s, problems %+v, security %+v", d.Decision, d.Problems, d.Security)
	}
	// A key for another port is another issuer, and says so.
	other := doc(stmt("Allow", fed(provider), action, irsaCondition("127.0.0.1:7443", testSubject, testAudience)))
	d = DiagnoseTrust(mustParse(t, other), exp)
	if p, ok := findKind(d.Problems, KindKeyOtherIssuer); !ok || p.Expected != issuer+":sub" && p.Expected != issuer+":aud" {
		t.Errorf("other port: want %s, got %+v", KindKeyOtherIssuer, d.Problems)
	}
	for key, want := range map[string]conditionKey{
		"127.0.0.1:6443:sub":         {issuer: issuer, claim: "sub", hasClaim: true},
		"127.0.0.1:6443":             {issuer: issuer},
		"https://127.0.0.1:6443:aud": {scheme: "https://", issuer: issuer, claim: "aud", hasClaim: true},
		testIssuer + ":sub":          {issuer: testIssuer, claim: "sub", hasClaim: true},
		testIssuer:                   {issuer: testIssuer},
	} {
		if got := parseConditionKey(key); got != want {
			t.Errorf("parseConditionKey(%q) = %+v, want %+v", key, got, want)
		}
	}
}

// A statement whose keys no token carries admits nobody: it is a denial to
// explain, not a statement that "lets every service account in".
func TestStatementMatchingNoTokenIsNotASecurityRisk(t *testing.T) {
	t.Parallel()
	for name, condition := range map[string]string{
		"https:// keys":      irsaCondition("https://"+testIssuer, testSubject, testAudience),
		"provider ARN keys":  irsaCondition(testProvider, testSubject, testAudience),
		"another issuer":     irsaCondition(otherCluster, testSubject, testAudience),
		"unsupported claim":  `{"StringEquals":{"` + testIssuer + `:namespace":"prod"}}`,
		"trailing slash key": irsaCondition(testIssuer+"/", testSubject, testAudience),
	} {
		d := diagnose(t, doc(stmt("Allow", fed(testProvider), action, condition)))
		if d.Decision == DecisionAllow || len(d.Problems) == 0 {
			t.Errorf("%s: decision %s, problems %+v; want a denial explained", name, d.Decision, d.Problems)
		}
		if len(d.Security) != 0 {
			t.Errorf("%s: security %+v, want none: the statement matches no token", name, d.Security)
		}
	}
	// Negated operators are true on a missing key: that statement does let
	// everyone in, and says so.
	d := diagnose(t, doc(stmt("Allow", fed(testProvider), action, `{"StringNotEquals":{"https://`+testSubKey+`":"x"}}`)))
	if _, ok := findKind(d.Security, KindNoSubCondition); !ok {
		t.Errorf("StringNotEquals on a missing key: security %+v, want %s", d.Security, KindNoSubCondition)
	}
}
