package fakeaws

import (
	"encoding/json"
	"fmt"
	"strings"
)

// This is the emulator's own, deliberately small trust-policy evaluator. It
// is written from IAM's documented semantics (docs/behaviour.md#condition-operators, #principal-and-action) and
// shares no code with pkg/iampolicy, so that an end-to-end test can catch the
// product and the emulator disagreeing.

// trustRequest is what STS evaluates a trust policy against. Exactly one
// kind of principal is set: federated (AssumeRoleWithWebIdentity), service
// (EKS Pod Identity assumes roles as pods.eks.amazonaws.com) or aws (a role
// session assuming the next role of a chain).
type trustRequest struct {
	action    string
	federated string
	service   string
	// aws is the ARN of the calling role; a policy may name that role, its
	// account's root or the bare account ID.
	aws string
	// keys are condition keys, lower-cased (IAM key names are
	// case-insensitive), with their values; a missing key is absent.
	keys map[string][]string
}

// stringOrList decodes a JSON string or array of strings (and, for
// condition values, booleans and numbers, which IAM compares as text).
type stringOrList []string

func (l *stringOrList) UnmarshalJSON(b []byte) error {
	var raw any
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	one := func(v any) (string, error) {
		switch x := v.(type) {
		case string:
			return x, nil
		case bool, float64:
			return fmt.Sprint(x), nil
		}
		return "", fmt.Errorf("unsupported policy value %v", v)
	}
	switch x := raw.(type) {
	case []any:
		for _, v := range x {
			s, err := one(v)
			if err != nil {
				return err
			}
			*l = append(*l, s)
		}
	default:
		s, err := one(x)
		if err != nil {
			return err
		}
		*l = stringOrList{s}
	}
	return nil
}

// principal is "*" or a map of principal types to ARNs.
type principal struct {
	any   bool
	typed map[string]stringOrList
}

func (p *principal) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		if s != "*" {
			return fmt.Errorf("principal %q", s)
		}
		p.any = true
		return nil
	}
	return json.Unmarshal(b, &p.typed)
}

func (p *principal) matches(rc trustRequest) bool {
	if p == nil {
		return false
	}
	if p.any {
		return true
	}
	for typ, vals := range p.typed {
		for _, v := range vals {
			switch {
			// {"AWS": "*"} is documented as the same as "*".
			case v == "*" && strings.EqualFold(typ, "AWS"):
				return true
			case strings.EqualFold(typ, "Federated") && rc.federated != "" && v == rc.federated:
				return true
			case strings.EqualFold(typ, "Service") && rc.service != "" && v == rc.service:
				return true
			case strings.EqualFold(typ, "AWS") && rc.aws != "" && awsPrincipalMatches(v, rc.aws):
				return true
			}
		}
	}
	return false
}

// awsPrincipalMatches: an AWS principal names the role itself, or its
// account as root ARN or bare ID. Naming the account hands the decision to
// the caller's own identity policies, which the emulator does not model: it
// counts as a match.
func awsPrincipalMatches(v, roleARN string) bool {
	if v == roleARN {
		return true
	}
	acct := accountOf(roleARN)
	if acct == "" {
		return false
	}
	partition := strings.SplitN(roleARN, ":", 3)[1]
	return v == acct || v == "arn:"+partition+":iam::"+acct+":root"
}

type policyStatement struct {
	Effect       string                             `json:"Effect"`
	Principal    *principal                         `json:"Principal"`
	NotPrincipal *principal                         `json:"NotPrincipal"`
	Action       stringOrList                       `json:"Action"`
	NotAction    stringOrList                       `json:"NotAction"`
	Condition    map[string]map[string]stringOrList `json:"Condition"`
}

type statements []policyStatement

func (s *statements) UnmarshalJSON(b []byte) error {
	var one policyStatement
	if err := json.Unmarshal(b, &one); err == nil && strings.HasPrefix(strings.TrimSpace(string(b)), "{") {
		*s = statements{one}
		return nil
	}
	var many []policyStatement
	if err := json.Unmarshal(b, &many); err != nil {
		return err
	}
	*s = many
	return nil
}

// evaluateTrust reports whether the policy allows the request: some Allow
// statement matches and no Deny statement does (explicit Deny wins, default
// deny otherwise).
func evaluateTrust(doc string, rc trustRequest) (bool, error) {
	var pol struct {
		Statement statements `json:"Statement"`
	}
	if err := json.Unmarshal([]byte(doc), &pol); err != nil {
		return false, fmt.Errorf("parse trust policy: %w", err)
	}
	allowed := false
	for _, st := range pol.Statement {
		if !st.matches(rc) {
			continue
		}
		switch st.Effect {
		case "Deny":
			return false, nil
		case "Allow":
			allowed = true
		}
	}
	return allowed, nil
}

func (st policyStatement) matches(rc trustRequest) bool {
	switch {
	case st.Principal != nil:
		if !st.Principal.matches(rc) {
			return false
		}
	case st.NotPrincipal != nil:
		if st.NotPrincipal.matches(rc) {
			return false
		}
	default:
		return false
	}
	switch {
	case len(st.Action) > 0:
		if !anyGlob(st.Action, rc.action, true) {
			return false
		}
	case len(st.NotAction) > 0:
		if anyGlob(st.NotAction, rc.action, true) {
			return false
		}
	default:
		return false
	}
	for op, kv := range st.Condition {
		for key, vals := range kv {
			if !conditionHolds(op, rc.keys[strings.ToLower(key)], vals) {
				return false
			}
		}
	}
	return true
}

// conditionHolds evaluates one operator over one key: values within the key
// are ORed by the caller's loop being per key, keys and operators ANDed.
func conditionHolds(op string, req, pol []string) bool {
	set := ""
	if q, rest, ok := strings.Cut(op, ":"); ok {
		set, op = q, rest
	}
	ifExists := strings.HasSuffix(op, "IfExists")
	op = strings.TrimSuffix(op, "IfExists")

	if op == "Null" {
		// "true": the key must be absent; "false": present.
		for _, v := range pol {
			if (v == "true") == (len(req) == 0) {
				return true
			}
		}
		return false
	}
	negated, match, ok := stringOperator(op)
	if !ok {
		// An operator this evaluator does not know cannot be satisfied.
		return false
	}
	matchesAny := func(r string) bool {
		for _, p := range pol {
			if match(p, r) {
				return true
			}
		}
		return false
	}

	switch set {
	case "ForAllValues":
		// Vacuously true for a missing or empty key, which is why IAM warns
		// against it with Allow.
		for _, r := range req {
			if matchesAny(r) == negated {
				return false
			}
		}
		return true
	case "ForAnyValue":
		if len(req) == 0 {
			return ifExists
		}
		for _, r := range req {
			if matchesAny(r) != negated {
				return true
			}
		}
		return false
	case "":
		if len(req) == 0 {
			// A missing key fails a positive operator and satisfies a
			// negated one; IfExists makes it pass either way.
			return ifExists || negated
		}
		hit := false
		for _, r := range req {
			if matchesAny(r) {
				hit = true
				break
			}
		}
		return hit != negated
	default:
		return false
	}
}

// stringOperator returns the positive matcher of a string operator and
// whether the operator negates it.
func stringOperator(op string) (negated bool, match func(policy, value string) bool, ok bool) {
	switch op {
	case "StringEquals":
		return false, func(p, v string) bool { return p == v }, true
	case "StringNotEquals":
		return true, func(p, v string) bool { return p == v }, true
	case "StringEqualsIgnoreCase":
		return false, strings.EqualFold, true
	case "StringNotEqualsIgnoreCase":
		return true, strings.EqualFold, true
	case "StringLike":
		return false, func(p, v string) bool { return glob(p, v, false) }, true
	case "StringNotLike":
		return true, func(p, v string) bool { return glob(p, v, false) }, true
	// ARN operators, for aws:SourceArn in Pod Identity trust policies.
	case "ArnEquals", "ArnLike":
		return false, arnMatch, true
	case "ArnNotEquals", "ArnNotLike":
		return true, arnMatch, true
	}
	return false, nil, false
}

// arnMatch compares an ARN the way IAM's Arn operators do: the six
// colon-separated parts one by one, each with wildcards, so a * never spans
// a colon (ArnEquals and ArnLike behave the same).
func arnMatch(pattern, value string) bool {
	pp, vp := strings.SplitN(pattern, ":", 6), strings.SplitN(value, ":", 6)
	if len(pp) != 6 || len(vp) != 6 {
		return false
	}
	for i := range pp {
		if !glob(pp[i], vp[i], false) {
			return false
		}
	}
	return true
}

func anyGlob(patterns []string, v string, fold bool) bool {
	for _, p := range patterns {
		if glob(p, v, fold) {
			return true
		}
	}
	return false
}

// glob matches IAM wildcards: * any run of characters, ? exactly one.
func glob(pattern, s string, fold bool) bool {
	if fold {
		pattern, s = strings.ToLower(pattern), strings.ToLower(s)
	}
	p, v := []rune(pattern), []rune(s)
	// Iterative matcher with single-star backtracking.
	pi, vi, star, mark := 0, 0, -1, 0
	for vi < len(v) {
		switch {
		case pi < len(p) && (p[pi] == '?' || p[pi] == v[vi]):
			pi++
			vi++
		case pi < len(p) && p[pi] == '*':
			star, mark = pi, vi
			pi++
		case star >= 0:
			pi = star + 1
			mark++
			vi = mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}
