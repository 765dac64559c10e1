package pipeline

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"k8s.io/cli-runtime/pkg/resource"
	"k8s.io/client-go/kubernetes"
	"k8s.io/klog/v2"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/awsarn"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/cloud"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/eksauth"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/facts"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/kube"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/probe"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/thumbprint"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/tlsinspect"
)

// LiveKube reads a live cluster.
type LiveKube struct {
	Client     kubernetes.Interface
	NewBuilder func() *resource.Builder
	// Now is the clock the checks judge with; nil means time.Now.
	Now func() time.Time
}

// Collect resolves the arguments the way kubectl does and lists what the
// subjects need, each kind once per namespace.
func (k LiveKube) Collect(ctx context.Context, scope kube.Scope, progress Progress) (*facts.Snapshot, error) {
	targets, err := kube.Resolve(k.NewBuilder, scope)
	if err != nil {
		return nil, err
	}
	c := &kube.Collector{Client: k.Client, Now: k.Now, Progress: progress.Listed}
	return c.Collect(ctx, scope, targets)
}

// DiscoverIssuer reads the API server's OIDC discovery document.
func (k LiveKube) DiscoverIssuer(ctx context.Context) (string, error) {
	if k.Client == nil {
		return "", fmt.Errorf("no cluster to ask")
	}
	return kube.DiscoverIssuer(ctx, k.Client.Discovery().RESTClient())
}

// LiveAWS reads AWS through the SDK's configuration chain.
type LiveAWS struct {
	Options AWSOptions
	Hint    kube.ClusterHint
	// UserAgent is the plugin's version in the SDK's User-Agent.
	UserAgent string
	// NewCollector replaces the configuration chain (tests point it at an
	// emulator); nil means LoadConfig.
	NewCollector func(ctx context.Context, roleARNs []string) (*cloud.Collector, error)
}

// Gather collects the AWS facts; a configuration that cannot be loaded makes
// every AWS check `unknown` with the reason.
func (a LiveAWS) Gather(ctx context.Context, in cloud.GatherInput, progress Progress) *facts.AWSFacts {
	c, err := a.collector(ctx, in.RoleARNs)
	if err != nil {
		return &facts.AWSFacts{Unavailable: err.Error()}
	}
	progress.AWSStarted(len(in.RoleARNs))
	c.OnCall, c.OnRole = progress.AWSCalled, progress.RoleDone
	return c.Gather(ctx, in)
}

// collector builds the collector of one step: NewCollector, else the AWS
// configuration chain.
func (a LiveAWS) collector(ctx context.Context, arns []string) (*cloud.Collector, error) {
	if a.NewCollector != nil {
		return a.NewCollector(ctx, arns)
	}
	return NewAWSCollector(ctx, a.Options, a.Hint, a.UserAgent, arns)
}

// ListAssociations lists the cluster's Pod Identity associations. A
// configuration that cannot be loaded lists nothing: Gather then reports why.
func (a LiveAWS) ListAssociations(ctx context.Context, cluster string, namespaces []string, progress Progress) *facts.PodIdentityFacts {
	if cluster == "" {
		// A self-managed cluster has no associations; that is no error.
		return nil
	}
	progress.Phase("listing EKS Pod Identity associations of " + cluster)
	c, err := a.collector(ctx, nil)
	if err != nil {
		klog.V(2).InfoS("not listing Pod Identity associations: no AWS configuration", "err", err)
		return nil
	}
	c.OnCall = progress.AWSCalled
	return c.ListAssociations(ctx, cluster, namespaces)
}

// LoadAWSConfig loads the AWS configuration the way the AWS CLI does. The
// region comes from --region, the kubeconfig context, the environment or
// profile, the issuer, and finally the partition's IAM region (IAM is global
// within a partition), so IAM checks work even when nothing names a region.
// arns are role or provider ARNs whose partition names that IAM region.
func LoadAWSConfig(ctx context.Context, o AWSOptions, hint kube.ClusterHint, userAgent string, arns []string) (aws.Config, error) {
	region := o.Region
	if region == "" {
		region = hint.Region
	}
	cfg, err := cloud.LoadConfig(ctx, cloud.ConfigOptions{Region: region, Profile: o.Profile, UserAgentVersion: userAgent})
	if err != nil {
		return aws.Config{}, err
	}
	if cfg.Region == "" {
		if is, err := awsarn.ParseIssuer(o.Issuer); err == nil && is.Region != "" {
			cfg.Region = is.Region
		}
	}
	for _, a := range arns {
		if cfg.Region != "" {
			break
		}
		if parsed, err := awsarn.Parse(a); err == nil {
			if p, ok := awsarn.LookupPartition(parsed.Partition); ok {
				cfg.Region = p.IAMRegion
				klog.V(2).InfoS("no AWS region configured; using the partition's IAM region", "region", cfg.Region)
			}
		}
	}
	if cfg.Region == "" && len(arns) == 0 {
		// Nothing names a partition (a non-EKS issuer, no provider ARN):
		// IAM and STS of the aws partition answer for it, and a caller of
		// another partition gets a clear error from them.
		if p, ok := awsarn.LookupPartition("aws"); ok {
			cfg.Region = p.IAMRegion
			klog.V(2).InfoS("no AWS region configured; using the aws partition's IAM region", "region", cfg.Region)
		}
	}
	if cfg.Region == "" {
		return aws.Config{}, fmt.Errorf("no AWS region: pass --region")
	}
	return cfg, nil
}

// LiveTLS reads chains over the network (HTTPS_PROXY and NO_PROXY honoured).
type LiveTLS struct {
	Options tlsinspect.Options
}

// Inspect reads the issuer's discovery document and its hosts' chains.
func (l LiveTLS) Inspect(ctx context.Context, issuer string) (thumbprint.Report, error) {
	return tlsinspect.Inspect(ctx, issuer, l.Options)
}

// InspectFunc adapts a function to TLSInspector.
type InspectFunc func(ctx context.Context, issuer string) (thumbprint.Report, error)

// Inspect calls f.
func (f InspectFunc) Inspect(ctx context.Context, issuer string) (thumbprint.Report, error) {
	return f(ctx, issuer)
}

// LiveProber mints real tokens and calls STS.
type LiveProber struct {
	Minter probe.TokenMinter
	// NewSTS builds the STS client for a region; nil means the AWS chain
	// with Options and Hint.
	NewSTS func(ctx context.Context, region string) (probe.STSAPI, error)
	// NewEKSAuth builds the EKS Auth client for a region; nil means the
	// AWS chain with Options and Hint (the plugin's own credentials sign
	// AssumeRoleForPodIdentity, as the node role does for the agent).
	NewEKSAuth func(ctx context.Context, region string) (probe.PodIdentityAPI, error)
	Options    AWSOptions
	Hint       kube.ClusterHint
	UserAgent  string
}

// Probe runs one subject's probe and keeps only claims and verdicts.
func (p LiveProber) Probe(ctx context.Context, in ProbeInput) *facts.ProbeFacts {
	var client probe.STSAPI
	if c, err := p.stsClient(ctx, in.Region, in.RoleARN); err == nil {
		client = c
	}
	return ProbeFacts(in.Audience, probe.Run(ctx, in.Input, p.Minter, client, probe.VerifyOptions{}))
}

// ProbePodIdentity does what the eks-pod-identity-agent does for one
// subject's pod and keeps only claims and EKS Auth's verdict.
func (p LiveProber) ProbePodIdentity(ctx context.Context, in PodIdentityProbeInput) *facts.PodIdentityProbe {
	client, err := p.eksAuthClient(ctx, in.Region)
	if err != nil {
		r := probe.RunPodIdentity(ctx, in.PodIdentityInput, p.Minter, nil)
		if r.TokenErr == nil {
			r.Err = oneLine(err)
		}
		return PodIdentityProbeFacts(r)
	}
	return PodIdentityProbeFacts(probe.RunPodIdentity(ctx, in.PodIdentityInput, p.Minter, client))
}

func (p LiveProber) eksAuthClient(ctx context.Context, region string) (probe.PodIdentityAPI, error) {
	if p.NewEKSAuth != nil {
		return p.NewEKSAuth(ctx, region)
	}
	o := p.Options
	if region != "" {
		o.Region = region
	}
	cfg, err := LoadAWSConfig(ctx, o, p.Hint, p.UserAgent, nil)
	if err != nil {
		return nil, err
	}
	return EKSAuthProber{Client: eksauth.New(cfg)}, nil
}

// EKSAuthProber adapts the EKS Auth client to the probe: the answer's
// credentials were already dropped by the client.
type EKSAuthProber struct{ Client *eksauth.Client }

// AssumeRoleForPodIdentity calls EKS Auth.
func (e EKSAuthProber) AssumeRoleForPodIdentity(ctx context.Context, cluster, token string) (probe.PodIdentityAnswer, error) {
	out, err := e.Client.AssumeRoleForPodIdentity(ctx, cluster, token)
	if err != nil {
		return probe.PodIdentityAnswer{}, err
	}
	return probe.PodIdentityAnswer{AssumedRoleARN: out.AssumedRoleARN, AssociationID: out.AssociationID}, nil
}

func (p LiveProber) stsClient(ctx context.Context, region, roleARN string) (probe.STSAPI, error) {
	if p.NewSTS != nil {
		return p.NewSTS(ctx, region)
	}
	o := p.Options
	if region != "" {
		o.Region = region
	}
	cfg, err := LoadAWSConfig(ctx, o, p.Hint, p.UserAgent, []string{roleARN})
	if err != nil {
		return nil, err
	}
	// AssumeRoleWithWebIdentity is unsigned: the token is the credential, as
	// in the pod. The plugin's own credentials play no part.
	return sts.NewFromConfig(cfg, func(so *sts.Options) { so.Credentials = aws.AnonymousCredentials{} }), nil
}

// NewAWSCollector loads the configuration (LoadAWSConfig) and builds the
// collector every AWS read goes through.
func NewAWSCollector(ctx context.Context, o AWSOptions, hint kube.ClusterHint, userAgent string, arns []string) (*cloud.Collector, error) {
	cfg, err := LoadAWSConfig(ctx, o, hint, userAgent, arns)
	if err != nil {
		return nil, err
	}
	return cloud.NewCollector(cfg, cloud.CollectorOptions{Concurrency: o.Concurrency}), nil
}
