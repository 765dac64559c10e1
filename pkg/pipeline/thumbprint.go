package pipeline

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/awsarn"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/cloud"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/facts"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/kube"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/thumbprint"
)

// ThumbprintRequest is what `kubectl irsa thumbprint` is asked to do.
type ThumbprintRequest struct {
	AWS  AWSOptions
	Hint kube.ClusterHint
	// ProviderARN names the provider to compare; "" means the issuer's
	// provider in the caller's account and partition.
	ProviderARN string
}

// ThumbprintSources are where the thumbprint command reads from.
type ThumbprintSources struct {
	// Kube discovers the issuer from the API server; nil without a cluster.
	Kube KubeSource
	// NewCollector builds the AWS collector; unused with AWS.Skip.
	NewCollector func(ctx context.Context, arns []string) (*cloud.Collector, error)
	TLS          TLSInspector
}

// ProviderInfo is the IAM OIDC provider compared with the served chain.
type ProviderInfo struct {
	ARN         string   `json:"arn"`
	Found       bool     `json:"found"`
	Thumbprints []string `json:"thumbprints,omitempty"`
	Error       string   `json:"error,omitempty"`
}

// ThumbprintResult is a finished thumbprint run.
type ThumbprintResult struct {
	Issuer facts.IssuerFacts
	TLS    thumbprint.Report
	// Provider is nil with --skip-aws; Verdict is nil when the provider
	// could not be read.
	Provider *ProviderInfo
	Verdict  *thumbprint.ProviderVerdict

	collector *cloud.Collector
	timeout   time.Duration
}

// withTimeout is ctx bounded by d; no bound when d is not positive.
func withTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if d <= 0 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, d)
}

// Thumbprint resolves the issuer with the same sources in the same order as
// diagnose, reads its chains and judges them against the provider with the
// verdict function diagnose uses. It fails when there is no issuer or no
// chain of the jwks_uri host to show.
func Thumbprint(ctx context.Context, req ThumbprintRequest, src ThumbprintSources) (*ThumbprintResult, error) {
	// --aws-timeout bounds the AWS calls, each phase on its own clock; the
	// TLS reads have --tls-timeout, and the user's answer to a prompt has
	// no limit at all.
	awsCtx := func() (context.Context, context.CancelFunc) { return withTimeout(ctx, req.AWS.Timeout) }
	in := cloud.GatherInput{Issuer: req.AWS.Issuer, ClusterName: req.AWS.Cluster, ClusterSource: "--cluster"}
	if in.ClusterName == "" {
		in.ClusterName, in.ClusterSource = req.Hint.Name, req.Hint.Source
	}
	if src.Kube != nil {
		in.DiscoverIssuer = src.Kube.DiscoverIssuer
	}
	res := &ThumbprintResult{timeout: req.AWS.Timeout}
	// Computing a thumbprint needs no AWS; comparing it does. Without a
	// usable AWS configuration the chain is still read and shown, and the
	// comparison says why it could not be made, as diagnose's `unknown`.
	var awsErr error
	if !req.AWS.Skip {
		var arns []string
		if req.ProviderARN != "" {
			arns = append(arns, req.ProviderARN)
		}
		res.collector, awsErr = src.NewCollector(ctx, arns)
	}
	actx, cancel := awsCtx()
	if res.collector != nil {
		res.Issuer, _ = res.collector.Issuer(actx, in)
	} else {
		res.Issuer = (&cloud.Collector{}).ResolveIssuerWithoutAWS(actx, in)
	}
	cancel()
	if res.Issuer.URL == "" {
		return nil, fmt.Errorf("cannot determine the cluster's OIDC issuer (%s): pass --issuer", strings.Join(res.Issuer.Tried, "; "))
	}
	report, err := src.TLS.Inspect(ctx, res.Issuer.URL)
	if err != nil && len(report.Hosts) == 0 {
		return nil, fmt.Errorf("reading the TLS chain of %s: %w", res.Issuer.URL, err)
	}
	res.TLS = report
	if awsErr != nil {
		res.Provider = &ProviderInfo{ARN: req.ProviderARN, Error: "no AWS configuration to compare with: " + oneLine(awsErr)}
	}
	if res.collector != nil {
		actx, cancel := awsCtx()
		res.Provider = provider(actx, res.collector, req.ProviderARN, res.Issuer.URL)
		cancel()
		if res.Provider.Error == "" {
			v := thumbprint.JudgeProvider(report, res.Provider.ARN, res.Provider.Found, res.Provider.Thumbprints, facts.DefaultAudience)
			res.Verdict = &v
		}
	}
	return res, nil
}

// provider reads the IAM OIDC provider to compare: arn, else the issuer's
// provider in the caller's account and partition.
func provider(ctx context.Context, c *cloud.Collector, arn, issuer string) *ProviderInfo {
	if arn == "" {
		caller := c.Caller(ctx)
		if caller.Err != nil {
			return &ProviderInfo{Error: caller.Err.Op + " failed: " + caller.Err.Message}
		}
		partition := "aws"
		if a, err := awsarn.Parse(caller.ARN); err == nil {
			partition = a.Partition
		}
		is, _ := awsarn.ParseIssuer(issuer)
		arn = awsarn.ProviderARN(partition, caller.Account, is.HostPath)
	}
	p := c.Provider(ctx, arn)
	info := &ProviderInfo{ARN: arn, Found: p.Found, Thumbprints: p.Thumbprints}
	if p.Err != nil && p.Err.Code != facts.ErrNotFound {
		info.Error = p.Err.Op + " failed (" + string(p.Err.Code) + "): " + p.Err.Message
	}
	return info
}

// ErrNothingToUpdate means the provider's list already holds every
// thumbprint STS needs.
var ErrNothingToUpdate = errors.New("the provider's thumbprint list needs no change")

// UpdatedThumbprints is the list --update would write: the required
// thumbprints first, then the entries still valid, at most five (the call
// replaces the whole list, docs/behaviour.md#creating-and-updating-thumbprints).
func (r *ThumbprintResult) UpdatedThumbprints() ([]string, error) {
	if r.Provider == nil || !r.Provider.Found || r.Verdict == nil {
		return nil, errors.New("there is no provider to update (see the verdict)")
	}
	if len(r.Verdict.Required) == 0 {
		return nil, ErrNothingToUpdate
	}
	return thumbprint.UpdatedList(r.Provider.Thumbprints, r.Verdict.Required, thumbprint.ValidEntry)
}

// Update writes list as the provider's ThumbprintList. It is the only call
// in kubectl-irsa that changes AWS; the command asks before it.
func (r *ThumbprintResult) Update(ctx context.Context, list []string) error {
	if r.collector == nil || r.Provider == nil {
		return errors.New("there is no provider to update")
	}
	ctx, cancel := withTimeout(ctx, r.timeout)
	defer cancel()
	return r.collector.UpdateThumbprints(ctx, r.Provider.ARN, list)
}
