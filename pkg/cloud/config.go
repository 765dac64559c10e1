package cloud

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go/middleware"
)

// userAgentKey is the product token added to every request's User-Agent, so
// that CloudTrail shows which calls came from this tool.
const userAgentKey = "kubectl-irsa"

// ConfigOptions are the user's choices that shape the AWS configuration. Empty
// fields defer to the SDK's own resolution (env, shared config, SSO, IMDS).
type ConfigOptions struct {
	// Region overrides AWS_REGION / the profile's region when set.
	Region string
	// Profile overrides AWS_PROFILE when set.
	Profile string
	// UserAgentVersion is appended as kubectl-irsa/<version>; "dev" when empty.
	UserAgentVersion string
	// MaxAttempts bounds the standard retryer's attempts per call; <= 0 keeps
	// the SDK default (3, or AWS_MAX_ATTEMPTS / max_attempts when set).
	MaxAttempts int
}

// LoadConfig resolves the AWS configuration the way the AWS CLI does. Options
// are only passed when the user set them, because passing an empty region or
// profile would shadow AWS_REGION, AWS_PROFILE, SSO sessions and
// AWS_ENDPOINT_URL[_<SERVICE>], which the e2e tests rely on.
func LoadConfig(ctx context.Context, o ConfigOptions) (aws.Config, error) {
	version := o.UserAgentVersion
	if version == "" {
		version = "dev"
	}
	opts := []func(*config.LoadOptions) error{
		config.WithAPIOptions([]func(*middleware.Stack) error{
			awsmiddleware.AddUserAgentKeyValue(userAgentKey, version),
		}),
		// The SDK logs requests and responses only for the ClientLogMode
		// bits set; it never follows klog's -v. Pinned to none: a request
		// carries a signature or a web identity token, a response STS's
		// Credentials, and none may reach a log at any verbosity.
		config.WithClientLogMode(0),
	}
	if o.Region != "" {
		opts = append(opts, config.WithRegion(o.Region))
	}
	if o.Profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(o.Profile))
	}
	if o.MaxAttempts > 0 {
		// The SDK's default retryer is the standard one (exponential backoff
		// with jitter, throttling codes retried); only the attempt count is
		// ours to choose, and leaving the mode alone keeps retry_mode=adaptive
		// working for users who configured it.
		opts = append(opts, config.WithRetryMaxAttempts(o.MaxAttempts))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("loading AWS configuration: %w", err)
	}
	return cfg, nil
}

// CollectorOptions tune the collector.
type CollectorOptions struct {
	// Concurrency bounds the AWS calls in flight; <= 0 means DefaultConcurrency.
	Concurrency int
}

// NewCollector builds the IAM, EKS, STS and CloudTrail clients from cfg. It is the only
// place in the program that constructs AWS clients; everything downstream
// depends on the narrow interfaces in api.go.
func NewCollector(cfg aws.Config, opts CollectorOptions) *Collector {
	return &Collector{
		IAM:         iam.NewFromConfig(cfg, func(o *iam.Options) { o.HTTPClient = guardRequestBodies(o.HTTPClient) }),
		EKS:         eks.NewFromConfig(cfg, func(o *eks.Options) { o.HTTPClient = guardRequestBodies(o.HTTPClient) }),
		STS:         sts.NewFromConfig(cfg, func(o *sts.Options) { o.HTTPClient = guardRequestBodies(o.HTTPClient) }),
		CloudTrail:  newCloudTrail(cfg),
		Concurrency: opts.Concurrency,
		Region:      cfg.Region,
	}
}
