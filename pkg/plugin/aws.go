package plugin

import (
	"context"

	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/spf13/pflag"
	"k8s.io/klog/v2"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/awsarn"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/cloud"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/diag"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/kube"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/thumbprint"
)

// AWSFlags are the AWS half's flags. --profile belongs to kubectl, hence --aws-profile.
type AWSFlags struct {
	Region      string
	Profile     string
	Cluster     string
	Issuer      string
	Skip        bool
	Concurrency int
	Timeout     time.Duration
}

// AddFlags registers the AWS flags.
func (f *AWSFlags) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&f.Region, "region", "", "AWS region of the EKS cluster (default: from the kubeconfig context, then AWS_REGION or the profile)")
	fs.StringVar(&f.Profile, "aws-profile", "", "AWS shared-config profile (default: AWS_PROFILE or the default chain)")
	fs.StringVar(&f.Cluster, "cluster", "", "EKS cluster name (default: from the kubeconfig context's cluster ARN or exec arguments)")
	fs.StringVar(&f.Issuer, "issuer", "", "The cluster's OIDC issuer URL; skips eks:DescribeCluster")
	fs.BoolVar(&f.Skip, "skip-aws", false, "Check only the Kubernetes side; make no AWS call")
	fs.IntVar(&f.Concurrency, "aws-concurrency", cloud.DefaultConcurrency, "Maximum AWS calls in flight")
	fs.DurationVar(&f.Timeout, "aws-timeout", 2*time.Minute, "Time limit for all AWS calls together")
}

// gatherAWS is the composition root of the AWS half: it turns flags and
// kubeconfig hints into a configured collector and asks it for the facts.
func (o *DiagnoseOptions) gatherAWS(ctx context.Context, snap *diag.Snapshot, p *progress) *diag.AWSFacts {
	roles := diag.RoleARNs(snap.Subjects)
	if len(roles) == 0 {
		return &diag.AWSFacts{}
	}
	ctx, cancel := context.WithTimeout(ctx, o.AWS.Timeout)
	defer cancel()
	collector := o.NewAWSCollector
	if collector == nil {
		collector = func(ctx context.Context, roles []string) (*cloud.Collector, error) {
			return newAWSCollector(ctx, o.AWS, o.hint, roles)
		}
	}
	c, err := collector(ctx, roles)
	if err != nil {
		return &diag.AWSFacts{Unavailable: err.Error()}
	}
	p.awsStart(len(roles))
	c.OnCall, c.OnRole = p.awsCall, p.awsRole
	in := cloud.GatherInput{Issuer: o.AWS.Issuer, ClusterName: o.AWS.Cluster, ClusterSource: "--cluster", RoleARNs: roles}
	if in.ClusterName == "" {
		in.ClusterName, in.ClusterSource = o.hint.Name, o.hint.Source
	}
	if o.Client != nil {
		in.DiscoverIssuer = func(ctx context.Context) (string, error) {
			return kube.DiscoverIssuer(ctx, o.Client.Discovery().RESTClient())
		}
	}
	facts := c.Gather(ctx, in)
	o.judgeTLS(ctx, facts)
	return facts
}

// judgeTLS reads the issuer's TLS chains once and judges them against every
// provider found, with the same code as `kubectl irsa thumbprint`.
func (o *DiagnoseOptions) judgeTLS(ctx context.Context, facts *diag.AWSFacts) {
	if facts.Issuer.URL == "" || o.Inspect == nil {
		return
	}
	var found []string
	for arn, p := range facts.Providers {
		if p.Found {
			found = append(found, arn)
		}
	}
	if len(found) == 0 {
		return
	}
	report, err := o.Inspect(ctx, facts.Issuer.URL)
	facts.TLS = map[string]diag.TLSFacts{}
	for _, arn := range found {
		if err != nil && len(report.Hosts) == 0 {
			facts.TLS[arn] = diag.TLSFacts{Err: oneLine(err)}
			continue
		}
		p := facts.Providers[arn]
		j := thumbprint.Judge(report, true, p.Thumbprints)
		t := diag.TLSFacts{Verdict: string(j.Verdict), Severity: diag.Severity(j.Severity), Message: j.Message, Thumbprint: report.Thumbprint}
		if len(j.Required) > 0 {
			if list, err := thumbprint.UpdatedList(p.Thumbprints, j.Required, thumbprint.ValidEntry); err == nil {
				t.Fix = thumbprint.UpdateCommand(arn, list) + "  # or: kubectl irsa thumbprint --update"
			}
		}
		facts.TLS[arn] = t
	}
}

// newAWSCollector loads the AWS configuration the way the AWS CLI does. The
// region comes from --region, the kubeconfig context, the environment or
// profile, the issuer, and finally the partition's IAM region (IAM is global
// within a partition), so IAM checks work even when nothing names a region.
// arns are role or provider ARNs whose partition names that IAM region.
func newAWSCollector(ctx context.Context, flags AWSFlags, hint kube.ClusterHint, arns []string) (*cloud.Collector, error) {
	cfg, err := loadAWSConfig(ctx, flags, hint, arns)
	if err != nil {
		return nil, err
	}
	return cloud.NewCollector(cfg, cloud.CollectorOptions{Concurrency: flags.Concurrency}), nil
}

func loadAWSConfig(ctx context.Context, flags AWSFlags, hint kube.ClusterHint, arns []string) (aws.Config, error) {
	region := flags.Region
	if region == "" {
		region = hint.Region
	}
	cfg, err := cloud.LoadConfig(ctx, cloud.ConfigOptions{Region: region, Profile: flags.Profile, UserAgentVersion: Version().Version})
	if err != nil {
		return aws.Config{}, err
	}
	if cfg.Region == "" {
		if is, err := awsarn.ParseIssuer(flags.Issuer); err == nil && is.Region != "" {
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
	if cfg.Region == "" {
		return aws.Config{}, fmt.Errorf("no AWS region: pass --region")
	}
	return cfg, nil
}

// oneLine keeps errors on one line in findings.
func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}
