// Package explain recognises the text of an IRSA / EKS Pod Identity error a
// user copied from a log and explains it: which AWS or SDK error it is, what
// the text says (issuer, role, token path, timestamps), the likely causes
// ranked most likely first, and the commands and check ids that decide
// between them.
//
// The package is pure (standard library only, no I/O) so the CLI, tests and
// any other front end can use it. Every error string it knows comes from
// docs/behaviour.md (#sts-validation-order, #pod-identity-flow,
// #sdk-credential-chain, #exact-strings) and from the failure modes F1–F15
// of docs/behaviour.md#failure-modes; the comments next to each rule cite
// the failure mode.
//
// Pasted text may hold credentials. Before anything is matched, access key
// ids, secret keys, session tokens and JWTs are replaced with "<redacted>"
// (a JWT's claims are kept as facts, never its signature or the raw token),
// so no field of an Explanation can echo a secret.
package explain

import "sort"

// Redacted replaces every secret found in the pasted text.
const Redacted = "<redacted>"

// Wrapper names, i.e. the SDK or tool whose error format was recognised.
const (
	WrapperGoV2     = "aws-sdk-go-v2"
	WrapperGoV1     = "aws-sdk-go"
	WrapperBotocore = "botocore"
	WrapperCLI      = "aws-cli"
	WrapperJavaV2   = "java-v2"
	WrapperJavaV1   = "java-v1"
	WrapperJSV3     = "js-v3"
	WrapperAgent    = "eks-pod-identity-agent"
	WrapperWebhook  = "webhook"
	WrapperKubelet  = "kubelet"
	WrapperUnknown  = "unknown"
)

// IDUnknown is the id of the generic explanation returned when nothing is
// recognised.
const IDUnknown = "unknown"

// Explanation is what one recognised error means.
type Explanation struct {
	// ID is the stable id of the recognised error, e.g. "sts-no-oidc-provider".
	ID string `json:"id"`
	// Title is a one-line human summary of the error.
	Title string `json:"title"`
	// Code and Message are the AWS/SDK error as extracted from the wrapper.
	Code    string `json:"code,omitempty"`
	Message string `json:"message,omitempty"`
	// Wrapper names the SDK/tool format recognised (Wrapper* constants).
	Wrapper string `json:"wrapper"`
	// Facts extracted from the text (issuer, role_arn, token_path, …).
	// Use SortedFacts for a deterministic order.
	Facts map[string]string `json:"facts,omitempty"`
	// Causes are the likely causes, most likely first.
	Causes []Cause `json:"causes"`
	// Next are the commands that decide between the causes, then one line
	// per check id naming the causes it confirms.
	Next []string `json:"next"`
	// Notes are caveats about the text itself (e.g. Go v2 retries
	// InvalidIdentityToken, so "exceeded maximum number of attempts" is not
	// a sign of a transient failure).
	Notes []string `json:"notes,omitempty"`
}

// Cause is one likely cause of an error.
type Cause struct {
	Summary string `json:"summary"`
	// CheckIDs are the kubectl-irsa checks that confirm or rule out the cause.
	CheckIDs []string `json:"checkIDs,omitempty"`
	// Detail says what decides the cause and how to fix it.
	Detail string `json:"detail,omitempty"`
}

// Fact is one key/value of Explanation.Facts.
type Fact struct{ Key, Value string }

// factOrder is the rendering order of well-known facts; the rest follow
// alphabetically.
var factOrder = []string{
	"issuer", "issuer_host", "oidc_id", "region", "partition", "dual_stack_issuer",
	"role_arn", "role_name", "account", "principal", "credential_source", "node_role", "instance_id", "session_name",
	"action", "resource", "token_path", "file_error", "claim",
	"now", "exp", "expired_by", "token_age",
	"token_iss", "token_sub", "token_aud", "token_exp", "token_iat",
	"namespace", "service_account", "pod",
	"operation", "http_status", "request_id", "attempts", "fault", "sts_host", "occurrences",
}

// SortedFacts returns the facts in a deterministic order.
func (e Explanation) SortedFacts() []Fact {
	rank := map[string]int{}
	for i, k := range factOrder {
		rank[k] = i + 1
	}
	keys := make([]string, 0, len(e.Facts))
	for k := range e.Facts {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		ri, rj := rank[keys[i]], rank[keys[j]]
		switch {
		case ri != 0 && rj != 0:
			return ri < rj
		case ri != 0 || rj != 0:
			return ri != 0
		}
		return keys[i] < keys[j]
	})
	out := make([]Fact, len(keys))
	for i, k := range keys {
		out[i] = Fact{k, e.Facts[k]}
	}
	return out
}

// Explain explains the first error recognised in text. When nothing is
// recognised it returns a generic explanation with advice and false.
func Explain(text string) (Explanation, bool) {
	all := ExplainAll(text)
	if len(all) == 0 {
		return unknownExplanation(text), false
	}
	return all[0], true
}

// ExplainAll explains every distinct error in text, in the order they first
// appear. Repeats of the same error (retries, several pods) are merged; the
// fact "occurrences" counts them.
func ExplainAll(text string) []Explanation { //nolint:revive // pairs with Explain; renaming it to All means changing its caller in pkg/plugin too
	doc := prepare(text)
	hits := findHits(doc.text)
	if specific(hits) < len(hits) || len(hits) == 0 {
		// A terminal may hard-wrap inside a word ("Incorrect token aud\nience");
		// when some error was recognised by its code alone, or none at all,
		// retry with the line breaks removed. Joining glues words at every
		// line end, so it is only used when it recognises more.
		joined := joinWrapped(doc.text)
		if jh := findHits(joined); specific(jh) > specific(hits) {
			doc.text, hits = joined, jh
		}
	}
	var out []Explanation
	index := map[string]int{}
	for _, h := range hits {
		e := build(doc, h)
		key := dedupeKey(e)
		if i, ok := index[key]; ok {
			out[i].Facts["occurrences"] = itoa(atoi(out[i].Facts["occurrences"]) + 1)
			continue
		}
		index[key] = len(out)
		e.Facts["occurrences"] = "1"
		out = append(out, e)
	}
	for i := range out {
		if out[i].Facts["occurrences"] == "1" {
			delete(out[i].Facts, "occurrences")
		}
	}
	return out
}

// dedupeKey identifies "the same error": request ids and timestamps differ
// between retries, the subject of the error does not.
func dedupeKey(e Explanation) string {
	k := e.ID + "|" + e.Code
	for _, f := range []string{"issuer", "role_arn", "token_path", "claim", "node_role", "action", "principal", "sts_host"} {
		k += "|" + e.Facts[f]
	}
	return k
}

func specific(hs []hit) int {
	n := 0
	for _, h := range hs {
		if h.r != nil {
			n++
		}
	}
	return n
}
