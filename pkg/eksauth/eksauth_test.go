package eksauth_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/logging"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/eksauth"
	"github.com/kubectl-irsa/kubectl-irsa/test/fakeaws"
	"github.com/kubectl-irsa/kubectl-irsa/test/jwstest"
)

const (
	cluster    = "prod"
	clusterARN = "arn:aws:eks:us-west-2:123456789012:cluster/prod"
	roleARN    = "arn:aws:iam::123456789012:role/web"
	trust      = `{"Statement":{"Effect":"Allow","Principal":{"Service":"pods.eks.amazonaws.com"},"Action":["sts:AssumeRole","sts:TagSession"]}}`
)

// world is the emulator with a cluster, its issuer, an association for
// shop/web and a pod token of that service account.
func world(t *testing.T) (*fakeaws.Server, aws.Config, string) {
	t.Helper()
	is := jwstest.StartIssuer(t, nil)
	fake := fakeaws.New()
	fake.AddCluster(fakeaws.Cluster{Name: cluster, ARN: clusterARN, Issuer: is.URL})
	fake.AddRole(fakeaws.Role{ARN: roleARN, TrustPolicy: trust})
	fake.AddAssociation(fakeaws.Association{ClusterName: cluster, Namespace: "shop", ServiceAccount: "web", RoleARN: roleARN})
	tok := is.Sign(t, jwstest.ServiceAccountClaims(is.URL, "pods.eks.amazonaws.com", "shop", "web", "web-1", "uid-1", time.Now().Add(time.Hour)))
	return fake, fakeaws.Start(t, fake), tok
}

// recordingClient is an aws.HTTPClient that keeps the requests it sends.
type recordingClient struct {
	mu   sync.Mutex
	reqs []*http.Request
	next aws.HTTPClient
}

func (c *recordingClient) Do(r *http.Request) (*http.Response, error) {
	c.mu.Lock()
	c.reqs = append(c.reqs, r.Clone(r.Context()))
	c.mu.Unlock()
	return c.next.Do(r)
}

// recordingLogger keeps whatever the client would log.
type recordingLogger struct {
	mu    sync.Mutex
	lines []string
}

func (l *recordingLogger) Logf(c logging.Classification, format string, v ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, string(c)+" "+fmt.Sprintf(format, v...))
}

func TestAssumeRoleForPodIdentity(t *testing.T) {
	fake, cfg, tok := world(t)
	rec := &recordingClient{next: http.DefaultClient}
	cfg.HTTPClient = rec
	cfg.Credentials = credentials.NewStaticCredentialsProvider(fakeaws.AccessKeyID, fakeaws.SecretAccessKey, "node-session-token")
	// Every log mode on: the client still logs nothing.
	logger := &recordingLogger{}
	cfg.Logger = logger
	cfg.ClientLogMode = aws.LogRequestWithBody | aws.LogResponseWithBody | aws.LogSigning | aws.LogRetries

	out, err := eksauth.New(cfg).AssumeRoleForPodIdentity(t.Context(), cluster, tok)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.AssumedRoleARN, "arn:aws:sts::123456789012:assumed-role/web/eks-prod-web-1-") ||
		out.Namespace != "shop" || out.ServiceAccount != "web" || out.Audience != "pods.eks.amazonaws.com" ||
		!strings.HasPrefix(out.AssociationID, "a-") || !strings.HasSuffix(out.AssociationARN, "/"+out.AssociationID) ||
		out.RequestID == "" || out.CredentialsExpiration.Before(time.Now()) {
		t.Errorf("output = %+v", out)
	}
	// No field holds anything of the credentials.
	v := reflect.ValueOf(*out)
	for i := range v.NumField() {
		if s := fmt.Sprint(v.Field(i).Interface()); strings.Contains(s, "fakeaws-secret") || strings.Contains(s, "fakeaws-session") || strings.HasPrefix(s, "ASIA") {
			t.Errorf("Output.%s = %q carries credentials", v.Type().Field(i).Name, s)
		}
	}
	if len(logger.lines) != 0 {
		t.Errorf("the client logged %q", logger.lines)
	}

	if len(rec.reqs) != 1 {
		t.Fatalf("%d requests, want 1", len(rec.reqs))
	}
	r := rec.reqs[0]
	auth := r.Header.Get("Authorization")
	if r.Method != http.MethodPost || r.URL.Path != "/clusters/prod/assume-role-for-pod-identity" || r.Header.Get("Content-Type") != "application/json" ||
		!strings.HasPrefix(auth, "AWS4-HMAC-SHA256 Credential="+fakeaws.AccessKeyID+"/") || !strings.Contains(auth, "/us-west-2/eks-auth/aws4_request") ||
		r.Header.Get("X-Amz-Security-Token") != "node-session-token" || r.Header.Get("X-Amz-Date") == "" {
		t.Errorf("request %s %s %v", r.Method, r.URL, r.Header)
	}
	if c := fake.Calls(); len(c) != 1 || c[0].Service != "eks-auth" || c[0].Op != "AssumeRoleForPodIdentity" || c[0].Resource != cluster {
		t.Errorf("calls = %+v", c)
	}
}

func TestAPIErrors(t *testing.T) {
	fake, cfg, tok := world(t)
	client := eksauth.New(cfg)

	_, err := client.AssumeRoleForPodIdentity(t.Context(), "staging", tok)
	var ae *eksauth.APIError
	if !errors.As(err, &ae) || ae.Code != "ResourceNotFoundException" || ae.StatusCode != http.StatusNotFound || ae.RequestID == "" {
		t.Fatalf("unknown cluster: %#v", err)
	}
	var sae smithy.APIError
	if !errors.As(err, &sae) || sae.ErrorCode() != "ResourceNotFoundException" || sae.ErrorFault() != smithy.FaultClient {
		t.Errorf("as smithy.APIError: %v", err)
	}
	if !strings.Contains(err.Error(), "AssumeRoleForPodIdentity") || strings.Contains(err.Error(), tok) {
		t.Errorf("message %q", err)
	}

	fake.Fail("eks-auth:AssumeRoleForPodIdentity", "", "InternalServerException", "boom", 0)
	_, err = client.AssumeRoleForPodIdentity(t.Context(), cluster, tok)
	if !errors.As(err, &ae) || ae.Code != "InternalServerException" || ae.StatusCode != 500 || ae.ErrorFault() != smithy.FaultServer {
		t.Fatalf("injected 500: %v", err)
	}
	// 5xx is retryable: FastRetryer's three attempts.
	if n := fake.Count("eks-auth:AssumeRoleForPodIdentity"); n != 4 {
		t.Errorf("%d calls, want 1 + 3", n)
	}

	if _, err := client.AssumeRoleForPodIdentity(t.Context(), "", tok); err == nil {
		t.Error("empty cluster name accepted")
	}
	if _, err := client.AssumeRoleForPodIdentity(t.Context(), cluster, ""); err == nil {
		t.Error("empty token accepted")
	}
	if n := fake.Count("AssumeRoleForPodIdentity"); n != 4 {
		t.Errorf("invalid input reached the service: %d calls", n)
	}
}

// TestErrorParsing: the code comes from X-Amzn-Errortype, else from the
// body's code or __type, sanitized the restJson1 way.
func TestErrorParsing(t *testing.T) {
	tests := []struct {
		header, body  string
		status        int
		code, message string
	}{
		{"AccessDeniedException", `{"message":"no"}`, 400, "AccessDeniedException", "no"},
		{"AccessDeniedException:http://internal.amazon.com/", `{"Message":"no"}`, 400, "AccessDeniedException", "no"},
		{"", `{"__type":"com.amazonaws.eksauth#InvalidTokenException","message":"bad"}`, 400, "InvalidTokenException", "bad"},
		{"", `{"code":"ExpiredTokenException","message":"old"}`, 400, "ExpiredTokenException", "old"},
		{"", `not json`, 502, "UnknownError", "Bad Gateway"},
	}
	for _, tt := range tests {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			if tt.header != "" {
				w.Header().Set("X-Amzn-Errortype", tt.header)
			}
			w.Header().Set("X-Amzn-Requestid", "req-1")
			w.WriteHeader(tt.status)
			_, _ = w.Write([]byte(tt.body))
		}))
		cfg := fakeaws.Config(srv.URL)
		cfg.Retryer = func() aws.Retryer { return aws.NopRetryer{} }
		_, err := eksauth.New(cfg).AssumeRoleForPodIdentity(t.Context(), cluster, "a.b.c")
		srv.Close()
		var ae *eksauth.APIError
		if !errors.As(err, &ae) || ae.Code != tt.code || ae.Message != tt.message || ae.StatusCode != tt.status || ae.RequestID != "req-1" {
			t.Errorf("%q %s: %#v", tt.header, tt.body, err)
		}
	}
}

func TestRetryAndContext(t *testing.T) {
	fake, cfg, tok := world(t)
	client := eksauth.New(cfg)

	fake.Throttle("AssumeRoleForPodIdentity", 2)
	if _, err := client.AssumeRoleForPodIdentity(t.Context(), cluster, tok); err != nil {
		t.Fatalf("after two throttles: %v", err)
	}
	if n := fake.Count("AssumeRoleForPodIdentity"); n != 3 {
		t.Errorf("%d calls, want 3", n)
	}

	// A non-retryable answer is not retried.
	fake.ResetCalls()
	fake.Fail("AssumeRoleForPodIdentity", "", "AccessDeniedException", "", 0)
	if _, err := client.AssumeRoleForPodIdentity(t.Context(), cluster, tok); err == nil || fake.Count("AssumeRoleForPodIdentity") != 1 {
		t.Errorf("denial: %v after %d calls", err, fake.Count("AssumeRoleForPodIdentity"))
	}
	fake.ClearFaults()

	// ctx bounds the call.
	fake.Latency(5 * time.Second)
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := client.AssumeRoleForPodIdentity(ctx, cluster, tok)
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 2*time.Second {
		t.Errorf("deadline: %v after %s", err, time.Since(start))
	}
}

// failingClient fails every request with errTransport.
type failingClient struct{}

var errTransport = errors.New("connection refused by test")

func (failingClient) Do(*http.Request) (*http.Response, error) { return nil, errTransport }

func TestTransportErrorsAreWrapped(t *testing.T) {
	cfg := fakeaws.Config("http://127.0.0.1:1")
	cfg.HTTPClient = failingClient{}
	cfg.Retryer = func() aws.Retryer { return aws.NopRetryer{} }
	_, err := eksauth.New(cfg).AssumeRoleForPodIdentity(t.Context(), cluster, "a.b.c")
	if !errors.Is(err, errTransport) {
		t.Fatalf("err = %v, want it to wrap the transport's", err)
	}
	cfg.Credentials = nil
	if _, err := eksauth.New(cfg).AssumeRoleForPodIdentity(t.Context(), cluster, "a.b.c"); err == nil {
		t.Error("no credentials: no error")
	}
}

func TestEndpoint(t *testing.T) {
	for _, k := range []string{"AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_EKS_AUTH", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"} {
		t.Setenv(k, "")
		_ = os.Unsetenv(k)
	}
	endpoint := func(cfg aws.Config, optFns ...func(*eksauth.Options)) string {
		t.Helper()
		ep, err := eksauth.New(cfg, optFns...).Endpoint()
		if err != nil {
			return "error: " + err.Error()
		}
		return ep
	}
	for region, want := range map[string]string{
		"us-west-2":      "https://eks-auth.us-west-2.api.aws",
		"cn-north-1":     "https://eks-auth.cn-north-1.api.amazonwebservices.com.cn",
		"us-gov-west-1":  "https://eks-auth.us-gov-west-1.api.aws",
		"eusc-de-east-1": "https://eks-auth.eusc-de-east-1.api.amazonwebservices.eu",
	} {
		if got := endpoint(aws.Config{Region: region}); got != want {
			t.Errorf("region %s: %s, want %s", region, got, want)
		}
	}
	if got := endpoint(aws.Config{}); !strings.HasPrefix(got, "error:") {
		t.Errorf("no region: %s", got)
	}
	if got := endpoint(aws.Config{Region: "us-west-2/evil"}); !strings.HasPrefix(got, "error:") {
		t.Errorf("bad region: %s", got)
	}
	base := aws.Config{Region: "us-west-2", BaseEndpoint: aws.String("http://127.0.0.1:9")}
	if got := endpoint(base); got != "http://127.0.0.1:9" {
		t.Errorf("BaseEndpoint: %s", got)
	}
	if got := endpoint(base, func(o *eksauth.Options) { o.BaseEndpoint = aws.String("http://127.0.0.1:10") }); got != "http://127.0.0.1:10" {
		t.Errorf("option: %s", got)
	}

	// The service-specific variable, read through the configuration's
	// sources as the SDK does, beats BaseEndpoint (which LoadDefaultConfig
	// fills from AWS_ENDPOINT_URL).
	t.Setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:11")
	t.Setenv("AWS_ENDPOINT_URL_EKS_AUTH", "http://127.0.0.1:12")
	env, err := config.NewEnvConfig()
	if err != nil {
		t.Fatal(err)
	}
	withEnv := aws.Config{Region: "us-west-2", BaseEndpoint: aws.String("http://127.0.0.1:11"), ConfigSources: []any{env}}
	if got := endpoint(withEnv); got != "http://127.0.0.1:12" {
		t.Errorf("AWS_ENDPOINT_URL_EKS_AUTH: %s", got)
	}
	// Only the global variable: BaseEndpoint stays.
	_ = os.Unsetenv("AWS_ENDPOINT_URL_EKS_AUTH")
	env, err = config.NewEnvConfig()
	if err != nil {
		t.Fatal(err)
	}
	withEnv.ConfigSources = []any{env}
	if got := endpoint(withEnv); got != "http://127.0.0.1:11" {
		t.Errorf("AWS_ENDPOINT_URL only: %s", got)
	}
	// Configured endpoints switched off.
	t.Setenv("AWS_ENDPOINT_URL_EKS_AUTH", "http://127.0.0.1:12")
	t.Setenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true")
	env, err = config.NewEnvConfig()
	if err != nil {
		t.Fatal(err)
	}
	withEnv.ConfigSources = []any{env}
	if got := endpoint(withEnv); got != "http://127.0.0.1:11" {
		t.Errorf("ignored configured endpoints: %s", got)
	}
}
