package kube

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"flag"
	"os"
	"reflect"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/klog/v2"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/facts"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/probe"
	"github.com/kubectl-irsa/kubectl-irsa/test/fakekube"
	"github.com/kubectl-irsa/kubectl-irsa/test/testutil"
)

// klogAtV10 raises klog to -v=10, where client-go logs every request with its
// bodies (k8s.io/client-go/rest/request.go, logBody), and captures what it
// writes until the test ends. klog's state is global: callers must not run in
// parallel with other tests.
func klogAtV10(t *testing.T) *testutil.SyncBuffer {
	t.Helper()
	fs := flag.NewFlagSet("klog", flag.ContinueOnError)
	klog.InitFlags(fs)
	out := &testutil.SyncBuffer{}
	for k, v := range map[string]string{"v": "10", "logtostderr": "false", "one_output": "true"} {
		if err := fs.Set(k, v); err != nil {
			t.Fatal(err)
		}
	}
	klog.SetOutput(out)
	t.Cleanup(func() {
		klog.Flush()
		for k, v := range map[string]string{"v": "0", "logtostderr": "true", "one_output": "false"} {
			_ = fs.Set(k, v)
		}
		klog.SetOutput(os.Stderr)
	})
	return out
}

// TestSecretsAndTokensNeverLogged: the two reads whose answers hold secrets,
// a Secret used through envFrom (read for its keys) and a TokenRequest (a
// live token), must not reach client-go's body logging at any verbosity, and
// still classify their errors as before: not found is Missing, forbidden a
// ReadError with Forbidden. Not parallel: it sets klog's global verbosity.
func TestSecretsAndTokensNeverLogged(t *testing.T) {
	const secretValue = "unit-verbose-secret-value"
	logs := klogAtV10(t)
	pod := testutil.NewPod("shop", "web", "app").Mutate(testutil.RoleARN, "sts.amazonaws.com").
		EnvFromSecret("app", "aws-keys", "").EnvFromSecret("app", "gone", "").Container("sidecar").EnvFromSecret("sidecar", "aws-keys", "").Build()
	other := testutil.NewPod("vault", "web", "app").Mutate(testutil.RoleARN, "sts.amazonaws.com").EnvFromSecret("app", "aws-keys", "").Build()
	srv := fakekube.New(t, testutil.Namespace("shop", nil), testutil.Namespace("vault", nil),
		testutil.NewSA("shop", "app").RoleARN(testutil.RoleARN).Build(), testutil.NewSA("vault", "app").RoleARN(testutil.RoleARN).Build(), pod, other,
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "aws-keys"},
			Data: map[string][]byte{"AWS_ACCESS_KEY_ID": []byte("AKIAUNITVERBOSEKEYID"), "AWS_SECRET_ACCESS_KEY": []byte(secretValue)}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "vault", Name: "aws-keys"},
			Data: map[string][]byte{"AWS_SECRET_ACCESS_KEY": []byte(secretValue)}})
	srv.Forbid("get", "secrets", "vault")
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	srv.SetIssuer("https://issuer.example")
	srv.SetTokenSigner(key, "kid-1")
	client := clientFor(t, srv)
	ctx := context.Background()

	snap, err := (&Collector{Client: client}).Collect(ctx, Scope{Namespace: "shop"}, []Target{{Kind: "ServiceAccount", Namespace: "vault", Name: "app"}})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]facts.EnvSource{}
	for _, s := range snap.Subjects {
		for _, pf := range s.Pods {
			for id, src := range pf.EnvSources {
				got[pf.Pod.Namespace+"/"+id] = src
			}
		}
	}
	want := map[string]facts.EnvSource{
		"shop/Secret/aws-keys": {Kind: "Secret", Name: "aws-keys", Keys: []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}},
		"shop/Secret/gone":     {Kind: "Secret", Name: "gone", Missing: true},
		"vault/Secret/aws-keys": {Kind: "Secret", Name: "aws-keys", Err: &facts.ReadError{Verb: "get", Resource: "secrets", Namespace: "vault", Name: "aws-keys",
			Forbidden: true, Message: `secrets is forbidden: User "tester" cannot get resource "secrets" in API group "" in the namespace "vault"`}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("env sources:\n%+v\nwant\n%+v", got, want)
	}
	if n := srv.Count("get", "secrets"); n != 3 {
		t.Errorf("%d Secret GETs, want 3: one per distinct Secret", n)
	}

	minter := TokenMinter{Client: client}
	token, err := minter.MintToken(ctx, "shop", "app", "sts.amazonaws.com", 600, &probe.BoundPod{Name: "web", UID: "uid-1"})
	if err != nil || len(srv.Minted()) != 1 || token != srv.Minted()[0] {
		t.Fatalf("MintToken = %d characters, %v; the server minted %d", len(token), err, len(srv.Minted()))
	}
	srv.Forbid("create", "serviceaccounts/token", "vault")
	if _, err := minter.MintToken(ctx, "vault", "app", "sts.amazonaws.com", 600, nil); !apierrors.IsForbidden(err) {
		t.Errorf("MintToken without RBAC: %v, want a Forbidden StatusError", err)
	}
	if _, err := minter.MintToken(ctx, "shop", "nobody", "sts.amazonaws.com", 600, nil); !apierrors.IsNotFound(err) {
		t.Errorf("MintToken for a missing service account: %v, want a NotFound StatusError", err)
	}

	klog.Flush()
	log := logs.String()
	for _, p := range []string{"/api/v1/namespaces/shop/secrets/aws-keys", "/api/v1/namespaces/shop/serviceaccounts/app/token"} {
		if !strings.Contains(log, p) {
			t.Errorf("the -v=10 log does not show the request to %s: is klog capturing?", p)
		}
	}
	for what, s := range map[string]string{
		"the Secret's value":           secretValue,
		"the Secret's value in base64": base64.StdEncoding.EncodeToString([]byte(secretValue)),
		"the minted token":             token,
		"a token's header":             "eyJ",
	} {
		if strings.Contains(log, s) {
			t.Errorf("the -v=10 log holds %s", what)
		}
	}
}
