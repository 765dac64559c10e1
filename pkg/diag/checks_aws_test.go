package diag_test

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/diag"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/facts"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/thumbprint"
	"github.com/kubectl-irsa/kubectl-irsa/test/testutil"
)

const (
	issuer   = "https://oidc.eks.us-west-2.amazonaws.com/id/ABC"
	host     = "oidc.eks.us-west-2.amazonaws.com/id/ABC"
	provider = "arn:aws:iam::111122223333:oidc-provider/" + host
)

func trust(sub string) string {
	return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"` + provider + `"},"Action":"sts:AssumeRoleWithWebIdentity",` +
		`"Condition":{"StringEquals":{"` + host + `:sub":"` + sub + `","` + host + `:aud":"sts.amazonaws.com"}}}]}`
}

// healthyAWS is the AWS side that makes shop/app work.
func healthyAWS() *facts.AWSFacts {
	return &facts.AWSFacts{
		Issuer: facts.IssuerFacts{URL: issuer, Source: "--issuer"},
		Caller: facts.Caller{Account: "111122223333"},
		Roles: map[string]facts.Role{testutil.RoleARN: {ARN: testutil.RoleARN, Name: "app", Path: "/", Found: true,
			TrustPolicy: trust("system:serviceaccount:shop:app"), AttachedPolicyARNs: []string{"arn:aws:iam::aws:policy/ReadOnlyAccess"}}},
		Providers: map[string]facts.OIDCProvider{provider: {ARN: provider, URL: host, Found: true, ClientIDs: []string{"sts.amazonaws.com"}}},
	}
}

func awsScenario(edit func(*facts.AWSFacts)) scenario {
	return scenario{sa: healthySA, pods: []*corev1.Pod{healthyPod("web").Build()}, mutate: func(s *facts.Snapshot) {
		s.AWS = healthyAWS()
		if edit != nil {
			edit(s.AWS)
		}
	}}
}

func TestAWSChecksHealthy(t *testing.T) {
	t.Parallel()
	for _, d := range diag.Run(awsScenario(nil).snapshot()) {
		for _, f := range d.Findings {
			if f.Status != diag.StatusPass {
				t.Errorf("%s %s: %s", f.ID, f.Status, f.Message)
			}
		}
	}
	// --skip-aws: no AWS finding at all.
	sc := awsScenario(nil)
	sc.mutate = nil
	for _, id := range []diag.CheckID{"IRSA-ISSUER-001", "IRSA-OIDC-001", "IRSA-ROLE-001", "IRSA-TRUST-001"} {
		expect(t, findingsOf(t, sc.snapshot(), id), nil)
	}
}

func TestAWSChecks(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		id   diag.CheckID
		edit func(*facts.AWSFacts)
		want []want
	}{
		{"AWS unavailable", "IRSA-ISSUER-001", func(a *facts.AWSFacts) { a.Unavailable = "no AWS region: pass --region" },
			[]want{{status: diag.StatusUnknown, message: "no AWS region", fix: "--skip-aws"}}},
		{"issuer unknown", "IRSA-ISSUER-001", func(a *facts.AWSFacts) { a.Issuer = facts.IssuerFacts{Tried: []string{"no EKS cluster name"}} },
			[]want{{status: diag.StatusUnknown, message: "no EKS cluster name", fix: "pass --issuer"}}},
		{"cluster without issuer", "IRSA-ISSUER-001", func(a *facts.AWSFacts) {
			a.Issuer = facts.IssuerFacts{}
			a.Cluster = &facts.Cluster{Name: "edge", ARN: "arn:aws:eks:us-west-2:111122223333:cluster/edge"}
		}, []want{{status: diag.StatusFail, message: "has no OIDC issuer", fix: "EKS Pod Identity"}}},
		{"issuer in another partition than the role", "IRSA-ISSUER-001", func(a *facts.AWSFacts) {
			a.Issuer.URL = "https://oidc.eks.cn-north-1.amazonaws.com.cn/id/ABC"
		}, []want{{status: diag.StatusFail, message: "partition aws-cn but the role ARN names partition aws", evidence: []string{"role partition=aws"}}}},
		{"provider lookup denied", "IRSA-OIDC-001", func(a *facts.AWSFacts) {
			a.Providers[provider] = facts.OIDCProvider{ARN: provider, Err: &facts.CallError{Op: "iam:GetOpenIDConnectProvider", Resource: provider, Code: facts.ErrAccessDenied, Message: "not authorized"}}
		}, []want{{status: diag.StatusUnknown, message: "iam:GetOpenIDConnectProvider failed (AccessDenied)", fix: "grant iam:GetOpenIDConnectProvider on " + provider}}},
		{"dual-stack provider", "IRSA-OIDC-001", func(a *facts.AWSFacts) {
			a.Providers[provider] = facts.OIDCProvider{ARN: provider, Err: &facts.CallError{Op: "iam:GetOpenIDConnectProvider", Code: facts.ErrNotFound, Message: "not found"}}
			a.ProviderLists = map[string]facts.ProviderList{"111122223333": {Account: "111122223333", ARNs: []string{"arn:aws:iam::111122223333:oidc-provider/oidc-eks.us-west-2.api.aws/id/ABC"}}}
		}, []want{{status: diag.StatusFail, message: "uses the dual-stack host, but tokens carry iss=oidc.eks.us-west-2.amazonaws.com"}}},
		{"role in another account than the cluster", "IRSA-OIDC-001", func(a *facts.AWSFacts) {
			a.Providers[provider] = facts.OIDCProvider{ARN: provider, Err: &facts.CallError{Op: "iam:GetOpenIDConnectProvider", Code: facts.ErrNotFound, Message: "not found"}}
			a.ClusterAccount = "444455556666"
		}, []want{{status: diag.StatusFail, message: "the cluster is in account 444455556666 and the role in account 111122223333: the provider must exist in the role's account",
			evidence: []string{"cluster account=444455556666", "role account=111122223333"}, fix: "--client-id-list sts.amazonaws.com --profile <a profile for account 111122223333>  # not eksctl"}}},
		{"provider registered for another region's host", "IRSA-OIDC-001", func(a *facts.AWSFacts) {
			a.Providers[provider] = facts.OIDCProvider{ARN: provider, Err: &facts.CallError{Op: "iam:GetOpenIDConnectProvider", Code: facts.ErrNotFound, Message: "not found"}}
			a.ProviderLists = map[string]facts.ProviderList{"111122223333": {Account: "111122223333", ARNs: []string{"arn:aws:iam::111122223333:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/ABC"}}}
		}, []want{{status: diag.StatusFail, message: "under another host (oidc.eks.us-east-1.amazonaws.com: another region"}}},
		{"audience not a client ID", "IRSA-OIDC-002", func(a *facts.AWSFacts) {
			a.Providers[provider] = facts.OIDCProvider{ARN: provider, Found: true, ClientIDs: []string{"sts.amazonaws.com.cn"}}
		}, []want{{status: diag.StatusFail, message: `client ID "sts.amazonaws.com.cn" is the China STS host`, evidence: []string{"token audience=sts.amazonaws.com"}}}},
		{"role throttled", "IRSA-ROLE-001", func(a *facts.AWSFacts) {
			a.Roles[testutil.RoleARN] = facts.Role{ARN: testutil.RoleARN, Err: &facts.CallError{Op: "iam:GetRole", Code: facts.ErrThrottled, Message: "Rate exceeded"}}
		}, []want{{status: diag.StatusUnknown, message: "Rate exceeded", fix: "--aws-concurrency"}}},
		{"policy listing denied", "IRSA-ROLE-002", func(a *facts.AWSFacts) {
			r := a.Roles[testutil.RoleARN]
			r.PoliciesErr = &facts.CallError{Op: "iam:ListAttachedRolePolicies", Code: facts.ErrAccessDenied, Message: "denied"}
			a.Roles[testutil.RoleARN] = r
		}, []want{{status: diag.StatusUnknown, fix: "grant iam:ListAttachedRolePolicies"}}},
		{"unparseable trust policy", "IRSA-TRUST-001", func(a *facts.AWSFacts) {
			r := a.Roles[testutil.RoleARN]
			r.TrustPolicy = `{"Statement": [`
			a.Roles[testutil.RoleARN] = r
		}, []want{{status: diag.StatusFail, message: "cannot be parsed"}}},
		{"thumbprint breaks", "IRSA-OIDC-003", func(a *facts.AWSFacts) {
			a.TLS = &facts.TLSFacts{Report: servedChain(false)}
		}, []want{{status: diag.StatusFail, severity: diag.SeverityError, message: "STS checks thumbprints for this issuer",
			evidence: []string{"verdict=MismatchBreaks", "served thumbprint=" + servedThumbprint}, fix: "update-open-id-connect-provider-thumbprint"}}},
		{"thumbprint stale but ignored", "IRSA-OIDC-003", func(a *facts.AWSFacts) {
			a.TLS = &facts.TLSFacts{Report: servedChain(true)}
		}, []want{{status: diag.StatusPass, message: "ignores the thumbprint", evidence: []string{"verdict=StaleIgnored"}}}},
		{"chain unreadable", "IRSA-OIDC-003", func(a *facts.AWSFacts) {
			a.TLS = &facts.TLSFacts{Err: "dial tcp: i/o timeout"}
		}, []want{{status: diag.StatusUnknown, message: "i/o timeout", fix: "HTTPS_PROXY"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			expect(t, findingsOf(t, awsScenario(tc.edit).snapshot(), tc.id), tc.want)
		})
	}
}

// servedThumbprint is not in the scenario's ThumbprintList.
const servedThumbprint = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

// servedChain is the issuer's chain as pkg/tlsinspect reports it: one host
// whose last certificate hashes to servedThumbprint, publicly trusted or not.
func servedChain(verified bool) thumbprint.Report {
	h := thumbprint.HostChain{Role: thumbprint.RoleJWKS, URL: "https://issuer.example.internal/keys", Host: "issuer.example.internal", Port: "443",
		Thumbprint: servedThumbprint, Verified: verified,
		Certs: []thumbprint.CertInfo{{Depth: 0, Subject: "CN=issuer.example.internal", Issuer: "CN=Example CA", SHA1: servedThumbprint}}}
	if !verified {
		h.VerifyError, h.PrivateCA = "x509: certificate signed by unknown authority", true
	}
	return thumbprint.Report{Issuer: "https://issuer.example.internal", Thumbprint: servedThumbprint, Hosts: []thumbprint.HostChain{h}}
}

// TestCheckTrustDefects: IRSA-TRUST-003 speaks only when the pod is allowed
// and another statement for the same provider is broken (here with
// https:// in its condition keys, which never match); when the pod is
// denied, IRSA-TRUST-001 reports every problem instead.
func TestCheckTrustDefects(t *testing.T) {
	t.Parallel()
	statement := func(keyPrefix, sub string) string {
		return `{"Effect":"Allow","Principal":{"Federated":"` + provider + `"},"Action":"sts:AssumeRoleWithWebIdentity",` +
			`"Condition":{"StringEquals":{"` + keyPrefix + host + `:sub":"` + sub + `","` + keyPrefix + host + `:aud":"sts.amazonaws.com"}}}`
	}
	good := statement("", "system:serviceaccount:shop:app")
	broken := statement("https://", "system:serviceaccount:shop:worker")
	withTrust := func(statements string) func(*facts.AWSFacts) {
		return func(a *facts.AWSFacts) {
			r := a.Roles[testutil.RoleARN]
			r.TrustPolicy = `{"Version":"2012-10-17","Statement":[` + statements + `]}`
			a.Roles[testutil.RoleARN] = r
		}
	}
	defect := func(key string) want {
		return want{status: diag.StatusFail, severity: diag.SeverityWarning, object: testutil.RoleARN,
			message:  "The pod is allowed, but a statement for this provider is broken: condition keys use the provider URL without https:// (statement 1)",
			evidence: []string{"cause=KeyWithScheme", "found=https://" + host + ":" + key, "expected=" + host + ":" + key},
			fix:      `fix the statement; this is what a working one looks like: {"Action":"sts:AssumeRoleWithWebIdentity"`}
	}
	tests := []struct {
		name string
		edit func(*facts.AWSFacts)
		// trust001 is IRSA-TRUST-001's verdict, on which the cases rest.
		trust001 diag.Status
		want     []want
	}{
		{"healthy policy: nothing to report", nil, diag.StatusPass, nil},
		{"allowed, another statement with https:// keys", withTrust(good + "," + broken), diag.StatusPass, []want{defect("aud"), defect("sub")}},
		{"denied: left to IRSA-TRUST-001", withTrust(broken), diag.StatusFail, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			snap := awsScenario(tc.edit).snapshot()
			expect(t, findingsOf(t, snap, "IRSA-TRUST-003"), tc.want)
			expect(t, findingsOf(t, snap, "IRSA-TRUST-001"), []want{{status: tc.trust001, object: testutil.RoleARN}})
		})
	}
}

// A denied pod's IRSA-TRUST-001 carries the role's whole trust policy,
// decoded and indented, so the user need not run aws iam get-role.
func TestTrustFindingCarriesThePolicy(t *testing.T) {
	t.Parallel()
	doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"` + provider + `"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"` + host + `:sub":"system:serviceaccount:shop:other"}}}]}`
	snap := awsScenario(func(a *facts.AWSFacts) {
		r := a.Roles[testutil.RoleARN]
		r.TrustPolicy = doc
		a.Roles[testutil.RoleARN] = r
	}).snapshot()
	fs := findingsOf(t, snap, "IRSA-TRUST-001")
	if len(fs) != 1 || fs[0].Status != diag.StatusFail {
		t.Fatalf("IRSA-TRUST-001: %+v", fs)
	}
	var policy string
	for _, e := range fs[0].Evidence {
		if e.Key == "trust policy" {
			policy = e.Value
		}
	}
	if !strings.HasPrefix(policy, "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [") || !strings.Contains(policy, "system:serviceaccount:shop:other") {
		t.Errorf("trust policy evidence %q, want the indented document", policy)
	}
}
