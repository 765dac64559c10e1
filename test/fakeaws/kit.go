package fakeaws

import (
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// Region, AccessKeyID and SecretAccessKey are what Start's Config carries:
// dummy static keys, enough for the SDK to sign (the fake checks that a
// request is signed, never the signature).
const (
	Region          = "us-west-2"
	AccessKeyID     = "AKIDEXAMPLE"
	SecretAccessKey = "not-a-secret"
)

// Serve serves srv on a loopback listener (httptest binds 127.0.0.1, the only
// clients the fake accepts) until tb's cleanup, and returns its base URL.
func Serve(tb testing.TB, srv *Server) string {
	tb.Helper()
	ts := httptest.NewServer(srv)
	tb.Cleanup(ts.Close)
	return ts.URL
}

// Start serves srv like Serve and returns Config for its URL: what a test
// hands to the code under test in place of the machine's AWS configuration.
func Start(tb testing.TB, srv *Server) aws.Config {
	tb.Helper()
	return Config(Serve(tb, srv))
}

// Config is the Config a production caller would get from static keys,
// pointed at a fake served at endpoint: Region, the dummy keys, BaseEndpoint
// endpoint (one for IAM, STS and EKS: the fake routes by protocol), and
// FastRetryer.
func Config(endpoint string) aws.Config {
	return aws.Config{
		Region:       Region,
		Credentials:  credentials.NewStaticCredentialsProvider(AccessKeyID, SecretAccessKey, ""),
		BaseEndpoint: aws.String(endpoint),
		Retryer:      FastRetryer,
	}
}

// FastRetryer is the SDK's standard retryer, so the retry and throttle rules
// (which codes are retried, three attempts) are production's, with a 1 ms
// backoff so retry tests take milliseconds, and without the client-side
// retry token bucket, so that a test's count of calls cannot depend on how
// many retries earlier requests of the same client spent.
func FastRetryer() aws.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return time.Millisecond, nil })
		o.RateLimiter = ratelimit.None
	})
}
