package iampolicy

import (
	"slices"
	"strings"
)

// policyVariablesVersion is the only policy language version in which IAM
// substitutes ${...} policy variables; in "2008-10-17" they are literal text.
const policyVariablesVersion = "2012-10-17"

// Evaluate decides req against the policy the way IAM does (docs/behaviour.md#condition-operators):
// an applicable Deny wins, otherwise an applicable Allow grants, otherwise
// the request is implicitly denied. Every statement and every condition is
// evaluated, even after the outcome is known, so the result can explain it.
// A nil policy denies implicitly.
func (p *Policy) Evaluate(req Request) Result {
	if p == nil {
		return Result{Decision: DecisionImplicitDeny, Statements: []StatementResult{}}
	}
	ctx := requestContext{values: req.Context, variables: p.Version == policyVariablesVersion}
	res := Result{Decision: DecisionImplicitDeny, Statements: make([]StatementResult, 0, len(p.Statements))}
	allowed, denied := false, false
	for i := range p.Statements {
		sr := p.Statements[i].evaluate(req, &ctx)
		if sr.Applies {
			switch sr.Effect {
			case EffectDeny:
				denied = true
			case EffectAllow:
				allowed = true
			}
		}
		res.Statements = append(res.Statements, sr)
	}
	switch {
	case denied:
		res.Decision = DecisionExplicitDeny
	case allowed:
		res.Decision = DecisionAllow
	}
	return res
}

func (s *Statement) evaluate(req Request, ctx *requestContext) StatementResult {
	sr := StatementResult{
		Index:           s.Index,
		Sid:             s.Sid,
		Effect:          s.Effect,
		PrincipalMatch:  s.principalMatches(req.PrincipalType, req.Principal),
		ActionMatch:     s.actionMatches(req.Action),
		ConditionsMatch: true,
	}
	if len(s.Conditions) > 0 {
		sr.Conditions = make([]ConditionResult, 0, len(s.Conditions))
	}
	for _, c := range s.Conditions {
		cr := evaluateCondition(c, ctx)
		if !cr.Matched {
			sr.ConditionsMatch = false
		}
		sr.Conditions = append(sr.Conditions, cr)
	}
	sr.Applies = sr.PrincipalMatch && sr.ActionMatch && sr.ConditionsMatch
	return sr
}

// principalMatches implements Principal and NotPrincipal (docs/behaviour.md#principal-and-action).
// Principal values are compared exactly: IAM stores Federated provider ARNs
// and service names verbatim. The exception is an account in Principal.AWS
// (its root ARN or a bare 12-digit id), which delegates to the account and so
// matches every principal in it. NotPrincipal stays exact: AWS checks the
// account, the role and the session there one by one, so an account alone
// does not exempt its roles. A statement with neither element is the
// identity-policy form, where the principal is implicit, so it matches.
func (s *Statement) principalMatches(principalType, principal string) bool {
	switch {
	case s.Principal != nil:
		return s.Principal.matches(principalType, principal, true)
	case s.NotPrincipal != nil:
		return !s.NotPrincipal.matches(principalType, principal, false)
	default:
		return true
	}
}

func (p *Principal) matches(principalType, principal string, delegate bool) bool {
	if p.Wildcard {
		return true
	}
	values := p.values(principalType)
	if slices.Contains(values, principal) {
		return true
	}
	if !delegate || principalType != PrincipalAWS {
		return false
	}
	return slices.ContainsFunc(values, func(v string) bool { return accountCovers(v, principal) })
}

// accountCovers reports whether the Principal.AWS value names an account
// (arn:PARTITION:iam::ACCOUNT:root, or the bare ACCOUNT, which IAM turns into
// the root ARN of the policy's own partition) that principal belongs to:
// an IAM or STS ARN of that account, such as
// arn:PARTITION:iam::ACCOUNT:role/PATH/NAME,
// arn:PARTITION:sts::ACCOUNT:assumed-role/NAME/SESSION, a user or the root
// (docs/behaviour.md#principal-and-action). A bare id matches the account in
// any partition, because the policy's partition is not known here.
func accountCovers(value, principal string) bool {
	partition, account := "", value
	if !isAccountID(value) {
		a, ok := splitPrincipalARN(value)
		if !ok || a[2] != "iam" || a[5] != "root" {
			return false
		}
		partition, account = a[1], a[4]
	}
	p, ok := splitPrincipalARN(principal)
	return ok && (p[2] == "iam" || p[2] == "sts") && p[4] == account && (partition == "" || p[1] == partition)
}

// splitPrincipalARN cuts an IAM or STS principal ARN into its six
// components: "arn", a partition, a service, no region, a 12-digit account
// and a non-empty resource.
func splitPrincipalARN(s string) ([6]string, bool) {
	var a [6]string
	parts := strings.SplitN(s, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[1] == "" || parts[3] != "" || !isAccountID(parts[4]) || parts[5] == "" {
		return a, false
	}
	copy(a[:], parts)
	return a, true
}

func isAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func (p *Principal) values(principalType string) []string {
	switch principalType {
	case PrincipalFederated:
		return p.Federated
	case PrincipalAWS:
		return p.AWS
	case PrincipalService:
		return p.Service
	case PrincipalCanonicalUser:
		return p.CanonicalUser
	}
	return nil
}

// actionMatches implements Action and NotAction: IAM action names are
// case-insensitive and support '*' and '?' (docs/behaviour.md#principal-and-action), so
// "sts:AssumeRole*" matches sts:AssumeRoleWithWebIdentity but "sts:AssumeRole"
// does not. A statement with neither element matches no action.
func (s *Statement) actionMatches(action string) bool {
	if s.NotActions != nil {
		return !anyActionMatches(s.NotActions, action)
	}
	return anyActionMatches(s.Actions, action)
}

func anyActionMatches(patterns []string, action string) bool {
	for _, pattern := range patterns {
		if globMatch(pattern, action, globOptions{wildcards: true, foldCase: true}) {
			return true
		}
	}
	return false
}

// requestContext looks condition keys up case-insensitively and resolves
// policy variables.
type requestContext struct {
	values    map[string][]string
	variables bool
}

// lookup returns the values of key. When several context keys differ only
// in case they are one IAM key, so their values are merged, in sorted key
// order to stay deterministic.
func (c *requestContext) lookup(key string) []string {
	var found []string
	var keys []string
	for k := range c.values {
		if strings.EqualFold(k, key) {
			keys = append(keys, k)
		}
	}
	switch len(keys) {
	case 0:
		return nil
	case 1:
		return c.values[keys[0]]
	}
	slices.Sort(keys)
	for _, k := range keys {
		found = append(found, c.values[k]...)
	}
	return found
}

// resolve returns a single-valued key's value for ${key} substitution; IAM
// cannot substitute a multivalued key.
func (c *requestContext) resolve(name string) (string, bool) {
	v := c.lookup(name)
	if len(v) != 1 {
		return "", false
	}
	return v[0], true
}
