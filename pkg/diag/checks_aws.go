package diag

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/awsarn"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/facts"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/iampolicy"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/thumbprint"
)

func init() {
	register(
		Check{ID: "IRSA-ISSUER-001", Severity: SeverityError, Title: "The cluster's OIDC issuer is known",
			LooksAt: "--issuer, eks:DescribeCluster identity.oidc.issuer, the API server's /.well-known/openid-configuration", Run: checkIssuer},
		Check{ID: "IRSA-OIDC-001", Severity: SeverityError, Title: "An IAM OIDC provider for the issuer exists in the role's account",
			LooksAt: "iam:GetOpenIDConnectProvider in the role's account, iam:ListOpenIDConnectProviders for near misses", Run: checkProviderExists},
		Check{ID: "IRSA-OIDC-002", Severity: SeverityError, Title: "The token's audience is one of the provider's client IDs",
			LooksAt: "the projected token audience, the provider's ClientIDList", Run: checkProviderAudience},
		Check{ID: "IRSA-ROLE-001", Severity: SeverityError, Title: "The IAM role exists",
			LooksAt: "iam:GetRole by role name (paths allowed)", Run: checkRoleExists},
		Check{ID: "IRSA-ROLE-002", Severity: SeverityWarning, Title: "The role has permission policies",
			LooksAt: "iam:ListAttachedRolePolicies, iam:ListRolePolicies", Run: checkRolePolicies},
		Check{ID: "IRSA-TRUST-001", Severity: SeverityError, Title: "The role's trust policy lets this service account assume it",
			LooksAt: "the trust policy evaluated with IAM semantics against the token's iss, sub and aud", Run: checkTrustAllows},
		Check{ID: "IRSA-TRUST-002", Severity: SeverityError, Title: "The trust policy does not let other identities assume the role",
			LooksAt: "the trust policy's principal, :sub and :aud conditions (wildcards, missing conditions, default service account)", Run: checkTrustSecurity},
		Check{ID: "IRSA-TRUST-003", Severity: SeverityWarning, Title: "The trust policy's statements for this provider have no defects",
			LooksAt: "condition keys and operators of the statements naming this provider", Run: checkTrustDefects},
	)
}

// awsSubject is what every AWS check needs about a subject.
type awsSubject struct {
	role     awsarn.RoleARN
	roleFact facts.Role
	provider string // expected provider ARN, "" when the issuer is unknown
	issuer   string
}

// foreignAccount explains why a resource in another account could not be
// read: GetRole and GetOpenIDConnectProvider only see the caller's account,
// so a miss there proves nothing (cross-account IRSA, docs/behaviour.md#f14-cross-account-irsa).
func foreignAccount(s *Input, account string) (string, bool) {
	caller := s.AWS.Caller.Account
	if caller == "" || caller == account {
		return "", false
	}
	return "it is in account " + account + ", but kubectl-irsa runs as account " + caller + " and IAM can only be read in its own account", true
}

func foreignFix(account string) string {
	return "run again with credentials for account " + account + " (--aws-profile) to check it"
}

// awsFor returns the subject's AWS context. ok is false when the check has
// nothing to say (AWS skipped, no IRSA, invalid ARN: other checks report
// those); pre carries the unknown finding when AWS could not be reached.
func awsFor(s *Input, subj *facts.Subject) (a awsSubject, pre []Finding, ok bool) {
	if s.AWS == nil {
		return a, nil, false
	}
	v, intended := facts.IntendedRoleARN(subj)
	if !intended {
		return a, nil, false
	}
	role, err := awsarn.ParseRoleARN(v)
	if err != nil {
		return a, nil, false
	}
	if s.AWS.Unavailable != "" {
		return a, []Finding{unknown(subjectRef(subj), "AWS facts could not be gathered: "+s.AWS.Unavailable,
			"pass --region or --aws-profile, or configure AWS credentials; --skip-aws hides the AWS checks")}, false
	}
	a.role, a.issuer = role, s.AWS.Issuer.URL
	a.roleFact = s.AWS.Roles[v]
	if a.issuer != "" {
		a.provider, _ = facts.ExpectedProviderARN(role, a.issuer)
	}
	return a, nil, true
}

func checkIssuer(s *Input, subj *facts.Subject) []Finding {
	a, pre, ok := awsFor(s, subj)
	if !ok {
		return pre
	}
	is := s.AWS.Issuer
	if a.issuer == "" {
		if c := s.AWS.Cluster; c != nil && c.Err == nil {
			return []Finding{fail(subjectRef(subj), "EKS cluster "+c.Name+" has no OIDC issuer, so IRSA cannot work on it (EKS Anywhere and Outposts local clusters do not support it)",
				[]Evidence{ev("cluster", c.ARN, "eks:DescribeCluster")}, "use EKS Pod Identity, or a cluster with an OIDC issuer")}
		}
		return []Finding{unknown(subjectRef(subj), "The cluster's OIDC issuer could not be determined: "+strings.Join(is.Tried, "; "),
			"pass --issuer https://… or --cluster NAME --region REGION")}
	}
	parsed, err := awsarn.ParseIssuer(a.issuer)
	if err != nil {
		return []Finding{fail(subjectRef(subj), "The cluster's OIDC issuer is not usable: "+err.Error(), []Evidence{ev("issuer", a.issuer, is.Source)}, "pass the right --issuer")}
	}
	evs := []Evidence{ev("issuer", a.issuer, is.Source)}
	if parsed.Partition != "" && parsed.Partition != a.role.Partition {
		return []Finding{fail(subjectRef(subj), fmt.Sprintf("The issuer is in partition %s but the role ARN names partition %s: STS in one partition never trusts the other", parsed.Partition, a.role.Partition),
			append(evs, ev("role partition", a.role.Partition, "serviceaccount annotation "+facts.AnnotationRoleARN)),
			"use a role ARN in partition "+parsed.Partition+" (arn:"+parsed.Partition+":iam::…)")}
	}
	return []Finding{pass(subjectRef(subj), "The cluster's OIDC issuer is known", evs...)}
}

func checkProviderExists(s *Input, subj *facts.Subject) []Finding {
	a, pre, ok := awsFor(s, subj)
	if !ok || a.provider == "" {
		return pre
	}
	p := s.AWS.Providers[a.provider]
	obj := ObjectRef{Kind: "OIDCProvider", Name: a.provider}
	src := ev("provider", a.provider, "iam:GetOpenIDConnectProvider")
	switch {
	case p.Found:
		return []Finding{pass(obj, "The IAM OIDC provider exists in the role's account", src)}
	case p.Err == nil:
		return []Finding{unknown(obj, "The IAM OIDC provider was not looked up", "")}
	}
	if why, foreign := foreignAccount(s, a.role.Account); foreign {
		msg := "Could not tell whether the IAM OIDC provider exists: " + why
		caller := s.AWS.Caller.Account
		is, _ := awsarn.ParseIssuer(a.issuer)
		if l, ok := s.AWS.ProviderLists[caller]; ok && slices.Contains(l.ARNs, awsarn.ProviderARN(a.role.Partition, caller, is.HostPath)) {
			// docs/behaviour.md#f14-cross-account-irsa: the provider was created where the cluster
			// is, but STS looks in the role's account.
			msg += "; a provider for this issuer exists in account " + caller + ", but STS looks for it in the role's account " + a.role.Account
		}
		return []Finding{unknown(obj, msg, foreignFix(a.role.Account)+", or create the provider there: aws iam create-open-id-connect-provider --url "+shellQuote(a.issuer)+" --client-id-list "+facts.DefaultAudience, src)}
	}
	if p.Err.Code != facts.ErrNotFound {
		return []Finding{callUnknown(obj, "whether the IAM OIDC provider exists", p.Err)}
	}
	is, _ := awsarn.ParseIssuer(a.issuer)
	evs := []Evidence{src, ev("issuer", a.issuer, s.AWS.Issuer.Source), ev("role account", a.role.Account, "role ARN")}
	msg := "No IAM OIDC provider for the cluster's issuer in account " + a.role.Account + ": STS answers \"No OpenIDConnect provider found in your account for " + a.issuer + "\""
	if near := nearMissProviders(s.AWS.ProviderLists[a.role.Account], is.HostPath); len(near) > 0 {
		msg += "; " + strings.Join(near, "; ")
		evs = append(evs, ev("providers in account "+a.role.Account, strings.Join(s.AWS.ProviderLists[a.role.Account].ARNs, ", "), "iam:ListOpenIDConnectProviders"))
	}
	fix := "aws iam create-open-id-connect-provider --url " + shellQuote(a.issuer) + " --client-id-list " + facts.DefaultAudience
	if cluster := s.AWS.ClusterAccount; cluster != "" && cluster != a.role.Account {
		// docs/behaviour.md#f14-cross-account-irsa: eksctl creates the
		// provider in the account of the credentials it runs with, usually
		// the cluster's; STS looks in the role's.
		msg += "; the cluster is in account " + cluster + " and the role in account " + a.role.Account + ": the provider must exist in the role's account"
		evs = append(evs, ev("cluster account", cluster, "cluster ARN"))
		return []Finding{fail(obj, msg, evs, fix+" --profile <a profile for account "+a.role.Account+">  # not eksctl utils associate-iam-oidc-provider, which creates it in the cluster's account")}
	}
	if c := s.AWS.Cluster; c != nil && c.Name != "" && (s.AWS.Caller.Account == "" || s.AWS.Caller.Account == a.role.Account) {
		fix = "eksctl utils associate-iam-oidc-provider --cluster " + c.Name + " --region " + c.Region + " --approve  # or: " + fix
	} else if s.AWS.Caller.Account != "" && s.AWS.Caller.Account != a.role.Account {
		fix += "  # run with credentials for account " + a.role.Account + " (cross-account: the provider must be in the role's account)"
	}
	return []Finding{fail(obj, msg, evs, fix)}
}

// nearMissProviders explains providers in the account that are almost the
// issuer: a trailing slash, another cluster ID (a recreated cluster), or the
// dual-stack host (docs/behaviour.md#f1-no-openidconnect-provider cause d).
func nearMissProviders(l facts.ProviderList, hostPath string) []string {
	var out []string
	host, path, _ := strings.Cut(hostPath, "/")
	for _, arn := range l.ARNs {
		u, ok := awsarn.ProviderURLFromARN(arn)
		if !ok || u == hostPath {
			continue
		}
		uh, up, _ := strings.Cut(u, "/")
		switch {
		case strings.TrimSuffix(u, "/") == hostPath:
			out = append(out, "provider "+arn+" was registered with a trailing slash")
		case uh == host && up != path:
			out = append(out, "provider "+arn+" is for another cluster ID on the same host (was the cluster recreated?)")
		case strings.HasPrefix(uh, "oidc-eks.") && strings.HasSuffix(uh, ".api.aws") && up == path:
			out = append(out, "provider "+arn+" uses the dual-stack host, but tokens carry iss="+host)
		case up == path && uh != host:
			out = append(out, "provider "+arn+" has this cluster's ID under another host ("+uh+": another region or partition suffix?)")
		}
	}
	return out
}

func checkProviderAudience(s *Input, subj *facts.Subject) []Finding {
	a, _, ok := awsFor(s, subj)
	if !ok || a.provider == "" {
		return nil
	}
	p := s.AWS.Providers[a.provider]
	if !p.Found {
		return nil // IRSA-OIDC-001 reports it
	}
	aud, src := facts.TokenAudience(subj)
	obj := ObjectRef{Kind: "OIDCProvider", Name: a.provider}
	evs := []Evidence{ev("token audience", aud, src), ev("client IDs", strings.Join(p.ClientIDs, ", "), "iam:GetOpenIDConnectProvider")}
	if slices.Contains(p.ClientIDs, aud) {
		return []Finding{pass(obj, "The token's audience is one of the provider's client IDs", evs...)}
	}
	msg := fmt.Sprintf("The token's audience %q is not among the provider's client IDs: STS answers \"Incorrect token audience\"", aud)
	for _, id := range p.ClientIDs {
		if prob := audienceProblem(id); prob != "" {
			msg += fmt.Sprintf("; client ID %q %s", id, prob)
		}
	}
	return []Finding{fail(obj, msg, evs, "aws iam add-client-id-to-open-id-connect-provider --open-id-connect-provider-arn "+shellQuote(a.provider)+" --client-id "+shellQuote(aud))}
}

func roleRef(arn string) ObjectRef { return ObjectRef{Kind: "IAMRole", Name: arn} }

func checkRoleExists(s *Input, subj *facts.Subject) []Finding {
	a, _, ok := awsFor(s, subj)
	if !ok {
		return nil
	}
	return []Finding{roleExistence(s, a.role, a.roleFact, `STS answers "Not authorized to perform sts:AssumeRoleWithWebIdentity"`,
		"annotate the service account with an existing role's ARN")}
}

// roleExistence judges a role's iam:GetRole facts, for IRSA and for Pod
// Identity alike: refusal says how a missing role shows at run time, and
// instead is the other way out of the fix.
func roleExistence(s *Input, role awsarn.RoleARN, r facts.Role, refusal, instead string) Finding {
	obj := roleRef(role.String())
	src := ev("role name", role.Name, "iam:GetRole")
	switch {
	case r.Found:
		return pass(obj, "The IAM role exists", src, ev("path", r.Path, "iam:GetRole"))
	case r.Err == nil:
		return unknown(obj, "The role was not looked up", "")
	}
	if why, foreign := foreignAccount(s, role.Account); foreign {
		return unknown(obj, "Could not tell whether the role exists: "+why, foreignFix(role.Account), src)
	}
	if r.Err.Code != facts.ErrNotFound {
		return callUnknown(obj, "whether the role exists", r.Err)
	}
	msg := fmt.Sprintf("Role %q does not exist in account %s: %s", role.Name, role.Account, refusal)
	if role.Path != "/" {
		msg += " (looked up by name; the path " + role.Path + " is not part of the lookup)"
	}
	return fail(obj, msg, []Evidence{src},
		fmt.Sprintf("create the role (aws iam create-role --role-name %s --path %s --assume-role-policy-document file://trust.json), or %s", role.Name, role.Path, instead))
}

func checkRolePolicies(s *Input, subj *facts.Subject) []Finding {
	a, _, ok := awsFor(s, subj)
	if !ok || !a.roleFact.Found {
		return nil
	}
	return []Finding{rolePolicies(a.role, a.roleFact, "assuming it works, but every AWS call the pod makes is denied")}
}

// rolePolicies judges whether a found role has permission policies at all;
// without any, consequence is what breaks.
func rolePolicies(role awsarn.RoleARN, r facts.Role, consequence string) Finding {
	obj := roleRef(role.String())
	if r.PoliciesErr != nil {
		return callUnknown(obj, "which permission policies the role has", r.PoliciesErr)
	}
	n := len(r.AttachedPolicyARNs) + len(r.InlinePolicyNames)
	evs := []Evidence{ev("attached policies", fmt.Sprint(len(r.AttachedPolicyARNs)), "iam:ListAttachedRolePolicies"), ev("inline policies", fmt.Sprint(len(r.InlinePolicyNames)), "iam:ListRolePolicies")}
	if n == 0 {
		return fail(obj, "The role has no permission policies: "+consequence, evs,
			"aws iam attach-role-policy --role-name "+role.Name+" --policy-arn <POLICY_ARN>")
	}
	return pass(obj, "The role has permission policies", evs...)
}

// runMemo holds what several checks of one Run share: a trust policy is
// parsed once per role and evaluated once per subject, so the cost of a run
// grows with distinct roles and subjects, not with the number of checks.
type runMemo struct {
	policies map[string]parsedPolicy
	trust    map[*facts.Subject]trustResult
	// trail is the CloudTrail index, built on first use (checks_cloudtrail.go).
	trail *trailMemo
}

type parsedPolicy struct {
	policy *iampolicy.Policy
	err    error
}

type trustResult struct {
	a  awsSubject
	d  iampolicy.TrustDiagnosis
	f  []Finding
	ok bool
}

func newRunMemo() *runMemo {
	return &runMemo{policies: map[string]parsedPolicy{}, trust: map[*facts.Subject]trustResult{}}
}

// trustDiagnosis evaluates the role's trust policy for the subject.
func trustDiagnosis(s *Input, subj *facts.Subject) (awsSubject, iampolicy.TrustDiagnosis, []Finding, bool) {
	if s.memo == nil {
		s.memo = newRunMemo()
	}
	if r, ok := s.memo.trust[subj]; ok {
		return r.a, r.d, r.f, r.ok
	}
	r := computeTrust(s, subj)
	s.memo.trust[subj] = r
	return r.a, r.d, r.f, r.ok
}

func computeTrust(s *Input, subj *facts.Subject) (r trustResult) {
	a, _, ok := awsFor(s, subj)
	r.a = a
	if !ok || !a.roleFact.Found || a.provider == "" {
		return r
	}
	obj := roleRef(a.role.String())
	pp, seen := s.memo.policies[a.role.String()]
	if !seen {
		pp.policy, pp.err = iampolicy.Parse(a.roleFact.TrustPolicy)
		s.memo.policies[a.role.String()] = pp
	}
	if pp.err != nil {
		r.f = []Finding{fail(obj, "The role's trust policy cannot be parsed: "+pp.err.Error(), nil, "fix the trust policy JSON")}
		return r
	}
	aud, _ := facts.TokenAudience(subj)
	is, _ := awsarn.ParseIssuer(a.issuer)
	r.d = iampolicy.DiagnoseTrust(pp.policy, iampolicy.Expectation{ProviderARN: a.provider, IssuerHostPath: is.HostPath, Subject: subjectString(subj), Audience: aud})
	r.ok = true
	return r
}

func problemEvidence(p iampolicy.Problem) []Evidence {
	src := "iam:GetRole AssumeRolePolicyDocument"
	if p.StatementIndex >= 0 {
		src += fmt.Sprintf(" Statement[%d]", p.StatementIndex)
	}
	evs := []Evidence{ev("cause", string(p.Kind), src)}
	if p.Key != "" {
		evs = append(evs, ev("key", p.Key, src))
	}
	if p.Expected != "" {
		evs = append(evs, ev("expected", p.Expected, "the pod's token"))
	}
	if p.Found != "" {
		evs = append(evs, ev("found", p.Found, src))
	}
	return evs
}

// ProblemSentence is a trust-policy problem as a finding says it, naming
// its statement.
func ProblemSentence(p iampolicy.Problem) string {
	s := p.Detail
	if s == "" {
		s = string(p.Kind)
	}
	if p.StatementIndex >= 0 {
		s += fmt.Sprintf(" (statement %d)", p.StatementIndex)
	}
	return s
}

// CompactJSON puts a policy or statement on one line for a table cell.
func CompactJSON(s string) string {
	var v any
	if json.Unmarshal([]byte(s), &v) != nil {
		return s
	}
	b, err := json.Marshal(v)
	if err != nil {
		return s
	}
	return string(b)
}

// prettyJSON indents a policy document for reading; a document that does
// not parse is returned as it is.
func prettyJSON(s string) string {
	var b bytes.Buffer
	if json.Indent(&b, []byte(s), "", "  ") != nil {
		return s
	}
	return b.String()
}

// trustPolicyEvidence is the role's whole trust policy, decoded and
// indented, so a trust finding can be read without aws iam get-role.
func trustPolicyEvidence(a awsSubject) Evidence {
	return ev("trust policy", prettyJSON(a.roleFact.TrustPolicy), "iam:GetRole AssumeRolePolicyDocument, URL-decoded")
}

func checkTrustAllows(s *Input, subj *facts.Subject) []Finding {
	a, d, pre, ok := trustDiagnosis(s, subj)
	if !ok {
		return pre
	}
	obj := roleRef(a.role.String())
	if d.Decision == iampolicy.DecisionAllow {
		return []Finding{pass(obj, "The trust policy lets "+subjectString(subj)+" assume the role")}
	}
	msg := "The trust policy does not let " + subjectString(subj) + " assume the role"
	var evs []Evidence
	for i, p := range d.Problems {
		if i == 0 {
			msg += ": " + ProblemSentence(p)
		}
		evs = append(evs, problemEvidence(p)...)
	}
	fix := "add this statement to the role's trust policy (aws iam update-assume-role-policy --role-name " + a.role.Name + " --policy-document file://trust.json): " + CompactJSON(d.SuggestedStatement)
	return []Finding{fail(obj, msg, append(evs, trustPolicyEvidence(a)), fix)}
}

// securitySeverity maps the security grades of docs/behaviour.md#trust-policy-security
// onto finding severities.
func securitySeverity(k iampolicy.ProblemKind) Severity {
	switch k.Severity() {
	case iampolicy.SeverityCritical, iampolicy.SeverityHigh:
		return SeverityError
	case iampolicy.SeverityMedium:
		return SeverityWarning
	}
	return SeverityInfo
}

func checkTrustSecurity(s *Input, subj *facts.Subject) []Finding {
	a, d, _, ok := trustDiagnosis(s, subj)
	if !ok {
		return nil
	}
	obj := roleRef(a.role.String())
	if len(d.Security) == 0 {
		return []Finding{pass(obj, "The trust policy admits only this service account")}
	}
	var out []Finding
	for _, p := range d.Security {
		f := fail(obj, "Trust policy risk ("+string(p.Kind.Severity())+"): "+ProblemSentence(p), append(problemEvidence(p), trustPolicyEvidence(a)),
			"narrow the statement to exactly this service account: "+CompactJSON(d.SuggestedStatement))
		f.Severity = securitySeverity(p.Kind)
		out = append(out, f)
	}
	return out
}

func checkTrustDefects(s *Input, subj *facts.Subject) []Finding {
	a, d, _, ok := trustDiagnosis(s, subj)
	if !ok || d.Decision != iampolicy.DecisionAllow {
		return nil // when denied, IRSA-TRUST-001 lists every problem
	}
	obj := roleRef(a.role.String())
	var out []Finding
	for _, p := range d.Problems {
		out = append(out, fail(obj, "The pod is allowed, but a statement for this provider is broken: "+ProblemSentence(p), append(problemEvidence(p), trustPolicyEvidence(a)),
			"fix the statement; this is what a working one looks like: "+CompactJSON(d.SuggestedStatement)))
	}
	return out
}

func init() {
	register(Check{ID: "IRSA-OIDC-003", Severity: SeverityError, Title: "The provider's thumbprints fit the issuer's served TLS chain",
		LooksAt: "the TLS chains of the issuer and jwks_uri hosts (last certificate served), the provider's ThumbprintList",
		Run:     checkThumbprint})
}

func checkThumbprint(s *Input, subj *facts.Subject) []Finding {
	a, _, ok := awsFor(s, subj)
	if !ok || a.provider == "" || !s.AWS.Providers[a.provider].Found || s.AWS.TLS == nil {
		return nil
	}
	tls, provider := s.AWS.TLS, s.AWS.Providers[a.provider]
	obj := ObjectRef{Kind: "OIDCProvider", Name: a.provider}
	evList := ev("provider thumbprints", strings.Join(provider.Thumbprints, ", "), "iam:GetOpenIDConnectProvider")
	if tls.Err != "" && len(tls.Report.Hosts) == 0 {
		return []Finding{unknown(obj, "Could not read the issuer's TLS chain: "+tls.Err, "run kubectl irsa thumbprint for details; check HTTPS_PROXY/NO_PROXY",
			ev("verdict", "", "kubectl irsa thumbprint"), evList)}
	}
	// The same verdict function as `kubectl irsa thumbprint`.
	v := thumbprint.JudgeProvider(tls.Report, a.provider, true, provider.Thumbprints, facts.DefaultAudience)
	evs := []Evidence{ev("verdict", string(v.Verdict), "kubectl irsa thumbprint")}
	if tls.Report.Thumbprint != "" {
		evs = append(evs, ev("served thumbprint", tls.Report.Thumbprint, "TLS chain of the jwks_uri host"))
	}
	evs = append(evs, evList)
	sev := Severity(v.Severity)
	if sev == SeverityError || sev == SeverityWarning {
		fix := v.Fix
		if fix != "" {
			fix += "  # or: kubectl irsa thumbprint --update"
		}
		f := fail(obj, v.Message, evs, fix)
		f.Severity = sev
		return []Finding{f}
	}
	return []Finding{pass(obj, v.Message, evs...)}
}
