package cloud_test

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/cloud"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/facts"
	"github.com/kubectl-irsa/kubectl-irsa/test/fakeaws"
)

// listingWorld is n roles of the caller's account in scope (every fifth
// under a path, some with attached and inline policies, the trust policy
// with every character IAM encodes), one missing, one whose ARN names it
// without its path, and one in another account; the account also holds
// roles no subject uses. maxPage cuts the listings' pages.
func listingWorld(t *testing.T, n, maxPage int) (*fakeaws.Server, *cloud.Collector, []string) {
	t.Helper()
	fake, c := newEnv(t, 0)
	fake.SetMaxPage(maxPage)
	var arns []string
	for i := range n {
		path := ""
		if i%5 == 0 {
			path = "team/"
		}
		a := fmt.Sprintf("arn:aws:iam::%s:role/%sr%04d", acct, path, i)
		r := fakeaws.Role{ARN: a, TrustPolicy: trustPolicy}
		if i%2 == 0 {
			r.AttachedPolicyARNs = []string{"arn:aws:iam::aws:policy/ReadOnlyAccess", fmt.Sprintf("arn:aws:iam::%s:policy/p%d", acct, i)}
		}
		if i%3 == 0 {
			r.InlinePolicyNames = []string{"s3", "sqs"}
		}
		fake.AddRole(r)
		arns = append(arns, a)
	}
	for i := range 7 {
		fake.AddRole(fakeaws.Role{ARN: fmt.Sprintf("arn:aws:iam::%s:role/unused-%d", acct, i), TrustPolicy: "{}"})
	}
	fake.AddRole(fakeaws.Role{ARN: "arn:aws:iam::210987654321:role/elsewhere", TrustPolicy: "{}"})
	arns = append(arns,
		"arn:aws:iam::"+acct+":role/missing",
		"arn:aws:iam::"+acct+":role/r0000", // r0000 lives under team/: GetRole by name finds it
		"arn:aws:iam::210987654321:role/elsewhere")
	return fake, c, arns
}

func countsOf(fake *fakeaws.Server) map[string]int {
	out := map[string]int{}
	for _, call := range fake.Calls() {
		out[call.Service+":"+call.Op]++
	}
	return out
}

// TestRoleListingMatchesPerRole: with enough roles, the listings answer
// for every role of the account they show, with the very facts the
// per-role calls give (the denied run is the per-role path); the missing
// role and the one of another account still get their own calls and their
// own errors.
func TestRoleListingMatchesPerRole(t *testing.T) {
	const n = 30
	fake, c, arns := listingWorld(t, n, 7)
	listed := c.Gather(ctxT(t), cloud.GatherInput{RoleARNs: arns})
	calls := countsOf(fake)

	deniedFake, perRole, _ := listingWorld(t, n, 7)
	deniedFake.Fail("iam:ListRoles", "", "AccessDenied", "", 0)
	oneByOne := perRole.Gather(ctxT(t), cloud.GatherInput{RoleARNs: arns})

	if !reflect.DeepEqual(listed.Roles, oneByOne.Roles) {
		for a, r := range listed.Roles {
			if !reflect.DeepEqual(r, oneByOne.Roles[a]) {
				t.Errorf("%s:\nlisted   %+v\nper role %+v", a, r, oneByOne.Roles[a])
			}
		}
		t.Fatal("the listings' role facts differ from the per-role calls'")
	}
	if r := listed.Roles[arns[0]]; !r.Found || r.Path != "/team/" || r.TrustPolicy != trustPolicy || len(r.AttachedPolicyARNs) != 2 || len(r.InlinePolicyNames) != 2 {
		t.Errorf("listed role = %+v", r)
	}
	if r := listed.Roles["arn:aws:iam::"+acct+":role/missing"]; r.Found || r.Err == nil || r.Err.Code != facts.ErrNotFound {
		t.Errorf("missing role = %+v", r)
	}
	if l := listed.RoleListing; l == nil || l.Err != nil || l.Account != acct || l.Roles != n+1 {
		t.Errorf("RoleListing = %+v, want %d roles answered (the path-less ARN too)", l, n+1)
	}
	// 38 roles in the account at 7 a page: 6 pages of each listing. Only
	// the missing role and the one of another account cost a GetRole (no
	// role of that name in the caller's account: no listings after it).
	want := map[string]int{"sts:GetCallerIdentity": 1, "iam:ListRoles": 6, "iam:GetAccountAuthorizationDetails": 6, "iam:GetRole": 2}
	if !reflect.DeepEqual(calls, want) {
		t.Errorf("calls %v, want %v", calls, want)
	}
}

// TestRoleListingDeniedFallsBack: a denied listing is said once, in
// RoleListing, and every role is read with its own three calls, as
// without the fast path; no role carries the denial.
func TestRoleListingDeniedFallsBack(t *testing.T) {
	for _, op := range []string{cloud.OpListRoles, cloud.OpGetAccountAuthorizationDetails} {
		t.Run(op, func(t *testing.T) {
			const n = 25
			fake, c, arns := listingWorld(t, n, 0)
			fake.Fail(op, "", "AccessDenied", "", 0)
			f := c.Gather(ctxT(t), cloud.GatherInput{RoleARNs: arns})
			l := f.RoleListing
			if l == nil || l.Err == nil || l.Err.Code != facts.ErrAccessDenied || l.Err.Op != op || l.Roles != 0 {
				t.Fatalf("RoleListing = %+v, want %s AccessDenied", l, op)
			}
			calls := countsOf(fake)
			// Every role by name: the n roles, the path-less ARN of one of
			// them, the missing one and the other account's; the listings
			// of the n+1 that exist. The denied listing is one call, the
			// other at most its one page (stopped or finished).
			if calls["iam:GetRole"] != n+3 || calls["iam:ListAttachedRolePolicies"] != n+1 || calls["iam:ListRolePolicies"] != n+1 ||
				calls[op] != 1 || calls["iam:ListRoles"]+calls["iam:GetAccountAuthorizationDetails"] > 2 {
				t.Errorf("calls %v", calls)
			}
			for a, r := range f.Roles {
				if r.Err != nil && r.Err.Code == facts.ErrAccessDenied {
					t.Errorf("role %s carries the listing's denial: %+v", a, r)
				}
			}
		})
	}
}

// TestRoleListingBelowThreshold: with fewer roles of the caller's account
// than ListingThreshold in scope, nothing is listed and the calls are the
// per-role ones, exactly as before the fast path.
func TestRoleListingBelowThreshold(t *testing.T) {
	// threshold-3 roles, the path-less ARN and the missing one: one short
	// of the threshold in the caller's account.
	fake, c, arns := listingWorld(t, cloud.ListingThreshold-3, 0)
	f := c.Gather(ctxT(t), cloud.GatherInput{RoleARNs: arns})
	if f.RoleListing != nil {
		t.Errorf("RoleListing = %+v, want nil", f.RoleListing)
	}
	calls := countsOf(fake)
	if calls["iam:ListRoles"] != 0 || calls["iam:GetAccountAuthorizationDetails"] != 0 || calls["iam:GetRole"] != len(arns) {
		t.Errorf("calls %v", calls)
	}
}

// TestRoleListingCallsFollowPages: at 1,000 roles the fast path makes
// fewer than 60 calls even when IAM pages at 100, and the calls do not grow
// with the roles in scope, only with the account's pages.
func TestRoleListingCallsFollowPages(t *testing.T) {
	total := func(n, maxPage int) (int, map[string]int) {
		fake, c, arns := listingWorld(t, n, maxPage)
		fake.AddProvider(fakeaws.Provider{ARN: provARN, URL: provURL})
		f := c.Gather(ctxT(t), cloud.GatherInput{Issuer: issuer, RoleARNs: arns})
		if f.RoleListing == nil || f.RoleListing.Roles != n+1 {
			t.Fatalf("%d roles: RoleListing = %+v", n, f.RoleListing)
		}
		calls := countsOf(fake)
		sum := 0
		for _, k := range calls {
			sum += k
		}
		return sum, calls
	}
	if sum, calls := total(1000, 100); sum >= 60 {
		t.Errorf("1,000 roles at 100 a page: %d calls %v, want fewer than 60", sum, calls)
	}
	small, smallCalls := total(100, 0)
	large, largeCalls := total(900, 0)
	if small != large {
		t.Errorf("calls grow with the roles in one page of the account: 100 roles %v, 900 roles %v", smallCalls, largeCalls)
	}
}
