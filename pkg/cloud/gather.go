package cloud

import (
	"context"
	"slices"
	"sort"
	"sync"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/awsarn"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/facts"
)

// GatherInput says what the diagnosis needs from AWS.
type GatherInput struct {
	// Issuer is the --issuer flag; it wins over every other source.
	Issuer string
	// ClusterName is the EKS cluster (from --cluster or the kubeconfig);
	// ClusterSource says which, for messages.
	ClusterName   string
	ClusterSource string
	// RoleARNs are the distinct role ARNs of the subjects.
	RoleARNs []string
	// DiscoverIssuer asks the API server for its issuer; the last resort.
	DiscoverIssuer func(context.Context) (string, error)
	// PodIdentity is the cluster's association listing (ListAssociations),
	// nil when none was made; InScope holds the "namespace/serviceaccount"
	// keys of the subjects, whose associations are described and whose
	// roles are fetched with the IRSA roles.
	PodIdentity *facts.PodIdentityFacts
	InScope     map[string]bool
}

// Gather collects the AWS facts in the order the chain needs them: the
// caller, the cluster and every role at once; then the issuer; then the OIDC
// provider each role's account must hold; and, only when one is missing, the
// caller's provider list to explain near misses. Every call happens at most
// once per distinct ARN, and a failed call is a fact, never an abort.
func (c *Collector) Gather(ctx context.Context, in GatherInput) *facts.AWSFacts {
	// The associations in scope are described first: only their details
	// name the roles, which are then fetched with the IRSA ones, each once.
	pods := c.DescribeAssociations(ctx, in.PodIdentity, in.InScope)
	out := c.collect(ctx, in.ClusterName, append(slices.Clone(in.RoleARNs), facts.PodIdentityRoleARNs(pods)...))
	out.PodIdentity = pods
	out.Issuer = c.resolveIssuer(ctx, in, out.Cluster)

	var providerARNs []string
	seen := map[string]bool{}
	for _, a := range in.RoleARNs {
		role, err := awsarn.ParseRoleARN(a)
		if err != nil || out.Issuer.URL == "" {
			continue
		}
		if p, ok := facts.ExpectedProviderARN(role, out.Issuer.URL); ok && !seen[p] {
			seen[p] = true
			providerARNs = append(providerARNs, p)
		}
	}
	sort.Strings(providerARNs)
	var wg sync.WaitGroup
	var mu sync.Mutex
	for _, p := range providerARNs {
		wg.Go(func() {
			fact := c.Provider(ctx, p)
			mu.Lock()
			out.Providers[p] = fact
			mu.Unlock()
		})
	}
	wg.Wait()
	for _, p := range providerARNs {
		// A provider that is missing, or that lives in another account than
		// the caller's, is explained with the caller's own list.
		e := out.Providers[p].Err
		if e != nil && (e.Code == facts.ErrNotFound || accountOf(p) != out.Caller.Account) {
			// Only the caller's own account can be listed; that is enough to
			// spot a trailing slash, a recreated cluster or a provider that
			// sits in the cluster's account instead of the role's.
			l := c.ListProviders(ctx, out.Caller.Account)
			if l.Account == "" {
				l.Account = out.Caller.Account
			}
			out.ProviderLists[l.Account] = l
			break
		}
	}
	return out
}

// Issuer resolves the issuer alone (for `kubectl irsa thumbprint`): the
// same sources in the same order as Gather, so the commands agree.
func (c *Collector) Issuer(ctx context.Context, in GatherInput) (facts.IssuerFacts, *facts.Cluster) {
	var cluster *facts.Cluster
	if in.Issuer == "" && in.ClusterName != "" {
		cl := c.Cluster(ctx, in.ClusterName)
		cluster = &cl
	}
	return c.resolveIssuer(ctx, in, cluster), cluster
}

// ResolveIssuerWithoutAWS resolves the issuer from --issuer or the API
// server only, for runs that make no AWS call.
func (c *Collector) ResolveIssuerWithoutAWS(ctx context.Context, in GatherInput) facts.IssuerFacts {
	in.ClusterName = ""
	return c.resolveIssuer(ctx, in, nil)
}

func (c *Collector) resolveIssuer(ctx context.Context, in GatherInput, cluster *facts.Cluster) facts.IssuerFacts {
	if in.Issuer != "" {
		return facts.IssuerFacts{URL: in.Issuer, Source: "--issuer"}
	}
	var is facts.IssuerFacts
	switch {
	case in.ClusterName == "":
		is.Tried = append(is.Tried, "no EKS cluster name (pass --cluster, or use a kubeconfig context made by aws eks update-kubeconfig)")
	case cluster == nil:
	case cluster.Err != nil:
		is.Tried = append(is.Tried, "eks:DescribeCluster "+in.ClusterName+": "+cluster.Err.Message)
	case cluster.Issuer == "":
		is.Tried = append(is.Tried, "EKS cluster "+in.ClusterName+" has no OIDC issuer")
	default:
		src := "eks:DescribeCluster " + in.ClusterName
		if in.ClusterSource != "" {
			src += " (cluster from " + in.ClusterSource + ")"
		}
		return facts.IssuerFacts{URL: cluster.Issuer, Source: src}
	}
	if in.DiscoverIssuer != nil {
		iss, err := in.DiscoverIssuer(ctx)
		if err == nil && iss != "" {
			is.URL, is.Source = iss, "the API server's /.well-known/openid-configuration"
			return is
		}
		if err != nil {
			is.Tried = append(is.Tried, "API server discovery: "+oneLine(err.Error()))
		}
	}
	return is
}

func accountOf(arn string) string {
	a, err := awsarn.Parse(arn)
	if err != nil {
		return ""
	}
	return a.Account
}
