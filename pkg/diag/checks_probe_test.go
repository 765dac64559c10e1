package diag_test

import (
	"strings"
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

// withProbe is probeScenario's snapshot with its probe result edited.
func withProbe(edit func(*facts.ProbeFacts)) *facts.Snapshot {
	s := probeScenario("", "", nil, nil)
	p := s.Probes["shop/app"]
	p.AssumedRoleARN = "arn:aws:sts::111122223333:assumed-role/app/kubectl-irsa-probe-1"
	if edit != nil {
		edit(p)
	}
	return s
}

func TestProbeToken(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		snap *facts.Snapshot
		want []want
	}{
		{"minted: claims shown, never the token", withProbe(nil),
			[]want{{status: diag.StatusPass, object: "serviceaccount/app", message: "Minted a 10-minute token",
				evidence: []string{"iss=" + issuer, "sub=system:serviceaccount:shop:app", "aud=sts.amazonaws.com", "exp=2026-11-23T10:10:00Z"}}}},
		{"TokenRequest failed", withProbe(func(p *facts.ProbeFacts) {
			*p = facts.ProbeFacts{TokenErr: &facts.ReadError{Message: `serviceaccounts "app" not found`}}
		}), []want{{status: diag.StatusFail, severity: diag.SeverityError, object: "serviceaccount/app",
			message: `Could not mint a token for the service account: serviceaccounts "app" not found`, fix: "check the service account exists"}}},
		{"TokenRequest forbidden: could not tell", withProbe(func(p *facts.ProbeFacts) {
			*p = facts.ProbeFacts{TokenErr: &facts.ReadError{Forbidden: true, Message: "cannot create resource \"serviceaccounts/token\""}}
		}), []want{{status: diag.StatusUnknown, object: "serviceaccount/app", message: "Could not mint a token to probe with",
			fix: "resources [serviceaccounts/token], verbs [create]"}}},
		{"without --probe: nothing", awsScenario(nil).snapshot(), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			expect(t, findingsOf(t, tt.snap, "IRSA-PROBE-001"), tt.want)
		})
	}
}

func TestProbeVerify(t *testing.T) {
	t.Parallel()
	failAt := func(step, detail string) *facts.Snapshot {
		return withProbe(func(p *facts.ProbeFacts) {
			for i := range p.Steps {
				if p.Steps[i].Name == step {
					p.Steps[i].OK, p.Steps[i].Detail = false, detail
				}
			}
		})
	}
	tests := []struct {
		name string
		snap *facts.Snapshot
		want []want
	}{
		{"every step verifies", withProbe(nil),
			[]want{{status: diag.StatusPass, object: "serviceaccount/app", message: "The token verifies the way STS verifies it",
				evidence: []string{"discovery=ok", "jwks=ok", "signature=ok", "issuer=ok", "audience=ok"}}}},
		{"audience refused, as STS would", failAt("audience", `aud ["sts.amazonaws.com"] is not among the provider's client IDs`),
			[]want{{status: diag.StatusFail, severity: diag.SeverityError, object: "serviceaccount/app",
				message:  `The token fails STS's audience check: aud ["sts.amazonaws.com"] is not among the provider's client IDs`,
				evidence: []string{"issuer=ok", `audience=FAILED: aud ["sts.amazonaws.com"]`}, fix: "see IRSA-OIDC-002"}}},
		{"JWKS unreachable anonymously", failAt("jwks", "401 Unauthorized"),
			[]want{{status: diag.StatusFail, severity: diag.SeverityError, message: "The token fails STS's jwks check: 401 Unauthorized",
				evidence: []string{"discovery=ok", "jwks=FAILED: 401 Unauthorized"}, fix: "bind system:service-account-issuer-discovery to system:unauthenticated"}}},
		{"no token: nothing to verify", withProbe(func(p *facts.ProbeFacts) {
			*p = facts.ProbeFacts{TokenErr: &facts.ReadError{Forbidden: true, Message: "forbidden"}}
		}), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := findingsOf(t, tt.snap, "IRSA-PROBE-002")
			expect(t, got, tt.want)
			// Verification stops at the first failed step, as STS does: the
			// steps after it are not reported as passed.
			if len(got) == 1 && got[0].Status == diag.StatusFail {
				last := got[0].Evidence[len(got[0].Evidence)-1]
				if !strings.HasPrefix(last.Value, "FAILED: ") {
					t.Errorf("evidence goes on after the failed step: %v", got[0].Evidence)
				}
			}
		})
	}
}
