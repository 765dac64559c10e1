// Package eksauth is a minimal client for the one operation of the Amazon EKS
// Auth API, AssumeRoleForPodIdentity: what the eks-pod-identity-agent calls,
// with the node role, to turn a pod's service account token into
// credentials (docs/behaviour.md#pod-identity-flow). The plugin calls it to
// find out what EKS would answer for a pod, never to use the credentials:
// they are dropped while the answer is decoded and never reach the caller.
//
// The SDK's service/eksauth module would do this, but it is not available to
// the build; this client speaks the same restJson1 wire protocol
// (https://docs.aws.amazon.com/eks/latest/APIReference/API_auth_AssumeRoleForPodIdentity.html),
// signs with SigV4 as signing name "eks-auth", and resolves its endpoint and
// retries as the SDK's generated clients do.
//
// Nothing is logged: neither the token (a credential of the pod) nor the
// answer, whatever ClientLogMode the configuration asks for.
package eksauth

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/protocol/restjson"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/awsarn"
)

const (
	// ServiceID is the SDK's service ID, the one shared config's services
	// sections and AWS_ENDPOINT_URL_<ID> are keyed by.
	ServiceID = "EKS Auth"
	// SigningName is the SigV4 service name (service/eksauth endpoints.go).
	SigningName = "eks-auth"
	// OperationName is the operation, as error messages name it.
	OperationName = "AssumeRoleForPodIdentity"

	// envGlobalEndpoint and envServiceEndpoint are the endpoint variables
	// the SDK weighs against each other (service/eksauth endpoints.go,
	// resolveBaseEndpoint).
	envGlobalEndpoint  = "AWS_ENDPOINT_URL"
	envServiceEndpoint = "AWS_ENDPOINT_URL_EKS_AUTH"

	// maxResponseBytes bounds what is read of an answer (a few hundred bytes
	// in practice).
	maxResponseBytes = 1 << 20
	userAgent        = "kubectl-irsa/eksauth"
)

// dualStackSuffix is each partition's dualStackDnsSuffix in the SDK's
// partitions.json: EKS Auth's default endpoint is dual-stack only,
// https://eks-auth.REGION.SUFFIX (service/eksauth endpoints.go), and every
// partition supports dual-stack.
var dualStackSuffix = map[string]string{
	"aws":        "api.aws",
	"aws-cn":     "api.amazonwebservices.com.cn",
	"aws-us-gov": "api.aws",
	"aws-eusc":   "api.amazonwebservices.eu",
	"aws-iso":    "api.aws.ic.gov",
	"aws-iso-b":  "api.aws.scloud",
	"aws-iso-e":  "api.cloud-aws.adc-e.uk",
	"aws-iso-f":  "api.aws.hci.ic.gov",
}

// regionPattern is a valid host label, which the SDK requires of a region
// before it builds a host name from it.
var regionPattern = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$`)

// Options are the client's settings; New takes them from an aws.Config and
// the optFns may change them.
type Options struct {
	// Region picks the default endpoint and is the SigV4 signing region.
	Region string
	// Credentials sign the request: in real life the node role's.
	Credentials aws.CredentialsProvider
	// HTTPClient sends the request; nil means the SDK's default client.
	HTTPClient aws.HTTPClient
	// BaseEndpoint, when set, replaces https://eks-auth.REGION.SUFFIX.
	BaseEndpoint *string
	// Retryer decides which failures are retried and how long to wait;
	// nil means the SDK's standard retryer (three attempts).
	Retryer aws.Retryer
}

// Client calls AssumeRoleForPodIdentity. It is safe for concurrent use.
type Client struct {
	options Options
	signer  *v4.Signer
}

// New returns a client for cfg: its region, credentials, HTTP client and
// retryer, and its endpoint as the SDK resolves one for EKS Auth —
// cfg.BaseEndpoint, overridden by a service-specific endpoint from
// cfg.ConfigSources (AWS_ENDPOINT_URL_EKS_AUTH, or endpoint_url in the
// profile's services section) unless only the global AWS_ENDPOINT_URL is set.
func New(cfg aws.Config, optFns ...func(*Options)) *Client {
	o := Options{
		Region:       cfg.Region,
		Credentials:  cfg.Credentials,
		HTTPClient:   cfg.HTTPClient,
		BaseEndpoint: resolveBaseEndpoint(cfg),
	}
	if cfg.Retryer != nil {
		o.Retryer = cfg.Retryer()
	}
	for _, fn := range optFns {
		fn(&o)
	}
	if o.HTTPClient == nil {
		o.HTTPClient = awshttp.NewBuildableClient()
	}
	if o.Retryer == nil {
		o.Retryer = retry.NewStandard()
	}
	// The signer's own logging stays off: it would print the canonical
	// request.
	return &Client{options: o, signer: v4.NewSigner()}
}

// serviceEndpointSource and ignoreEndpointsSource are the interfaces the
// SDK's config sources (config.EnvConfig, config.SharedConfig) implement for
// service-specific endpoints (the SDK's internal/configsources).
type serviceEndpointSource interface {
	GetServiceBaseEndpoint(ctx context.Context, sdkID string) (string, bool, error)
}

type ignoreEndpointsSource interface {
	GetIgnoreConfiguredEndpoints(ctx context.Context) (bool, bool, error)
}

// resolveBaseEndpoint follows service/eksauth endpoints.go resolveBaseEndpoint.
func resolveBaseEndpoint(cfg aws.Config) *string {
	ep := cfg.BaseEndpoint
	_, global := os.LookupEnv(envGlobalEndpoint)
	_, service := os.LookupEnv(envServiceEndpoint)
	if global && !service {
		return ep
	}
	ctx := context.Background()
	for _, src := range cfg.ConfigSources {
		if p, ok := src.(ignoreEndpointsSource); ok {
			if ignore, found, err := p.GetIgnoreConfiguredEndpoints(ctx); err == nil && found {
				if ignore {
					return ep
				}
				break
			}
		}
	}
	for _, src := range cfg.ConfigSources {
		if p, ok := src.(serviceEndpointSource); ok {
			v, found, err := p.GetServiceBaseEndpoint(ctx, ServiceID)
			if err != nil {
				break
			}
			if found {
				return &v
			}
		}
	}
	return ep
}

// Endpoint is the base URL requests go to.
func (c *Client) Endpoint() (string, error) {
	if c.options.BaseEndpoint != nil {
		return *c.options.BaseEndpoint, nil
	}
	region := c.options.Region
	if region == "" {
		return "", errors.New("eksauth: no region: set AWS_REGION or a base endpoint")
	}
	if !regionPattern.MatchString(region) {
		return "", fmt.Errorf("eksauth: invalid region %q", region)
	}
	suffix := "api.aws"
	if p, ok := awsarn.PartitionForRegion(region); ok {
		if s, ok := dualStackSuffix[p.ID]; ok {
			suffix = s
		}
	}
	return "https://" + SigningName + "." + region + "." + suffix, nil
}

// Output is what AssumeRoleForPodIdentity answered, without the
// credentials. The API returns no session tags (its response has subject,
// audience, podIdentityAssociation, assumedRoleUser and credentials only),
// so there are none here.
type Output struct {
	// AssumedRoleARN is assumedRoleUser.arn, the session
	// arn:PARTITION:sts::ACCOUNT:assumed-role/ROLE/eks-CLUSTER-POD-UUID (the
	// target role's when the association has one).
	AssumedRoleARN string
	// AssumeRoleID is assumedRoleUser.assumeRoleId, ROLEID:SESSION.
	AssumeRoleID string
	// AssociationARN and AssociationID name the association EKS used.
	AssociationARN string
	AssociationID  string
	// Namespace and ServiceAccount are the subject EKS read from the token.
	Namespace      string
	ServiceAccount string
	// Audience is always pods.eks.amazonaws.com.
	Audience string
	// CredentialsExpiration is when the (dropped) credentials expire.
	CredentialsExpiration time.Time
	// RequestID is the x-amzn-requestid of the answer.
	RequestID string
}

// APIError is an error answer of EKS Auth. It implements smithy.APIError,
// and the SDK's retryers read its code and status.
type APIError struct {
	// Code is the error code, e.g. AccessDeniedException.
	Code string
	// Message is the service's message.
	Message string
	// StatusCode is the HTTP status.
	StatusCode int
	// RequestID is the x-amzn-requestid of the answer.
	RequestID string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("operation error %s: %s, StatusCode: %d, RequestID: %s, %s: %s",
		ServiceID, OperationName, e.StatusCode, e.RequestID, e.Code, e.Message)
}

// ErrorCode is the error code.
func (e *APIError) ErrorCode() string { return e.Code }

// ErrorMessage is the service's message.
func (e *APIError) ErrorMessage() string { return e.Message }

// ErrorFault is the server's fault for 5xx answers, the client's otherwise.
func (e *APIError) ErrorFault() smithy.ErrorFault {
	if e.StatusCode >= http.StatusInternalServerError {
		return smithy.FaultServer
	}
	return smithy.FaultClient
}

// HTTPStatusCode is the HTTP status, which the SDK's retryers consult.
func (e *APIError) HTTPStatusCode() int { return e.StatusCode }

var _ smithy.APIError = (*APIError)(nil)

// AssumeRoleForPodIdentity asks EKS Auth for the credentials of the pod whose
// service account token this is, in cluster clusterName. Failures the
// retryer deems retryable (throttling, 5xx, connection errors) are retried
// with its backoff, within ctx. An answer of the service is an *APIError;
// other failures wrap their cause.
func (c *Client) AssumeRoleForPodIdentity(ctx context.Context, clusterName, token string) (*Output, error) {
	switch {
	case clusterName == "":
		return nil, errors.New("eksauth: AssumeRoleForPodIdentity: the cluster name is required")
	case token == "":
		return nil, errors.New("eksauth: AssumeRoleForPodIdentity: the token is required")
	case c.options.Credentials == nil:
		return nil, errors.New("eksauth: AssumeRoleForPodIdentity: no credentials to sign the request with")
	}
	base, err := c.Endpoint()
	if err != nil {
		return nil, err
	}
	u, err := url.Parse(base)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("eksauth: invalid endpoint %q", base)
	}
	// Escaped, so a name with a slash cannot reach another path.
	u = u.JoinPath("clusters", url.PathEscape(clusterName), "assume-role-for-pod-identity")

	body, err := json.Marshal(struct {
		Token string `json:"token"`
	}{token})
	if err != nil {
		return nil, fmt.Errorf("eksauth: encode request: %w", err)
	}
	// The body holds the token: scrub our copy once the call is over.
	defer clear(body)

	return withRetry(ctx, c.options.Retryer, func() (*Output, error) { return c.send(ctx, u, body) })
}

// withRetry runs attempt until it succeeds, fails in a way retryer does not
// retry, runs out of attempts or retry tokens, or ctx ends, waiting
// retryer's backoff in between; tokens are taken and released as the SDK's
// retry middleware does, so a shared retryer's rate limiting holds.
func withRetry(ctx context.Context, retryer aws.Retryer, attempt func() (*Output, error)) (*Output, error) {
	releaseInitial := retryer.GetInitialToken()
	var releaseRetry func(error) error
	fail := func(err error) (*Output, error) {
		if releaseRetry != nil {
			_ = releaseRetry(err)
		}
		_ = releaseInitial(err)
		return nil, err
	}
	for n := 1; ; n++ {
		out, err := attempt()
		if releaseRetry != nil {
			_ = releaseRetry(err)
			releaseRetry = nil
		}
		if err == nil {
			_ = releaseInitial(nil)
			return out, nil
		}
		if n >= retryer.MaxAttempts() || ctx.Err() != nil || !retryer.IsErrorRetryable(err) {
			return fail(err)
		}
		release, terr := retryer.GetRetryToken(ctx, err)
		if terr != nil {
			return fail(err)
		}
		releaseRetry = release
		delay, derr := retryer.RetryDelay(n, err)
		if derr != nil {
			return fail(err)
		}
		if serr := sleep(ctx, delay); serr != nil {
			return fail(fmt.Errorf("eksauth: %s: retry after %w: %w", OperationName, err, serr))
		}
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// send makes one signed attempt.
func (c *Client) send(ctx context.Context, u *url.URL, body []byte) (*Output, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("eksauth: build request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", userAgent)
	creds, err := c.options.Credentials.Retrieve(ctx)
	if err != nil {
		return nil, fmt.Errorf("eksauth: retrieve credentials: %w", err)
	}
	sum := sha256.Sum256(body)
	if err := c.signer.SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), SigningName, c.options.Region, time.Now().UTC()); err != nil {
		return nil, fmt.Errorf("eksauth: sign request: %w", err)
	}
	resp, err := c.options.HTTPClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("eksauth: %s: send request: %w", OperationName, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	// The answer holds the credentials: scrub our copy once decoded.
	defer clear(raw)
	if err != nil {
		return nil, fmt.Errorf("eksauth: %s: read response: %w", OperationName, err)
	}
	requestID := resp.Header.Get("X-Amzn-Requestid")
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, parseError(resp, raw, requestID)
	}
	return decodeOutput(raw, requestID)
}

// wireOutput is the answer's JSON without the secrets: the decoder skips
// accessKeyId, secretAccessKey and sessionToken, so they never become Go
// strings.
type wireOutput struct {
	Subject *struct {
		Namespace      string `json:"namespace"`
		ServiceAccount string `json:"serviceAccount"`
	} `json:"subject"`
	Audience               string `json:"audience"`
	PodIdentityAssociation *struct {
		AssociationArn string `json:"associationArn"`
		AssociationID  string `json:"associationId"`
	} `json:"podIdentityAssociation"`
	AssumedRoleUser *struct {
		Arn          string `json:"arn"`
		AssumeRoleID string `json:"assumeRoleId"`
	} `json:"assumedRoleUser"`
	Credentials *struct {
		// Expiration is epoch seconds, restJson1's timestamp default.
		Expiration *json.Number `json:"expiration"`
	} `json:"credentials"`
}

func decodeOutput(raw []byte, requestID string) (*Output, error) {
	var w wireOutput
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	if err := d.Decode(&w); err != nil {
		return nil, fmt.Errorf("eksauth: %s: decode response: %w", OperationName, err)
	}
	if w.AssumedRoleUser == nil || w.Credentials == nil {
		return nil, fmt.Errorf("eksauth: %s: response without assumedRoleUser or credentials", OperationName)
	}
	out := &Output{
		AssumedRoleARN: w.AssumedRoleUser.Arn,
		AssumeRoleID:   w.AssumedRoleUser.AssumeRoleID,
		Audience:       w.Audience,
		RequestID:      requestID,
	}
	if w.Subject != nil {
		out.Namespace, out.ServiceAccount = w.Subject.Namespace, w.Subject.ServiceAccount
	}
	if w.PodIdentityAssociation != nil {
		out.AssociationARN, out.AssociationID = w.PodIdentityAssociation.AssociationArn, w.PodIdentityAssociation.AssociationID
	}
	if e := w.Credentials.Expiration; e != nil {
		f, err := e.Float64()
		if err != nil {
			return nil, fmt.Errorf("eksauth: %s: credentials.expiration %q: %w", OperationName, e.String(), err)
		}
		sec := int64(f)
		out.CredentialsExpiration = time.Unix(sec, int64((f-float64(sec))*float64(time.Second))).UTC()
	}
	return out, nil
}

// parseError reads an error answer the restJson1 way: the code from
// X-Amzn-Errortype, else the body's code or __type, sanitized (anything
// after ':' and before '#' dropped); the message from the body.
func parseError(resp *http.Response, raw []byte, requestID string) error {
	code, msg, _ := restjson.GetErrorInfo(json.NewDecoder(bytes.NewReader(raw)))
	if h := resp.Header.Get("X-Amzn-Errortype"); h != "" {
		code = restjson.SanitizeErrorCode(h)
	}
	if code == "" {
		code = "UnknownError"
	}
	if msg == "" {
		msg = strings.TrimSpace(http.StatusText(resp.StatusCode))
	}
	return &APIError{Code: code, Message: msg, StatusCode: resp.StatusCode, RequestID: requestID}
}
