package kube

import (
	"context"
	"fmt"
	"testing"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"

	"github.com/kubectl-irsa/kubectl-irsa/test/fakekube"
	"github.com/kubectl-irsa/kubectl-irsa/test/testutil"
)

func clientFor(t *testing.T, srv *fakekube.Server) kubernetes.Interface {
	t.Helper()
	c, err := kubernetes.NewForConfig(srv.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestCollectPagesLargeLists proves LISTs follow continue tokens, so a large
// cluster is read in pages and nothing is lost between them.
func TestCollectPagesLargeLists(t *testing.T) {
	t.Parallel()
	objs := []runtime.Object{testutil.Namespace("shop", nil), testutil.NewSA("shop", "app").RoleARN(testutil.RoleARN).Build()}
	for i := 0; i < 7; i++ {
		objs = append(objs, testutil.NewPod("shop", fmt.Sprintf("web-%d", i), "app").Mutate(testutil.RoleARN, "sts.amazonaws.com").Build())
	}
	srv := fakekube.New(t, objs...)
	c := &Collector{Client: clientFor(t, srv), ChunkSize: 3}
	snap, err := c.Collect(context.Background(), Scope{Namespace: "shop"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.Subjects) != 1 || len(snap.Subjects[0].Pods) != 7 {
		t.Fatalf("subjects %d, pods %d; want 1 subject with 7 pods", len(snap.Subjects), len(snap.Subjects[0].Pods))
	}
	if n := srv.Count("list", "pods"); n != 3 {
		t.Errorf("pod list pages: %d, want 3 (7 pods, 3 a page)", n)
	}
	if n := srv.Count("get", "pods"); n != 0 {
		t.Errorf("per-pod GETs: %d, want 0", n)
	}
}

func TestCollectOwnersThroughReplicaSetsAndJobs(t *testing.T) {
	t.Parallel()
	d, rs := testutil.Deployment("shop", "web", "app")
	cj, job := testutil.CronJob("shop", "report", "app")
	srv := fakekube.New(t, testutil.Namespace("shop", nil), testutil.NewSA("shop", "app").RoleARN(testutil.RoleARN).Build(), d, rs, cj, job,
		testutil.NewPod("shop", "web-1", "app").OwnedBy("ReplicaSet", "web-rs").Build(),
		testutil.NewPod("shop", "report-1-a", "app").OwnedBy("Job", "report-1").Build(),
		testutil.NewPod("shop", "bare", "app").Build())
	c := &Collector{Client: clientFor(t, srv)}
	snap, err := c.Collect(context.Background(), Scope{Namespace: "shop"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, p := range snap.Subjects[0].Pods {
		got[p.Pod.Name] = p.Owner.Kind + "/" + p.Owner.Name
	}
	want := map[string]string{"web-1": "Deployment/web", "report-1-a": "CronJob/report", "bare": "/"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("owner of %s = %q, want %q", k, got[k], v)
		}
	}
}
