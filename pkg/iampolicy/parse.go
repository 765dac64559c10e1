package iampolicy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// ErrMalformedPolicy wraps every error Parse returns, so callers can tell a
// bad document from other failures with errors.Is.
var ErrMalformedPolicy = errors.New("malformed policy document")

// maxDocumentBytes bounds the work Parse does on hostile input. IAM's largest
// policy (an inline policy) is 10,240 characters; URL-encoding can triple it.
const maxDocumentBytes = 1 << 20

// Parse reads a policy document in either form a Go caller meets: the
// URL-encoded text IAM returns through aws-sdk-go-v2, or plain JSON as the CLI
// and boto3 print it (docs/behaviour.md#iam-getrole). It never panics.
func Parse(doc string) (*Policy, error) {
	if len(doc) > maxDocumentBytes {
		return nil, fmt.Errorf("%w: document is %d bytes, more than the %d accepted", ErrMalformedPolicy, len(doc), maxDocumentBytes)
	}
	text, err := decodeDocument(doc)
	if err != nil {
		return nil, err
	}
	var top json.RawMessage
	if err := json.Unmarshal([]byte(text), &top); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformedPolicy, err)
	}
	members, err := decodeObject(top)
	if err != nil {
		return nil, fmt.Errorf("%w: top level: %w", ErrMalformedPolicy, err)
	}
	p := &Policy{}
	var statementRaw json.RawMessage
	for _, m := range members {
		switch m.name {
		case "Version":
			if err := json.Unmarshal(m.value, &p.Version); err != nil {
				return nil, fmt.Errorf("%w: version must be a string", ErrMalformedPolicy)
			}
		case "Statement":
			statementRaw = m.value
		}
	}
	if statementRaw == nil {
		return nil, fmt.Errorf("%w: no Statement element", ErrMalformedPolicy)
	}
	p.Statements, err = parseStatements(statementRaw)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformedPolicy, err)
	}
	return p, nil
}

// decodeDocument returns the JSON text of doc. A JSON policy document is an
// object, so after trimming whitespace (and a byte-order mark) plain JSON
// starts with '{'; anything else is taken as URL-encoded. Deciding this way,
// rather than by looking for '%', keeps a literal '+' in plain JSON intact:
// QueryUnescape would turn it into a space. In the encoded form IAM writes
// '+' as %2B (docs/behaviour.md#iam-getrole), so QueryUnescape's rules are the right ones.
func decodeDocument(doc string) (string, error) {
	trimmed := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(doc), "\ufeff"))
	if trimmed == "" {
		return "", fmt.Errorf("%w: empty document", ErrMalformedPolicy)
	}
	if strings.HasPrefix(trimmed, "{") {
		return trimmed, nil
	}
	decoded, err := url.QueryUnescape(trimmed)
	if err != nil {
		return "", fmt.Errorf("%w: url-decode: %w", ErrMalformedPolicy, err)
	}
	decoded = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(decoded), "\ufeff"))
	if !strings.HasPrefix(decoded, "{") {
		return "", fmt.Errorf("%w: neither a JSON object nor a URL-encoded JSON object", ErrMalformedPolicy)
	}
	return decoded, nil
}

// parseStatements accepts a single statement object or an array of them
// (docs/behaviour.md#principal-and-action).
func parseStatements(raw json.RawMessage) ([]Statement, error) {
	var list []json.RawMessage
	switch firstByte(raw) {
	case '{':
		list = []json.RawMessage{raw}
	case '[':
		if err := json.Unmarshal(raw, &list); err != nil {
			return nil, fmt.Errorf("statement: %w", err)
		}
	default:
		return nil, errors.New("statement must be an object or an array of objects")
	}
	statements := make([]Statement, 0, len(list))
	for i, item := range list {
		s, err := parseStatement(i, item)
		if err != nil {
			return nil, fmt.Errorf("statement %d: %w", i, err)
		}
		statements = append(statements, s)
	}
	return statements, nil
}

func parseStatement(index int, raw json.RawMessage) (Statement, error) {
	s := Statement{Index: index}
	members, err := decodeObject(raw)
	if err != nil {
		return s, err
	}
	for _, m := range members {
		switch m.name {
		case "Sid":
			if err := json.Unmarshal(m.value, &s.Sid); err != nil {
				return s, errors.New("sid must be a string")
			}
		case "Effect":
			if err := json.Unmarshal(m.value, &s.Effect); err != nil {
				return s, errors.New("effect must be a string")
			}
		case "Principal":
			s.Principal, err = parsePrincipal(m.value)
			if err != nil {
				return s, fmt.Errorf("principal: %w", err)
			}
		case "NotPrincipal":
			s.NotPrincipal, err = parsePrincipal(m.value)
			if err != nil {
				return s, fmt.Errorf("notprincipal: %w", err)
			}
		case "Action":
			s.Actions, err = parseStringList(m.value)
			if err != nil {
				return s, fmt.Errorf("action: %w", err)
			}
		case "NotAction":
			s.NotActions, err = parseStringList(m.value)
			if err != nil {
				return s, fmt.Errorf("notaction: %w", err)
			}
		case "Condition":
			s.Conditions, err = parseConditions(m.value)
			if err != nil {
				return s, fmt.Errorf("condition: %w", err)
			}
		}
	}
	return s, validateStatement(s)
}

// validateStatement checks what parseStatement cannot see member by member:
// the effect's value and the mutually exclusive pairs.
func validateStatement(s Statement) error {
	if s.Effect != EffectAllow && s.Effect != EffectDeny {
		return fmt.Errorf("effect %q is neither %q nor %q", s.Effect, EffectAllow, EffectDeny)
	}
	if s.Principal != nil && s.NotPrincipal != nil {
		return errors.New("both principal and notprincipal are set")
	}
	if s.Actions != nil && s.NotActions != nil {
		return errors.New("both action and notaction are set")
	}
	return nil
}

// parsePrincipal accepts "*" or an object whose values are a string or an
// array of strings (docs/behaviour.md#principal-and-action).
func parsePrincipal(raw json.RawMessage) (*Principal, error) {
	if firstByte(raw) == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, err
		}
		if s != "*" {
			return nil, fmt.Errorf("string principal %q: only \"*\" is allowed", s)
		}
		return &Principal{Wildcard: true}, nil
	}
	members, err := decodeObject(raw)
	if err != nil {
		return nil, err
	}
	p := &Principal{}
	for _, m := range members {
		values, err := parseStringList(m.value)
		if err != nil {
			return nil, fmt.Errorf("%q: %w", m.name, err)
		}
		switch m.name {
		case PrincipalFederated:
			p.Federated = append(p.Federated, values...)
		case PrincipalAWS:
			p.AWS = append(p.AWS, values...)
			for _, v := range values {
				if v == "*" {
					p.Wildcard = true
				}
			}
		case PrincipalService:
			p.Service = append(p.Service, values...)
		case PrincipalCanonicalUser:
			p.CanonicalUser = append(p.CanonicalUser, values...)
		default:
			return nil, fmt.Errorf("unknown principal type %q", m.name)
		}
	}
	return p, nil
}

// parseConditions keeps document order (operators, then keys within an
// operator) so that results and findings come out in the order a human reads
// the policy, and identically on every run.
func parseConditions(raw json.RawMessage) ([]Condition, error) {
	operators, err := decodeObject(raw)
	if err != nil {
		return nil, err
	}
	var conditions []Condition
	for _, op := range operators {
		keys, err := decodeObject(op.value)
		if err != nil {
			return nil, fmt.Errorf("%q: %w", op.name, err)
		}
		for _, k := range keys {
			values, err := parseConditionValues(k.value)
			if err != nil {
				return nil, fmt.Errorf("%q %q: %w", op.name, k.name, err)
			}
			conditions = append(conditions, Condition{Operator: op.name, Key: k.name, Values: values})
		}
	}
	return conditions, nil
}

// parseStringList accepts a string or an array of strings.
func parseStringList(raw json.RawMessage) ([]string, error) {
	if firstByte(raw) == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, err
		}
		return []string{s}, nil
	}
	var list []string
	if err := json.Unmarshal(raw, &list); err != nil || list == nil {
		return nil, errors.New("must be a string or an array of strings")
	}
	return list, nil
}

// parseConditionValues accepts a scalar or an array of scalars; IAM lets
// booleans and numbers stand for their string spelling ("Bool": {"k": true}).
func parseConditionValues(raw json.RawMessage) ([]string, error) {
	if firstByte(raw) != '[' {
		v, err := scalarString(raw)
		if err != nil {
			return nil, err
		}
		return []string{v}, nil
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, err
	}
	values := make([]string, 0, len(items))
	for _, item := range items {
		v, err := scalarString(item)
		if err != nil {
			return nil, err
		}
		values = append(values, v)
	}
	return values, nil
}

func scalarString(raw json.RawMessage) (string, error) {
	switch b := firstByte(raw); {
	case b == '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", err
		}
		return s, nil
	case b == 't' || b == 'f':
		var v bool
		if err := json.Unmarshal(raw, &v); err != nil {
			return "", err
		}
		if v {
			return "true", nil
		}
		return "false", nil
	case b == '-' || (b >= '0' && b <= '9'):
		var n json.Number
		if err := json.Unmarshal(raw, &n); err != nil {
			return "", err
		}
		return n.String(), nil
	default:
		return "", errors.New("condition value must be a string, boolean or number")
	}
}

// member is one name/value pair of a JSON object, in document order.
type member struct {
	name  string
	value json.RawMessage
}

// decodeObject returns the members of a JSON object in document order;
// map[string]any would lose the order and make output nondeterministic.
func decodeObject(raw json.RawMessage) ([]member, error) {
	if firstByte(raw) != '{' {
		return nil, errors.New("must be a json object")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	var members []member
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		name, ok := tok.(string)
		if !ok {
			return nil, errors.New("object key is not a string")
		}
		var value json.RawMessage
		if err := dec.Decode(&value); err != nil {
			return nil, err
		}
		members = append(members, member{name: name, value: value})
	}
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	return members, nil
}

// firstByte returns the first non-whitespace byte of raw, or 0.
func firstByte(raw json.RawMessage) byte {
	for _, b := range raw {
		switch b {
		case ' ', '\t', '\n', '\r':
			continue
		}
		return b
	}
	return 0
}
