package kube

import (
	"context"
	"encoding/json"
	"fmt"

	authenticationv1 "k8s.io/api/authentication/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/awsarn"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/probe"
)

// ClusterHint is what a kubeconfig context says about its EKS cluster.
type ClusterHint struct {
	Name   string
	Region string
	// Account is the cluster's account, when the context names its ARN.
	Account string
	// Source says where it was read, for messages.
	Source string
}

// HintFromKubeconfig reads the EKS cluster name and region of a context: the
// cluster ARN that `aws eks update-kubeconfig` uses as the cluster (or
// context) name, else the exec arguments of `aws eks get-token --cluster-name
// X --region Y` or `aws-iam-authenticator token -i X`.
func HintFromKubeconfig(cfg clientcmdapi.Config, contextName string) ClusterHint {
	if contextName == "" {
		contextName = cfg.CurrentContext
	}
	ctx, ok := cfg.Contexts[contextName]
	if !ok {
		return ClusterHint{}
	}
	for _, candidate := range []string{ctx.Cluster, contextName} {
		if a, ok := awsarn.ParseEKSClusterARN(candidate); ok {
			return ClusterHint{Name: a.Name, Region: a.Region, Account: a.Account, Source: "kubeconfig cluster ARN " + candidate}
		}
	}
	user, ok := cfg.AuthInfos[ctx.AuthInfo]
	if !ok || user.Exec == nil {
		return ClusterHint{}
	}
	args := user.Exec.Args
	value := func(flags ...string) string {
		for i, a := range args {
			for _, f := range flags {
				if a == f && i+1 < len(args) {
					return args[i+1]
				}
				if len(a) > len(f)+1 && a[:len(f)+1] == f+"=" {
					return a[len(f)+1:]
				}
			}
		}
		return ""
	}
	h := ClusterHint{Name: value("--cluster-name", "--cluster-id", "-i"), Region: value("--region")}
	if h.Region == "" {
		for _, e := range user.Exec.Env {
			if e.Name == "AWS_REGION" || (e.Name == "AWS_DEFAULT_REGION" && h.Region == "") {
				h.Region = e.Value
			}
		}
	}
	if h.Name != "" {
		h.Source = "kubeconfig exec " + user.Exec.Command
	}
	return h
}

// DiscoverIssuer reads the issuer from the API server's OIDC discovery
// document, the same document STS fetches (docs/behaviour.md#sts-validation-order step 3).
func DiscoverIssuer(ctx context.Context, c rest.Interface) (string, error) {
	raw, err := c.Get().AbsPath("/.well-known/openid-configuration").DoRaw(ctx)
	if err != nil {
		return "", fmt.Errorf("reading /.well-known/openid-configuration: %w", err)
	}
	var doc struct {
		Issuer string `json:"issuer"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil || doc.Issuer == "" {
		return "", fmt.Errorf("the API server's discovery document has no issuer")
	}
	return doc.Issuer, nil
}

// TokenMinter mints service-account tokens with the TokenRequest API.
type TokenMinter struct {
	Client kubernetes.Interface
}

// MintToken creates a token for the service account (create
// serviceaccounts/token), bound to the pod when one is given. The token is
// returned to the caller only: the answer bypasses client-go's body logging
// (getUnlogged), so no -v shows it.
func (m TokenMinter) MintToken(ctx context.Context, namespace, serviceAccount, audience string, seconds int64, pod *probe.BoundPod) (string, error) {
	req := &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{Audiences: []string{audience}, ExpirationSeconds: &seconds}}
	if pod != nil {
		req.Spec.BoundObjectRef = &authenticationv1.BoundObjectReference{Kind: "Pod", APIVersion: "v1", Name: pod.Name, UID: types.UID(pod.UID)}
	}
	// The request the typed client's CreateToken sends, with no options.
	post := m.Client.CoreV1().RESTClient().Post().Namespace(namespace).Resource("serviceaccounts").Name(serviceAccount).
		SubResource("token").Body(req)
	var out tokenRequestStatus
	if err := getUnlogged(ctx, post, "TokenRequest", &out); err != nil {
		return "", err
	}
	if out.Status.Token == "" {
		return "", fmt.Errorf("the API server's TokenRequest answer holds no token")
	}
	return out.Status.Token, nil
}
