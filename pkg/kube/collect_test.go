package kube

import (
	"context"
	"fmt"
	"testing"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
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

// webhookConfigMap is the ConfigMap of a webhook run with
// --watch-config-map, in the webhook's JSON shape.
func webhookConfigMap(ns, config string) *corev1.ConfigMap {
	return &corev1.ConfigMap{TypeMeta: metav1.TypeMeta{Kind: "ConfigMap", APIVersion: "v1"},
		ObjectMeta: metav1.ObjectMeta{Name: "pod-identity-webhook", Namespace: ns}, Data: map[string]string{"config": config}}
}

// The ConfigMap's service accounts are IRSA subjects with its role, found
// with one GET where the registration's service lives, or one LIST when it
// is registered by URL; a refused read is kept as a fact.
func TestCollectWebhookConfigMap(t *testing.T) {
	t.Parallel()
	config := `{"shop/worker": {"RoleARN": "` + testutil.RoleARN + `", "Audience": "sts.amazonaws.com"}, "*/batch": {"RoleARN": "arn:aws:iam::111122223333:role/batch"}}`
	byService := testutil.Webhook()
	byService.Webhooks[0].ClientConfig.Service = &admissionregistrationv1.ServiceReference{Namespace: "irsa-system", Name: "pod-identity-webhook"}
	for name, tc := range map[string]struct {
		webhook *admissionregistrationv1.MutatingWebhookConfiguration
		forbid  [3]string
		verb    string
	}{
		"registered by service: one GET": {webhook: byService, verb: "get"},
		"registered by URL: one LIST":    {webhook: testutil.Webhook(), verb: "list"},
		"forbidden":                      {webhook: testutil.Webhook(), forbid: [3]string{"list", "configmaps", ""}, verb: "list"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv := fakekube.New(t, testutil.Namespace("shop", nil), tc.webhook, webhookConfigMap("irsa-system", config),
				testutil.NewSA("shop", "worker").Build(), testutil.NewSA("shop", "batch").Build(), testutil.NewSA("shop", "plain").Build(),
				testutil.NewPod("shop", "worker-1", "worker").Build())
			if tc.forbid[0] != "" {
				srv.Forbid(tc.forbid[0], tc.forbid[1], tc.forbid[2])
			}
			snap, err := (&Collector{Client: clientFor(t, srv)}).Collect(context.Background(), Scope{Namespace: "shop"}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if n := srv.Count(tc.verb, "configmaps"); n != 1 {
				t.Errorf("%s configmaps: %d requests, want 1", tc.verb, n)
			}
			cm := snap.WebhookConfigMap
			if tc.forbid[0] != "" {
				if cm == nil || cm.Err == nil || !cm.Err.Forbidden || len(snap.Subjects) != 0 {
					t.Errorf("forbidden: %+v, subjects %d", cm, len(snap.Subjects))
				}
				return
			}
			if cm == nil || cm.Namespace != "irsa-system" || len(cm.Entries) != 2 {
				t.Fatalf("WebhookConfigMap = %+v", cm)
			}
			var got []string
			for _, s := range snap.Subjects {
				if s.WebhookConfig == nil {
					t.Errorf("subject %s has no ConfigMap entry", s.ServiceAccountName)
					continue
				}
				got = append(got, s.ServiceAccountName+"="+s.WebhookConfig.Key+" "+s.WebhookConfig.RoleARN)
			}
			want := []string{"batch=*/batch arn:aws:iam::111122223333:role/batch", "worker=shop/worker " + testutil.RoleARN}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("subjects %v, want %v", got, want)
			}
		})
	}
}

func TestParseWebhookConfigMap(t *testing.T) {
	t.Parallel()
	if cm := parseWebhookConfigMap(webhookConfigMap("x", `{not json`)); cm.ParseError == "" || cm.Entries != nil {
		t.Errorf("bad JSON: %+v", cm)
	}
	cm := parseWebhookConfigMap(webhookConfigMap("x", `{"a/b": {"rolearn": "arn:aws:iam::111122223333:role/r", "useRegionalSTS": true, "tokenExpiration": 3600}}`))
	if e, ok := cm.Lookup("a", "b"); !ok || e.RoleARN != "arn:aws:iam::111122223333:role/r" || !e.UseRegionalSTS || e.TokenExpiration != 3600 || e.Key != "a/b" {
		t.Errorf("Lookup(a, b) = %+v, %v", e, ok)
	}
	if _, ok := cm.Lookup("c", "b"); ok {
		t.Error("an entry of namespace a matched namespace c")
	}
}
