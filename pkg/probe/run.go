package probe

import (
	"context"
	"fmt"
)

// TokenMinter creates a short-lived token for a service account with the
// TokenRequest API (pkg/kube implements it with a clientset).
type TokenMinter interface {
	MintToken(ctx context.Context, namespace, serviceAccount, audience string, seconds int64, pod *BoundPod) (string, error)
}

// BoundPod binds a minted token to a pod, as the kubelet's tokens are.
type BoundPod struct {
	Name string
	UID  string
}

// Input is one subject to probe.
type Input struct {
	Namespace, ServiceAccount string
	RoleARN                   string
	Audience                  string
	Pod                       *BoundPod
	// ProviderURL and ClientIDs come from the IAM OIDC provider ("" and nil
	// when it was not found; those steps are then not judged).
	ProviderURL string
	ClientIDs   []string
}

// Result is everything a probe learned; it holds no token and no credential.
type Result struct {
	// TokenErr is the TokenRequest failure, if any; nothing else ran then.
	TokenErr     error        `json:"-"`
	Verification Verification `json:"verification"`
	STS          AssumeResult `json:"sts"`
}

// TokenSeconds is the lifetime of a probe token: the API server's minimum.
const TokenSeconds = 600

// Run mints, verifies and presents one token. The raw token lives only in
// this function's frame.
func Run(ctx context.Context, in Input, minter TokenMinter, stsClient STSAPI, o VerifyOptions) Result {
	raw, err := minter.MintToken(ctx, in.Namespace, in.ServiceAccount, in.Audience, TokenSeconds, in.Pod)
	if err != nil {
		return Result{TokenErr: fmt.Errorf("minting a token for %s/%s: %w", in.Namespace, in.ServiceAccount, err)}
	}
	res := Result{Verification: Verify(ctx, raw, in.ProviderURL, in.ClientIDs, o)}
	if stsClient != nil {
		res.STS = Assume(ctx, stsClient, in.RoleARN, raw)
	}
	return res
}
