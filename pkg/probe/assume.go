package probe

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	smithy "github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// STSAPI is the one STS call the probe makes.
type STSAPI interface {
	AssumeRoleWithWebIdentity(ctx context.Context, in *sts.AssumeRoleWithWebIdentityInput, optFns ...func(*sts.Options)) (*sts.AssumeRoleWithWebIdentityOutput, error)
}

// AssumeResult is what STS answered, without the credentials.
type AssumeResult struct {
	AssumedRoleARN string `json:"assumedRoleARN,omitempty"`
	Code           string `json:"code,omitempty"`
	Message        string `json:"message,omitempty"`
	HTTPStatus     int    `json:"httpStatus,omitempty"`
	// Err is set when STS could not be reached at all.
	Err string `json:"error,omitempty"`
}

// Assume calls sts:AssumeRoleWithWebIdentity as a pod's SDK does (the SDK's
// retries included: throttling and IDPCommunicationError are retried, as in
// the pod), for the shortest session STS allows, and throws the credentials
// away at once.
func Assume(ctx context.Context, client STSAPI, roleARN, rawToken string) AssumeResult {
	out, err := client.AssumeRoleWithWebIdentity(ctx, &sts.AssumeRoleWithWebIdentityInput{
		RoleArn:          aws.String(roleARN),
		RoleSessionName:  aws.String(fmt.Sprintf("kubectl-irsa-probe-%d", time.Now().Unix())),
		WebIdentityToken: aws.String(rawToken),
		DurationSeconds:  aws.Int32(900),
	})
	if err == nil {
		res := AssumeResult{}
		if out.AssumedRoleUser != nil {
			res.AssumedRoleARN = aws.ToString(out.AssumedRoleUser.Arn)
		}
		out.Credentials = nil // never kept, never printed
		return res
	}
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		res := AssumeResult{Code: apiErr.ErrorCode(), Message: oneLine(apiErr.ErrorMessage())}
		var re *smithyhttp.ResponseError
		if errors.As(err, &re) {
			res.HTTPStatus = re.HTTPStatusCode()
		}
		return res
	}
	return AssumeResult{Err: oneLine(err.Error())}
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
