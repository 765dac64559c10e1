package kube

import (
	"context"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/facts"
	"github.com/kubectl-irsa/kubectl-irsa/test/fakekube"
	"github.com/kubectl-irsa/kubectl-irsa/test/testutil"
)

func agentDaemonSet(image string, desired, ready int32) *appsv1.DaemonSet {
	return &appsv1.DaemonSet{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "DaemonSet"},
		ObjectMeta: metav1.ObjectMeta{Namespace: facts.PodIdentityAgentNamespace, Name: facts.PodIdentityAgentName},
		Spec: appsv1.DaemonSetSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
			HostNetwork: true,
			Containers: []corev1.Container{{Name: facts.PodIdentityAgentName, Image: image,
				Command: []string{"/go-runner", "/eks-pod-identity-agent", "server"}, Args: []string{"--port", "80", "--cluster-name", "prod"}}},
		}}},
		Status: appsv1.DaemonSetStatus{DesiredNumberScheduled: desired, NumberReady: ready, NumberAvailable: ready},
	}
}

// TestCollectDiscoversPodIdentitySubjects: with no argument, a service
// account EKS associates is a subject without any annotation (even one that
// does not exist yet), as is the service account of a pod that carries
// AWS_CONTAINER_CREDENTIALS_FULL_URI; the agent is then read with one GET.
// An association in a namespace that was not listed is left out.
func TestCollectDiscoversPodIdentitySubjects(t *testing.T) {
	t.Parallel()
	srv := fakekube.New(t, testutil.Namespace("shop", nil),
		testutil.NewSA("shop", "associated").Build(),
		testutil.NewSA("shop", "by-env").Build(),
		testutil.NewSA("shop", "plain").Build(),
		testutil.NewPod("shop", "api-1", "associated").Build(),
		testutil.NewPod("shop", "worker-1", "by-env").Env("app", facts.EnvContainerCredentialsFull, facts.PodIdentityFullURI).Build(),
		testutil.NewPod("shop", "plain-1", "plain").Build(),
		agentDaemonSet("602401143452.dkr.ecr.us-west-2.amazonaws.com/eks/eks-pod-identity-agent:v0.1.29", 3, 2))
	c := &Collector{Client: clientFor(t, srv)}
	snap, err := c.Collect(context.Background(), Scope{Namespace: "shop", Associated: []string{"shop/associated", "shop/not-yet", "other/elsewhere"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range snap.Subjects {
		got = append(got, s.Key())
	}
	want := []string{"shop/associated", "shop/by-env", "shop/not-yet"}
	if len(got) != len(want) {
		t.Fatalf("subjects %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("subjects %v, want %v", got, want)
		}
	}
	if snap.Subjects[0].ServiceAccount == nil || len(snap.Subjects[0].Pods) != 1 || snap.Subjects[2].ServiceAccount != nil {
		t.Errorf("associated subject: sa %v pods %d; not-yet subject sa %v", snap.Subjects[0].ServiceAccount != nil, len(snap.Subjects[0].Pods), snap.Subjects[2].ServiceAccount)
	}
	a := snap.PodIdentityAgent
	if a == nil || !a.Found || a.Version != "v0.1.29" || a.Desired != 3 || a.Ready != 2 || !a.HostNetwork || len(a.Args) != 7 {
		t.Errorf("agent facts %+v", a)
	}
	if n := srv.Count("get", "daemonsets"); n != 1 {
		t.Errorf("daemonset GETs: %d, want 1", n)
	}
}

// TestCollectReadsNoAgentForIRSAOnly: an IRSA-only diagnosis makes no
// request for the agent (and needs no RBAC for it).
func TestCollectReadsNoAgentForIRSAOnly(t *testing.T) {
	t.Parallel()
	srv := fakekube.New(t, testutil.Namespace("shop", nil), testutil.NewSA("shop", "app").RoleARN(testutil.RoleARN).Build(),
		testutil.NewPod("shop", "web-1", "app").Mutate(testutil.RoleARN, "sts.amazonaws.com").Build())
	c := &Collector{Client: clientFor(t, srv)}
	snap, err := c.Collect(context.Background(), Scope{Namespace: "shop"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if snap.PodIdentityAgent != nil || srv.Count("get", "daemonsets") != 0 {
		t.Errorf("agent %+v, GETs %d; want none", snap.PodIdentityAgent, srv.Count("get", "daemonsets"))
	}
}

// TestCollectAgentMissingOrForbidden: a missing agent is a fact (Found
// false); a refused read names the RBAC rule.
func TestCollectAgentMissingOrForbidden(t *testing.T) {
	t.Parallel()
	objs := func() *fakekube.Server {
		return fakekube.New(t, testutil.Namespace("shop", nil), testutil.NewSA("shop", "app").Build(), testutil.NewPod("shop", "web-1", "app").Build())
	}
	missing := objs()
	snap, err := (&Collector{Client: clientFor(t, missing)}).Collect(context.Background(), Scope{Namespace: "shop", Associated: []string{"shop/app"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if a := snap.PodIdentityAgent; a == nil || a.Found || a.Err != nil {
		t.Errorf("missing agent: %+v", a)
	}
	forbidden := objs()
	forbidden.Forbid("get", "daemonsets", facts.PodIdentityAgentNamespace)
	snap, err = (&Collector{Client: clientFor(t, forbidden)}).Collect(context.Background(), Scope{Namespace: "shop", Associated: []string{"shop/app"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if a := snap.PodIdentityAgent; a == nil || a.Err == nil || !a.Err.Forbidden || a.Err.Verb != "get" || a.Err.Resource != "daemonsets" {
		t.Errorf("forbidden agent: %+v", a)
	}
}

func TestImageTag(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"602401143452.dkr.ecr.us-west-2.amazonaws.com/eks/eks-pod-identity-agent:v0.1.29": "v0.1.29",
		"registry:5000/agent":         "",
		"registry:5000/agent:1.2":     "1.2",
		"agent@sha256:abc":            "",
		"agent:0.1.6@sha256:abc":      "0.1.6",
		"public.ecr.aws/eks/agent:v1": "v1",
	} {
		if got := imageTag(in); got != want {
			t.Errorf("imageTag(%q) = %q, want %q", in, got, want)
		}
	}
}
