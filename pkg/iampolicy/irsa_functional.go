package iampolicy

import (
	"fmt"
	"slices"
	"strings"
)

// Problem tiers, best explanation first (see rankedProblem).
const (
	tierExplicitDeny = iota
	tierPrincipalOrAction
	tierFailedCondition
	tierDefect
	tierWarning
)

// functionalProblems explains a denial the way docs/behaviour.md#sts-validation-order step 8 would
// have to be read: AccessDenied has one message for every cause, so the cause
// is reconstructed here. Key defects in statements that name this provider
// are reported even when the pod is allowed, because they are real bugs
// (a negated condition on a broken key, for example, silently never fires).
func (d *trustDiagnoser) functionalProblems() []Problem {
	var ranked []rankedProblem
	for i, s := range d.policy.Statements {
		if s.Principal == nil || !slices.Contains(s.Principal.Federated, d.exp.ProviderARN) {
			continue
		}
		failing := failingConditions(d.result.Statements[i])
		for _, c := range s.Conditions {
			for _, p := range d.keyProblems(s.Index, c) {
				ranked = append(ranked, rankedProblem{Problem: p, tier: lintTier(p.Kind), failing: failing})
			}
		}
	}
	if d.result.Decision == DecisionExplicitDeny {
		for _, sr := range d.result.Statements {
			if sr.Applies && sr.Effect == EffectDeny {
				ranked = append(ranked, rankedProblem{tier: tierExplicitDeny, Problem: Problem{
					Kind:           KindExplicitDeny,
					StatementIndex: sr.Index,
					Expected:       "no applicable Deny",
					Found:          statementLabel(sr),
					Detail:         "a Deny statement matches the pod's request; an explicit Deny overrides every Allow",
				}})
			}
		}
	}
	if !d.anyAllowApplies() {
		ranked = append(ranked, d.denialProblems()...)
	}
	return sortProblems(ranked)
}

func lintTier(kind ProblemKind) int {
	if kind == KindKeyCaseDiffers {
		return tierWarning
	}
	return tierDefect
}

func (d *trustDiagnoser) anyAllowApplies() bool {
	for _, sr := range d.result.Statements {
		if sr.Applies && sr.Effect == EffectAllow {
			return true
		}
	}
	return false
}

// denialProblems walks the statements the way IAM narrows them down:
// principal, then action, then conditions, and reports the first stage at
// which every Allow statement drops out.
func (d *trustDiagnoser) denialProblems() []rankedProblem {
	var forProvider []int
	for i, sr := range d.result.Statements {
		if sr.Effect == EffectAllow && sr.PrincipalMatch {
			forProvider = append(forProvider, i)
		}
	}
	if len(forProvider) == 0 {
		return d.providerProblems()
	}
	var withAction []int
	for _, i := range forProvider {
		if d.result.Statements[i].ActionMatch {
			withAction = append(withAction, i)
		}
	}
	if len(withAction) == 0 {
		var out []rankedProblem
		for _, i := range forProvider {
			s := d.policy.Statements[i]
			out = append(out, rankedProblem{tier: tierPrincipalOrAction, Problem: Problem{
				Kind:           KindActionMissing,
				StatementIndex: s.Index,
				Key:            "Action",
				Expected:       ActionAssumeRoleWithWebIdentity,
				Found:          describeActions(s),
				Detail:         "IRSA calls sts:AssumeRoleWithWebIdentity; sts:AssumeRole does not cover it",
			}})
		}
		return out
	}
	var out []rankedProblem
	for _, i := range withAction {
		sr := d.result.Statements[i]
		failing := failingConditions(sr)
		for _, cr := range sr.Conditions {
			if cr.Matched {
				continue
			}
			for _, p := range d.conditionProblems(sr.Index, cr.Condition) {
				tier := tierFailedCondition
				if p.Kind == KindKeyCaseDiffers {
					tier = tierWarning
				}
				out = append(out, rankedProblem{Problem: p, tier: tier, failing: failing})
			}
		}
	}
	return out
}

// providerProblems reports the Federated principals that are present when
// none is this provider: another account, cluster, region or partition.
func (d *trustDiagnoser) providerProblems() []rankedProblem {
	var out []rankedProblem
	var others []string
	hasAllow := false
	for _, s := range d.policy.Statements {
		if s.Effect != EffectAllow {
			continue
		}
		hasAllow = true
		if s.Principal == nil {
			continue
		}
		others = append(others, describePrincipal(s.Principal)...)
		for _, arn := range s.Principal.Federated {
			out = append(out, rankedProblem{tier: tierPrincipalOrAction, Problem: Problem{
				Kind:           KindNoStatementForProvider,
				StatementIndex: s.Index,
				Key:            "Principal.Federated",
				Expected:       d.exp.ProviderARN,
				Found:          arn,
				Detail:         describeProviderDifference(arn, d.exp.ProviderARN),
			}})
			if token := findPlaceholder(arn); token != "" {
				out = append(out, rankedProblem{tier: tierPrincipalOrAction, Problem: Problem{
					Kind:           KindUnsubstitutedPlaceholder,
					StatementIndex: s.Index,
					Key:            "Principal.Federated",
					Expected:       d.exp.ProviderARN,
					Found:          arn,
					Detail:         fmt.Sprintf("placeholder %q was never substituted", token),
				}})
			}
		}
	}
	if len(out) > 0 {
		return out
	}
	detail := "the policy has no Allow statement"
	switch {
	case len(others) > 0:
		detail = "no Allow statement has a Federated principal; principals present: " + strings.Join(others, ", ")
	case hasAllow:
		detail = "no Allow statement's principal matches this provider"
	}
	return []rankedProblem{{tier: tierPrincipalOrAction, Problem: Problem{
		Kind:           KindNoStatementForProvider,
		StatementIndex: -1,
		Key:            "Principal.Federated",
		Expected:       d.exp.ProviderARN,
		Detail:         detail,
	}}}
}

// keyProblems lints one condition key of a statement for this provider
// (docs/behaviour.md#trust-policy-condition-keys "Common broken keys"). Global keys such as aws:SourceIp
// are not about the issuer and are left alone.
func (d *trustDiagnoser) keyProblems(index int, c Condition) []Problem {
	k := parseConditionKey(c.Key)
	placeholder := findPlaceholder(c.Key)
	if !k.refersToIssuer() && placeholder == "" {
		return nil
	}
	claim, supported := canonicalClaim(k.claim)
	expectedKey := d.host + ":" + claim
	problem := func(kind ProblemKind, detail string) Problem {
		return Problem{Kind: kind, StatementIndex: index, Key: c.Key, Expected: expectedKey, Found: c.Key, Detail: detail}
	}
	var out []Problem
	issuer := strings.TrimRight(k.issuer, "/")
	if placeholder != "" {
		out = append(out, problem(KindUnsubstitutedPlaceholder, fmt.Sprintf("placeholder %q was never substituted", placeholder)))
	} else {
		switch {
		case k.scheme != "":
			out = append(out, problem(KindKeyWithScheme, "condition keys use the provider URL without "+k.scheme))
		case k.arnPrefix != "":
			out = append(out, problem(KindKeyWithProviderARN, fmt.Sprintf("condition keys must be the provider URL (%s:%s), not the provider ARN", d.host, orClaim(k.claim))))
		case strings.HasSuffix(k.issuer, "/"):
			out = append(out, problem(KindKeyTrailingSlash, "the issuer part of the key must not end with '/'"))
		}
		if !strings.EqualFold(issuer, d.host) {
			out = append(out, problem(KindKeyOtherIssuer, describeIssuerDifference(issuer, d.host)))
		}
	}
	if !supported {
		detail := fmt.Sprintf("%q is not a condition key: IAM exposes only the sub, aud, amr and azp claims of an OIDC token", k.claim)
		if !k.hasClaim {
			detail = "the key has no claim after the issuer"
		}
		out = append(out, Problem{Kind: KindUnsupportedClaimKey, StatementIndex: index, Key: c.Key, Expected: d.host + ":sub", Found: c.Key, Detail: detail})
	}
	if len(out) == 0 && (issuer != d.host || k.claim != claim) {
		out = append(out, problem(KindKeyCaseDiffers, "IAM matches key names case-insensitively, but write the issuer exactly as the cluster reports it"))
	}
	return out
}

// conditionProblems explains one failed condition of an Allow statement for
// this provider. Every failed condition yields at least one problem.
func (d *trustDiagnoser) conditionProblems(index int, c Condition) []Problem {
	out := d.keyProblems(index, c)
	op, supported := parseOperator(c.Operator)
	if !supported {
		return append(out, Problem{
			Kind: KindUnsupportedOperator, StatementIndex: index, Key: c.Key, Found: c.Operator,
			Detail: "this operator is not evaluated; the condition is treated as false",
		})
	}
	k := parseConditionKey(c.Key)
	claim, claimSupported := canonicalClaim(k.claim)
	if !(k.refersToIssuer() || findPlaceholder(c.Key) != "") || !claimSupported {
		if len(out) > 0 {
			return out
		}
		return append(out, d.unmet(index, c, "the pod's request carries only the token's sub and aud keys"))
	}
	// Re-evaluate with the key written correctly: if it still fails, the
	// values are wrong too, and fixing the key alone will not help.
	fixed := Condition{Operator: c.Operator, Key: d.host + ":" + claim, Values: c.Values}
	if evaluateCondition(fixed, &d.ctx).Matched {
		if len(out) > 0 {
			return out
		}
		return append(out, d.unmet(index, c, ""))
	}
	switch claim {
	case "sub":
		return append(out, d.subValueProblem(index, c, op))
	case "aud":
		return append(out, d.audValueProblem(index, c, op))
	}
	return append(out, d.unmet(index, c, fmt.Sprintf("EKS service account tokens carry no %s claim", claim)))
}

func (d *trustDiagnoser) unmet(index int, c Condition, detail string) Problem {
	found := "(missing)"
	if v := d.ctx.lookup(c.Key); len(v) > 0 {
		found = strings.Join(v, ", ")
	}
	return Problem{
		Kind: KindConditionUnmet, StatementIndex: index, Key: c.Key,
		Expected: c.Operator + " " + strings.Join(c.Values, ", "), Found: found, Detail: detail,
	}
}

// claimValueProblem finds the value-level causes shared by sub and aud:
// placeholders, wildcards that StringEquals takes literally, and the value of
// the other claim.
func (d *trustDiagnoser) claimValueProblem(index int, c Condition, op operator, expected string, swapped func(string) bool, swapDetail string) (Problem, bool) {
	problem := func(kind ProblemKind, exp, found, detail string) (Problem, bool) {
		return Problem{Kind: kind, StatementIndex: index, Key: c.Key, Expected: exp, Found: found, Detail: detail}, true
	}
	for _, v := range c.Values {
		if token := findPlaceholder(v); token != "" {
			return problem(KindUnsubstitutedPlaceholder, expected, v, fmt.Sprintf("placeholder %q was never substituted", token))
		}
	}
	if op.negated {
		return Problem{}, false
	}
	if op.compare == compareString || op.compare == compareStringFold {
		for _, v := range c.Values {
			if hasWildcard(v) && MatchLike(v, expected) {
				return problem(KindWildcardUnderStringEquals, "StringLike", v,
					fmt.Sprintf("%s compares %q literally; under StringLike it would match %q", c.Operator, v, expected))
			}
		}
	}
	for _, v := range c.Values {
		if swapped(v) {
			return problem(KindAudSubSwapped, expected, v, swapDetail)
		}
	}
	return Problem{}, false
}

func (d *trustDiagnoser) subValueProblem(index int, c Condition, op operator) Problem {
	looksLikeAudience := func(v string) bool {
		return !strings.HasPrefix(v, subjectPrefix) && (v == d.exp.Audience || strings.Contains(v, "amazonaws.com"))
	}
	if p, ok := d.claimValueProblem(index, c, op, d.exp.Subject, looksLikeAudience,
		"the :sub key carries an audience; the audience belongs under :aud and the service account under :sub"); ok {
		return p
	}
	return Problem{
		Kind: KindSubMismatch, StatementIndex: index, Key: c.Key,
		Expected: d.exp.Subject, Found: strings.Join(c.Values, ", "),
		Detail: d.describeSubMismatch(c, op),
	}
}

func (d *trustDiagnoser) audValueProblem(index int, c Condition, op operator) Problem {
	looksLikeSubject := func(v string) bool { return strings.HasPrefix(v, subjectPrefix) }
	if p, ok := d.claimValueProblem(index, c, op, d.exp.Audience, looksLikeSubject,
		"the :aud key carries a service account; it belongs under :sub and the audience under :aud"); ok {
		return p
	}
	detail := "the token's audience is not among the allowed values"
	switch {
	case d.exp.Audience == "":
		detail = "the pod token's audience is unknown, so the :aud condition cannot be satisfied"
	case op.negated:
		detail = c.Operator + " excludes the token's audience"
	case slices.Contains(c.Values, "sts.amazonaws.com.cn"):
		detail = "the audience is sts.amazonaws.com in every partition, China included"
	}
	return Problem{
		Kind: KindAudMismatch, StatementIndex: index, Key: c.Key,
		Expected: d.exp.Audience, Found: strings.Join(c.Values, ", "), Detail: detail,
	}
}

// describeSubMismatch names the part that differs, for the value closest to
// the pod's subject.
func (d *trustDiagnoser) describeSubMismatch(c Condition, op operator) string {
	if op.negated {
		return c.Operator + " excludes this service account"
	}
	if d.exp.Subject == "" {
		return "the pod's service account is unknown"
	}
	best, bestScore := "", 3
	for _, v := range c.Values {
		if strings.EqualFold(v, d.exp.Subject) {
			return fmt.Sprintf("%q differs only in letter case; %s is case-sensitive", v, c.Operator)
		}
		if op.compare == compareLike && hasWildcard(v) {
			if bestScore > 2 {
				best, bestScore = fmt.Sprintf("the pattern %q does not match the pod's subject", v), 2
			}
			continue
		}
		ns, sa, ok := parseSubject(v)
		if !ok {
			if bestScore == 3 {
				best = fmt.Sprintf("%q is not of the form system:serviceaccount:<namespace>:<name>", v)
			}
			continue
		}
		score := 0
		var parts []string
		if ns != d.namespace {
			score++
			parts = append(parts, fmt.Sprintf("namespace %q, not the pod's %q", ns, d.namespace))
		}
		if sa != d.serviceAccount {
			score++
			parts = append(parts, fmt.Sprintf("service account %q, not the pod's %q", sa, d.serviceAccount))
		}
		if score < bestScore {
			best, bestScore = "the policy trusts "+strings.Join(parts, " and "), score
		}
	}
	return best
}

func failingConditions(sr StatementResult) int {
	n := 0
	for _, cr := range sr.Conditions {
		if !cr.Matched {
			n++
		}
	}
	return n
}

func statementLabel(sr StatementResult) string {
	if sr.Sid != "" {
		return fmt.Sprintf("%s statement %d (Sid %q)", sr.Effect, sr.Index, sr.Sid)
	}
	return fmt.Sprintf("%s statement %d", sr.Effect, sr.Index)
}

func describeActions(s Statement) string {
	if s.NotActions != nil {
		return "NotAction: " + strings.Join(s.NotActions, ", ")
	}
	if len(s.Actions) == 0 {
		return "(no action)"
	}
	return strings.Join(s.Actions, ", ")
}

func describePrincipal(p *Principal) []string {
	var out []string
	if p.Wildcard {
		out = append(out, "*")
	}
	for _, group := range []struct {
		name   string
		values []string
	}{{PrincipalAWS, p.AWS}, {PrincipalService, p.Service}, {PrincipalCanonicalUser, p.CanonicalUser}} {
		for _, v := range group.values {
			out = append(out, group.name+": "+v)
		}
	}
	return out
}

// orClaim is the key's claim, "sub" when it has none.
func orClaim(claim string) string {
	if claim == "" {
		return "sub"
	}
	return claim
}
