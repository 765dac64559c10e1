// Package iampolicy parses IAM policy documents and evaluates them with IAM's
// own semantics, then explains, for IRSA, why a role's trust policy does or
// does not let a pod's service account assume the role.
//
// It is pure: standard library only, no clients, no clock, no I/O. Semantics
// follow docs/behaviour.md#trust-policy-condition-keys, #condition-operators
// and #principal-and-action (condition keys, operators, principal and
// action forms) and docs/behaviour.md#iam-getrole (IAM returns documents
// URL-encoded to Go callers).
package iampolicy

// Effect values a statement can carry. IAM spells them exactly like this and
// rejects any other spelling, so Parse does too.
const (
	EffectAllow = "Allow"
	EffectDeny  = "Deny"
)

// Principal types, as they appear as keys of a Principal element and as
// Request.PrincipalType.
const (
	PrincipalFederated     = "Federated"
	PrincipalAWS           = "AWS"
	PrincipalService       = "Service"
	PrincipalCanonicalUser = "CanonicalUser"
)

// Policy is a parsed IAM policy document.
type Policy struct {
	Version    string      `json:"version,omitempty"`
	Statements []Statement `json:"statements"`
}

// Statement is one element of the policy's Statement list. Index is its
// position in that list (0 for a document whose Statement is a single object),
// so that findings can point at the statement a human will edit.
type Statement struct {
	Index        int         `json:"index"`
	Sid          string      `json:"sid,omitempty"`
	Effect       string      `json:"effect"`
	Principal    *Principal  `json:"principal,omitempty"`
	NotPrincipal *Principal  `json:"notPrincipal,omitempty"`
	Actions      []string    `json:"actions,omitempty"`
	NotActions   []string    `json:"notActions,omitempty"`
	Conditions   []Condition `json:"conditions,omitempty"`
}

// Principal is a normalised Principal or NotPrincipal element: every value is
// a list, whatever the document used (docs/behaviour.md#principal-and-action).
type Principal struct {
	// Wildcard is set for "Principal": "*" and for {"AWS": "*"}, which IAM
	// documents as equivalent: everyone.
	Wildcard      bool     `json:"wildcard,omitempty"`
	Federated     []string `json:"federated,omitempty"`
	AWS           []string `json:"aws,omitempty"`
	Service       []string `json:"service,omitempty"`
	CanonicalUser []string `json:"canonicalUser,omitempty"`
}

// Condition is one (operator, key) pair of a Condition block, with its values
// stringified (booleans and numbers keep their JSON spelling). Operator is
// kept exactly as written, e.g. "ForAnyValue:StringLike".
type Condition struct {
	Operator string   `json:"operator"`
	Key      string   `json:"key"`
	Values   []string `json:"values"`
}

// Request is the authorization request a policy is evaluated against.
type Request struct {
	// PrincipalType is one of the Principal* constants.
	PrincipalType string
	// Principal is the caller, e.g. the OIDC provider ARN for IRSA.
	Principal string
	// Action is the API action, e.g. "sts:AssumeRoleWithWebIdentity".
	Action string
	// Context holds the request's condition keys. Keys are matched
	// case-insensitively because IAM key names are (docs/behaviour.md#trust-policy-condition-keys); a key
	// that is absent or has no values is "missing" (docs/behaviour.md#condition-operators).
	Context map[string][]string
}

// Decision is the outcome of evaluating a policy.
type Decision string

// The three outcomes of IAM evaluation: an applicable Deny always wins, an
// applicable Allow grants, and anything else is the default deny
// (docs/behaviour.md#condition-operators "Combination").
const (
	DecisionAllow        Decision = "Allow"
	DecisionExplicitDeny Decision = "ExplicitDeny"
	DecisionImplicitDeny Decision = "ImplicitDeny"
)

// Result is the outcome of Policy.Evaluate with one entry per statement, in
// document order, so callers can explain the decision.
type Result struct {
	Decision   Decision          `json:"decision"`
	Statements []StatementResult `json:"statements"`
}

// StatementResult says which parts of one statement matched the request.
// Applies is PrincipalMatch && ActionMatch && ConditionsMatch.
type StatementResult struct {
	Index           int               `json:"index"`
	Sid             string            `json:"sid,omitempty"`
	Effect          string            `json:"effect"`
	PrincipalMatch  bool              `json:"principalMatch"`
	ActionMatch     bool              `json:"actionMatch"`
	ConditionsMatch bool              `json:"conditionsMatch"`
	Applies         bool              `json:"applies"`
	Conditions      []ConditionResult `json:"conditions,omitempty"`
}

// ConditionResult is the outcome of one condition. Supported is false for an
// operator this package does not implement; such a condition never matches,
// which is the safe reading for an Allow.
type ConditionResult struct {
	Condition
	Matched       bool     `json:"matched"`
	KeyPresent    bool     `json:"keyPresent"`
	Supported     bool     `json:"supported"`
	RequestValues []string `json:"requestValues,omitempty"`
}
