package cloud

import (
	"context"
	"errors"
	"fmt"
	"net"
	"regexp"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/smithy-go"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/facts"
)

// Error-code sets. They hold AWS's wire codes (smithy.APIError.ErrorCode()),
// which are the same across the SDK's typed and generic errors.
var (
	notFoundCodes = set("NoSuchEntity", "NoSuchEntityException", "ResourceNotFoundException")

	accessDeniedCodes = set("AccessDenied", "AccessDeniedException", "UnauthorizedOperation")

	// credentialCodes are answers from AWS saying the request's credentials
	// are missing, unknown, expired or mis-signed: the user has to fix their
	// credentials, not their permissions.
	credentialCodes = set(
		"InvalidClientTokenId", "UnrecognizedClientException",
		"ExpiredToken", "ExpiredTokenException",
		"SignatureDoesNotMatch", "InvalidAccessKeyId",
		"MissingAuthenticationToken", "MissingAuthenticationTokenException",
	)

	// throttleCodes starts from the SDK's own list (what its retryer treats as
	// throttling) so the two never disagree, plus the codes the design names.
	throttleCodes = func() map[string]struct{} {
		m := set("Throttling", "ThrottlingException", "TooManyRequestsException", "RequestLimitExceeded")
		for c := range retry.DefaultThrottleErrorCodes {
			m[c] = struct{}{}
		}
		return m
	}()
)

func set(codes ...string) map[string]struct{} {
	m := make(map[string]struct{}, len(codes))
	for _, c := range codes {
		m[c] = struct{}{}
	}
	return m
}

// Classify turns an SDK error into a CallError. op is the IAM-policy action
// ("iam:GetRole"), resource the ARN or name the call was about. It returns nil
// for a nil error.
func Classify(op, resource string, err error) *facts.CallError {
	if err == nil {
		return nil
	}
	ce := &facts.CallError{Op: op, Resource: resource}

	// Credential resolution failures come first: a web-identity or SSO
	// provider can fail with an STS APIError (e.g. AccessDenied) that would
	// otherwise be misreported as missing permission for op itself.
	if isCredentialRetrievalError(err) {
		ce.Code = facts.ErrNoCredentials
		ce.Message = "no usable AWS credentials found: " + oneLine(credentialCause(err))
		return ce
	}

	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		code := apiErr.ErrorCode()
		ce.APICode = code
		msg := apiErr.ErrorMessage()
		if msg == "" || msg == code {
			msg = code
		}
		msg = oneLine(msg)
		switch {
		case has(notFoundCodes, code):
			ce.Code = facts.ErrNotFound
		case has(accessDeniedCodes, code):
			ce.Code = facts.ErrAccessDenied
		case has(throttleCodes, code):
			ce.Code = facts.ErrThrottled
			var maxErr *retry.MaxAttemptsError
			if errors.As(err, &maxErr) {
				msg = fmt.Sprintf("%s (gave up after %d attempts)", msg, maxErr.Attempt)
			}
		case has(credentialCodes, code):
			ce.Code = facts.ErrNoCredentials
			msg = "AWS rejected the credentials: " + msg
		default:
			ce.Code = facts.ErrOther
		}
		ce.Message = msg
		return ce
	}

	if errors.Is(err, context.DeadlineExceeded) {
		ce.Code = facts.ErrTimeout
		ce.Message = "timed out waiting for AWS (context deadline exceeded)"
		return ce
	}
	var netErr net.Error
	if errors.As(err, &netErr) && netErr.Timeout() {
		ce.Code = facts.ErrTimeout
		ce.Message = "timed out waiting for AWS: " + oneLine(innerMessage(err))
		return ce
	}
	if errors.Is(err, context.Canceled) {
		ce.Code = facts.ErrOther
		ce.Message = "canceled before AWS answered"
		return ce
	}
	ce.Code = facts.ErrOther
	ce.Message = oneLine(innerMessage(err))
	return ce
}

func has(m map[string]struct{}, k string) bool {
	_, ok := m[k]
	return ok
}

// The SDK has no typed "no credentials" error: when every provider in the
// default chain fails, the last one (EC2 IMDS) reports why, wrapped as
// "get identity: failed to refresh cached credentials, ...". These markers are
// the SDK's own wrapping strings (service/*/auth.go getIdentityMiddleware,
// internal/auth/smithy/credentials_adapter.go, aws/credential_cache.go);
// v4.SigningError covers the legacy signer path.
const (
	getIdentityPrefix    = "get identity: "
	getCredentialsPrefix = "get credentials: "
	credentialCacheText  = "failed to refresh cached credentials"
)

func isCredentialRetrievalError(err error) bool {
	var signErr *v4.SigningError
	if errors.As(err, &signErr) {
		return true
	}
	s := err.Error()
	return strings.Contains(s, getIdentityPrefix) || strings.Contains(s, credentialCacheText)
}

// credentialCause keeps the part that says why the chain failed (e.g. "no EC2
// IMDS role found, ..."), without the SDK's wrapping prefixes.
func credentialCause(err error) string {
	s := innerMessage(err)
	if i := strings.Index(s, getIdentityPrefix); i >= 0 {
		s = s[i+len(getIdentityPrefix):]
	}
	s = strings.TrimPrefix(s, getCredentialsPrefix)
	s = strings.TrimPrefix(s, credentialCacheText+", ")
	return s
}

// innerMessage drops smithy's "operation error IAM: GetRole, " prefix: the Op
// field already says which call failed.
func innerMessage(err error) string {
	var opErr *smithy.OperationError
	if errors.As(err, &opErr) && opErr.Err != nil {
		return opErr.Err.Error()
	}
	return err.Error()
}

// Defence in depth: none of the SDK errors seen carry secrets, but a message
// that ends up in a report must never leak an access key, a session token or a
// signature, whatever a future SDK or proxy puts in it.
var (
	accessKeyRE  = regexp.MustCompile(`\b(AKIA|ASIA)[A-Z0-9]{12,}\b`)
	secretKVRE   = regexp.MustCompile(`(?i)(X-Amz-Security-Token|X-Amz-Signature|X-Amz-Credential|Signature|Credential|aws_secret_access_key|aws_session_token|SessionToken|SecretAccessKey)\s*[=:]\s*[^\s,&"']+`)
	authHeaderRE = regexp.MustCompile(`(?i)Authorization:?\s*AWS4-HMAC-SHA256[^\n]*`)
)

const maxMessageLen = 400

// oneLine makes msg a single, credential-free line of bounded length.
func oneLine(msg string) string {
	msg = authHeaderRE.ReplaceAllString(msg, "Authorization: [redacted]")
	msg = secretKVRE.ReplaceAllString(msg, "$1=[redacted]")
	msg = accessKeyRE.ReplaceAllString(msg, "[redacted]")
	msg = strings.Join(strings.Fields(msg), " ")
	if len(msg) > maxMessageLen {
		cut := maxMessageLen
		// Do not split a UTF-8 sequence.
		for cut > 0 && msg[cut]&0xC0 == 0x80 {
			cut--
		}
		msg = msg[:cut] + "…"
	}
	return msg
}
