package cloud

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"golang.org/x/time/rate"
	"k8s.io/klog/v2"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/facts"
)

// DefaultConcurrency bounds the AWS calls in flight when Collector.Concurrency
// is not set. IAM publishes no per-API rate, and a handful of parallel calls is
// well below what trips its throttling while still hiding latency.
const DefaultConcurrency = 8

// Operation names in IAM-policy form: they double as the permission a user
// lacks when the call is denied.
const (
	OpGetCallerIdentity              = "sts:GetCallerIdentity"
	OpDescribeCluster                = "eks:DescribeCluster"
	OpGetRole                        = "iam:GetRole"
	OpListAttachedRolePolicies       = "iam:ListAttachedRolePolicies"
	OpListRolePolicies               = "iam:ListRolePolicies"
	OpGetOpenIDConnectProvider       = "iam:GetOpenIDConnectProvider"
	OpListOpenIDConnectProviders     = "iam:ListOpenIDConnectProviders"
	OpListPodIdentityAssociations    = "eks:ListPodIdentityAssociations"
	OpDescribePodIdentityAssociation = "eks:DescribePodIdentityAssociation"
)

// Collector gathers AWS facts. The zero value plus clients is ready to use; it
// is safe for concurrent use, and caches roles and providers by ARN for its
// lifetime (one run), so each is fetched at most once.
type Collector struct {
	IAM IAMAPI
	EKS EKSAPI
	STS STSAPI
	// CloudTrail builds the CloudTrail client of a region (events are kept
	// per region); nil when the collector reads no CloudTrail.
	CloudTrail func(region string) TrailAPI
	// TrailRate is the LookupEvents requests a second per region; <= 0
	// means CloudTrail's limit, TrailRequestsPerSecond.
	TrailRate float64
	// Concurrency bounds the AWS calls in flight; <= 0 means DefaultConcurrency.
	Concurrency int
	// Region is reported on the cluster fact when EKS's answer does not carry
	// one (e.g. the call failed).
	Region string
	// OnCall, when set, is told the operation (OpGetRole, …) each time a call
	// has finished, failed or not. It is called from many goroutines at once.
	OnCall func(op string)
	// OnRole, when set, is told once per role ARN when the role's facts are
	// complete: GetRole and its policy listings, or the failure that ended
	// them. It is called from many goroutines at once.
	OnRole func(roleARN string)

	semOnce sync.Once
	sem     chan struct{}

	mu        sync.Mutex
	roles     map[string]*flight[facts.Role]
	providers map[string]*flight[facts.OIDCProvider]
	// trailLimiters pace LookupEvents per region.
	trailLimiters map[string]*rate.Limiter
}

// flight is one in-progress or finished fetch; later callers wait on done and
// share val, which is what keeps "each ARN once" true under concurrency.
type flight[T any] struct {
	done chan struct{}
	val  T
}

// collect gathers the caller, the cluster (when named) and every role,
// concurrently and within the concurrency bound. It never fails: each failed
// call is recorded in its fact. Maps of the result are never nil.
func (c *Collector) collect(ctx context.Context, clusterName string, roleARNs []string) *facts.AWSFacts {
	out := &facts.AWSFacts{
		Roles:         map[string]facts.Role{},
		Providers:     map[string]facts.OIDCProvider{},
		ProviderLists: map[string]facts.ProviderList{},
	}
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		cluster facts.Cluster
	)
	callerDone := make(chan struct{})
	wg.Go(func() {
		out.Caller = c.Caller(ctx)
		close(callerDone)
	})
	if clusterName != "" {
		wg.Go(func() { cluster = c.Cluster(ctx, clusterName) })
	}
	// A role is its GetRole and then its policy listings. At most as many
	// roles as calls are in progress at once, so each role finishes soon
	// after it starts (progress moves steadily, the first facts arrive
	// early) instead of every GetRole queueing ahead of every listing; the
	// number of calls and the total time are the same.
	roleSlots := make(chan struct{}, c.bound())
	arns := dedupe(roleARNs)
	// With many roles of the caller's account in scope, they are read page
	// by page first (listing.go); the roles the listings answer for are
	// cached, and the loop below makes no call for them.
	out.RoleListing = c.listRoles(ctx, arns, func() string {
		<-callerDone
		return out.Caller.Account
	})
	for _, a := range arns {
		wg.Go(func() {
			select {
			case roleSlots <- struct{}{}:
				defer func() { <-roleSlots }()
			case <-ctx.Done():
				// Role records the cancellation as the role's fact.
			}
			r := c.Role(ctx, a)
			mu.Lock()
			out.Roles[a] = r
			mu.Unlock()
		})
	}
	wg.Wait()
	if clusterName != "" {
		out.Cluster = &cluster
	}
	return out
}

// dedupe returns the distinct non-empty values, sorted so that call order (and
// any log it produces) is deterministic.
func dedupe(in []string) []string {
	out := make([]string, 0, len(in))
	for _, s := range in {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	sort.Strings(out)
	return slices.Compact(out)
}

// bound is the number of calls in flight at most.
func (c *Collector) bound() int {
	if c.Concurrency <= 0 {
		return DefaultConcurrency
	}
	return c.Concurrency
}

// call runs one AWS request under the concurrency bound. Waiting for a slot
// honours ctx, so a cancelled run drains instead of queueing more calls.
func (c *Collector) call(ctx context.Context, op, resource string, fn func(context.Context) error) *facts.CallError {
	c.semOnce.Do(func() { c.sem = make(chan struct{}, c.bound()) })
	select {
	case c.sem <- struct{}{}:
	case <-ctx.Done():
		return Classify(op, resource, ctx.Err())
	}
	defer func() { <-c.sem }()

	start := time.Now()
	ce := Classify(op, resource, fn(ctx))
	if c.OnCall != nil {
		c.OnCall(op)
	}
	if klog.V(4).Enabled() {
		status := "ok"
		if ce != nil {
			status = string(ce.Code)
		}
		klog.V(4).InfoS("AWS call", "op", op, "resource", resource, "status", status, "duration", time.Since(start))
	}
	return ce
}

// Caller asks STS who the plugin runs as. It needs no permission, so a failure
// here is almost always a credentials or network problem.
func (c *Collector) Caller(ctx context.Context) facts.Caller {
	var out facts.Caller
	out.Err = c.call(ctx, OpGetCallerIdentity, "", func(ctx context.Context) error {
		res, err := c.STS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		if err != nil {
			return err
		}
		out.Account = aws.ToString(res.Account)
		out.ARN = aws.ToString(res.Arn)
		return nil
	})
	return out
}

// Cluster describes the EKS cluster. Identity and Oidc are nil for clusters
// without IRSA support (EKS Anywhere, Outposts local clusters): Issuer is then "".
func (c *Collector) Cluster(ctx context.Context, name string) facts.Cluster {
	out := facts.Cluster{Name: name, Region: c.Region}
	out.Err = c.call(ctx, OpDescribeCluster, name, func(ctx context.Context) error {
		res, err := c.EKS.DescribeCluster(ctx, &eks.DescribeClusterInput{Name: aws.String(name)})
		if err != nil {
			return err
		}
		cl := res.Cluster
		if cl == nil {
			return fmt.Errorf("eks returned no cluster for %q", name)
		}
		if n := aws.ToString(cl.Name); n != "" {
			out.Name = n
		}
		out.ARN = aws.ToString(cl.Arn)
		out.Version = aws.ToString(cl.Version)
		out.PlatformVersion = aws.ToString(cl.PlatformVersion)
		if nc := cl.KubernetesNetworkConfig; nc != nil {
			out.IPFamily = string(nc.IpFamily)
		}
		if cl.Identity != nil && cl.Identity.Oidc != nil {
			out.Issuer = aws.ToString(cl.Identity.Oidc.Issuer)
		}
		// The cluster ARN names the region EKS actually answered from, which
		// beats the configured one when they differ.
		if a, err := arn.Parse(out.ARN); err == nil && a.Region != "" {
			out.Region = a.Region
		}
		return nil
	})
	return out
}

// Role returns the role and its permission policy listings. Concurrent and
// repeated calls for the same ARN share one fetch.
func (c *Collector) Role(ctx context.Context, roleARN string) facts.Role {
	f, leader := c.roleFlight(roleARN)
	if leader {
		f.val = c.fetchRole(ctx, roleARN, true)
		close(f.done)
		if c.OnRole != nil {
			c.OnRole(roleARN)
		}
	} else if !wait(ctx, f.done) {
		return facts.Role{ARN: roleARN, Err: Classify(OpGetRole, roleARN, ctx.Err())}
	}
	r := f.val
	// Callers own their copy: the cached slices must not be aliased.
	r.AttachedPolicyARNs = slices.Clone(r.AttachedPolicyARNs)
	r.InlinePolicyNames = slices.Clone(r.InlinePolicyNames)
	return r
}

// wait blocks until done is closed or ctx ends; a finished result wins over a
// cancellation that happened at the same time.
func wait(ctx context.Context, done <-chan struct{}) bool {
	select {
	case <-done:
		return true
	default:
	}
	select {
	case <-done:
		return true
	case <-ctx.Done():
		return false
	}
}

func (c *Collector) roleFlight(key string) (*flight[facts.Role], bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.roles == nil {
		c.roles = map[string]*flight[facts.Role]{}
	}
	if f, ok := c.roles[key]; ok {
		return f, false
	}
	f := &flight[facts.Role]{done: make(chan struct{})}
	c.roles[key] = f
	return f, true
}

// roleNameFromARN returns the role name, the segment after the last '/' of
// the resource: GetRole takes the name, and paths like role/team/app are common.
func roleNameFromARN(roleARN string) (arn.ARN, string, error) {
	a, err := arn.Parse(roleARN)
	if err != nil {
		return arn.ARN{}, "", fmt.Errorf("invalid role ARN: %w", err)
	}
	if a.Service != "iam" || !strings.HasPrefix(a.Resource, "role/") {
		return arn.ARN{}, "", fmt.Errorf("not an IAM role ARN (want arn:<partition>:iam::<account>:role/<name>)")
	}
	name := a.Resource[strings.LastIndex(a.Resource, "/")+1:]
	if name == "" {
		return arn.ARN{}, "", fmt.Errorf("role ARN has an empty role name")
	}
	return a, name, nil
}

// RoleTrust reads a role's trust policy alone, with one iam:GetRole and no
// permission listings, for a caller that judges trust only (audit). It is
// not cached: such a caller reads each role once.
func (c *Collector) RoleTrust(ctx context.Context, roleARN string) facts.Role {
	return c.fetchRole(ctx, roleARN, false)
}

func (c *Collector) fetchRole(ctx context.Context, roleARN string, withPolicies bool) facts.Role {
	out := facts.Role{ARN: roleARN}
	want, name, err := roleNameFromARN(roleARN)
	if err != nil {
		out.Err = &facts.CallError{Op: OpGetRole, Resource: roleARN, Code: facts.ErrOther, Message: err.Error()}
		return out
	}
	out.Name = name

	var got *iam.GetRoleOutput
	out.Err = c.call(ctx, OpGetRole, roleARN, func(ctx context.Context) error {
		var err error
		got, err = c.IAM.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(name)})
		return err
	})
	if out.Err != nil {
		return out
	}
	if got == nil || got.Role == nil {
		out.Err = &facts.CallError{Op: OpGetRole, Resource: roleARN, Code: facts.ErrOther, Message: "IAM returned no role"}
		return out
	}
	role := got.Role
	// GetRole looks the name up in the caller's own account. If the ARN names
	// another account, the answer is about a different role that happens to
	// share the name, so it must not be reported as this one.
	if a, err := arn.Parse(aws.ToString(role.Arn)); err == nil && a.AccountID != want.AccountID {
		out.Err = &facts.CallError{
			Op: OpGetRole, Resource: roleARN, Code: facts.ErrOther,
			Message: fmt.Sprintf("role is in account %s but the AWS credentials are for account %s; use credentials for the role's account", want.AccountID, a.AccountID),
		}
		return out
	}
	doc, err := decodePolicyDocument(aws.ToString(role.AssumeRolePolicyDocument))
	if err != nil {
		out.Err = &facts.CallError{Op: OpGetRole, Resource: roleARN, Code: facts.ErrOther, Message: err.Error()}
		return out
	}
	out.Found = true
	if n := aws.ToString(role.RoleName); n != "" {
		out.Name = n
	}
	out.Path = aws.ToString(role.Path)
	out.TrustPolicy = doc

	if withPolicies {
		out.AttachedPolicyARNs, out.InlinePolicyNames, out.PoliciesErr = c.rolePolicies(ctx, roleARN, name)
	}
	return out
}

// decodePolicyDocument undoes IAM's RFC 3986 encoding of policy documents,
// which the Go SDK (unlike botocore) leaves in place. QueryUnescape semantics
// are right because IAM sends '+' as %2B; a literal '+' would not occur.
func decodePolicyDocument(s string) (string, error) {
	if s == "" {
		return "", nil
	}
	d, err := url.QueryUnescape(s)
	if err != nil {
		return "", fmt.Errorf("decoding the trust policy IAM returned: %w", err)
	}
	return d, nil
}

// rolePolicies lists attached managed policies and inline policy names across
// all pages. A failure here leaves the role facts intact (PoliciesErr).
func (c *Collector) rolePolicies(ctx context.Context, roleARN, name string) ([]string, []string, *facts.CallError) {
	var attached, inline []string
	ap := iam.NewListAttachedRolePoliciesPaginator(c.IAM, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String(name)})
	for ap.HasMorePages() {
		ce := c.call(ctx, OpListAttachedRolePolicies, roleARN, func(ctx context.Context) error {
			page, err := ap.NextPage(ctx)
			if err != nil {
				return err
			}
			for _, p := range page.AttachedPolicies {
				attached = append(attached, aws.ToString(p.PolicyArn))
			}
			return nil
		})
		if ce != nil {
			return attached, inline, ce
		}
	}
	ip := iam.NewListRolePoliciesPaginator(c.IAM, &iam.ListRolePoliciesInput{RoleName: aws.String(name)})
	for ip.HasMorePages() {
		ce := c.call(ctx, OpListRolePolicies, roleARN, func(ctx context.Context) error {
			page, err := ip.NextPage(ctx)
			if err != nil {
				return err
			}
			inline = append(inline, page.PolicyNames...)
			return nil
		})
		if ce != nil {
			return attached, inline, ce
		}
	}
	return attached, inline, nil
}

// Provider returns the IAM OIDC provider. A missing provider is Found=false
// with Err.Code NotFound. Concurrent and repeated calls share one fetch.
func (c *Collector) Provider(ctx context.Context, providerARN string) facts.OIDCProvider {
	f, leader := c.providerFlight(providerARN)
	if leader {
		f.val = c.fetchProvider(ctx, providerARN)
		close(f.done)
	} else if !wait(ctx, f.done) {
		return facts.OIDCProvider{ARN: providerARN, Err: Classify(OpGetOpenIDConnectProvider, providerARN, ctx.Err())}
	}
	p := f.val
	p.ClientIDs = slices.Clone(p.ClientIDs)
	p.Thumbprints = slices.Clone(p.Thumbprints)
	return p
}

func (c *Collector) providerFlight(key string) (*flight[facts.OIDCProvider], bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.providers == nil {
		c.providers = map[string]*flight[facts.OIDCProvider]{}
	}
	if f, ok := c.providers[key]; ok {
		return f, false
	}
	f := &flight[facts.OIDCProvider]{done: make(chan struct{})}
	c.providers[key] = f
	return f, true
}

func (c *Collector) fetchProvider(ctx context.Context, providerARN string) facts.OIDCProvider {
	out := facts.OIDCProvider{ARN: providerARN}
	a, err := arn.Parse(providerARN)
	if err != nil || a.Service != "iam" || !strings.HasPrefix(a.Resource, "oidc-provider/") {
		out.Err = &facts.CallError{
			Op: OpGetOpenIDConnectProvider, Resource: providerARN, Code: facts.ErrOther,
			Message: "not an IAM OIDC provider ARN (want arn:<partition>:iam::<account>:oidc-provider/<url>)",
		}
		return out
	}
	out.Err = c.call(ctx, OpGetOpenIDConnectProvider, providerARN, func(ctx context.Context) error {
		res, err := c.IAM.GetOpenIDConnectProvider(ctx, &iam.GetOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(providerARN)})
		if err != nil {
			return err
		}
		out.Found = true
		out.URL = aws.ToString(res.Url)
		out.ClientIDs = res.ClientIDList
		out.Thumbprints = res.ThumbprintList
		return nil
	})
	return out
}

// ListProviders lists the OIDC providers of the caller's account. IAM can only
// list the caller's own account, so when account is set and the answer is about
// another one, the list is reported as unavailable rather than as empty.
func (c *Collector) ListProviders(ctx context.Context, account string) facts.ProviderList {
	out := facts.ProviderList{Account: account}
	var arns []string
	out.Err = c.call(ctx, OpListOpenIDConnectProviders, account, func(ctx context.Context) error {
		// Not paginated: IAM returns every provider (at most 100 per account).
		res, err := c.IAM.ListOpenIDConnectProviders(ctx, &iam.ListOpenIDConnectProvidersInput{})
		if err != nil {
			return err
		}
		for _, p := range res.OpenIDConnectProviderList {
			if s := aws.ToString(p.Arn); s != "" {
				arns = append(arns, s)
			}
		}
		return nil
	})
	if out.Err != nil {
		return out
	}
	sort.Strings(arns)
	if len(arns) > 0 {
		a, err := arn.Parse(arns[0])
		if err == nil {
			if account != "" && a.AccountID != account {
				out.Err = &facts.CallError{
					Op: OpListOpenIDConnectProviders, Resource: account, Code: facts.ErrOther,
					Message: fmt.Sprintf("the AWS credentials are for account %s; IAM can only list OIDC providers of the caller's account, not %s", a.AccountID, account),
				}
				return out
			}
			out.Account = a.AccountID
		}
	}
	out.ARNs = arns
	return out
}

// UpdateThumbprints replaces the provider's ThumbprintList with list
// (iam:UpdateOpenIDConnectProviderThumbprint): the one write kubectl-irsa
// makes, and only after the user confirmed it.
func (c *Collector) UpdateThumbprints(ctx context.Context, providerARN string, list []string) error {
	const op = "iam:UpdateOpenIDConnectProviderThumbprint"
	_, err := c.IAM.UpdateOpenIDConnectProviderThumbprint(ctx, &iam.UpdateOpenIDConnectProviderThumbprintInput{
		OpenIDConnectProviderArn: aws.String(providerARN), ThumbprintList: list})
	if err != nil {
		return fmt.Errorf("updating the thumbprint list: %w", Classify(op, providerARN, err))
	}
	return nil
}
