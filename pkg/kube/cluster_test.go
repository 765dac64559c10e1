package kube

import (
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/kubernetes"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/kubectl-irsa/kubectl-irsa/test/fakekube"
)

// An API server without a discovery document: the error keeps client-go's
// status in its chain, so it can be told apart from a forbidden read.
func TestDiscoverIssuerWrapsTheAPIError(t *testing.T) {
	srv := fakekube.New(t)
	cs, err := kubernetes.NewForConfig(srv.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	_, err = DiscoverIssuer(t.Context(), cs.Discovery().RESTClient())
	if !apierrors.IsNotFound(err) {
		t.Fatalf("DiscoverIssuer error %v: want a NotFound API error in its chain", err)
	}
	srv.SetIssuer("https://issuer.example.internal")
	if iss, err := DiscoverIssuer(t.Context(), cs.Discovery().RESTClient()); err != nil || iss != "https://issuer.example.internal" {
		t.Fatalf("DiscoverIssuer = %q, %v", iss, err)
	}
}

// A context named by `aws eks update-kubeconfig` carries the cluster's ARN,
// and with it the cluster's account.
func TestHintFromKubeconfigClusterARN(t *testing.T) {
	arn := "arn:aws:eks:eu-west-1:444455556666:cluster/prod"
	cfg := clientcmdapi.Config{CurrentContext: arn, Contexts: map[string]*clientcmdapi.Context{arn: {Cluster: arn}}}
	if h := HintFromKubeconfig(cfg, ""); h.Name != "prod" || h.Region != "eu-west-1" || h.Account != "444455556666" {
		t.Errorf("HintFromKubeconfig = %+v", h)
	}
}
