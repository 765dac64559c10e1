package iampolicy

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// securityProblems flags trust that is wider than one service account
// (docs/behaviour.md#trust-policy-security, S1–S6). It looks at every Allow statement that would
// let this provider call sts:AssumeRoleWithWebIdentity, whether or not it
// admits this particular pod: a statement written for another service
// account can still be too broad.
func (d *trustDiagnoser) securityProblems() []Problem {
	var out []rankedProblem
	for i, s := range d.policy.Statements {
		sr := d.result.Statements[i]
		if s.Effect != EffectAllow || !sr.PrincipalMatch || !sr.ActionMatch || d.matchesNoToken(s) {
			continue
		}
		for _, p := range d.statementSecurity(s) {
			out = append(out, rankedProblem{Problem: p})
		}
	}
	slices.SortStableFunc(out, func(a, b rankedProblem) int {
		return cmp.Or(
			cmp.Compare(severityRank(a.Kind.Severity()), severityRank(b.Kind.Severity())),
			cmp.Compare(a.StatementIndex, b.StatementIndex),
			cmp.Compare(a.Kind.rank(), b.Kind.rank()),
			strings.Compare(a.Key, b.Key),
			strings.Compare(a.Found, b.Found),
		)
	})
	return dedupe(out)
}

// matchesNoToken reports whether a statement requires, with a string
// operator that is false on a missing key, a key that no token of this
// provider carries ("https://issuer:sub", the provider ARN as key, another
// issuer, a claim EKS tokens lack). StringEquals, StringLike and any
// ForAnyValue: form (IfExists included) are false on a missing key
// (docs/behaviour.md#condition-operators), so such a statement admits nobody: it is a functional
// problem (IRSA-TRUST-001), not a door left open, whatever its other
// conditions say.
func (d *trustDiagnoser) matchesNoToken(s Statement) bool {
	for _, c := range s.Conditions {
		op, ok := parseOperator(c.Operator)
		if !ok || op.trueWhenMissing() ||
			(op.compare != compareString && op.compare != compareStringFold && op.compare != compareLike) {
			continue
		}
		for _, p := range d.keyProblems(s.Index, c) {
			if p.Kind != KindKeyCaseDiffers {
				return true
			}
		}
	}
	return false
}

func severityRank(s Severity) int {
	return slices.Index([]Severity{SeverityCritical, SeverityHigh, SeverityMedium, SeverityLow}, s)
}

func (d *trustDiagnoser) statementSecurity(s Statement) []Problem {
	var out []Problem
	if s.Principal != nil && s.Principal.Wildcard {
		out = append(out, Problem{
			Kind: KindPrincipalWildcard, StatementIndex: s.Index, Key: "Principal",
			Expected: d.exp.ProviderARN, Found: "*",
			Detail: "any identity provider in any account is trusted; only the conditions stand between the role and everyone",
		})
	}
	subConstrained, audConstrained := false, false
	for _, c := range s.Conditions {
		op, ok := parseOperator(c.Operator)
		isSub := strings.EqualFold(c.Key, d.subKey)
		isAud := strings.EqualFold(c.Key, d.audKey)
		if !ok || (!isSub && !isAud) {
			continue
		}
		if op.set == setAllValues {
			expected := strings.TrimPrefix(c.Operator, "ForAllValues:")
			out = append(out, Problem{
				Kind: KindForAllValuesOnClaim, StatementIndex: s.Index, Key: c.Key,
				Expected: expected, Found: c.Operator,
				Detail: "ForAllValues is true when the key is missing; sub and aud are single-valued, use " + expected,
			})
		}
		// Only a positive string comparison narrows who can assume the
		// role; negated operators and Null exclude or test presence.
		positive := !op.negated && (op.compare == compareString || op.compare == compareStringFold || op.compare == compareLike)
		if !positive {
			continue
		}
		if isAud {
			// A pattern that admits any audience, such as "*", pins nothing.
			if !(op.compare == compareLike && anyAdmits(c.Values, "zz-probe-audience")) {
				audConstrained = true
			}
			continue
		}
		subConstrained = true
		for _, v := range c.Values {
			out = append(out, d.subValueSecurity(s.Index, c, op, v)...)
		}
	}
	if !subConstrained {
		out = append(out, Problem{
			Kind: KindNoSubCondition, StatementIndex: s.Index, Key: d.subKey, Expected: d.exp.Subject,
			Detail: "nothing constrains :sub, so every service account in the cluster can assume the role (S1)",
		})
	}
	if !audConstrained {
		out = append(out, Problem{
			Kind: KindMissingAudCondition, StatementIndex: s.Index, Key: d.audKey, Expected: d.exp.Audience,
			Detail: "nothing constrains :aud; pin it to the token audience (S6)",
		})
	}
	return out
}

// subValueSecurity classifies one trusted :sub value (S2–S5).
func (d *trustDiagnoser) subValueSecurity(index int, c Condition, op operator, value string) []Problem {
	problem := func(kind ProblemKind, detail string) Problem {
		return Problem{Kind: kind, StatementIndex: index, Key: c.Key, Expected: d.exp.Subject, Found: value, Detail: detail}
	}
	if op.compare != compareLike || !hasWildcard(value) {
		if _, sa, ok := parseSubject(value); ok && strings.EqualFold(sa, "default") {
			return []Problem{problem(KindDefaultServiceAccount, "every pod in the namespace without its own service account runs as default (S5)")}
		}
		return nil
	}
	var out []Problem
	namespaces, accounts := admittedSubjects(value)
	switch {
	case MatchLike(value, subjectPrefix+"zz-probe-namespace:zz-probe-account"):
		out = append(out, problem(KindSubWildcardAll, "any service account in any namespace can assume the role (S2)"))
	case len(namespaces) > 1:
		out = append(out, problem(KindNamespaceWildcard,
			"a service account of this name in another namespace can assume the role; anyone who can create namespaces or service accounts can squat it (S3)"))
	case len(accounts) > 1:
		out = append(out, problem(KindServiceAccountWildcard,
			fmt.Sprintf("every service account in namespace %q can assume the role (S4)", firstKey(namespaces))))
	}
	if len(accounts) == 1 && accounts["default"] {
		out = append(out, problem(KindDefaultServiceAccount, "every pod without its own service account runs as default (S5)"))
	}
	return out
}

// maxSubjectPatternBytes bounds the pattern-against-its-own-instance matching
// below, which is quadratic in the pattern length. A real subject is at most
// 22+63+1+253 bytes, so longer patterns are not worth classifying.
const maxSubjectPatternBytes = 4096

// admittedSubjects instantiates a StringLike pattern with a handful of
// fillers and collects the namespaces and service-account names of the
// subjects it admits. Two namespaces (or names) mean the wildcard spans
// them; MatchLike confirms each instance, so escapes are honoured.
func admittedSubjects(pattern string) (namespaces, accounts map[string]bool) {
	namespaces, accounts = map[string]bool{}, map[string]bool{}
	if len(pattern) > maxSubjectPatternBytes {
		return namespaces, accounts
	}
	fillers := []string{"", "a", "b", "a:b", "b:a", ":a", "a:", "zz"}
	for i, star := range fillers {
		one := "a"
		if i%2 == 1 {
			one = "b"
		}
		candidate := instantiate(pattern, star, one)
		if !MatchLike(pattern, candidate) {
			continue
		}
		if ns, sa, ok := parseSubject(candidate); ok {
			namespaces[ns] = true
			accounts[sa] = true
		}
	}
	return namespaces, accounts
}

// anyAdmits reports whether some pattern matches probe; the values of one
// key are ORed, so one universal pattern makes the whole condition universal.
func anyAdmits(patterns []string, probe string) bool {
	for _, p := range patterns {
		if MatchLike(p, probe) {
			return true
		}
	}
	return false
}

func firstKey(m map[string]bool) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if len(keys) == 0 {
		return ""
	}
	return keys[0]
}
