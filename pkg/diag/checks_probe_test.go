package diag_test

import (
	"testing"
	"time"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/diag"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/facts"
)

// probeScenario is the healthy shop/app world with a --probe result whose
// STS answer is code: message, after a local verification that passed.
func probeScenario(code, message string, explainIDs []string, edit func(*facts.AWSFacts)) *facts.Snapshot {
	s := awsScenario(edit).snapshot()
	s.Probes = map[string]*facts.ProbeFacts{"shop/app": {
		Audience: "sts.amazonaws.com",
		Claims:   facts.ProbeClaims{Issuer: issuer, Subject: "system:serviceaccount:shop:app", Audience: []string{"sts.amazonaws.com"}, Expiry: time.Date(2026, 11, 23, 10, 10, 0, 0, time.UTC)},
		Steps: []facts.ProbeStep{{Name: "discovery", OK: true}, {Name: "jwks", OK: true}, {Name: "signature", OK: true},
			{Name: "issuer", OK: true}, {Name: "audience", OK: true}},
		STSCode: code, STSMessage: message,
		Explanation: &facts.ProbeExplanation{ID: "x", Cause: "x", CheckIDs: explainIDs},
	}}
	return s
}

func TestProbeSTSVerdicts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		snap *facts.Snapshot
		want want
	}{
		{"throttled: could not tell", probeScenario("Throttling", "Rate exceeded", nil, nil),
			want{status: diag.StatusUnknown, message: "STS did not answer the probe: Throttling: Rate exceeded", fix: "run again later", evidence: []string{"code=Throttling"}}},
		{"tied to the offline check that explains it",
			probeScenario("InvalidIdentityToken", "No OpenIDConnect provider found in your account for "+issuer, []string{"IRSA-OIDC-001", "IRSA-ISSUER-001"},
				func(a *facts.AWSFacts) {
					a.Providers[provider] = facts.OIDCProvider{ARN: provider, Err: &facts.CallError{Op: "iam:GetOpenIDConnectProvider", Code: facts.ErrNotFound, Message: "not found"}}
				}),
			want{status: diag.StatusFail, message: "; offline, IRSA-OIDC-001 explains it"}},
		{"IDPCommunicationError no offline check explains",
			probeScenario("IDPCommunicationError", "Couldn't retrieve verification key from your identity provider", []string{"IRSA-PROBE-002"}, nil),
			want{status: diag.StatusFail, message: "no offline check explains it: the discovery document and JWKS answered this machine, so AWS cannot reach them"}},
		{"expired although just minted", probeScenario("ExpiredTokenException", "Token expired", nil, nil),
			want{status: diag.StatusFail, message: "expires at 2026-11-23T10:10:00Z, so the API server's clock and AWS's disagree"}},
		{"signature refused although it verifies here", probeScenario("InvalidIdentityToken", "Signature verification failed for the ID Token", []string{"IRSA-PROBE-002"}, nil),
			want{status: diag.StatusFail, message: "keys it cached before a rotation"}},
		{"AccessDenied although the trust policy allows", probeScenario("AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity", []string{"IRSA-ROLE-001", "IRSA-TRUST-001"}, nil),
			want{status: diag.StatusFail, message: "the offline evaluation allows it"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			expect(t, findingsOf(t, tt.snap, "IRSA-PROBE-003"), []want{tt.want})
		})
	}
}
