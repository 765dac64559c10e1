package cloud_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/smithy-go"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/cloud"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/facts"
)

type netTimeout struct{}

func (netTimeout) Error() string   { return "i/o timeout" }
func (netTimeout) Timeout() bool   { return true }
func (netTimeout) Temporary() bool { return true }

var _ net.Error = netTimeout{}

func opErr(err error) error {
	return &smithy.OperationError{ServiceID: "IAM", OperationName: "GetRole", Err: err}
}

func api(code, msg string) error { return &smithy.GenericAPIError{Code: code, Message: msg} }

func TestClassify(t *testing.T) {
	tests := []struct {
		name    string
		err     error
		code    facts.ErrorCode
		apiCode string
		msg     string
	}{
		{"typed NoSuchEntity", opErr(&types.NoSuchEntityException{Message: strPtr("The role with name x cannot be found.")}), facts.ErrNotFound, "NoSuchEntity", "The role with name x cannot be found."},
		{"NoSuchEntityException", api("NoSuchEntityException", "gone"), facts.ErrNotFound, "NoSuchEntityException", "gone"},
		{"ResourceNotFoundException", api("ResourceNotFoundException", "No cluster found for name: x."), facts.ErrNotFound, "ResourceNotFoundException", "No cluster found for name: x."},
		{"AccessDenied", api("AccessDenied", "User: u is not authorized"), facts.ErrAccessDenied, "AccessDenied", "User: u is not authorized"},
		{"AccessDeniedException", api("AccessDeniedException", "no"), facts.ErrAccessDenied, "AccessDeniedException", "no"},
		{"UnauthorizedOperation", api("UnauthorizedOperation", "no"), facts.ErrAccessDenied, "UnauthorizedOperation", "no"},
		{"Throttling after retries", opErr(&retry.MaxAttemptsError{Attempt: 5, Err: api("Throttling", "Rate exceeded")}), facts.ErrThrottled, "Throttling", "Rate exceeded (gave up after 5 attempts)"},
		{"ThrottlingException", api("ThrottlingException", "Rate exceeded"), facts.ErrThrottled, "ThrottlingException", "Rate exceeded"},
		{"TooManyRequestsException", api("TooManyRequestsException", "slow down"), facts.ErrThrottled, "TooManyRequestsException", "slow down"},
		{"RequestLimitExceeded", api("RequestLimitExceeded", "slow down"), facts.ErrThrottled, "RequestLimitExceeded", "slow down"},
		{"InvalidClientTokenId", api("InvalidClientTokenId", "The security token included in the request is invalid."), facts.ErrNoCredentials, "InvalidClientTokenId", "AWS rejected the credentials: The security token included in the request is invalid."},
		{"UnrecognizedClientException", api("UnrecognizedClientException", "bad"), facts.ErrNoCredentials, "UnrecognizedClientException", "AWS rejected the credentials: bad"},
		{"ExpiredToken", api("ExpiredToken", "The security token included in the request is expired"), facts.ErrNoCredentials, "ExpiredToken", "AWS rejected the credentials: The security token included in the request is expired"},
		{"SignatureDoesNotMatch", api("SignatureDoesNotMatch", "sig"), facts.ErrNoCredentials, "SignatureDoesNotMatch", "AWS rejected the credentials: sig"},
		{"other API error keeps code", api("ValidationError", "bad input"), facts.ErrOther, "ValidationError", "bad input"},
		{"API error without message", api("ServiceFailure", ""), facts.ErrOther, "ServiceFailure", "ServiceFailure"},
		{"deadline", opErr(fmt.Errorf("send: %w", context.DeadlineExceeded)), facts.ErrTimeout, "", "timed out waiting for AWS (context deadline exceeded)"},
		{"net timeout", opErr(&url.Error{Op: "Post", URL: "https://iam.amazonaws.com/", Err: netTimeout{}}), facts.ErrTimeout, "", `timed out waiting for AWS: Post "https://iam.amazonaws.com/": i/o timeout`},
		{"canceled", opErr(context.Canceled), facts.ErrOther, "", "canceled before AWS answered"},
		{"credential chain failed", opErr(errors.New("get identity: get credentials: failed to refresh cached credentials, no EC2 IMDS role found, dial tcp 169.254.169.254:80: connect: no route")), facts.ErrNoCredentials, "", "no usable AWS credentials found: no EC2 IMDS role found, dial tcp 169.254.169.254:80: connect: no route"},
		// A web-identity provider failing with an STS AccessDenied is a
		// credentials problem, not a missing iam:GetRole permission.
		{"credential provider API error", opErr(fmt.Errorf("get identity: get credentials: failed to refresh cached credentials, %w", api("AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity"))), facts.ErrNoCredentials, "", "no usable AWS credentials found: api error AccessDenied: Not authorized to perform sts:AssumeRoleWithWebIdentity"},
		{"plain network error", opErr(errors.New("dial tcp 127.0.0.1:1: connect: connection refused")), facts.ErrOther, "", "dial tcp 127.0.0.1:1: connect: connection refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := cloud.Classify("iam:GetRole", "arn:aws:iam::1:role/x", tt.err)
			if got == nil || got.Code != tt.code || got.APICode != tt.apiCode || got.Message != tt.msg || got.Op != "iam:GetRole" || got.Resource != "arn:aws:iam::1:role/x" {
				t.Fatalf("Classify() = %+v\nwant code %s apiCode %q msg %q", got, tt.code, tt.apiCode, tt.msg)
			}
		})
	}
	if got := cloud.Classify("iam:GetRole", "", nil); got != nil {
		t.Fatalf("Classify(nil) = %+v, want nil", got)
	}
}

func TestClassifyMessageIsOneLineAndCredentialFree(t *testing.T) {
	raw := "boom\nAuthorization: AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20240101/us-east-1/iam/aws4_request, Signature=abcdef\n" +
		"X-Amz-Security-Token=FQoGZXIvYXdzEXAMPLETOKEN key ASIAIOSFODNN7EXAMPLE aws_secret_access_key = wJalrXUtnFEMI/K7MDENG"
	got := cloud.Classify("sts:GetCallerIdentity", "", errors.New(raw))
	for _, secret := range []string{"AKIAIOSFODNN7EXAMPLE", "ASIAIOSFODNN7EXAMPLE", "abcdef", "FQoGZXIvYXdzEXAMPLETOKEN", "wJalrXUtnFEMI", "\n"} {
		if strings.Contains(got.Message, secret) {
			t.Errorf("message %q leaks %q", got.Message, secret)
		}
	}
	if !strings.HasPrefix(got.Message, "boom ") {
		t.Errorf("message %q lost its text", got.Message)
	}
	long := cloud.Classify("iam:GetRole", "", api("Other", strings.Repeat("é", 500)))
	if n := len([]rune(long.Message)); n > 401 || !strings.HasSuffix(long.Message, "…") || !isValidUTF8(long.Message) {
		t.Errorf("long message not bounded cleanly (%d runes)", n)
	}
}

func isValidUTF8(s string) bool { return strings.ToValidUTF8(s, "\uFFFD") == s }

func strPtr(s string) *string { return &s }
