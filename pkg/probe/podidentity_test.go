package probe

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// minterFunc mints with a function, recording the audience and pod asked for.
type minterFunc func(ns, sa, aud string, pod *BoundPod) (string, error)

func (f minterFunc) MintToken(_ context.Context, ns, sa, aud string, _ int64, pod *BoundPod) (string, error) {
	return f(ns, sa, aud, pod)
}

type eksAuthFunc func(cluster, token string) (PodIdentityAnswer, error)

func (f eksAuthFunc) AssumeRoleForPodIdentity(_ context.Context, cluster, token string) (PodIdentityAnswer, error) {
	return f(cluster, token)
}

type codedError struct{ code, msg string }

func (e codedError) Error() string        { return e.code + ": " + e.msg }
func (e codedError) ErrorCode() string    { return e.code }
func (e codedError) ErrorMessage() string { return e.msg }

func TestRunPodIdentity(t *testing.T) {
	t.Parallel()
	var minted string
	minter := minterFunc(func(_, _, aud string, pod *BoundPod) (string, error) {
		if aud != PodIdentityAudience || pod == nil || pod.Name != "web" {
			return "", errors.New("unexpected request: audience " + aud)
		}
		c := claimsFor("https://oidc.example", time.Now().Add(10*time.Minute))
		c["aud"] = []string{aud}
		minted = sign(t, testKey, "k1", c)
		return minted, nil
	})
	in := PodIdentityInput{Cluster: "prod", Namespace: "shop", ServiceAccount: "app", Pod: &BoundPod{Name: "web", UID: "u1"}}

	ok := RunPodIdentity(context.Background(), in, minter, eksAuthFunc(func(cluster, token string) (PodIdentityAnswer, error) {
		if cluster != "prod" || token != minted {
			t.Errorf("EKS Auth got cluster %q and another token than the minted one", cluster)
		}
		return PodIdentityAnswer{AssumedRoleARN: "arn:aws:sts::111122223333:assumed-role/app/eks-prod-web", SessionTags: map[string]string{"kubernetes-namespace": "shop"}}, nil
	}))
	if ok.Answer.AssumedRoleARN == "" || ok.Claims.Subject != "system:serviceaccount:shop:app" || ok.Claims.Audience[0] != PodIdentityAudience || ok.Code != "" || ok.Err != "" {
		t.Errorf("healthy probe: %+v", ok)
	}

	denied := RunPodIdentity(context.Background(), in, minter, eksAuthFunc(func(string, string) (PodIdentityAnswer, error) {
		return PodIdentityAnswer{}, codedError{"ResourceNotFoundException", "No Pod Identity Association found\n for the service account"}
	}))
	if denied.Code != "ResourceNotFoundException" || strings.Contains(denied.Message, "\n") {
		t.Errorf("refused probe: %+v", denied)
	}

	broken := RunPodIdentity(context.Background(), in, minter, eksAuthFunc(func(string, string) (PodIdentityAnswer, error) {
		return PodIdentityAnswer{}, errors.New("dial tcp 127.0.0.1:1: connection refused")
	}))
	if broken.Err == "" || broken.Code != "" {
		t.Errorf("unreachable EKS Auth: %+v", broken)
	}

	noToken := RunPodIdentity(context.Background(), in, minterFunc(func(string, string, string, *BoundPod) (string, error) {
		return "", errors.New("forbidden")
	}), nil)
	if noToken.TokenErr == nil || !strings.Contains(noToken.TokenErr.Error(), "shop/app") {
		t.Errorf("token refused: %+v", noToken)
	}
}
