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

// TestCollectAllNamespacesListsNamespacesOnce: with -A the namespaces of the
// subjects are one LIST, not a GET each, so requests do not grow with the
// number of namespaces; a refused LIST falls back to GETs. Progress sees
// every page of every LIST.
func TestCollectAllNamespacesListsNamespacesOnce(t *testing.T) {
	t.Parallel()
	var objs []runtime.Object
	for i := range 5 {
		ns := fmt.Sprintf("team-%d", i)
		objs = append(objs, testutil.Namespace(ns, map[string]string{"team": ns}), testutil.NewSA(ns, "app").RoleARN(testutil.RoleARN).Build(),
			testutil.NewPod(ns, "web", "app").Mutate(testutil.RoleARN, "sts.amazonaws.com").Build())
	}
	objs = append(objs, testutil.Namespace("quiet", nil))
	for _, forbid := range []bool{false, true} {
		srv := fakekube.New(t, objs...)
		if forbid {
			srv.Forbid("list", "namespaces", "")
		}
		listed := map[string]int{}
		c := &Collector{Client: clientFor(t, srv), ChunkSize: 2, Progress: func(resource, ns string, n int) {
			if ns != "" {
				t.Errorf("progress for %s in namespace %q with -A", resource, ns)
			}
			listed[resource] = n
		}}
		snap, err := c.Collect(context.Background(), Scope{AllNamespaces: true}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(snap.Namespaces) != 5 || len(snap.NamespaceErrs) != 0 || snap.Namespaces["team-3"].Labels["team"] != "team-3" {
			t.Errorf("forbid=%v: namespaces %d, errors %v", forbid, len(snap.Namespaces), snap.NamespaceErrs)
		}
		gets, lists := srv.Count("get", "namespaces"), srv.Count("list", "namespaces")
		if !forbid && (gets != 0 || lists != 3) {
			t.Errorf("namespaces: %d GETs and %d LIST pages, want 0 and 3 (6 namespaces, 2 a page)", gets, lists)
		}
		if forbid && gets != 5 {
			t.Errorf("LIST refused: %d GETs, want one per subject namespace (5)", gets)
		}
		if listed["pods"] != 5 || listed["serviceaccounts"] != 5 || (!forbid && listed["namespaces"] != 6) {
			t.Errorf("forbid=%v: progress saw %v", forbid, listed)
		}
	}
}

// The annotated service accounts of the listed namespace are kept, by name,
// from the same LIST: no extra request.
func TestCollectIndexesAnnotatedServiceAccounts(t *testing.T) {
	t.Parallel()
	srv := fakekube.New(t, testutil.Namespace("shop", nil),
		testutil.NewSA("shop", "web").Build(), testutil.NewSA("shop", "web-sa").RoleARN(testutil.RoleARN).Build(),
		testutil.NewSA("shop", "blank").Annotate("eks.amazonaws.com/role-arn", " ").Build(),
		testutil.NewPod("shop", "web-1", "web").Build())
	c := &Collector{Client: clientFor(t, srv)}
	snap, err := c.Collect(context.Background(), Scope{Namespace: "shop"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := snap.RoleServiceAccounts; len(got) != 1 || len(got["shop"]) != 1 || got["shop"]["web-sa"] != testutil.RoleARN {
		t.Errorf("RoleServiceAccounts = %v, want shop/web-sa only", got)
	}
	if n := srv.Count("list", "serviceaccounts"); n != 1 {
		t.Errorf("serviceaccount lists: %d, want 1", n)
	}
}
