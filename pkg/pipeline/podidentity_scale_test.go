package pipeline_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/cloud"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/facts"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/kube"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/pipeline"
	"github.com/kubectl-irsa/kubectl-irsa/test/fakeaws"
	"github.com/kubectl-irsa/kubectl-irsa/test/fakekube"
	"github.com/kubectl-irsa/kubectl-irsa/test/testutil"
)

// TestPodIdentityCallCounts measures what Pod Identity costs a run: one
// paged pass of ListPodIdentityAssociations (per namespace in scope, one for
// the cluster with -A), one DescribePodIdentityAssociation per associated
// service account in scope, each distinct role once, one GET of the agent,
// and nothing per pod. Doubling the pods changes none of it.
func TestPodIdentityCallCounts(t *testing.T) {
	const (
		namespaces = 3
		accounts   = 10 // associated service accounts per namespace
		roles      = 4
		// orphans are associations in a namespace that does not exist: out
		// of scope with -n, subjects (with a warning each) with -A.
		orphans = 7
	)
	for _, podsPerAccount := range []int{5, 10} {
		t.Run(fmt.Sprintf("%d pods per service account", podsPerAccount), func(t *testing.T) {
			objs := []runtime.Object{testutil.Webhook()}
			aws := fakeaws.New()
			aws.SetPageSize(100) // EKS's largest page, which the plugin asks for
			aws.SetCaller(fakeaws.Caller{Account: account, ARN: "arn:aws:iam::" + account + ":user/operator"})
			aws.AddCluster(fakeaws.Cluster{Name: "prod", ARN: "arn:aws:eks:us-west-2:" + account + ":cluster/prod", Version: "1.31", PlatformVersion: "eks.4", Issuer: issuer})
			for r := range roles {
				aws.AddRole(fakeaws.Role{ARN: fmt.Sprintf("arn:aws:iam::%s:role/pi-%d", account, r), InlinePolicyNames: []string{"read"},
					TrustPolicy: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"pods.eks.amazonaws.com"},"Action":["sts:AssumeRole","sts:TagSession"]}]}`})
			}
			for n := range namespaces {
				ns := fmt.Sprintf("team-%d", n)
				objs = append(objs, testutil.Namespace(ns, nil))
				for a := range accounts {
					sa := fmt.Sprintf("app-%d", a)
					objs = append(objs, testutil.NewSA(ns, sa).Build())
					aws.AddAssociation(fakeaws.Association{ClusterName: "prod", Namespace: ns, ServiceAccount: sa,
						RoleARN: fmt.Sprintf("arn:aws:iam::%s:role/pi-%d", account, (n*accounts+a)%roles)})
					for p := range podsPerAccount {
						objs = append(objs, testutil.NewPod(ns, fmt.Sprintf("%s-%d", sa, p), sa).PodIdentityByHand("app", facts.PodIdentityAudience).Build())
					}
				}
			}
			for a := range orphans {
				aws.AddAssociation(fakeaws.Association{ClusterName: "prod", Namespace: "elsewhere", ServiceAccount: fmt.Sprintf("x-%d", a), RoleARN: "arn:aws:iam::" + account + ":role/pi-0"})
			}
			kubeSrv := fakekube.New(t, objs...)
			client, err := kubernetes.NewForConfig(kubeSrv.RESTConfig())
			if err != nil {
				t.Fatal(err)
			}
			cfg := fakeaws.Start(t, aws)
			for _, tc := range []struct {
				name                 string
				scope                kube.Scope
				subjects, listPasses int
			}{
				{"one namespace", kube.Scope{Namespace: "team-1"}, accounts, 1},
				{"all namespaces", kube.Scope{AllNamespaces: true}, namespaces*accounts + orphans, 1},
			} {
				aws.ResetCalls()
				req := pipeline.Request{Scope: tc.scope, AWS: pipeline.AWSOptions{Cluster: "prod", Timeout: time.Minute}}
				res, err := pipeline.Diagnose(t.Context(), req, pipeline.Sources{
					Kube: pipeline.LiveKube{Client: client, Now: func() time.Time { return testutil.T0.Add(time.Hour) }},
					AWS: pipeline.LiveAWS{Options: req.AWS, NewCollector: func(context.Context, []string) (*cloud.Collector, error) {
						return cloud.NewCollector(cfg, cloud.CollectorOptions{}), nil
					}},
				})
				if err != nil {
					t.Fatal(err)
				}
				if len(res.Snapshot.Subjects) != tc.subjects {
					t.Errorf("%s: %d subjects, want %d", tc.name, len(res.Snapshot.Subjects), tc.subjects)
				}
				want := map[string]int{"ListPodIdentityAssociations": tc.listPasses, "DescribePodIdentityAssociation": tc.subjects,
					"GetRole": roles, "DescribeCluster": 1, "GetOpenIDConnectProvider": 0}
				for op, n := range want {
					if got := aws.Count(op); got != n {
						t.Errorf("%s: %s calls %d, want %d", tc.name, op, got, n)
					}
				}
			}
			if n := kubeSrv.Count("get", "daemonsets"); n != 2 {
				t.Errorf("agent GETs %d, want one per run (2)", n)
			}
			if n := kubeSrv.Count("get", "pods"); n != 0 {
				t.Errorf("per-pod GETs %d, want 0", n)
			}
		})
	}
}
