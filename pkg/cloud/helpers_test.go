package cloud_test

import (
	"context"
	"testing"
	"time"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/cloud"
	"github.com/kubectl-irsa/kubectl-irsa/test/fakeaws"
)

const (
	acct     = fakeaws.DefaultAccount
	roleARN  = "arn:aws:iam::123456789012:role/team/app"
	provURL  = "oidc.eks.us-west-2.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"
	provARN  = "arn:aws:iam::123456789012:oidc-provider/" + provURL
	issuer   = "https://" + provURL
	thumb    = "9e99a48a9960b14926bb7f3b02e22da2b0ab7280"
	clusterA = "arn:aws:eks:us-west-2:123456789012:cluster/prod"
)

// newEnv starts a fake and a collector built by the production constructor.
func newEnv(t *testing.T, concurrency int) (*fakeaws.Server, *cloud.Collector) {
	t.Helper()
	fake := fakeaws.New()
	return fake, cloud.NewCollector(fakeaws.Start(t, fake), cloud.CollectorOptions{Concurrency: concurrency})
}

func ctxT(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}
