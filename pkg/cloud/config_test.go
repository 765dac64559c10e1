package cloud_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go/logging"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/cloud"
)

const (
	wireToken   = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ3aXJlIn0.wire-signature"
	wireSecret  = "wire-secret-access-key"
	wireSession = "wire-session-token"
)

// capture is an SDK logger that keeps what it is given.
type capture struct {
	mu  sync.Mutex
	out strings.Builder
}

func (c *capture) Logf(_ logging.Classification, format string, v ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	fmt.Fprintf(&c.out, format+"\n", v...)
}

func (c *capture) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.out.String()
}

// TestLoadConfigLogsNoRequest: the SDK logs requests and responses only for
// the ClientLogMode bits set (it knows nothing of -v), and LoadConfig sets
// none, so neither the web identity token the probe sends nor the
// Credentials STS answers reach the SDK's logger. The same call with the
// bits set shows that the logger would have seen them.
func TestLoadConfigLogsNoRequest(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/xml")
		fmt.Fprintf(w, `<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleWithWebIdentityResult>
    <Credentials><AccessKeyId>ASIAWIRETESTKEY00001</AccessKeyId><SecretAccessKey>%s</SecretAccessKey><SessionToken>%s</SessionToken><Expiration>2030-01-01T00:00:00Z</Expiration></Credentials>
    <AssumedRoleUser><Arn>arn:aws:sts::123456789012:assumed-role/app/probe</Arn><AssumedRoleId>AROAEXAMPLE:probe</AssumedRoleId></AssumedRoleUser>
  </AssumeRoleWithWebIdentityResult>
  <ResponseMetadata><RequestId>wire-1</RequestId></ResponseMetadata>
</AssumeRoleWithWebIdentityResponse>`, wireSecret, wireSession)
	}))
	t.Cleanup(srv.Close)
	isolateAWSEnv(t)
	t.Setenv("AWS_ENDPOINT_URL_STS", srv.URL)

	cfg, err := cloud.LoadConfig(ctxT(t), cloud.ConfigOptions{})
	if err != nil {
		t.Fatalf("LoadConfig: %v", err)
	}
	if cfg.ClientLogMode != 0 {
		t.Errorf("ClientLogMode = %v, want none", cfg.ClientLogMode)
	}
	assume := func(mode aws.ClientLogMode) string {
		c := cfg.Copy()
		log := &capture{}
		c.Logger, c.ClientLogMode = log, mode
		out, err := sts.NewFromConfig(c, func(o *sts.Options) { o.Credentials = aws.AnonymousCredentials{} }).
			AssumeRoleWithWebIdentity(ctxT(t), &sts.AssumeRoleWithWebIdentityInput{
				RoleArn: aws.String("arn:aws:iam::123456789012:role/app"), RoleSessionName: aws.String("probe"), WebIdentityToken: aws.String(wireToken)})
		if err != nil || aws.ToString(out.Credentials.SecretAccessKey) != wireSecret {
			t.Fatalf("AssumeRoleWithWebIdentity: %v", err)
		}
		return log.String()
	}
	if got := assume(cfg.ClientLogMode); got != "" {
		t.Errorf("the SDK logged %d bytes with LoadConfig's log mode, want none", len(got))
	}
	if got := assume(aws.LogRequestWithBody | aws.LogResponseWithBody); !strings.Contains(got, wireToken) || !strings.Contains(got, wireSecret) {
		t.Errorf("with bodies logged, the capture misses the token or the secret: the test proves nothing")
	}
}
