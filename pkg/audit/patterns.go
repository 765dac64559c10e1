package audit

import (
	"sort"
	"strings"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/facts"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/iampolicy"
)

// subjectPrefix starts the sub of every projected service-account token
// (docs/behaviour.md#projected-service-account-token).
const subjectPrefix = "system:serviceaccount:"

// PatternKind says what kind of subjects a trust statement admits
// (docs/audit.md#patterns).
type PatternKind string

// The pattern kinds, narrowest first.
const (
	// PatternServiceAccount: one service account (StringEquals, or a
	// StringLike value without a wildcard).
	PatternServiceAccount PatternKind = "serviceAccount"
	// PatternNamespace: every service account of one namespace
	// (system:serviceaccount:NS:*).
	PatternNamespace PatternKind = "namespace"
	// PatternWildcard: the service accounts a StringLike value matches.
	PatternWildcard PatternKind = "wildcard"
	// PatternCluster: every service account of the cluster
	// (system:serviceaccount:* and the like).
	PatternCluster PatternKind = "cluster"
	// PatternAnyToken: any token of the provider; nothing constrains :sub.
	PatternAnyToken PatternKind = "anyToken"
	// PatternAnyProvider: "Principal": "*" with nothing constraining :sub:
	// any token of any provider.
	PatternAnyProvider PatternKind = "anyProvider"
	// PatternOther: a :sub value that names no service account (not of the
	// form system:serviceaccount:NS:NAME); it admits no pod.
	PatternOther PatternKind = "other"
	// PatternExcept: a StringNotEquals or StringNotLike :sub value, which
	// takes subjects out of the others.
	PatternExcept PatternKind = "except"
)

// Pattern is one summarised set of subjects a statement admits.
type Pattern struct {
	Kind      PatternKind `json:"kind"`
	Namespace string      `json:"namespace,omitempty"`
	Name      string      `json:"name,omitempty"`
	// Value is the :sub value as written, when there is one.
	Value string `json:"value,omitempty"`
}

// String is the pattern as the table shows it: ns/name, ns/*, the
// wildcard value, */* for the whole cluster, "any token", "any provider".
func (p Pattern) String() string {
	switch p.Kind {
	case PatternServiceAccount:
		return p.Namespace + "/" + p.Name
	case PatternNamespace:
		return p.Namespace + "/*"
	case PatternCluster:
		return "*/*"
	case PatternAnyToken:
		return "any token"
	case PatternAnyProvider:
		return "any provider"
	case PatternExcept:
		inner := classify(p.Value, true)
		return "not " + inner.String()
	case PatternWildcard:
		// system:serviceaccount:team-*:app reads as team-*/app.
		if rest, ok := strings.CutPrefix(p.Value, subjectPrefix); ok {
			if ns, name, found := strings.Cut(rest, ":"); found && ns != "" && name != "" {
				return ns + "/" + name
			}
		}
	}
	return p.Value
}

// subCondition is a positive string comparison of :sub: the subject must
// equal (like=false) or match (like=true) one of values. Only these narrow
// who a statement admits; negated operators exclude and are left to the
// evaluator.
type subCondition struct {
	like   bool
	values []string
}

// positiveSubCondition returns the first condition of s that a request
// must satisfy by its :sub equalling or matching one of the values:
// StringEquals or StringLike, with or without IfExists (a token always
// carries sub) and with ForAnyValue:/ForAllValues: (sub is single-valued,
// so both then mean the same). Case-insensitive operators and operators the
// evaluator does not support are not used to narrow: they are left to the
// evaluator with every service account as a candidate.
func positiveSubCondition(s iampolicy.Statement, subKey string) (subCondition, bool) {
	for _, c := range s.Conditions {
		if !strings.EqualFold(c.Key, subKey) {
			continue
		}
		op := c.Operator
		op = strings.TrimPrefix(strings.TrimPrefix(op, "ForAnyValue:"), "ForAllValues:")
		op = strings.TrimSuffix(op, "IfExists")
		switch op {
		case "StringEquals":
			return subCondition{values: c.Values}, true
		case "StringLike":
			return subCondition{like: true, values: c.Values}, true
		}
	}
	return subCondition{}, false
}

// summarise turns a statement that applies to the provider into patterns.
func summarise(s iampolicy.Statement, subKey string) []Pattern {
	sc, ok := positiveSubCondition(s, subKey)
	if !ok {
		if s.Principal != nil && s.Principal.Wildcard {
			return append([]Pattern{{Kind: PatternAnyProvider}}, exclusions(s, subKey)...)
		}
		return append([]Pattern{{Kind: PatternAnyToken}}, exclusions(s, subKey)...)
	}
	out := make([]Pattern, 0, len(sc.values))
	for _, v := range sc.values {
		out = append(out, classify(v, sc.like))
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return append(out, exclusions(s, subKey)...)
}

// exclusions are the values of the statement's negated :sub conditions.
func exclusions(s iampolicy.Statement, subKey string) []Pattern {
	var out []Pattern
	for _, c := range s.Conditions {
		if !strings.EqualFold(c.Key, subKey) {
			continue
		}
		op := strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(c.Operator, "ForAnyValue:"), "ForAllValues:"), "IfExists")
		if op != "StringNotEquals" && op != "StringNotLike" {
			continue
		}
		for _, v := range c.Values {
			if op == "StringNotEquals" {
				v = strings.NewReplacer("*", "${*}", "?", "${?}").Replace(v)
			}
			out = append(out, Pattern{Kind: PatternExcept, Value: v})
		}
	}
	return out
}

// classify summarises one :sub value.
func classify(v string, like bool) Pattern {
	p := Pattern{Value: v}
	if !like || !hasWildcard(v) {
		lit := v
		if like {
			lit = unescapeLike(v)
		}
		ns, name, ok := facts.ParseServiceAccountSubject(lit)
		if !ok {
			p.Kind = PatternOther
			return p
		}
		p.Kind, p.Namespace, p.Name = PatternServiceAccount, ns, name
		return p
	}
	switch {
	case iampolicy.MatchLike(v, subjectPrefix+"zz-probe-namespace:zz-probe-account") &&
		iampolicy.MatchLike(v, subjectPrefix+"a:b"):
		p.Kind = PatternCluster
	default:
		rest, ok := strings.CutPrefix(v, subjectPrefix)
		ns, tail, found := strings.Cut(rest, ":")
		if ok && found && ns != "" && !hasWildcard(ns) && !strings.Contains(ns, "$") && tail == "*" {
			p.Kind, p.Namespace = PatternNamespace, ns
			return p
		}
		p.Kind = PatternWildcard
	}
	return p
}

// hasWildcard reports a StringLike wildcard, '*' or '?', outside the
// escapes ${*} and ${?}.
func hasWildcard(v string) bool {
	for i := 0; i < len(v); i++ {
		switch v[i] {
		case '*', '?':
			return true
		case '$':
			if strings.HasPrefix(v[i:], "${*}") || strings.HasPrefix(v[i:], "${?}") || strings.HasPrefix(v[i:], "${$}") {
				i += 3
			}
		}
	}
	return false
}

// unescapeLike turns IAM's escapes ${*}, ${?} and ${$} into the literal
// characters.
func unescapeLike(v string) string {
	return strings.NewReplacer("${*}", "*", "${?}", "?", "${$}", "$").Replace(v)
}

// literalPrefix is the part of a policy value that every subject it can
// admit starts with: up to the first wildcard (StringLike) or policy
// variable. Stopping at any '$' is safe: a shorter prefix only admits more
// candidates, which the evaluator then confirms.
func literalPrefix(v string, like bool) string {
	for i := 0; i < len(v); i++ {
		switch v[i] {
		case '$':
			return v[:i]
		case '*', '?':
			if like {
				return v[:i]
			}
		}
	}
	return v
}
