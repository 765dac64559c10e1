package cloud_test

import (
	"fmt"
	"testing"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/cloud"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/facts"
	"github.com/kubectl-irsa/kubectl-irsa/test/fakeaws"
)

// auditTrust has the characters IAM URL-encodes (quotes, braces, colons,
// slashes, '*' and a '+').
const auditTrust = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"` + provARN +
	`"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringLike":{"` + provURL + `:sub":"system:serviceaccount:a+b:*"}}}]}`

// TestAuditWire points the real SDK at the emulator: ListRoles paged to
// its end (pages of 3) under a path prefix, documents URL-decoded, the
// providers listed, the quota read from GetAccountSummary, and the
// annotated role outside the listing read with GetRole.
func TestAuditWire(t *testing.T) {
	fake, c := newEnv(t, 4)
	fake.SetMaxPage(3)
	fake.SetAssumeRolePolicySizeQuota(4096)
	fake.AddProvider(fakeaws.Provider{ARN: provARN, URL: provURL, ClientIDs: []string{"sts.amazonaws.com"}})
	for i := range 8 {
		fake.AddRole(fakeaws.Role{ARN: fmt.Sprintf("arn:aws:iam::%s:role/eks/r%d", acct, i), TrustPolicy: auditTrust})
	}
	fake.AddRole(fakeaws.Role{ARN: "arn:aws:iam::" + acct + ":role/other/annotated", TrustPolicy: auditTrust})
	out := c.Audit(ctxT(t), cloud.AuditInput{Issuer: issuer, AllRoles: true, PathPrefix: "/eks/",
		RoleARNs: []string{"arn:aws:iam::" + acct + ":role/other/annotated", "arn:aws:iam::" + acct + ":role/eks/r0"}})
	if out.ListErr != nil || out.SummaryErr != nil || out.Providers.Err != nil {
		t.Fatalf("errors: %v %v %v", out.ListErr, out.SummaryErr, out.Providers.Err)
	}
	if out.Issuer.URL != issuer || out.Caller.Account != acct {
		t.Errorf("issuer %q caller %q", out.Issuer.URL, out.Caller.Account)
	}
	if out.SizeQuota != 4096 {
		t.Errorf("quota = %d, want 4096", out.SizeQuota)
	}
	if len(out.Providers.ARNs) != 1 || out.Providers.ARNs[0] != provARN {
		t.Errorf("providers = %v", out.Providers.ARNs)
	}
	listed := 0
	for _, r := range out.Roles {
		if r.TrustPolicy != auditTrust || r.Err != nil {
			t.Errorf("%s: trust %q err %v", r.ARN, r.TrustPolicy, r.Err)
		}
		if r.Listed {
			listed++
		}
	}
	if listed != 8 || len(out.Roles) != 9 {
		t.Errorf("%d roles, %d listed: %+v", len(out.Roles), listed, out.Roles)
	}
	// Three pages of ListRoles; GetRole only for the role the listing did
	// not return.
	if n := fake.Count("ListRoles"); n != 3 {
		t.Errorf("ListRoles calls = %d, want 3", n)
	}
	if n := fake.Count("GetRole"); n != 1 {
		t.Errorf("GetRole calls = %d, want 1", n)
	}
	// The audit judges trust only: no permission listings.
	if n := fake.Count("ListAttachedRolePolicies") + fake.Count("ListRolePolicies"); n != 0 {
		t.Errorf("%d permission listing calls, want none", n)
	}
	if n := fake.Count("GetAccountSummary"); n != 1 {
		t.Errorf("GetAccountSummary calls = %d, want 1", n)
	}
}

// TestAuditWireDenied: ListRoles and GetAccountSummary denied are facts;
// the annotated role is still read with GetRole.
func TestAuditWireDenied(t *testing.T) {
	fake, c := newEnv(t, 0)
	fake.AddProvider(fakeaws.Provider{ARN: provARN, URL: provURL})
	fake.AddRole(fakeaws.Role{ARN: roleARN, TrustPolicy: auditTrust})
	fake.Fail("iam:ListRoles", "", "AccessDenied", "", 0)
	fake.Fail("iam:GetAccountSummary", "", "AccessDenied", "", 0)
	out := c.Audit(ctxT(t), cloud.AuditInput{Issuer: issuer, AllRoles: true, RoleARNs: []string{roleARN}})
	if out.ListErr == nil || out.ListErr.Code != facts.ErrAccessDenied || out.ListErr.Op != cloud.OpListRoles {
		t.Errorf("ListErr = %+v", out.ListErr)
	}
	if out.SummaryErr == nil || out.SummaryErr.Code != facts.ErrAccessDenied || out.SummaryErr.Op != cloud.OpGetAccountSummary {
		t.Errorf("SummaryErr = %+v", out.SummaryErr)
	}
	if out.SizeQuota != 0 {
		t.Errorf("quota = %d", out.SizeQuota)
	}
	if len(out.Roles) != 1 || out.Roles[0].ARN != roleARN || out.Roles[0].TrustPolicy != auditTrust || out.Roles[0].Listed {
		t.Errorf("roles = %+v", out.Roles)
	}
}

// TestAuditWireManyAnnotated: from ListingThreshold annotated roles of the
// caller's account on, they are read from the listing's pages, not with a
// GetRole each; the listing's other roles are not audited. A denied
// listing falls back to GetRole without a finding (it was not asked for).
func TestAuditWireManyAnnotated(t *testing.T) {
	fake, c := newEnv(t, 0)
	fake.AddProvider(fakeaws.Provider{ARN: provARN, URL: provURL})
	var arns []string
	for i := range cloud.ListingThreshold {
		a := fmt.Sprintf("arn:aws:iam::%s:role/r%02d", acct, i)
		fake.AddRole(fakeaws.Role{ARN: a, TrustPolicy: auditTrust})
		arns = append(arns, a)
	}
	fake.AddRole(fakeaws.Role{ARN: "arn:aws:iam::" + acct + ":role/unannotated", TrustPolicy: auditTrust})
	out := c.Audit(ctxT(t), cloud.AuditInput{Issuer: issuer, RoleARNs: arns})
	if len(out.Roles) != len(arns) || out.ListErr != nil {
		t.Fatalf("%d roles (err %v)", len(out.Roles), out.ListErr)
	}
	for _, r := range out.Roles {
		if r.Listed || r.TrustPolicy != auditTrust {
			t.Errorf("%+v", r)
		}
	}
	if n := fake.Count("GetRole"); n != 0 {
		t.Errorf("GetRole calls = %d, want 0", n)
	}
	if n := fake.Count("ListRoles"); n != 1 {
		t.Errorf("ListRoles calls = %d, want 1", n)
	}

	fake.ResetCalls()
	fake.Fail("iam:ListRoles", "", "AccessDenied", "", 0)
	c2 := cloud.NewCollector(fakeaws.Start(t, fake), cloud.CollectorOptions{})
	out = c2.Audit(ctxT(t), cloud.AuditInput{Issuer: issuer, RoleARNs: arns})
	if len(out.Roles) != len(arns) || out.ListErr != nil {
		t.Fatalf("%d roles, ListErr %v", len(out.Roles), out.ListErr)
	}
	if n := fake.Count("GetRole"); n != len(arns) {
		t.Errorf("GetRole calls = %d, want %d", n, len(arns))
	}
}
