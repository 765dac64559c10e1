package plugin

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/cloud"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/thumbprint"
	"github.com/kubectl-irsa/kubectl-irsa/test/fakeaws"
	"github.com/kubectl-irsa/kubectl-irsa/test/fakekube"
)

const (
	worldIssuer   = "https://oidc.eks.us-west-2.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"
	worldHost     = "oidc.eks.us-west-2.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"
	worldAccount  = "111122223333"
	worldProvider = "arn:aws:iam::111122223333:oidc-provider/" + worldHost
)

// newWorld starts the fake API server with world() and its OIDC issuer.
func newWorld(t *testing.T) *fakekube.Server {
	t.Helper()
	srv := fakekube.New(t, world()...)
	srv.SetIssuer(worldIssuer)
	return srv
}

// trustFor is the trust policy statement IRSA documentation recommends.
func trustFor(provider, host, sub string) string {
	return fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":%q},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{%q:%q,%q:"sts.amazonaws.com"}}}]}`,
		provider, host+":sub", sub, host+":aud")
}

// awsWorld is the healthy AWS side of world(): the provider, and the roles
// of shop/app and shop/legacy (one with a path), each with a policy.
func awsWorld() *fakeaws.Server {
	a := fakeaws.New()
	a.SetCaller(fakeaws.Caller{Account: worldAccount, ARN: "arn:aws:iam::111122223333:user/operator"})
	a.AddProvider(fakeaws.Provider{ARN: worldProvider, URL: worldHost, ClientIDs: []string{"sts.amazonaws.com"}, Thumbprints: []string{"9e99a48a9960b14926bb7f3b02e22da2b0ab7280"}})
	a.AddRole(fakeaws.Role{ARN: "arn:aws:iam::111122223333:role/app", TrustPolicy: trustFor(worldProvider, worldHost, "system:serviceaccount:shop:app"),
		AttachedPolicyARNs: []string{"arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"}})
	a.AddRole(fakeaws.Role{ARN: "arn:aws:iam::111122223333:role/team/legacy", TrustPolicy: trustFor(worldProvider, worldHost, "system:serviceaccount:shop:legacy"),
		InlinePolicyNames: []string{"read-bucket"}})
	return a
}

// fakeAWS serves an AWS fake for the test and returns the collector seam
// that points real SDK clients at it.
func fakeAWS(t *testing.T, a *fakeaws.Server) Deps {
	t.Helper()
	cfg := fakeaws.Start(t, a)
	return Deps{Inspect: publicChain, NewAWSCollector: func(_ context.Context, _ []string) (*cloud.Collector, error) {
		return cloud.NewCollector(cfg, cloud.CollectorOptions{}), nil
	}}
}

// worldThumbprint is what the world's issuer serves as its last certificate.
const worldThumbprint = "9e99a48a9960b14926bb7f3b02e22da2b0ab7280"

// publicChain stands in for reading the world issuer's TLS chain: tests never
// dial a public host. It reports what an EKS issuer serves: a publicly
// trusted chain.
func publicChain(_ context.Context, issuer string) (thumbprint.Report, error) {
	host := thumbprint.HostChain{Role: thumbprint.RoleJWKS, URL: issuer + "/keys", Host: strings.SplitN(strings.TrimPrefix(issuer, "https://"), "/", 2)[0], Port: "443",
		Certs: []thumbprint.CertInfo{{Depth: 0, Subject: "CN=oidc.eks.us-west-2.amazonaws.com", SHA1: "0000000000000000000000000000000000000001"},
			{Depth: 1, Subject: "CN=Amazon Root CA 1", SHA1: worldThumbprint, IsCA: true}},
		Thumbprint: worldThumbprint, Verified: true}
	return thumbprint.Report{Issuer: issuer, Hosts: []thumbprint.HostChain{host}, Thumbprint: worldThumbprint}, nil
}

// runAWS runs the command line with a Kubernetes and an AWS fake.
func runAWS(t *testing.T, kube *fakekube.Server, deps Deps, args ...string) result {
	t.Helper()
	streams, _, out, errOut := genericiooptionsTestStreams()
	full := append([]string{"--kubeconfig", kube.Kubeconfig(t, "shop"), "--cache-dir", t.TempDir()}, args...)
	code := execute(context.Background(), streams, full, deps)
	return result{code: code, stdout: out.String(), stderr: errOut.String()}
}
