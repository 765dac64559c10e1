package plugin

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/pflag"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/awsarn"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/cloud"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/pipeline"
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

// Validate checks the AWS flags every command shares.
func (f AWSFlags) Validate() error {
	if f.Concurrency < 1 {
		return errors.New("--aws-concurrency must be at least 1")
	}
	if f.Issuer != "" {
		if _, err := awsarn.ParseIssuer(f.Issuer); err != nil {
			return fmt.Errorf("--issuer: %w", err)
		}
	}
	return nil
}

// options turns the flags into the pipeline's AWS options.
func (f AWSFlags) options() pipeline.AWSOptions {
	return pipeline.AWSOptions{Skip: f.Skip, Region: f.Region, Profile: f.Profile, Cluster: f.Cluster, Issuer: f.Issuer,
		Concurrency: f.Concurrency, Timeout: f.Timeout}
}
