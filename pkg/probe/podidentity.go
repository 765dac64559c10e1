package probe

import (
	"context"
	"errors"
	"fmt"
)

// PodIdentityAudience is the audience the webhook projects for Pod Identity
// and the one EKS Auth accepts (docs/behaviour.md#pod-identity-injection).
const PodIdentityAudience = "pods.eks.amazonaws.com"

// PodIdentityAPI is the one EKS Auth call the Pod Identity probe makes: what
// the eks-pod-identity-agent does for a pod with the node's credentials
// (docs/behaviour.md#pod-identity-flow). An implementation returns no
// credential: it throws them away before answering.
type PodIdentityAPI interface {
	AssumeRoleForPodIdentity(ctx context.Context, cluster, token string) (PodIdentityAnswer, error)
}

// PodIdentityAnswer is EKS Auth's answer without the credentials.
type PodIdentityAnswer struct {
	AssumedRoleARN string
	AssociationID  string
	// SessionTags are the session tags EKS Auth reports for the session.
	SessionTags map[string]string
}

// PodIdentityInput is one Pod Identity subject to probe.
type PodIdentityInput struct {
	Cluster                   string
	Namespace, ServiceAccount string
	Pod                       *BoundPod
}

// PodIdentityResult is what the probe learned; it holds no token and no
// credential.
type PodIdentityResult struct {
	// TokenErr is the TokenRequest failure, if any; nothing else ran then.
	TokenErr error
	Claims   Claims
	Answer   PodIdentityAnswer
	// Code and Message are EKS Auth's error; Err a transport failure or a
	// missing client.
	Code, Message string
	Err           string
}

// apiError is how AWS errors describe themselves (smithy.APIError's
// accessors), so that any client's typed error can be read.
type apiError interface {
	error
	ErrorCode() string
	ErrorMessage() string
}

// RunPodIdentity mints a token with the Pod Identity audience bound to the
// pod, as the kubelet projects it, and presents it to EKS Auth. The raw token
// lives only in this function's frame; only its decoded claims are kept.
func RunPodIdentity(ctx context.Context, in PodIdentityInput, minter TokenMinter, client PodIdentityAPI) PodIdentityResult {
	raw, err := minter.MintToken(ctx, in.Namespace, in.ServiceAccount, PodIdentityAudience, TokenSeconds, in.Pod)
	if err != nil {
		return PodIdentityResult{TokenErr: fmt.Errorf("minting a token for %s/%s: %w", in.Namespace, in.ServiceAccount, err)}
	}
	var res PodIdentityResult
	if t, err := parseToken(raw); err == nil {
		res.Claims = t.claims
	}
	if client == nil {
		res.Err = "no EKS Auth client"
		return res
	}
	answer, err := client.AssumeRoleForPodIdentity(ctx, in.Cluster, raw)
	var ae apiError
	switch {
	case err == nil:
		res.Answer = answer
	case errors.As(err, &ae):
		res.Code, res.Message = ae.ErrorCode(), oneLine(ae.ErrorMessage())
	default:
		res.Err = oneLine(err.Error())
	}
	return res
}
