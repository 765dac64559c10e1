package kube

import (
	"context"
	"encoding/json"
	"fmt"

	"k8s.io/client-go/rest"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/awsarn"
)

// ClusterHint is what a kubeconfig context says about its EKS cluster.
type ClusterHint struct {
	Name   string
	Region string
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
			return ClusterHint{Name: a.Name, Region: a.Region, Source: "kubeconfig cluster ARN " + candidate}
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
// document, the same document STS fetches (REFERENCE.md §2.2 step 3).
func DiscoverIssuer(ctx context.Context, c rest.Interface) (string, error) {
	raw, err := c.Get().AbsPath("/.well-known/openid-configuration").DoRaw(ctx)
	if err != nil {
		return "", fmt.Errorf("reading /.well-known/openid-configuration: %s", oneLine(err))
	}
	var doc struct {
		Issuer string `json:"issuer"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil || doc.Issuer == "" {
		return "", fmt.Errorf("the API server's discovery document has no issuer")
	}
	return doc.Issuer, nil
}
