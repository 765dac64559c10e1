package diag

import (
	"strings"
	"time"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/facts"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/iampolicy"
)

func init() {
	register(
		Check{ID: "IRSA-PROBE-001", Severity: SeverityError, Title: "A token can be minted for the service account (--probe)",
			LooksAt: "TokenRequest (create serviceaccounts/token) with the pod's audience, bound to the pod", Run: checkProbeToken},
		Check{ID: "IRSA-PROBE-002", Severity: SeverityError, Title: "The token verifies the way STS verifies it (--probe)",
			LooksAt: "anonymous HTTPS discovery and JWKS, key id, signature (RS256/384/512 or ES256/384/512, as STS accepts), iss, aud, exp", Run: checkProbeVerify},
		Check{ID: "IRSA-PROBE-003", Severity: SeverityError, Title: "sts:AssumeRoleWithWebIdentity accepts the token (--probe)",
			LooksAt: "a live sts:AssumeRoleWithWebIdentity call; credentials are discarded at once", Run: checkProbeSTS},
	)
}

func probeFor(s *Input, subj *facts.Subject) (*facts.ProbeFacts, bool) {
	if s.Probes == nil {
		return nil, false
	}
	p, ok := s.Probes[subj.Namespace+"/"+subj.ServiceAccountName]
	return p, ok
}

func checkProbeToken(s *Input, subj *facts.Subject) []Finding {
	p, ok := probeFor(s, subj)
	if !ok {
		return nil
	}
	if e := p.TokenErr; e != nil {
		if e.Forbidden {
			return []Finding{unknown(subjectRef(subj), "Could not mint a token to probe with: "+e.Message,
				"grant create on serviceaccounts/token in namespace "+subj.Namespace+" (rule: apiGroups [\"\"], resources [serviceaccounts/token], verbs [create])")}
		}
		return []Finding{fail(subjectRef(subj), "Could not mint a token for the service account: "+e.Message, nil, "check the service account exists and the API server issues tokens")}
	}
	c := p.Claims
	return []Finding{pass(subjectRef(subj), "Minted a 10-minute token (its claims are shown, the token never is)",
		ev("iss", c.Issuer, "TokenRequest"), ev("sub", c.Subject, "TokenRequest"), ev("aud", strings.Join(c.Audience, ","), "TokenRequest"),
		ev("exp", c.Expiry.UTC().Format(time.RFC3339), "TokenRequest"))}
}

func checkProbeVerify(s *Input, subj *facts.Subject) []Finding {
	p, ok := probeFor(s, subj)
	if !ok || p.TokenErr != nil {
		return nil
	}
	var evs []Evidence
	for _, st := range p.Steps {
		state := "ok"
		if !st.OK {
			state = "FAILED"
		}
		evs = append(evs, ev(st.Name, state+": "+st.Detail, "probe"))
		if !st.OK {
			return []Finding{fail(subjectRef(subj), "The token fails STS's "+st.Name+" check: "+st.Detail, evs, stepFix(st.Name))}
		}
	}
	return []Finding{pass(subjectRef(subj), "The token verifies the way STS verifies it", evs...)}
}

func stepFix(step string) string {
	switch step {
	case "discovery", "jwks":
		return "STS must fetch the issuer's discovery document and keys anonymously over HTTPS: check the issuer is public and, on self-managed clusters, bind system:service-account-issuer-discovery to system:unauthenticated"
	case "key id", "signature":
		return "the issuer publishes other keys than the API server signs with: check --service-account-key-file / the S3-hosted JWKS after a key rotation"
	case "issuer":
		return "the provider URL must equal the token's iss exactly (see IRSA-OIDC-001)"
	case "audience":
		return "add the token's audience to the provider's client IDs (see IRSA-OIDC-002)"
	}
	return "see https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRoleWithWebIdentity.html"
}

func checkProbeSTS(s *Input, subj *facts.Subject) []Finding {
	p, ok := probeFor(s, subj)
	if !ok || p.TokenErr != nil {
		return nil
	}
	obj := subjectRef(subj)
	if p.STSErr != "" {
		return []Finding{unknown(obj, "Could not reach STS: "+p.STSErr, "check network access to the regional STS endpoint")}
	}
	if transientSTSCodes[p.STSCode] {
		// STS said nothing about the token: a verdict would be a guess.
		return []Finding{unknown(obj, "STS did not answer the probe: "+p.STSCode+": "+p.STSMessage+" (after the SDK's retries)",
			"run again later; if it persists, check the account's STS quotas",
			ev("code", p.STSCode, "sts:AssumeRoleWithWebIdentity"))}
	}
	_, d, _, offline := trustDiagnosis(s, subj)
	offlineAllows := offline && d.Decision == iampolicy.DecisionAllow
	if p.AssumedRoleARN != "" {
		f := pass(obj, "STS accepted the token and issued credentials (discarded at once)", ev("assumed role", p.AssumedRoleARN, "sts:AssumeRoleWithWebIdentity"))
		if offline && !offlineAllows {
			f.Message += "; the offline trust evaluation (IRSA-TRUST-001) disagrees: please report this, with the trust policy, as a bug"
		}
		return []Finding{f}
	}
	evs := []Evidence{ev("code", p.STSCode, "sts:AssumeRoleWithWebIdentity"), ev("message", p.STSMessage, "sts:AssumeRoleWithWebIdentity")}
	msg := "STS refused the token: " + p.STSCode + ": " + p.STSMessage
	fix := "kubectl irsa explain '" + p.STSCode + ": " + p.STSMessage + "'"
	if e := p.Explanation; e != nil {
		evs = append(evs, ev("likely cause", e.Cause, "kubectl irsa explain ("+e.ID+")"))
		if len(e.CheckIDs) > 0 {
			fix = "see " + strings.Join(e.CheckIDs, ", ") + "; " + fix
		}
	}
	var explainedBy []string
	if p.Explanation != nil {
		explainedBy = failingChecks(s, subj, p.Explanation.CheckIDs)
	}
	switch {
	case len(explainedBy) > 0:
		msg += "; offline, " + strings.Join(explainedBy, ", ") + " explains it"
	case p.STSCode == "AccessDenied" && offlineAllows:
		msg += "; the offline evaluation allows it, so the cause is outside the trust policy as read: a change made minutes ago (IAM is eventually consistent), an organisation RCP, or a role or provider that changed since"
	case p.STSCode != "AccessDenied":
		if why := unexplainedSTSError(p); why != "" {
			msg += "; no offline check explains it: " + why
		}
	}
	return []Finding{fail(obj, msg, evs, fix)}
}

// transientSTSCodes are answers about STS itself, not about the token.
var transientSTSCodes = map[string]bool{
	"Throttling": true, "ThrottlingException": true, "RequestLimitExceeded": true, "TooManyRequestsException": true,
	"ServiceUnavailable": true, "InternalFailure": true, "InternalError": true, "RequestTimeout": true,
}

// failingChecks returns those of ids that fail for the subject, in the order
// given. The probe finding names them so that the live answer is tied to the
// offline check that explains it.
func failingChecks(s *Input, subj *facts.Subject, ids []string) []string {
	var out []string
	for _, id := range ids {
		for _, c := range registry {
			// A probe's own verdict explains nothing offline.
			if string(c.ID) != id || strings.Contains(id, "-PROBE-") {
				continue
			}
			for _, f := range c.Run(s, subj) {
				if f.Status == StatusFail {
					out = append(out, id)
					break
				}
			}
		}
	}
	return out
}

// unexplainedSTSError gives the likely reasons STS refuses a token that
// verified here, by error code; "" when the local verification did not
// complete (its own finding, IRSA-PROBE-002, says why).
func unexplainedSTSError(p *facts.ProbeFacts) string {
	if len(p.Steps) == 0 {
		return ""
	}
	for _, st := range p.Steps {
		if !st.OK {
			return ""
		}
	}
	switch p.STSCode {
	case "IDPCommunicationError":
		return "the discovery document and JWKS answered this machine, so AWS cannot reach them: an issuer that is not public (private endpoint, firewall, IP allow-list) or a failure on the issuer's side; retry, then fetch ISSUER/.well-known/openid-configuration from outside your network"
	case "ExpiredTokenException":
		return "the token was minted seconds ago and expires at " + p.Claims.Expiry.UTC().Format(time.RFC3339) + ", so the API server's clock and AWS's disagree: check the control plane's time synchronisation"
	case "InvalidIdentityToken":
		return "the token verified here (discovery, JWKS, key id, signature, iss, aud, exp), so STS sees something else: keys it cached before a rotation, a provider changed minutes ago (IAM is eventually consistent), or a TLS-intercepting proxy between this machine and the issuer"
	}
	return ""
}
