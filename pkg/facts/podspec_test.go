package facts_test

import (
	"testing"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/facts"
	"github.com/kubectl-irsa/kubectl-irsa/test/testutil"
)

func TestTokenAudience(t *testing.T) {
	mutated := testutil.NewPod("shop", "web", "app").Mutate(testutil.RoleARN, "sts.amazonaws.com.cn").Build()
	unmutated := testutil.NewPod("shop", "old", "app").Build()
	annotated := testutil.NewSA("shop", "app").Annotate(facts.AnnotationAudience, "sts.example.com").Build()
	tests := []struct {
		name   string
		subj   facts.Subject
		aud    string
		source string
	}{
		// A subject whose service account is missing (or unreadable) has a
		// nil ServiceAccount; the webhook would fall back to its default.
		{"missing service account, no pods", facts.Subject{Namespace: "shop", ServiceAccountName: "app"},
			facts.DefaultAudience, "webhook default"},
		{"missing service account, unmutated pod", facts.Subject{Namespace: "shop", ServiceAccountName: "app", Pods: []facts.PodFacts{{Pod: unmutated}}},
			facts.DefaultAudience, "webhook default"},
		{"missing service account, mutated pod", facts.Subject{Namespace: "shop", ServiceAccountName: "app", Pods: []facts.PodFacts{{Pod: unmutated}, {Pod: mutated}}},
			"sts.amazonaws.com.cn", "pod/web volume aws-iam-token"},
		{"audience annotation", facts.Subject{Namespace: "shop", ServiceAccountName: "app", ServiceAccount: annotated, Pods: []facts.PodFacts{{Pod: unmutated}}},
			"sts.example.com", "serviceaccount annotation eks.amazonaws.com/audience"},
		{"the pod's volume wins over the annotation", facts.Subject{Namespace: "shop", ServiceAccountName: "app", ServiceAccount: annotated, Pods: []facts.PodFacts{{Pod: mutated}}},
			"sts.amazonaws.com.cn", "pod/web volume aws-iam-token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			aud, source := facts.TokenAudience(&tt.subj)
			if aud != tt.aud || source != tt.source {
				t.Errorf("TokenAudience = %q, %q; want %q, %q", aud, source, tt.aud, tt.source)
			}
		})
	}
}

// As the webhook: the annotation wins, the ConfigMap's role serves a
// service account without one.
func TestIntendedRoleARNFromTheWebhookConfigMap(t *testing.T) {
	entry := &facts.WebhookConfigEntry{Key: "shop/app", RoleARN: "arn:aws:iam::111122223333:role/from-config"}
	for name, tc := range map[string]struct {
		subj *facts.Subject
		want string
		ok   bool
	}{
		"ConfigMap only":     {&facts.Subject{ServiceAccount: testutil.NewSA("shop", "app").Build(), WebhookConfig: entry}, entry.RoleARN, true},
		"annotation wins":    {&facts.Subject{ServiceAccount: testutil.NewSA("shop", "app").RoleARN(testutil.RoleARN).Build(), WebhookConfig: entry}, testutil.RoleARN, true},
		"no service account": {&facts.Subject{WebhookConfig: entry}, "", false},
		"neither":            {&facts.Subject{ServiceAccount: testutil.NewSA("shop", "app").Build()}, "", false},
	} {
		if got, ok := facts.IntendedRoleARN(tc.subj); got != tc.want || ok != tc.ok {
			t.Errorf("%s: IntendedRoleARN = %q, %v; want %q, %v", name, got, ok, tc.want, tc.ok)
		}
	}
}
