package iampolicy

import (
	"reflect"
	"strings"
	"testing"
)

// evalOne evaluates a single-condition Allow policy (Principal "*", Action
// "*") and returns the condition's result.
func evalOne(t *testing.T, version, operator, key, valuesJSON string, ctx map[string][]string) (Decision, ConditionResult) {
	t.Helper()
	policy := `{"Version":"` + version + `","Statement":{"Effect":"Allow","Principal":"*","Action":"*","Condition":{"` +
		operator + `":{"` + key + `":` + valuesJSON + `}}}}`
	res := mustParse(t, policy).Evaluate(Request{PrincipalType: PrincipalAWS, Principal: "x", Action: "s3:GetObject", Context: ctx})
	if len(res.Statements) != 1 || len(res.Statements[0].Conditions) != 1 {
		t.Fatalf("unexpected result shape: %+v", res)
	}
	return res.Decision, res.Statements[0].Conditions[0]
}

func TestConditionOperators(t *testing.T) {
	t.Parallel()
	const k = "k:sub"
	one := func(v ...string) map[string][]string { return map[string][]string{k: v} }
	missing := map[string][]string{"other": {"x"}}
	empty := map[string][]string{k: {}}
	tests := []struct {
		name, op, values string
		ctx              map[string][]string
		want             bool
	}{
		// StringEquals: exact, case-sensitive, '*' literal.
		{"StringEquals match", "StringEquals", `"a"`, one("a"), true},
		{"StringEquals mismatch", "StringEquals", `"a"`, one("b"), false},
		{"StringEquals case-sensitive", "StringEquals", `"prod"`, one("Prod"), false},
		{"StringEquals star is literal", "StringEquals", `"system:serviceaccount:prod:*"`, one(testSubject), false},
		{"StringEquals star matches star", "StringEquals", `"a*"`, one("a*"), true},
		{"StringEquals values OR", "StringEquals", `["x","a"]`, one("a"), true},
		{"StringEquals missing", "StringEquals", `"a"`, missing, false},
		{"StringEquals empty", "StringEquals", `"a"`, empty, false},
		{"StringEquals empty policy list", "StringEquals", `[]`, one("a"), false},
		{"StringEquals multivalued request", "StringEquals", `"b"`, one("a", "b"), true},
		{"StringEquals escape", "StringEquals", `"a${*}"`, one("a*"), true},
		// StringNotEquals: negated ⇒ true when missing.
		{"StringNotEquals differ", "StringNotEquals", `"a"`, one("b"), true},
		{"StringNotEquals same", "StringNotEquals", `"a"`, one("a"), false},
		{"StringNotEquals one of list", "StringNotEquals", `["x","a"]`, one("a"), false},
		{"StringNotEquals missing", "StringNotEquals", `"a"`, missing, true},
		{"StringNotEquals multivalued request", "StringNotEquals", `"a"`, one("a", "b"), false},
		// IgnoreCase.
		{"StringEqualsIgnoreCase match", "StringEqualsIgnoreCase", `"PROD"`, one("prod"), true},
		{"StringEqualsIgnoreCase mismatch", "StringEqualsIgnoreCase", `"PROD"`, one("dev"), false},
		{"StringEqualsIgnoreCase star literal", "StringEqualsIgnoreCase", `"PROD*"`, one("prod-x"), false},
		{"StringEqualsIgnoreCase missing", "StringEqualsIgnoreCase", `"a"`, missing, false},
		{"StringNotEqualsIgnoreCase same", "StringNotEqualsIgnoreCase", `"PROD"`, one("prod"), false},
		{"StringNotEqualsIgnoreCase differ", "StringNotEqualsIgnoreCase", `"PROD"`, one("dev"), true},
		{"StringNotEqualsIgnoreCase missing", "StringNotEqualsIgnoreCase", `"a"`, missing, true},
		// StringLike / StringNotLike.
		{"StringLike star", "StringLike", `"system:serviceaccount:prod:*"`, one(testSubject), true},
		{"StringLike other namespace", "StringLike", `"system:serviceaccount:dev:*"`, one(testSubject), false},
		{"StringLike question mark", "StringLike", `"ap?"`, one("app"), true},
		{"StringLike question mark too short", "StringLike", `"app?"`, one("app"), false},
		{"StringLike case-sensitive", "StringLike", `"APP*"`, one("app"), false},
		{"StringLike values OR", "StringLike", `["x*","a*"]`, one("app"), true},
		{"StringLike missing", "StringLike", `"*"`, missing, false},
		{"StringNotLike match", "StringNotLike", `"a*"`, one("app"), false},
		{"StringNotLike no match", "StringNotLike", `"b*"`, one("app"), true},
		{"StringNotLike missing", "StringNotLike", `"*"`, missing, true},
		// ARN operators compare component by component.
		{"ArnEquals exact", "ArnEquals", `"arn:aws:iam::123456789012:role/x"`, one("arn:aws:iam::123456789012:role/x"), true},
		{"ArnEquals differ", "ArnEquals", `"arn:aws:iam::123456789012:role/x"`, one("arn:aws:iam::123456789012:role/y"), false},
		{"ArnEquals wildcard like ArnLike", "ArnEquals", `"arn:aws:iam::123456789012:role/*"`, one("arn:aws:iam::123456789012:role/y"), true},
		{"ArnLike account wildcard", "ArnLike", `"arn:aws:iam::*:role/x"`, one("arn:aws:iam::123456789012:role/x"), true},
		{"ArnLike star cannot span components", "ArnLike", `"arn:aws:*"`, one("arn:aws:iam::123456789012:role/x"), false},
		{"ArnLike resource wildcard spans colons", "ArnLike", `"arn:aws:logs:*:*:log-group:*"`, one("arn:aws:logs:us-east-1:1:log-group:a:b"), true},
		{"ArnLike case-sensitive", "ArnLike", `"arn:aws:iam::*:role/X"`, one("arn:aws:iam::1:role/x"), false},
		{"ArnLike partition", "ArnLike", `"arn:aws:iam::*:*"`, one("arn:aws-cn:iam::1:role/x"), false},
		{"ArnLike non-ARN value", "ArnLike", `"*"`, one("not-an-arn"), false},
		{"ArnLike missing", "ArnLike", `"arn:*:*:*:*:*"`, missing, false},
		{"ArnNotEquals match", "ArnNotEquals", `"arn:aws:iam::1:role/x"`, one("arn:aws:iam::1:role/x"), false},
		{"ArnNotEquals differ", "ArnNotEquals", `"arn:aws:iam::1:role/x"`, one("arn:aws:iam::1:role/y"), true},
		{"ArnNotLike match", "ArnNotLike", `"arn:aws:iam::*:role/*"`, one("arn:aws:iam::1:role/x"), false},
		{"ArnNotLike missing", "ArnNotLike", `"arn:aws:iam::*:role/*"`, missing, true},
		// Bool.
		{"Bool true", "Bool", `"true"`, one("true"), true},
		{"Bool JSON true", "Bool", `true`, one("true"), true},
		{"Bool case-insensitive", "Bool", `"true"`, one("TRUE"), true},
		{"Bool false vs true", "Bool", `false`, one("true"), false},
		{"Bool missing", "Bool", `true`, missing, false},
		{"BoolIfExists missing", "BoolIfExists", `true`, missing, true},
		// Null.
		{"Null true, key absent", "Null", `"true"`, missing, true},
		{"Null true, key empty", "Null", `true`, empty, true},
		{"Null true, key present", "Null", `"true"`, one("x"), false},
		{"Null false, key present", "Null", `"false"`, one("x"), true},
		{"Null false, key absent", "Null", `false`, missing, false},
		{"Null garbage value", "Null", `"maybe"`, missing, false},
		// IfExists: missing ⇒ true, present ⇒ the base operator.
		{"StringEqualsIfExists missing", "StringEqualsIfExists", `"a"`, missing, true},
		{"StringEqualsIfExists present match", "StringEqualsIfExists", `"a"`, one("a"), true},
		{"StringEqualsIfExists present mismatch", "StringEqualsIfExists", `"a"`, one("b"), false},
		{"StringNotEqualsIfExists missing", "StringNotEqualsIfExists", `"a"`, missing, true},
		{"StringNotEqualsIfExists present same", "StringNotEqualsIfExists", `"a"`, one("a"), false},
		{"StringLikeIfExists missing", "StringLikeIfExists", `"a*"`, missing, true},
		{"StringLikeIfExists mismatch", "StringLikeIfExists", `"a*"`, one("b"), false},
		{"ArnLikeIfExists missing", "ArnLikeIfExists", `"arn:*:*:*:*:*"`, missing, true},
		// ForAnyValue: false when missing, true if any request value matches.
		{"ForAnyValue match one", "ForAnyValue:StringEquals", `["a","z"]`, one("x", "z"), true},
		{"ForAnyValue none", "ForAnyValue:StringEquals", `"a"`, one("x", "y"), false},
		{"ForAnyValue missing", "ForAnyValue:StringEquals", `"a"`, missing, false},
		{"ForAnyValue empty", "ForAnyValue:StringEquals", `"a"`, empty, false},
		{"ForAnyValue negated missing", "ForAnyValue:StringNotEquals", `"a"`, missing, false},
		{"ForAnyValue negated some other", "ForAnyValue:StringNotEquals", `"a"`, one("a", "b"), true},
		{"ForAnyValue negated all equal", "ForAnyValue:StringNotEquals", `"a"`, one("a"), false},
		{"ForAnyValue like", "ForAnyValue:StringLike", `"sts.*"`, one("x", "sts.amazonaws.com"), true},
		{"ForAnyValue IfExists missing", "ForAnyValue:StringEqualsIfExists", `"a"`, missing, false},
		// ForAllValues: true when missing or empty.
		{"ForAllValues all", "ForAllValues:StringEquals", `["a","b"]`, one("a", "b"), true},
		{"ForAllValues one outside", "ForAllValues:StringEquals", `["a","b"]`, one("a", "c"), false},
		{"ForAllValues missing", "ForAllValues:StringEquals", `"a"`, missing, true},
		{"ForAllValues empty", "ForAllValues:StringEquals", `"a"`, empty, true},
		{"ForAllValues negated", "ForAllValues:StringNotEquals", `"a"`, one("b", "c"), true},
		{"ForAllValues negated hit", "ForAllValues:StringNotEquals", `"a"`, one("b", "a"), false},
		{"ForAllValues like", "ForAllValues:StringLike", `"system:serviceaccount:prod:*"`, one(testSubject), true},
		// Key names are case-insensitive.
		{"key case-insensitive", "StringEquals", `"a"`, map[string][]string{"K:SUB": {"a"}}, true},
	}
	for _, tt := range tests {
		decision, cr := evalOne(t, "2012-10-17", tt.op, k, tt.values, tt.ctx)
		if cr.Matched != tt.want {
			t.Errorf("%s: %s %s vs %v: matched = %v, want %v", tt.name, tt.op, tt.values, tt.ctx, cr.Matched, tt.want)
		}
		wantDecision := DecisionImplicitDeny
		if tt.want {
			wantDecision = DecisionAllow
		}
		if decision != wantDecision {
			t.Errorf("%s: decision = %s, want %s", tt.name, decision, wantDecision)
		}
		if !cr.Supported {
			t.Errorf("%s: operator %s reported unsupported", tt.name, tt.op)
		}
		wantPresent := len(tt.ctx[k]) > 0 || len(tt.ctx["K:SUB"]) > 0
		if cr.KeyPresent != wantPresent {
			t.Errorf("%s: KeyPresent = %v, want %v", tt.name, cr.KeyPresent, wantPresent)
		}
	}
}

func TestUnsupportedOperatorsNeverMatch(t *testing.T) {
	t.Parallel()
	for _, op := range []string{"NumericEquals", "StringEqualz", "stringequals", "NullIfExists", "ForAnyValue:Null", "ForSomeValues:StringEquals", "IpAddress", "DateGreaterThan", ""} {
		// Even a negated-looking or vacuous form must not grant.
		decision, cr := evalOne(t, "2012-10-17", op, "k", `"a"`, map[string][]string{"k": {"a"}})
		if cr.Supported || cr.Matched || decision != DecisionImplicitDeny {
			t.Errorf("%q: supported=%v matched=%v decision=%s, want unsupported and denied", op, cr.Supported, cr.Matched, decision)
		}
		if !cr.KeyPresent || !reflect.DeepEqual(cr.RequestValues, []string{"a"}) {
			t.Errorf("%q: request values not reported: %+v", op, cr)
		}
	}
}

func TestConditionCombination(t *testing.T) {
	t.Parallel()
	ctx := map[string][]string{"a": {"1"}, "b": {"2"}}
	tests := []struct {
		name, condition string
		want            bool
	}{
		{"keys under one operator AND", `{"StringEquals":{"a":"1","b":"2"}}`, true},
		{"keys under one operator, one fails", `{"StringEquals":{"a":"1","b":"3"}}`, false},
		{"operators AND", `{"StringEquals":{"a":"1"},"StringLike":{"b":"*"}}`, true},
		{"operators AND, one fails", `{"StringEquals":{"a":"1"},"StringNotEquals":{"b":"2"}}`, false},
		{"values OR", `{"StringEquals":{"a":["0","1"]}}`, true},
		{"empty condition block", `{}`, true},
	}
	for _, tt := range tests {
		p := mustParse(t, doc(stmt("Allow", `"*"`, `"*"`, tt.condition)))
		res := p.Evaluate(Request{Action: "x:y", Context: ctx})
		if got := res.Decision == DecisionAllow; got != tt.want {
			t.Errorf("%s: allowed = %v, want %v (%+v)", tt.name, got, tt.want, res)
		}
		if res.Statements[0].ConditionsMatch != tt.want {
			t.Errorf("%s: ConditionsMatch = %v", tt.name, res.Statements[0].ConditionsMatch)
		}
	}
}

func TestPolicyVariables(t *testing.T) {
	t.Parallel()
	ctx := map[string][]string{"aws:username": {"alice"}, "k": {"home/alice/x"}, "multi": {"a", "b"}}
	tests := []struct {
		version, op, value string
		want               bool
	}{
		{"2012-10-17", "StringLike", "home/${aws:username}/*", true},
		{"2012-10-17", "StringLike", "home/${AWS:USERNAME}/*", true}, // key names are case-insensitive
		{"2012-10-17", "StringLike", "home/${aws:userid}/*", false},  // unresolvable ⇒ no match
		{"2012-10-17", "StringLike", "home/${aws:userid, 'alice'}/*", true},
		{"2012-10-17", "StringLike", "home/${multi}/*", false},
		{"2012-10-17", "StringEquals", "home/${aws:username}/x", true},
		{"2008-10-17", "StringLike", "home/${aws:username}/*", false}, // no variables before 2012-10-17
		{"2008-10-17", "StringEquals", "home/${aws:username}/x", false},
	}
	for _, tt := range tests {
		_, cr := evalOne(t, tt.version, tt.op, "k", `"`+tt.value+`"`, ctx)
		if cr.Matched != tt.want {
			t.Errorf("%s %s %q: matched = %v, want %v", tt.version, tt.op, tt.value, cr.Matched, tt.want)
		}
	}
	// A variable that resolves to text with '*' is literal, not a wildcard.
	_, cr := evalOne(t, "2012-10-17", "StringLike", "k", `"${v}"`, map[string][]string{"v": {"*"}, "k": {"abc"}})
	if cr.Matched {
		t.Error("substituted '*' acted as a wildcard")
	}
	// ArnLike with a variable containing ':' splits components correctly.
	_, cr = evalOne(t, "2012-10-17", "ArnLike", "k", `"arn:aws:iam::${aws:account}:role/x"`,
		map[string][]string{"aws:account": {"123"}, "k": {"arn:aws:iam::123:role/x"}})
	if !cr.Matched {
		t.Error("ArnLike with ${aws:account} did not match")
	}
}

func TestContextKeyVariantsMerge(t *testing.T) {
	t.Parallel()
	ctx := &requestContext{values: map[string][]string{"Key": {"b"}, "KEY": {"a"}, "other": {"z"}}}
	for range 20 { // map iteration order must not matter
		if got := ctx.lookup("key"); !reflect.DeepEqual(got, []string{"a", "b"}) {
			t.Fatalf("lookup = %v, want [a b] (sorted by key spelling)", got)
		}
	}
}

func TestPrincipalMatching(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, principal, notPrincipal string
		reqType, reqPrincipal         string
		want                          bool
	}{
		{"star matches federated", `"*"`, "", PrincipalFederated, testProvider, true},
		{"star matches service", `"*"`, "", PrincipalService, "ec2.amazonaws.com", true},
		{"AWS star matches federated", `{"AWS":"*"}`, "", PrincipalFederated, testProvider, true},
		{"federated string", fed(testProvider), "", PrincipalFederated, testProvider, true},
		{"federated array second", `{"Federated":["arn:aws:iam::1:oidc-provider/x","` + testProvider + `"]}`, "", PrincipalFederated, testProvider, true},
		{"federated other provider", fed("arn:aws:iam::1:oidc-provider/x"), "", PrincipalFederated, testProvider, false},
		{"federated exact case", fed(testProvider), "", PrincipalFederated, "ARN:AWS:IAM::111122223333:OIDC-PROVIDER/" + testIssuer, false},
		{"federated value, AWS type", fed(testProvider), "", PrincipalAWS, testProvider, false},
		{"service", `{"Service":"pods.eks.amazonaws.com"}`, "", PrincipalService, "pods.eks.amazonaws.com", true},
		{"service wrong type", `{"Service":"pods.eks.amazonaws.com"}`, "", PrincipalFederated, "pods.eks.amazonaws.com", false},
		{"AWS arn", `{"AWS":"arn:aws:iam::1:root"}`, "", PrincipalAWS, "arn:aws:iam::1:root", true},
		{"canonical user", `{"CanonicalUser":"abc"}`, "", PrincipalCanonicalUser, "abc", true},
		{"empty principal object", `{}`, "", PrincipalFederated, testProvider, false},
		{"NotPrincipal excludes", "", fed(testProvider), PrincipalFederated, testProvider, false},
		{"NotPrincipal admits others", "", fed("arn:aws:iam::1:oidc-provider/x"), PrincipalFederated, testProvider, true},
		{"NotPrincipal star admits nobody", "", `"*"`, PrincipalFederated, testProvider, false},
		{"no principal element", "", "", PrincipalFederated, testProvider, true},
	}
	for _, tt := range tests {
		s := `{"Effect":"Allow","Action":"*"`
		if tt.principal != "" {
			s += `,"Principal":` + tt.principal
		}
		if tt.notPrincipal != "" {
			s += `,"NotPrincipal":` + tt.notPrincipal
		}
		res := mustParse(t, doc(s+"}")).Evaluate(Request{PrincipalType: tt.reqType, Principal: tt.reqPrincipal, Action: "sts:AssumeRoleWithWebIdentity"})
		if got := res.Statements[0].PrincipalMatch; got != tt.want {
			t.Errorf("%s: PrincipalMatch = %v, want %v", tt.name, got, tt.want)
		}
		if (res.Decision == DecisionAllow) != tt.want {
			t.Errorf("%s: decision %s", tt.name, res.Decision)
		}
	}
}

func TestActionMatching(t *testing.T) {
	t.Parallel()
	const action = "sts:AssumeRoleWithWebIdentity"
	tests := []struct {
		name, element, value string
		want                 bool
	}{
		{"exact", "Action", `"sts:AssumeRoleWithWebIdentity"`, true},
		{"lower case", "Action", `"sts:assumerolewithwebidentity"`, true},
		{"upper case", "Action", `"STS:ASSUMEROLEWITHWEBIDENTITY"`, true},
		{"service wildcard", "Action", `"sts:*"`, true},
		{"prefix wildcard", "Action", `"sts:AssumeRole*"`, true},
		{"star", "Action", `"*"`, true},
		{"question mark", "Action", `"sts:AssumeRoleWith?ebIdentity"`, true},
		{"AssumeRole alone", "Action", `"sts:AssumeRole"`, false},
		{"other service", "Action", `"iam:*"`, false},
		{"array with match", "Action", `["sts:AssumeRole","sts:TagSession","sts:AssumeRoleWithWebIdentity"]`, true},
		{"array without match", "Action", `["sts:AssumeRole","sts:TagSession"]`, false},
		{"empty array", "Action", `[]`, false},
		{"NotAction other", "NotAction", `"sts:AssumeRole"`, true},
		{"NotAction same", "NotAction", `"sts:AssumeRoleWithWebIdentity"`, false},
		{"NotAction wildcard", "NotAction", `"sts:*"`, false},
		{"NotAction empty", "NotAction", `[]`, true},
	}
	for _, tt := range tests {
		p := mustParse(t, doc(`{"Effect":"Allow","Principal":"*","`+tt.element+`":`+tt.value+`}`))
		res := p.Evaluate(Request{Action: action})
		if got := res.Statements[0].ActionMatch; got != tt.want {
			t.Errorf("%s: ActionMatch = %v, want %v", tt.name, got, tt.want)
		}
	}
	// No Action and no NotAction: matches nothing.
	p := &Policy{Statements: []Statement{{Effect: EffectAllow, Principal: &Principal{Wildcard: true}}}}
	if p.Evaluate(Request{Action: action}).Decision != DecisionImplicitDeny {
		t.Error("statement without Action granted")
	}
}

func TestDecisions(t *testing.T) {
	t.Parallel()
	allow := stmt("Allow", fed(testProvider), `"sts:AssumeRoleWithWebIdentity"`, "")
	allowOther := stmt("Allow", fed("arn:aws:iam::1:oidc-provider/x"), `"sts:AssumeRoleWithWebIdentity"`, "")
	deny := stmt("Deny", `"*"`, `"sts:*"`, `{"StringLike":{"`+testSubKey+`":"system:serviceaccount:prod:*"}}`)
	denyOther := stmt("Deny", `"*"`, `"sts:*"`, `{"StringLike":{"`+testSubKey+`":"system:serviceaccount:dev:*"}}`)
	denyMissingKey := stmt("Deny", `"*"`, `"sts:*"`, `{"StringNotEquals":{"`+testIssuer+`:amr":"x"}}`)
	tests := []struct {
		name       string
		statements []string
		want       Decision
		applies    []bool
	}{
		{"no statements", nil, DecisionImplicitDeny, []bool{}},
		{"one allow", []string{allow}, DecisionAllow, []bool{true}},
		{"one of several allows suffices", []string{allowOther, allow}, DecisionAllow, []bool{false, true}},
		{"only other allows", []string{allowOther}, DecisionImplicitDeny, []bool{false}},
		{"deny overrides allow", []string{allow, deny}, DecisionExplicitDeny, []bool{true, true}},
		{"deny first still wins", []string{deny, allow}, DecisionExplicitDeny, []bool{true, true}},
		{"deny not applicable", []string{allow, denyOther}, DecisionAllow, []bool{true, false}},
		{"deny alone", []string{deny}, DecisionExplicitDeny, []bool{true}},
		{"negated deny on missing key applies", []string{allow, denyMissingKey}, DecisionExplicitDeny, []bool{true, true}},
	}
	for _, tt := range tests {
		res := mustParse(t, doc(tt.statements...)).Evaluate(TrustRequest(testExpectation))
		if res.Decision != tt.want {
			t.Errorf("%s: decision = %s, want %s", tt.name, res.Decision, tt.want)
		}
		var applies []bool
		for i, sr := range res.Statements {
			applies = append(applies, sr.Applies)
			if sr.Index != i {
				t.Errorf("%s: statement %d has Index %d", tt.name, i, sr.Index)
			}
		}
		if applies == nil {
			applies = []bool{}
		}
		if !reflect.DeepEqual(applies, tt.applies) {
			t.Errorf("%s: applies = %v, want %v", tt.name, applies, tt.applies)
		}
	}
	var nilPolicy *Policy
	if res := nilPolicy.Evaluate(Request{}); res.Decision != DecisionImplicitDeny || len(res.Statements) != 0 {
		t.Errorf("nil policy: %+v", res)
	}
}

func TestStatementResultDetails(t *testing.T) {
	t.Parallel()
	p := mustParse(t, doc(`{"Sid":"s1","Effect":"Allow","Principal":`+fed(testProvider)+`,"Action":"sts:AssumeRoleWithWebIdentity","Condition":`+
		irsaCondition(testIssuer, "system:serviceaccount:prod:other", testAudience)+`}`))
	res := p.Evaluate(TrustRequest(testExpectation))
	want := StatementResult{
		Index: 0, Sid: "s1", Effect: "Allow",
		PrincipalMatch: true, ActionMatch: true, ConditionsMatch: false, Applies: false,
		Conditions: []ConditionResult{
			{
				Condition: Condition{Operator: "StringEquals", Key: testSubKey, Values: []string{"system:serviceaccount:prod:other"}},
				Matched:   false, KeyPresent: true, Supported: true, RequestValues: []string{testSubject},
			},
			{
				Condition: Condition{Operator: "StringEquals", Key: testAudKey, Values: []string{testAudience}},
				Matched:   true, KeyPresent: true, Supported: true, RequestValues: []string{testAudience},
			},
		},
	}
	if res.Decision != DecisionImplicitDeny || !reflect.DeepEqual(res.Statements[0], want) {
		t.Errorf("result =\n%+v\nwant\n%+v", res.Statements[0], want)
	}
}

func TestTrustRequest(t *testing.T) {
	t.Parallel()
	got := TrustRequest(Expectation{ProviderARN: testProvider, IssuerHostPath: "https://" + testIssuer + "/", Subject: testSubject, Audience: testAudience})
	want := Request{
		PrincipalType: PrincipalFederated,
		Principal:     testProvider,
		Action:        "sts:AssumeRoleWithWebIdentity",
		Context:       map[string][]string{testSubKey: {testSubject}, testAudKey: {testAudience}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("TrustRequest = %+v, want %+v", got, want)
	}
	// Issuer derived from the provider ARN when not given.
	if got := TrustRequest(Expectation{ProviderARN: testProvider, Subject: testSubject}); !reflect.DeepEqual(got.Context, map[string][]string{testSubKey: {testSubject}}) {
		t.Errorf("derived context = %v", got.Context)
	}
}

// TestSetQualifierIfExistsMatrix is every set qualifier (none, ForAnyValue,
// ForAllValues) × IfExists (no, yes) × request key (present, missing, empty
// list), for a positive and a negated base operator, with the results AWS
// documents (docs/behaviour.md#condition-operators):
//
//   - condition operators page, "...IfExists": a present key is processed as
//     the policy says; a missing key makes the condition true.
//   - single-vs-multivalued context keys page: ForAnyValue is true when at
//     least one request value satisfies the operator and false when the key is
//     missing or its values resolve to a null (empty) data set; ForAllValues is
//     true when every request value satisfies it, and also when the key is
//     missing or empty.
//   - A positive operator on a missing key is false, a negated one true.
//
// IfExists is a property of the base operator, applied per value inside the
// set qualifier; it does not turn a missing key into a match for ForAnyValue,
// which has no value to apply it to.
func TestSetQualifierIfExistsMatrix(t *testing.T) {
	t.Parallel()
	const k = "k:claim"
	vals := func(v ...string) map[string][]string { return map[string][]string{k: v} }
	missing := map[string][]string{"other:key": {"a"}}
	empty := map[string][]string{k: {}}
	tests := []struct {
		op   string
		ctx  map[string][]string
		want bool
		why  string
	}{
		// No qualifier, no IfExists.
		{"StringEquals", vals("a"), true, "present: the base operator decides, and \"a\" equals \"a\""},
		{"StringEquals", vals("b"), false, "present: the base operator decides, and \"b\" is not \"a\""},
		{"StringEquals", missing, false, "a positive operator on a missing key is false"},
		{"StringEquals", empty, false, "an empty list is a null data set, read like a missing key: false"},
		{"StringNotEquals", vals("a"), false, "present: \"a\" is one of the policy values, so NotEquals is false"},
		{"StringNotEquals", vals("b"), true, "present: \"b\" equals no policy value"},
		{"StringNotEquals", missing, true, "a negated operator on a missing key is true"},
		{"StringNotEquals", empty, true, "null data set, read like a missing key: a negated operator is true"},
		// No qualifier, IfExists.
		{"StringEqualsIfExists", vals("a"), true, "IfExists with the key present: processed as StringEquals, which matches"},
		{"StringEqualsIfExists", vals("b"), false, "IfExists with the key present: processed as StringEquals, which does not match"},
		{"StringEqualsIfExists", missing, true, "IfExists: a missing key makes the condition true"},
		{"StringEqualsIfExists", empty, true, "IfExists: a key without values is not present, so true"},
		{"StringNotEqualsIfExists", vals("a"), false, "IfExists with the key present: processed as StringNotEquals, false for \"a\""},
		{"StringNotEqualsIfExists", vals("b"), true, "IfExists with the key present: processed as StringNotEquals, true for \"b\""},
		{"StringNotEqualsIfExists", missing, true, "IfExists: a missing key makes the condition true"},
		{"StringNotEqualsIfExists", empty, true, "IfExists: a key without values is not present, so true"},
		// ForAnyValue, no IfExists.
		{"ForAnyValue:StringEquals", vals("b", "a"), true, "ForAnyValue: one request value (\"a\") matches"},
		{"ForAnyValue:StringEquals", vals("b", "c"), false, "ForAnyValue: no request value matches"},
		{"ForAnyValue:StringEquals", missing, false, "ForAnyValue returns false when there is no matching key"},
		{"ForAnyValue:StringEquals", empty, false, "ForAnyValue returns false for a null data set"},
		{"ForAnyValue:StringNotEquals", vals("a", "b"), true, "ForAnyValue: \"b\" equals no policy value"},
		{"ForAnyValue:StringNotEquals", vals("a"), false, "ForAnyValue: the only request value equals a policy value"},
		{"ForAnyValue:StringNotEquals", missing, false, "ForAnyValue returns false when there is no matching key, negated operator or not"},
		{"ForAnyValue:StringNotEquals", empty, false, "ForAnyValue returns false for a null data set, negated operator or not"},
		// ForAnyValue, IfExists: the qualifier decides a missing or empty key.
		{"ForAnyValue:StringEqualsIfExists", vals("b", "a"), true, "ForAnyValue over present values: \"a\" matches"},
		{"ForAnyValue:StringEqualsIfExists", vals("b", "c"), false, "ForAnyValue over present values: none matches"},
		{"ForAnyValue:StringEqualsIfExists", missing, false, "ForAnyValue returns false for no matching key; IfExists applies per value and there is none"},
		{"ForAnyValue:StringEqualsIfExists", empty, false, "ForAnyValue returns false for a null data set; IfExists has no value to apply to"},
		{"ForAnyValue:StringNotEqualsIfExists", vals("a", "b"), true, "ForAnyValue over present values: \"b\" equals no policy value"},
		{"ForAnyValue:StringNotEqualsIfExists", vals("a"), false, "ForAnyValue over present values: the only value equals a policy value"},
		{"ForAnyValue:StringNotEqualsIfExists", missing, false, "ForAnyValue returns false for no matching key, whatever the suffix"},
		{"ForAnyValue:StringNotEqualsIfExists", empty, false, "ForAnyValue returns false for a null data set, whatever the suffix"},
		// ForAllValues, no IfExists.
		{"ForAllValues:StringEquals", vals("a"), true, "ForAllValues: every request value matches a policy value"},
		{"ForAllValues:StringEquals", vals("a", "b"), false, "ForAllValues: \"b\" matches no policy value"},
		{"ForAllValues:StringEquals", missing, true, "ForAllValues also returns true when there is no matching key"},
		{"ForAllValues:StringEquals", empty, true, "ForAllValues returns true for a null data set"},
		{"ForAllValues:StringNotEquals", vals("b", "c"), true, "ForAllValues: no request value equals a policy value"},
		{"ForAllValues:StringNotEquals", vals("a", "b"), false, "ForAllValues: \"a\" equals a policy value"},
		{"ForAllValues:StringNotEquals", missing, true, "ForAllValues returns true when there is no matching key"},
		{"ForAllValues:StringNotEquals", empty, true, "ForAllValues returns true for a null data set"},
		// ForAllValues, IfExists: the same, IfExists changes nothing.
		{"ForAllValues:StringEqualsIfExists", vals("a"), true, "ForAllValues over present values: every value matches"},
		{"ForAllValues:StringEqualsIfExists", vals("a", "b"), false, "ForAllValues over present values: \"b\" does not match"},
		{"ForAllValues:StringEqualsIfExists", missing, true, "ForAllValues returns true for no matching key"},
		{"ForAllValues:StringEqualsIfExists", empty, true, "ForAllValues returns true for a null data set"},
		{"ForAllValues:StringNotEqualsIfExists", vals("b", "c"), true, "ForAllValues over present values: none equals a policy value"},
		{"ForAllValues:StringNotEqualsIfExists", vals("a", "b"), false, "ForAllValues over present values: \"a\" equals a policy value"},
		{"ForAllValues:StringNotEqualsIfExists", missing, true, "ForAllValues returns true for no matching key"},
		{"ForAllValues:StringNotEqualsIfExists", empty, true, "ForAllValues returns true for a null data set"},
	}
	for _, tt := range tests {
		_, cr := evalOne(t, "2012-10-17", tt.op, k, `["a"]`, tt.ctx)
		if !cr.Supported {
			t.Errorf("%s: reported unsupported", tt.op)
		}
		if cr.Matched != tt.want {
			t.Errorf("%s against %v: matched = %v, want %v (%s)", tt.op, tt.ctx, cr.Matched, tt.want, tt.why)
		}
	}
}

// TestAccountPrincipal: an account in Principal.AWS, as its root ARN or as a
// bare 12-digit id, delegates to the account, so it matches every principal
// of that account: roles (with and without a path), assumed-role sessions,
// federated users, users and the root user (docs/behaviour.md#principal-and-action).
// The ARN form names its partition; the bare id matches the account in any
// partition. Other accounts, other partitions of the ARN form and non-IAM
// ARNs do not match, and NotPrincipal stays exact.
func TestAccountPrincipal(t *testing.T) {
	t.Parallel()
	const acct, other = "111122223333", "444455556666"
	callers := func(part, account string) []string {
		return []string{
			"arn:" + part + ":iam::" + account + ":role/app",
			"arn:" + part + ":iam::" + account + ":role/team/app",
			"arn:" + part + ":sts::" + account + ":assumed-role/app/botocore-session-1700000000",
			"arn:" + part + ":sts::" + account + ":federated-user/bob",
			"arn:" + part + ":iam::" + account + ":user/bob",
			"arn:" + part + ":iam::" + account + ":user/division/bob",
			"arn:" + part + ":iam::" + account + ":root",
		}
	}
	match := func(principal, caller string) bool {
		t.Helper()
		p := mustParse(t, doc(stmt("Allow", principal, `"sts:AssumeRole"`, "")))
		return p.Evaluate(Request{PrincipalType: PrincipalAWS, Principal: caller, Action: "sts:AssumeRole"}).Statements[0].PrincipalMatch
	}
	partitions := []string{"aws", "aws-cn", "aws-us-gov"}
	for _, part := range partitions {
		root := `{"AWS":"arn:` + part + `:iam::` + acct + `:root"}`
		for _, principal := range []string{root, `{"AWS":"` + acct + `"}`, `{"AWS":["arn:aws:iam::` + other + `:root","` + acct + `"]}`} {
			for _, caller := range callers(part, acct) {
				if !match(principal, caller) {
					t.Errorf("Principal %s does not match %s of its account", principal, caller)
				}
			}
			// Another account, in the same partition.
			for _, caller := range callers(part, other) {
				if principal != `{"AWS":["arn:aws:iam::`+other+`:root","`+acct+`"]}` && match(principal, caller) {
					t.Errorf("Principal %s matches %s of another account", principal, caller)
				}
			}
		}
		// The root ARN names its partition: the same account id in another
		// partition is not this account.
		for _, otherPart := range partitions {
			if otherPart == part {
				continue
			}
			for _, caller := range callers(otherPart, acct) {
				if match(root, caller) {
					t.Errorf("Principal %s matches %s of another partition", root, caller)
				}
			}
		}
	}
	for _, tt := range []struct {
		name, principal, caller string
		want                    bool
	}{
		{"a role principal stays exact", `{"AWS":"arn:aws:iam::` + acct + `:role/app"}`, "arn:aws:iam::" + acct + ":role/other", false},
		{"a user principal stays exact", `{"AWS":"arn:aws:iam::` + acct + `:user/bob"}`, "arn:aws:iam::" + acct + ":user/alice", false},
		{"an account id is not a prefix", `{"AWS":"11112222333"}`, "arn:aws:iam::" + acct + ":role/app", false},
		{"a longer account in the caller", `{"AWS":"` + acct + `"}`, "arn:aws:iam::" + acct + "4:role/app", false},
		{"a non-IAM ARN of the account", `{"AWS":"` + acct + `"}`, "arn:aws:lambda:us-east-1:" + acct + ":function:f", false},
		{"a region in the caller ARN", `{"AWS":"` + acct + `"}`, "arn:aws:iam:us-east-1:" + acct + ":role/app", false},
		{"a caller that is not a whole ARN", `{"AWS":"` + acct + `"}`, "arn:aws:iam::" + acct, false},
		{"a root ARN with a path is not the account", `{"AWS":"arn:aws:iam::` + acct + `:root/x"}`, "arn:aws:iam::" + acct + ":role/app", false},
		{"a federated account-like value stays exact", `{"Federated":"` + acct + `"}`, "arn:aws:iam::" + acct + ":role/app", false},
	} {
		pt := PrincipalAWS
		if strings.Contains(tt.principal, "Federated") {
			pt = PrincipalFederated
		}
		p := mustParse(t, doc(stmt("Allow", tt.principal, `"sts:AssumeRole"`, "")))
		got := p.Evaluate(Request{PrincipalType: pt, Principal: tt.caller, Action: "sts:AssumeRole"}).Statements[0].PrincipalMatch
		if got != tt.want {
			t.Errorf("%s: Principal %s vs %s: match = %v, want %v", tt.name, tt.principal, tt.caller, got, tt.want)
		}
	}
	// NotPrincipal with the account's root ARN excludes only that ARN: AWS
	// checks the account, the role and the session separately there, so the
	// account alone does not exempt its roles.
	p := mustParse(t, doc(`{"Effect":"Deny","NotPrincipal":{"AWS":"arn:aws:iam::`+acct+`:root"},"Action":"sts:AssumeRole"}`))
	for caller, want := range map[string]bool{"arn:aws:iam::" + acct + ":root": false, "arn:aws:iam::" + acct + ":role/app": true} {
		if got := p.Evaluate(Request{PrincipalType: PrincipalAWS, Principal: caller, Action: "sts:AssumeRole"}).Statements[0].PrincipalMatch; got != want {
			t.Errorf("NotPrincipal root vs %s: match = %v, want %v", caller, got, want)
		}
	}
}
