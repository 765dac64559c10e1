package diag_test

import (
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/diag"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/facts"
)

// piProbe is the Pod Identity world with a --probe answer, its AWS facts
// edited.
func piProbe(p *facts.PodIdentityProbe, edit func(*facts.AWSFacts)) *facts.Snapshot {
	return piScenario([]*corev1.Pod{podIdentityPod("web", facts.PodIdentityAudience)}, func(s *facts.Snapshot) {
		s.PodIdentityProbes = map[string]*facts.PodIdentityProbe{"shop/app": p}
		if edit != nil {
			edit(s.AWS)
		}
	})
}

func TestCheckPodIdentityProbe(t *testing.T) {
	t.Parallel()
	refused := func(code, msg string) *facts.PodIdentityProbe {
		return &facts.PodIdentityProbe{Claims: facts.ProbeClaims{Subject: "system:serviceaccount:shop:app", Audience: []string{facts.PodIdentityAudience}}, Code: code, Message: msg}
	}
	assumed := &facts.PodIdentityProbe{AssumedRoleARN: "arn:aws:sts::111122223333:assumed-role/pi-app/eks-prod-web-1234",
		SessionTags: map[string]string{"kubernetes-namespace": "shop", "kubernetes-service-account": "app"}}
	tests := []struct {
		name string
		snap *facts.Snapshot
		want []want
	}{
		{"credentials issued: the role and session tags", piProbe(assumed, nil),
			[]want{{status: diag.StatusPass, object: "serviceaccount/app", message: "EKS Auth issued credentials for arn:aws:sts::111122223333:assumed-role/pi-app/eks-prod-web-1234",
				evidence: []string{"assumed role=arn:aws:sts::111122223333:assumed-role/pi-app/eks-prod-web-1234", "session tags=kubernetes-namespace=shop, kubernetes-service-account=app"}}}},
		{"issued although the offline trust evaluation denies: a bug to report", piProbe(assumed, func(a *facts.AWSFacts) {
			setTrust(a, piRole, piTrust(`{"StringEquals":{"aws:RequestTag/kubernetes-namespace":"prod"}}`))
		}), []want{{status: diag.StatusPass, message: "the offline evaluation (PODID-TRUST-001) disagrees"}}},
		{"AccessDenied tied to the trust check that explains it", piProbe(refused("AccessDeniedException", "Unauthorized Exception! EKS does not have permissions to assume the associated role."), func(a *facts.AWSFacts) {
			setTrust(a, piRole, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"pods.eks.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)
		}), []want{{status: diag.StatusFail, severity: diag.SeverityError,
			message:  "EKS Auth refused the service account's token: AccessDeniedException: Unauthorized Exception! EKS does not have permissions to assume the associated role.; offline, PODID-TRUST-001 explains it",
			evidence: []string{"code=AccessDeniedException"}, fix: "see PODID-TRUST-001, PODID-ROLE-001, PODID-TRUST-002; kubectl irsa explain"}}},
		{"AccessDenied that nothing offline explains", piProbe(refused("AccessDeniedException", "EKS does not have permissions to assume the associated role."), nil),
			[]want{{status: diag.StatusFail, message: "no offline check explains it: a trust policy changed minutes ago"}}},
		{"the caller may not call EKS Auth: unknown, naming the permission", piProbe(refused("AccessDeniedException",
			"User: arn:aws:sts::111122223333:assumed-role/admin/me is not authorized to perform: eks-auth:AssumeRoleForPodIdentity on resource: "+piClusterARN), nil),
			[]want{{status: diag.StatusUnknown, message: "may not call eks-auth:AssumeRoleForPodIdentity", fix: "usually only the node role does, through AmazonEKSWorkerNodePolicy"}}},
		{"no association any more", piProbe(refused("ResourceNotFoundException", "No Pod Identity Association found"), func(a *facts.AWSFacts) {
			a.PodIdentity.Associations = nil
		}), []want{{status: diag.StatusFail, message: "; offline, PODID-ASSOC-002 explains it"}}},
		{"pkg/explain's checks come first", piProbe(func() *facts.PodIdentityProbe {
			p := refused("InvalidTokenException", "Token is not valid")
			p.Explanation = &facts.ProbeExplanation{ID: "pod-identity-agent-invalid-token", Cause: "The SDK sent a token that is not the Pod Identity token", CheckIDs: []string{"PODID-TOKEN-001"}}
			return p
		}(), nil), []want{{status: diag.StatusFail, evidence: []string{"likely cause=The SDK sent a token that is not the Pod Identity token"}, fix: "see PODID-TOKEN-001, PODID-CLUSTER-001;"}}},
		{"throttled: unknown", piProbe(refused("ThrottlingException", "Rate exceeded"), nil),
			[]want{{status: diag.StatusUnknown, message: "EKS Auth did not answer the probe: ThrottlingException: Rate exceeded"}}},
		{"no client: unknown", piProbe(&facts.PodIdentityProbe{Err: "no AWS region"}, nil),
			[]want{{status: diag.StatusUnknown, message: "Could not ask EKS Auth: no AWS region", fix: "pass --region"}}},
		{"token forbidden: unknown", piProbe(&facts.PodIdentityProbe{TokenErr: &facts.ReadError{Forbidden: true, Message: "forbidden"}}, nil),
			[]want{{status: diag.StatusUnknown, message: "Could not mint a Pod Identity token", fix: "resources [serviceaccounts/token], verbs [create]"}}},
		{"without --probe: nothing", healthyPI(), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			expect(t, findingsOf(t, tt.snap, "PODID-PROBE-001"), tt.want)
		})
	}
}
