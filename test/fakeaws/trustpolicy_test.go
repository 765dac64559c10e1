package fakeaws

import (
	"fmt"
	"testing"
)

func TestEvaluateTrust(t *testing.T) {
	const (
		prov = "arn:aws:iam::111122223333:oidc-provider/oidc.example.com/id/X"
		host = "oidc.example.com/id/X"
	)
	rc := trustRequest{action: "sts:AssumeRoleWithWebIdentity", federated: prov, keys: map[string][]string{
		"oidc.example.com/id/x:sub": {"system:serviceaccount:shop:app"},
		"oidc.example.com/id/x:aud": {"sts.amazonaws.com"},
	}}
	stmt := func(effect, principal, action, cond string) string {
		s := fmt.Sprintf(`{"Effect":%q,"Principal":%s,"Action":%s`, effect, principal, action)
		if cond != "" {
			s += `,"Condition":` + cond
		}
		return s + "}"
	}
	fed := `{"Federated":"` + prov + `"}`
	act := `"sts:AssumeRoleWithWebIdentity"`
	allow := func(cond string) string { return `{"Statement":` + stmt("Allow", fed, act, cond) + `}` }
	tests := []struct {
		name   string
		policy string
		want   bool
	}{
		{"no condition", allow(""), true},
		{"StringEquals", allow(`{"StringEquals":{"` + host + `:sub":"system:serviceaccount:shop:app"}}`), true},
		{"key names are case-insensitive", allow(`{"StringEquals":{"OIDC.example.com/id/X:SUB":"system:serviceaccount:shop:app"}}`), true},
		{"values are case-sensitive", allow(`{"StringEquals":{"` + host + `:sub":"system:serviceaccount:Shop:app"}}`), false},
		{"StringEquals takes * literally", allow(`{"StringEquals":{"` + host + `:sub":"system:serviceaccount:shop:*"}}`), false},
		{"StringLike *", allow(`{"StringLike":{"` + host + `:sub":"system:serviceaccount:shop:*"}}`), true},
		{"StringLike ?", allow(`{"StringLike":{"` + host + `:sub":"system:serviceaccount:sho?:ap?"}}`), true},
		{"values in a list are ORed", allow(`{"StringEquals":{"` + host + `:sub":["a","system:serviceaccount:shop:app"]}}`), true},
		{"keys are ANDed", allow(`{"StringEquals":{"` + host + `:sub":"system:serviceaccount:shop:app","` + host + `:aud":"x"}}`), false},
		{"missing key fails a positive operator", allow(`{"StringEquals":{"` + host + `:amr":"x"}}`), false},
		{"missing key satisfies a negated operator", allow(`{"StringNotEquals":{"` + host + `:amr":"x"}}`), true},
		{"IfExists on a missing key", allow(`{"StringEqualsIfExists":{"` + host + `:amr":"x"}}`), true},
		{"IfExists on a present key still compares", allow(`{"StringEqualsIfExists":{"` + host + `:sub":"x"}}`), false},
		{"Null true on a missing key", allow(`{"Null":{"` + host + `:amr":"true"}}`), true},
		{"Null true on a present key", allow(`{"Null":{"` + host + `:sub":"true"}}`), false},
		{"Null false on a present key", allow(`{"Null":{"` + host + `:sub":false}}`), true},
		{"ForAnyValue", allow(`{"ForAnyValue:StringEquals":{"` + host + `:aud":["a","sts.amazonaws.com"]}}`), true},
		{"ForAnyValue on a missing key", allow(`{"ForAnyValue:StringEquals":{"` + host + `:amr":"a"}}`), false},
		{"ForAllValues on a missing key is vacuously true", allow(`{"ForAllValues:StringEquals":{"` + host + `:amr":"a"}}`), true},
		{"ForAllValues mismatch", allow(`{"ForAllValues:StringEquals":{"` + host + `:aud":"a"}}`), false},
		{"StringNotLike", allow(`{"StringNotLike":{"` + host + `:sub":"system:serviceaccount:kube-system:*"}}`), true},
		{"IgnoreCase", allow(`{"StringEqualsIgnoreCase":{"` + host + `:sub":"SYSTEM:serviceaccount:SHOP:app"}}`), true},
		{"unknown operator never holds", allow(`{"StringSomething":{"` + host + `:sub":"x"}}`), false},
		{"action wildcard sts:*", `{"Statement":` + stmt("Allow", fed, `"sts:*"`, "") + `}`, true},
		{"action wildcard sts:AssumeRole*", `{"Statement":` + stmt("Allow", fed, `["sts:AssumeRole*"]`, "") + `}`, true},
		{"action case-insensitive", `{"Statement":` + stmt("Allow", fed, `"STS:assumerolewithwebidentity"`, "") + `}`, true},
		{"sts:AssumeRole does not cover it", `{"Statement":` + stmt("Allow", fed, `"sts:AssumeRole"`, "") + `}`, false},
		{"Principal *", `{"Statement":` + stmt("Allow", `"*"`, act, "") + `}`, true},
		{"AWS *", `{"Statement":` + stmt("Allow", `{"AWS":"*"}`, act, "") + `}`, true},
		{"another provider", `{"Statement":` + stmt("Allow", `{"Federated":"arn:aws:iam::111122223333:oidc-provider/other"}`, act, "") + `}`, false},
		{"Deny wins", `{"Statement":[` + stmt("Allow", fed, act, "") + `,` + stmt("Deny", fed, `"*"`, "") + `]}`, false},
		{"non-matching Deny is ignored", `{"Statement":[` + stmt("Allow", fed, act, "") + `,` +
			stmt("Deny", fed, `"*"`, `{"StringEquals":{"`+host+`:sub":"x"}}`) + `]}`, true},
		{"NotAction", `{"Statement":{"Effect":"Allow","Principal":` + fed + `,"NotAction":"sts:AssumeRole"}}`, true},
		{"no statement", `{"Statement":[]}`, false},
	}
	for _, tt := range tests {
		got, err := evaluateTrust(tt.policy, rc)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if got != tt.want {
			t.Errorf("%s: allowed = %v, want %v\n%s", tt.name, got, tt.want, tt.policy)
		}
	}
	if _, err := evaluateTrust("{", rc); err == nil {
		t.Error("a malformed policy evaluated without error")
	}
}

// TestEvaluateTrustServiceAndAWSPrincipals covers what EKS Pod Identity
// needs: the pods.eks.amazonaws.com service principal with session-tag and
// source conditions, and the association role as AWS principal of a target
// role.
func TestEvaluateTrustServiceAndAWSPrincipals(t *testing.T) {
	const (
		cluster = "arn:aws:eks:us-west-2:111122223333:cluster/prod"
		role    = "arn:aws:iam::111122223333:role/pods/app"
	)
	svc := trustRequest{action: "sts:AssumeRole", service: "pods.eks.amazonaws.com", keys: map[string][]string{
		"aws:sourceaccount":                   {"111122223333"},
		"aws:sourcearn":                       {cluster},
		"aws:requesttag/kubernetes-namespace": {"shop"},
	}}
	chained := trustRequest{action: "sts:AssumeRole", aws: role, keys: map[string][]string{"sts:externalid": {"ext-1"}}}
	pol := func(principal, cond string) string {
		s := `{"Statement":{"Effect":"Allow","Principal":` + principal + `,"Action":["sts:AssumeRole","sts:TagSession"]`
		if cond != "" {
			s += `,"Condition":` + cond
		}
		return s + "}}"
	}
	pods := `{"Service":"pods.eks.amazonaws.com"}`
	tests := []struct {
		name   string
		policy string
		rc     trustRequest
		want   bool
	}{
		{"service principal", pol(pods, ""), svc, true},
		{"service principal in a list", pol(`{"Service":["ec2.amazonaws.com","pods.eks.amazonaws.com"]}`, ""), svc, true},
		{"another service", pol(`{"Service":"ec2.amazonaws.com"}`, ""), svc, false},
		{"a federated principal does not match a service", pol(`{"Federated":"pods.eks.amazonaws.com"}`, ""), svc, false},
		{"request tag matches", pol(pods, `{"StringEquals":{"aws:RequestTag/kubernetes-namespace":"shop"}}`), svc, true},
		{"request tag excludes", pol(pods, `{"StringEquals":{"aws:RequestTag/kubernetes-namespace":"batch"}}`), svc, false},
		{"source account", pol(pods, `{"StringEquals":{"aws:SourceAccount":"111122223333"}}`), svc, true},
		{"ArnLike on the source", pol(pods, `{"ArnLike":{"aws:SourceArn":"arn:aws:eks:*:111122223333:cluster/*"}}`), svc, true},
		{"ArnEquals on another cluster", pol(pods, `{"ArnEquals":{"aws:SourceArn":"arn:aws:eks:us-west-2:111122223333:cluster/dev"}}`), svc, false},
		{"ArnLike * does not span a colon", pol(pods, `{"ArnLike":{"aws:SourceArn":"arn:aws:eks:*"}}`), svc, false},
		{"ArnNotLike", pol(pods, `{"ArnNotLike":{"aws:SourceArn":"arn:aws:eks:*:999999999999:cluster/*"}}`), svc, true},
		{"the role as AWS principal", pol(`{"AWS":"`+role+`"}`, `{"StringEquals":{"sts:ExternalId":"ext-1"}}`), chained, true},
		{"its account root", pol(`{"AWS":"arn:aws:iam::111122223333:root"}`, ""), chained, true},
		{"its bare account", pol(`{"AWS":["111122223333"]}`, ""), chained, true},
		{"another role", pol(`{"AWS":"arn:aws:iam::111122223333:role/other"}`, ""), chained, false},
		{"wrong external ID", pol(`{"AWS":"`+role+`"}`, `{"StringEquals":{"sts:ExternalId":"ext-2"}}`), chained, false},
		{"a service principal does not match a role", pol(pods, ""), chained, false},
	}
	for _, tt := range tests {
		got, err := evaluateTrust(tt.policy, tt.rc)
		if err != nil || got != tt.want {
			t.Errorf("%s: allowed = %v, %v; want %v\n%s", tt.name, got, err, tt.want, tt.policy)
		}
	}
}
