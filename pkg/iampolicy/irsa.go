package iampolicy

import (
	"cmp"
	"slices"
	"strings"
)

// ActionAssumeRoleWithWebIdentity is the action an IRSA pod's SDK performs.
const ActionAssumeRoleWithWebIdentity = "sts:AssumeRoleWithWebIdentity"

// Expectation describes the AssumeRoleWithWebIdentity call a real pod makes.
type Expectation struct {
	// ProviderARN is arn:<partition>:iam::<account>:oidc-provider/<host/path>,
	// the provider in the role's account.
	ProviderARN string
	// IssuerHostPath is the provider URL without scheme, e.g.
	// oidc.eks.us-west-2.amazonaws.com/id/ABC. A leading https:// or a trailing
	// slash is tolerated; when empty it is taken from ProviderARN.
	IssuerHostPath string
	// Subject is system:serviceaccount:<namespace>:<name>.
	Subject string
	// Audience is the pod token's audience, e.g. sts.amazonaws.com. Empty
	// means the token's audience is unknown, and the :aud key is missing.
	Audience string
}

// TrustDiagnosis explains the outcome of a trust policy for one service
// account. Problems explain a denial (and list real defects found on the
// way), best explanation first; Security lists risky trust that matters even
// when the pod is allowed (docs/behaviour.md#trust-policy-security).
type TrustDiagnosis struct {
	Decision           Decision  `json:"decision"`
	Result             Result    `json:"result"`
	Problems           []Problem `json:"problems,omitempty"`
	Security           []Problem `json:"security,omitempty"`
	SuggestedStatement string    `json:"suggestedStatement,omitempty"`
}

// Problem is one finding. StatementIndex is -1 when no single statement is to
// blame. Key is the condition key (or "Principal.Federated", "Action"),
// Expected what a working policy has there, Found what this one has.
type Problem struct {
	Kind           ProblemKind `json:"kind"`
	StatementIndex int         `json:"statementIndex"`
	Key            string      `json:"key,omitempty"`
	Expected       string      `json:"expected,omitempty"`
	Found          string      `json:"found,omitempty"`
	Detail         string      `json:"detail,omitempty"`
}

// DiagnoseTrust evaluates the trust policy against the request a pod makes
// (docs/behaviour.md#sts-validation-order step 8) and explains the result. It never panics; a nil
// policy is a policy without statements.
func DiagnoseTrust(p *Policy, exp Expectation) TrustDiagnosis {
	d := newTrustDiagnoser(p, exp)
	diag := TrustDiagnosis{
		Decision:           d.result.Decision,
		Result:             d.result,
		Problems:           d.functionalProblems(),
		Security:           d.securityProblems(),
		SuggestedStatement: SuggestedStatement(exp),
	}
	return diag
}

// trustDiagnoser holds what every check needs: the normalised expectation,
// the request context and the evaluation result.
type trustDiagnoser struct {
	policy         *Policy
	exp            Expectation
	host           string
	subKey, audKey string
	namespace      string
	serviceAccount string
	ctx            requestContext
	result         Result
}

func newTrustDiagnoser(p *Policy, exp Expectation) *trustDiagnoser {
	if p == nil {
		p = &Policy{}
	}
	host := exp.issuerHost()
	d := &trustDiagnoser{policy: p, exp: exp, host: host, subKey: host + ":sub", audKey: host + ":aud"}
	d.namespace, d.serviceAccount, _ = parseSubject(exp.Subject)
	req := trustRequestFor(exp, host)
	d.ctx = requestContext{values: req.Context, variables: p.Version == policyVariablesVersion}
	d.result = p.Evaluate(req)
	return d
}

// TrustRequest is the request a pod makes: the provider as Federated
// principal, sts:AssumeRoleWithWebIdentity, and the token's sub and aud under
// "<issuer host/path>:sub" and ":aud" (docs/behaviour.md#trust-policy-condition-keys). No other claim is a
// condition key for an EKS token.
func TrustRequest(exp Expectation) Request {
	return trustRequestFor(exp, exp.issuerHost())
}

// issuerHost is IssuerHostPath without scheme or trailing slash, or the
// issuer named by ProviderARN when IssuerHostPath is empty.
func (exp Expectation) issuerHost() string {
	host := normalizeIssuer(exp.IssuerHostPath)
	if host == "" {
		if arn, ok := parseProviderARN(exp.ProviderARN); ok {
			host = arn.issuer
		}
	}
	return host
}

func trustRequestFor(exp Expectation, host string) Request {
	ctx := map[string][]string{}
	if exp.Subject != "" {
		ctx[host+":sub"] = []string{exp.Subject}
	}
	if exp.Audience != "" {
		ctx[host+":aud"] = []string{exp.Audience}
	}
	return Request{
		PrincipalType: PrincipalFederated,
		Principal:     exp.ProviderARN,
		Action:        ActionAssumeRoleWithWebIdentity,
		Context:       ctx,
	}
}

// rankedProblem carries the sort keys that put the best explanation first.
type rankedProblem struct {
	Problem
	// tier: 0 explicit deny, 1 principal/action, 2 explains a failed
	// condition, 3 other defect, 4 warning.
	tier int
	// failing is how many conditions of the statement failed: the statement
	// closest to matching is most likely the one the user meant.
	failing int
}

func sortProblems(ranked []rankedProblem) []Problem {
	slices.SortStableFunc(ranked, func(a, b rankedProblem) int {
		return cmp.Or(
			cmp.Compare(a.tier, b.tier),
			cmp.Compare(a.failing, b.failing),
			cmp.Compare(a.Kind.rank(), b.Kind.rank()),
			cmp.Compare(a.StatementIndex, b.StatementIndex),
			strings.Compare(a.Key, b.Key),
			strings.Compare(a.Found, b.Found),
			strings.Compare(a.Detail, b.Detail),
		)
	})
	return dedupe(ranked)
}

// dedupe keeps the first (best-ranked) copy of each problem.
func dedupe(ranked []rankedProblem) []Problem {
	var out []Problem
	seen := map[Problem]bool{}
	for _, r := range ranked {
		if seen[r.Problem] {
			continue
		}
		seen[r.Problem] = true
		out = append(out, r.Problem)
	}
	return out
}
