package diag_test

import (
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/diag"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/facts"
	"github.com/kubectl-irsa/kubectl-irsa/test/testutil"
)

// largeSnapshot is issue 8's synthetic cluster in memory: pods spread over
// service accounts in namespaces, with roles shared between service accounts.
func largeSnapshot(pods, sas, roles, namespaces int) *facts.Snapshot {
	s := &facts.Snapshot{Now: testutil.T0.Add(time.Hour), Namespaces: map[string]*corev1.Namespace{}}
	s.Webhooks.Configs = append(s.Webhooks.Configs, *testutil.Webhook())
	s.AWS = &facts.AWSFacts{Issuer: facts.IssuerFacts{URL: issuer, Source: "--issuer"}, Caller: facts.Caller{Account: "111122223333"},
		Roles: map[string]facts.Role{}, Providers: map[string]facts.OIDCProvider{provider: {ARN: provider, URL: host, Found: true, ClientIDs: []string{"sts.amazonaws.com"}}}}
	subjects := make([]*facts.Subject, sas)
	for i := range subjects {
		ns := fmt.Sprintf("ns-%03d", i%namespaces)
		name := fmt.Sprintf("sa-%04d", i)
		role := fmt.Sprintf("arn:aws:iam::111122223333:role/role-%03d", i%roles)
		s.AWS.Roles[role] = facts.Role{ARN: role, Found: true, AttachedPolicyARNs: []string{"p"},
			TrustPolicy: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"` + provider + `"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringLike":{"` + host + `:sub":"system:serviceaccount:ns-*:sa-*"},"StringEquals":{"` + host + `:aud":"sts.amazonaws.com"}}}]}`}
		subjects[i] = &facts.Subject{Namespace: ns, ServiceAccountName: name, ServiceAccount: testutil.NewSA(ns, name).RoleARN(role).Build()}
		s.Namespaces[ns] = testutil.Namespace(ns, nil)
	}
	for i := 0; i < pods; i++ {
		subj := subjects[i%sas]
		role, _ := facts.RoleARNAnnotation(subj.ServiceAccount)
		p := testutil.NewPod(subj.Namespace, fmt.Sprintf("pod-%05d", i), subj.ServiceAccountName).Container("sidecar").Mutate(role, "sts.amazonaws.com").Build()
		subj.Pods = append(subj.Pods, facts.PodFacts{Pod: p, Owner: facts.Owner{Kind: "Deployment", Name: "app"}})
	}
	s.Subjects = subjects
	return s
}

// BenchmarkRun judges issue 8's default cluster: 5,000 pods, 1,000 service
// accounts, 300 roles, 200 namespaces, every check including trust policies.
func BenchmarkRun(b *testing.B) {
	s := largeSnapshot(5000, 1000, 300, 200)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if ds := diag.Run(s); len(ds) != 1000 {
			b.Fatalf("%d diagnoses", len(ds))
		}
	}
}

func TestLargeSnapshotIsHealthy(t *testing.T) {
	t.Parallel()
	for _, d := range diag.Run(largeSnapshot(50, 10, 3, 2)) {
		for _, f := range d.Findings {
			if f.Status != diag.StatusPass && f.ID != "IRSA-TRUST-002" {
				t.Fatalf("%s %s %s: %s", f.ID, f.Status, f.Object.String(), f.Message)
			}
		}
	}
}
