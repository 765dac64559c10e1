package cloud_test

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/cloud"
	"github.com/kubectl-irsa/kubectl-irsa/test/fakeaws"
)

const (
	acct     = fakeaws.DefaultAccount
	roleARN  = "arn:aws:iam::123456789012:role/team/app"
	provURL  = "oidc.eks.us-west-2.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"
	provARN  = "arn:aws:iam::123456789012:oidc-provider/" + provURL
	issuer   = "https://" + provURL
	thumb    = "9e99a48a9960b14926bb7f3b02e22da2b0ab7280"
	clusterA = "arn:aws:eks:us-west-2:123456789012:cluster/prod"
)

// fastRetryer is the SDK's standard retryer (same retry and throttle rules as
// production) with a 1 ms backoff and no client-side token bucket, so retry
// tests take milliseconds and cannot starve each other.
func fastRetryer() aws.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return time.Millisecond, nil })
		o.RateLimiter = ratelimit.None
	})
}

// testConfig is what LoadConfig would produce for static keys, pointed at url.
func testConfig(url string) aws.Config {
	return aws.Config{
		Region:       "us-west-2",
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
		Retryer:      fastRetryer,
		BaseEndpoint: aws.String(url),
	}
}

// newEnv starts a fake and a collector built by the production constructor.
func newEnv(t *testing.T, concurrency int) (*fakeaws.Server, *cloud.Collector) {
	t.Helper()
	fake := fakeaws.New()
	ts := httptest.NewServer(fake)
	t.Cleanup(ts.Close)
	return fake, cloud.NewCollector(testConfig(ts.URL), cloud.CollectorOptions{Concurrency: concurrency})
}

func ctxT(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}
