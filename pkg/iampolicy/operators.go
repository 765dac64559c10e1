package iampolicy

import (
	"slices"
	"strings"
)

// setQualifier is the optional ForAnyValue:/ForAllValues: prefix.
type setQualifier uint8

const (
	setNone setQualifier = iota
	setAnyValue
	setAllValues
)

type comparison uint8

const (
	compareString comparison = iota
	compareStringFold
	compareLike
	compareArn
	compareBool
	compareNull
)

// baseOperator is an operator without prefix or IfExists suffix.
type baseOperator struct {
	compare comparison
	// negated operators are true when no policy value matches, and also
	// when the key is missing (docs/behaviour.md#condition-operators).
	negated bool
}

var baseOperators = map[string]baseOperator{
	"StringEquals":              {compare: compareString},
	"StringNotEquals":           {compare: compareString, negated: true},
	"StringEqualsIgnoreCase":    {compare: compareStringFold},
	"StringNotEqualsIgnoreCase": {compare: compareStringFold, negated: true},
	"StringLike":                {compare: compareLike},
	"StringNotLike":             {compare: compareLike, negated: true},
	"ArnEquals":                 {compare: compareArn},
	"ArnLike":                   {compare: compareArn},
	"ArnNotEquals":              {compare: compareArn, negated: true},
	"ArnNotLike":                {compare: compareArn, negated: true},
	"Bool":                      {compare: compareBool},
	"Null":                      {compare: compareNull},
}

// operator is a parsed condition operator such as
// "ForAllValues:StringLikeIfExists".
type operator struct {
	baseOperator
	set      setQualifier
	ifExists bool
}

// parseOperator splits an operator into its parts; ok is false for anything
// this package does not implement (numeric, date and IP operators, or a
// misspelling), which evaluateCondition then treats as not matching.
func parseOperator(name string) (operator, bool) {
	var op operator
	rest := name
	if r, ok := strings.CutPrefix(rest, "ForAnyValue:"); ok {
		op.set, rest = setAnyValue, r
	} else if r, ok := strings.CutPrefix(rest, "ForAllValues:"); ok {
		op.set, rest = setAllValues, r
	}
	if r, ok := strings.CutSuffix(rest, "IfExists"); ok {
		op.ifExists, rest = true, r
	}
	base, ok := baseOperators[rest]
	if !ok {
		return op, false
	}
	op.baseOperator = base
	// Null has no IfExists form and tests presence, not values, so a set
	// qualifier is meaningless for it.
	if base.compare == compareNull && (op.ifExists || op.set != setNone) {
		return op, false
	}
	return op, true
}

// evaluateCondition applies one condition to the request (docs/behaviour.md#condition-operators).
// The values of one key are ORed; callers AND the conditions together.
func evaluateCondition(c Condition, ctx *requestContext) ConditionResult {
	requestValues := ctx.lookup(c.Key)
	res := ConditionResult{
		Condition:     c,
		KeyPresent:    len(requestValues) > 0,
		RequestValues: slices.Clone(requestValues),
	}
	op, ok := parseOperator(c.Operator)
	if !ok {
		return res
	}
	res.Supported = true
	res.Matched = op.matches(c.Values, requestValues, ctx)
	return res
}

func (op operator) matches(policyValues, requestValues []string, ctx *requestContext) bool {
	if op.compare == compareNull {
		return nullMatches(policyValues, len(requestValues) > 0)
	}
	if len(requestValues) == 0 {
		return op.trueWhenMissing()
	}
	// satisfies is the operator applied to one request value: a positive
	// operator needs some policy value to match it, a negated one needs none.
	satisfies := func(v string) bool {
		return op.anyPolicyValueMatches(policyValues, v, ctx) != op.negated
	}
	switch op.set {
	case setAllValues:
		for _, v := range requestValues {
			if !satisfies(v) {
				return false
			}
		}
		return true
	case setAnyValue:
		return slices.ContainsFunc(requestValues, satisfies)
	}
	// Without a qualifier IAM treats the key as single-valued; for the rare
	// multivalued request we read a positive operator as "some request value
	// matches" and a negated one as "no request value matches".
	matched := false
	for _, v := range requestValues {
		if op.anyPolicyValueMatches(policyValues, v, ctx) {
			matched = true
			break
		}
	}
	return matched != op.negated
}

// trueWhenMissing is the operator's result for a key that is missing or has
// no values (a null data set), docs/behaviour.md#condition-operators. The set
// qualifier decides first: ForAnyValue is false (no value can satisfy it)
// and ForAllValues true (vacuously), whatever the suffix, because IfExists
// belongs to the base operator, which the qualifier applies per request
// value. Without a qualifier, IfExists makes a missing key true, a negated
// operator is true and a positive one false.
func (op operator) trueWhenMissing() bool {
	switch {
	case op.set == setAnyValue:
		return false
	case op.set == setAllValues:
		return true
	case op.ifExists:
		return true
	}
	return op.negated
}

func (op operator) anyPolicyValueMatches(policyValues []string, requestValue string, ctx *requestContext) bool {
	for _, pv := range policyValues {
		if op.valueMatches(pv, requestValue, ctx) {
			return true
		}
	}
	return false
}

func (op operator) valueMatches(policyValue, requestValue string, ctx *requestContext) bool {
	o := globOptions{escapes: ctx.variables}
	if ctx.variables {
		o.resolve = ctx.resolve
	}
	switch op.compare {
	case compareString:
		return globMatch(policyValue, requestValue, o)
	case compareStringFold:
		o.foldCase = true
		return globMatch(policyValue, requestValue, o)
	case compareLike:
		o.wildcards = true
		return globMatch(policyValue, requestValue, o)
	case compareArn:
		o.wildcards = true
		return arnMatches(policyValue, requestValue, o)
	case compareBool:
		return strings.EqualFold(policyValue, requestValue)
	}
	return false
}

// nullMatches: "true" means the key must be absent, "false" that it must be
// present (docs/behaviour.md#condition-operators).
func nullMatches(policyValues []string, present bool) bool {
	for _, pv := range policyValues {
		switch {
		case strings.EqualFold(pv, "true") && !present:
			return true
		case strings.EqualFold(pv, "false") && present:
			return true
		}
	}
	return false
}

// arnMatches implements ArnEquals/ArnLike, which IAM defines identically: the
// six colon-separated ARN components are compared one by one, case-sensitively,
// with wildcards that cannot cross a ':' except inside the last component.
func arnMatches(pattern, arn string, o globOptions) bool {
	patternParts, ok := splitARN(pattern, o.escapes)
	if !ok {
		return false
	}
	arnParts, ok := splitARN(arn, false)
	if !ok || arnParts[0] != "arn" {
		return false
	}
	for i := range patternParts {
		if !globMatch(patternParts[i], arnParts[i], o) {
			return false
		}
	}
	return true
}

// splitARN cuts s into the six ARN components. With variables set, a ':'
// inside ${...} (as in ${aws:username}) does not split.
func splitARN(s string, variables bool) ([6]string, bool) {
	var parts [6]string
	n, start := 0, 0
	for i := 0; i < len(s) && n < 5; i++ {
		switch {
		case variables && strings.HasPrefix(s[i:], "${"):
			if end := strings.IndexByte(s[i:], '}'); end > 0 {
				i += end
			}
		case s[i] == ':':
			parts[n] = s[start:i]
			n++
			start = i + 1
		}
	}
	if n < 5 {
		return parts, false
	}
	parts[5] = s[start:]
	return parts, true
}
