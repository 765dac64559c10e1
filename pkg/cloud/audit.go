package cloud

import (
	"context"
	"errors"
	"sort"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"k8s.io/klog/v2"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/facts"
)

// OpGetAccountSummary reads the account's IAM quotas, among them the trust
// policy size quota (AssumeRolePolicySizeQuota).
const OpGetAccountSummary = "iam:GetAccountSummary"

// SummaryAssumeRolePolicySizeQuota is the SummaryMap key of the trust
// policy size quota.
const SummaryAssumeRolePolicySizeQuota = "AssumeRolePolicySizeQuota"

// AccountSummaryAPI is the IAM method only `kubectl irsa audit` calls;
// *iam.Client has it. It is kept out of IAMAPI so that the fakes of the
// other commands need not implement it.
type AccountSummaryAPI interface {
	GetAccountSummary(ctx context.Context, params *iam.GetAccountSummaryInput, optFns ...func(*iam.Options)) (*iam.GetAccountSummaryOutput, error)
}

var _ AccountSummaryAPI = (*iam.Client)(nil)

// AuditInput says what `kubectl irsa audit` needs from AWS.
type AuditInput struct {
	// Issuer, ClusterName, ClusterSource and DiscoverIssuer resolve the
	// issuer exactly as diagnose does (GatherInput).
	Issuer         string
	ClusterName    string
	ClusterSource  string
	DiscoverIssuer func(context.Context) (string, error)
	// RoleARNs are the roles named by annotations and associations in
	// scope: each is read with iam:GetRole unless the listing had it.
	RoleARNs []string
	// AllRoles lists every role of the account under PathPrefix with
	// iam:ListRoles (--roles all).
	AllRoles   bool
	PathPrefix string
	// PodIdentity and InScope are as in GatherInput: the associations of
	// the service accounts in scope are described, for their roles.
	PodIdentity *facts.PodIdentityFacts
	InScope     map[string]bool
}

// Audit collects the audit's facts: the caller, the issuer, and then, at
// once, the account's role listing (with AllRoles), its OIDC providers, its
// IAM quotas and every annotated role the listing did not return. A failed
// call is a fact, never an abort (docs/audit.md#what-it-reads).
func (c *Collector) Audit(ctx context.Context, in AuditInput) *facts.AuditFacts {
	out := &facts.AuditFacts{}
	pods := c.DescribeAssociations(ctx, in.PodIdentity, in.InScope)
	out.PodIdentity = pods
	var wg sync.WaitGroup
	wg.Go(func() { out.Caller = c.Caller(ctx) })
	wg.Go(func() {
		out.Issuer, _ = c.Issuer(ctx, GatherInput{Issuer: in.Issuer, ClusterName: in.ClusterName, ClusterSource: in.ClusterSource,
			DiscoverIssuer: in.DiscoverIssuer})
	})
	wg.Wait()

	arns := dedupe(append(append([]string(nil), in.RoleARNs...), facts.PodIdentityRoleARNs(pods)...))
	listed := map[string]bool{}
	switch {
	case in.AllRoles:
		wg.Go(func() {
			out.Roles, out.ListErr = c.listAllRoles(ctx, out.Caller.Account, in.PathPrefix)
			for _, r := range out.Roles {
				listed[r.ARN] = true
			}
		})
	case countInAccount(arns, out.Caller.Account) >= ListingThreshold:
		// Many annotated roles: the listing reads them in pages, as
		// diagnose does (docs/design.md#aws-calls). Only the annotated
		// ones are kept; when it fails, each is read with GetRole and no
		// finding is made, since the listing was not asked for.
		wg.Go(func() {
			all, ce := c.listAllRoles(ctx, out.Caller.Account, "")
			if ce != nil {
				klog.V(2).InfoS("the account-wide role listing failed; reading each role with iam:GetRole", "err", ce)
				return
			}
			want := map[string]bool{}
			for _, a := range arns {
				want[a] = true
			}
			for _, r := range all {
				if want[r.ARN] {
					r.Listed = false
					out.Roles = append(out.Roles, r)
					listed[r.ARN] = true
				}
			}
		})
	}
	wg.Go(func() { out.Providers = c.ListProviders(ctx, out.Caller.Account) })
	wg.Go(func() { out.SizeQuota, out.SummaryErr = c.sizeQuota(ctx, out.Caller.Account) })
	wg.Wait()

	var mu sync.Mutex
	for _, a := range arns {
		if listed[a] {
			continue
		}
		wg.Go(func() {
			r := c.RoleTrust(ctx, a)
			ar := facts.AuditRole{ARN: a, TrustPolicy: r.TrustPolicy, Err: r.Err}
			mu.Lock()
			out.Roles = append(out.Roles, ar)
			mu.Unlock()
		})
	}
	wg.Wait()
	sort.Slice(out.Roles, func(i, j int) bool { return out.Roles[i].ARN < out.Roles[j].ARN })
	return out
}

// countInAccount is how many of the role ARNs are in account.
func countInAccount(arns []string, account string) int {
	n := 0
	for _, a := range arns {
		if account != "" && inAccount(a, account) {
			n++
		}
	}
	return n
}

// listAllRoles pages iam:ListRoles (PathPrefix when set) to its end: the
// trust policies come inline, so no role needs its own call. A document
// that cannot be URL-decoded is kept as IAM sent it; the audit reports it.
func (c *Collector) listAllRoles(ctx context.Context, account, prefix string) ([]facts.AuditRole, *facts.CallError) {
	var out []facts.AuditRole
	in := &iam.ListRolesInput{MaxItems: aws.Int32(listingPageSize)}
	if prefix != "" {
		in.PathPrefix = aws.String(prefix)
	}
	pg := iam.NewListRolesPaginator(c.IAM, in)
	for pg.HasMorePages() {
		ce := c.call(ctx, OpListRoles, account, func(ctx context.Context) error {
			page, err := pg.NextPage(ctx)
			if err != nil {
				return err
			}
			for _, r := range page.Roles {
				raw := aws.ToString(r.AssumeRolePolicyDocument)
				doc, err := decodePolicyDocument(raw)
				if err != nil {
					doc = raw
				}
				out = append(out, facts.AuditRole{ARN: aws.ToString(r.Arn), TrustPolicy: doc, Listed: true})
			}
			return nil
		})
		if ce != nil {
			return out, ce
		}
	}
	return out, nil
}

// sizeQuota reads AssumeRolePolicySizeQuota with iam:GetAccountSummary; 0
// when IAM does not say.
func (c *Collector) sizeQuota(ctx context.Context, account string) (int, *facts.CallError) {
	api, ok := c.IAM.(AccountSummaryAPI)
	if !ok {
		return 0, &facts.CallError{Op: OpGetAccountSummary, Resource: account, Code: facts.ErrOther, Message: "this IAM client cannot call GetAccountSummary"}
	}
	quota := 0
	ce := c.call(ctx, OpGetAccountSummary, account, func(ctx context.Context) error {
		res, err := api.GetAccountSummary(ctx, &iam.GetAccountSummaryInput{})
		if err != nil {
			return err
		}
		if res == nil {
			return errors.New("IAM returned no account summary")
		}
		quota = int(res.SummaryMap[SummaryAssumeRolePolicySizeQuota])
		return nil
	})
	return quota, ce
}
