package cloud

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"k8s.io/klog/v2"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/facts"
)

// The account-wide listings of the fast path (docs/design.md#aws-calls).
const (
	OpListRoles                      = "iam:ListRoles"
	OpGetAccountAuthorizationDetails = "iam:GetAccountAuthorizationDetails"
)

// ListingThreshold is how many roles of the caller's account must be in
// scope before they are read with the account-wide listings instead of
// three calls each. Below it the per-role calls are fewer than 60, the
// budget the listings are held to at 1,000 roles, and need no permission
// beyond the minimal policy; at and above it the listings cost their pages
// (1,000 roles a page; an account holds 1,000 by default) whatever the number
// of roles in scope (docs/design.md#aws-calls).
const ListingThreshold = 20

// listingPageSize is the most either listing returns in one page (MaxItems).
const listingPageSize = 1000

// listedTrust is what iam:ListRoles says of one role.
type listedTrust struct {
	name, path, trust string
}

// listedPolicies is what iam:GetAccountAuthorizationDetails says of one
// role's permissions: the attached policies' ARNs and the inline policies'
// names, in IAM's order, as the per-role listings return them (the inline
// documents are not kept: no check reads them).
type listedPolicies struct {
	attached, inline []string
}

// listRoles reads the roles in scope that live in the caller's account
// with iam:ListRoles and iam:GetAccountAuthorizationDetails (Filter=Role),
// when there are at least ListingThreshold of them, and settles each role
// they answer for in the role cache, so that Role makes no call for it.
// account waits for the caller's account ("" when it is unknown). Roles the
// listings do not show (another account, a missing role, a name spelt
// differently) are left to their own calls, which give their exact error.
// nil means the listings were not tried; a failed listing is kept in Err
// and every role is then read with its own calls.
func (c *Collector) listRoles(ctx context.Context, roleARNs []string, account func() string) *facts.RoleListing {
	if len(roleARNs) < ListingThreshold {
		return nil
	}
	acct := account()
	if acct == "" {
		return nil
	}
	// Several ARNs can name one role (paths are not part of the lookup):
	// each gets the role's facts, as GetRole by name gives them.
	want := map[string][]string{}
	inAccount := 0
	for _, a := range roleARNs {
		parsed, name, err := roleNameFromARN(a)
		if err != nil || parsed.AccountID != acct {
			continue
		}
		want[name] = append(want[name], a)
		inAccount++
	}
	if inAccount < ListingThreshold {
		return nil
	}

	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr *facts.CallError
		trust    map[string]listedTrust
		perms    map[string]listedPolicies
		// A failed listing stops the other one after its current page: its
		// next pages would be wasted. (Cancelling the page in flight would
		// have the SDK warn on stderr about the body it could not drain.)
		stop atomic.Bool
	)
	fail := func(ce *facts.CallError) {
		mu.Lock()
		defer mu.Unlock()
		if firstErr == nil {
			firstErr = ce
			stop.Store(true)
		}
	}
	wg.Go(func() {
		var ce *facts.CallError
		if trust, ce = c.listTrust(ctx, acct, want, &stop); ce != nil {
			fail(ce)
		}
	})
	wg.Go(func() {
		var ce *facts.CallError
		if perms, ce = c.listPolicies(ctx, acct, want, &stop); ce != nil {
			fail(ce)
		}
	})
	wg.Wait()
	out := &facts.RoleListing{Account: acct}
	if firstErr != nil {
		out.Err = firstErr
		klog.V(2).InfoS("the account-wide role listing failed; reading each role with its own calls", "err", firstErr)
		return out
	}
	for name, arns := range want {
		t, ok := trust[name]
		p, ok2 := perms[name]
		if !ok || !ok2 {
			continue
		}
		for _, a := range arns {
			c.settleRole(facts.Role{ARN: a, Name: t.name, Path: t.path, TrustPolicy: t.trust, Found: true,
				AttachedPolicyARNs: slices.Clone(p.attached), InlinePolicyNames: slices.Clone(p.inline)})
			out.Roles++
		}
	}
	return out
}

// settleRole puts a role the listings answered for in the cache, as if its
// own calls had just finished. A role already fetched keeps its answer.
func (c *Collector) settleRole(r facts.Role) {
	f, leader := c.roleFlight(r.ARN)
	if !leader {
		return
	}
	f.val = r
	close(f.done)
	if c.OnRole != nil {
		c.OnRole(r.ARN)
	}
}

// inAccount reports whether an ARN IAM returned is in the listed account;
// a role of another account would be a different role that shares the name.
func inAccount(roleARN, account string) bool {
	a, err := arn.Parse(roleARN)
	return err == nil && a.AccountID == account
}

// listTrust pages iam:ListRoles until every wanted role has been seen, the
// list ends or stop is set, keeping the wanted roles' names, paths and
// decoded trust policies. A trust policy that cannot be decoded is left to
// GetRole, which reports it.
func (c *Collector) listTrust(ctx context.Context, account string, want map[string][]string, stop *atomic.Bool) (map[string]listedTrust, *facts.CallError) {
	out := map[string]listedTrust{}
	pg := iam.NewListRolesPaginator(c.IAM, &iam.ListRolesInput{MaxItems: aws.Int32(listingPageSize)})
	for pg.HasMorePages() && len(out) < len(want) && !stop.Load() {
		ce := c.call(ctx, OpListRoles, account, func(ctx context.Context) error {
			page, err := pg.NextPage(ctx)
			if err != nil {
				return err
			}
			for _, r := range page.Roles {
				name := aws.ToString(r.RoleName)
				if _, ok := want[name]; !ok || !inAccount(aws.ToString(r.Arn), account) {
					continue
				}
				doc, err := decodePolicyDocument(aws.ToString(r.AssumeRolePolicyDocument))
				if err != nil {
					continue
				}
				out[name] = listedTrust{name: name, path: aws.ToString(r.Path), trust: doc}
			}
			return nil
		})
		if ce != nil {
			return nil, ce
		}
	}
	return out, nil
}

// listPolicies pages iam:GetAccountAuthorizationDetails with Filter=Role
// until every wanted role has been seen, the list ends or stop is set. Each
// role comes whole in one page, with its attached and inline policies.
func (c *Collector) listPolicies(ctx context.Context, account string, want map[string][]string, stop *atomic.Bool) (map[string]listedPolicies, *facts.CallError) {
	out := map[string]listedPolicies{}
	pg := iam.NewGetAccountAuthorizationDetailsPaginator(c.IAM, &iam.GetAccountAuthorizationDetailsInput{
		Filter: []iamtypes.EntityType{iamtypes.EntityTypeRole}, MaxItems: aws.Int32(listingPageSize)})
	for pg.HasMorePages() && len(out) < len(want) && !stop.Load() {
		ce := c.call(ctx, OpGetAccountAuthorizationDetails, account, func(ctx context.Context) error {
			page, err := pg.NextPage(ctx)
			if err != nil {
				return err
			}
			for _, r := range page.RoleDetailList {
				name := aws.ToString(r.RoleName)
				if _, ok := want[name]; !ok || !inAccount(aws.ToString(r.Arn), account) {
					continue
				}
				var p listedPolicies
				for _, a := range r.AttachedManagedPolicies {
					p.attached = append(p.attached, aws.ToString(a.PolicyArn))
				}
				for _, ip := range r.RolePolicyList {
					p.inline = append(p.inline, aws.ToString(ip.PolicyName))
				}
				out[name] = p
			}
			return nil
		})
		if ce != nil {
			return nil, ce
		}
	}
	return out, nil
}
