package kube

import (
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/kubernetes"

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
