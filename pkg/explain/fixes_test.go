package explain

import (
	"regexp"
	"sort"
	"strings"
	"testing"
)

// fixVerbs are the imperative verbs a fix may start with.
var fixVerbs = map[string]bool{}

func init() {
	for _, v := range strings.Fields(`activate add allow annotate attach change correct create delete enable fix grant install
		lower make move point publish raise recreate register remove replace restart retry rotate run set shorten sync update
		upgrade use`) {
		fixVerbs[v] = true
	}
}

// webhookInputs are what a pod gets only when it is created: the webhook's
// inputs and output (annotations, env) and the pod spec itself
// (docs/behaviour.md#webhook-admission). A fix that changes one of them must
// also say to restart or recreate the pods.
var webhookInputs = regexp.MustCompile(`(?i)annotation|\bAWS_[A-Z_]+|\benv\b|environment|fsGroup|securityContext|serviceAccountName|skip-containers|skip label|pod spec|pod template|aws-iam-token volume`)

var restartWords = regexp.MustCompile(`(?i)\b(?:restart|recreate)\b`)

// factSets are the fact combinations the catalogue ranks on, so that every
// order of every entry's causes is looked at.
var factSets = []map[string]string{
	{},
	{"partition": "aws-cn", "dual_stack_issuer": "true", "expired_by": "60s", "file_error": "not-found", "token_aud": "x"},
	{"partition": "aws", "region": "eu-west-1", "issuer": "https://issuer.example.com", "token_aud": "https://kubernetes.default.svc"},
	{"principal": "arn:aws:iam::111122223333:user/ci", "credential_source": "environment", "sts_host": "sts.cn-north-1.amazonaws.com",
		"message": "eks-auth:AssumeRoleForPodIdentity", "session_name": "manual"},
}

// TestEveryCauseEndsWithItsFix walks the whole catalogue (and the generic
// explanation): every cause's detail ends with "Fix: <imperative>.", the
// action that removes the cause, and a fix that changes what the webhook
// reads at pod creation says to restart or recreate the pods.
func TestEveryCauseEndsWithItsFix(t *testing.T) {
	type causeAt struct {
		id string
		c  Cause
	}
	var all []causeAt
	ids := make([]string, 0, len(catalog))
	for id := range catalog {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		for _, f := range factSets {
			for _, c := range catalog[id].causes(f) {
				all = append(all, causeAt{id, c})
			}
		}
	}
	for _, c := range unknownExplanation("x").Causes {
		all = append(all, causeAt{IDUnknown, c})
	}
	seen := map[string]bool{}
	for _, x := range all {
		key := x.id + "|" + x.c.Summary
		if seen[key] {
			continue
		}
		seen[key] = true
		fix, ok := fixOf(x.c.Detail)
		if !ok {
			t.Errorf("%s: %q: detail does not end with \"Fix: ….\":\n  %s", x.id, x.c.Summary, x.c.Detail)
			continue
		}
		verb := strings.ToLower(strings.Trim(strings.Fields(fix)[0], ",:;"))
		if !fixVerbs[verb] {
			t.Errorf("%s: %q: fix %q does not start with an action", x.id, x.c.Summary, fix)
		}
		if webhookInputs.MatchString(fix) && !restartWords.MatchString(fix) {
			t.Errorf("%s: %q: fix %q changes what the webhook reads when a pod is created, but does not say to restart or recreate the pods", x.id, x.c.Summary, fix)
		}
	}
	if len(seen) < 60 {
		t.Fatalf("only %d causes looked at; the walk is broken", len(seen))
	}
}

// fixOf returns the text after the last "Fix: " when it is the end of the
// detail, one sentence ending with a full stop.
func fixOf(detail string) (string, bool) {
	i := strings.LastIndex(detail, "Fix: ")
	if i < 0 {
		return "", false
	}
	fix := detail[i+len("Fix: "):]
	if !strings.HasSuffix(fix, ".") || len(strings.Fields(fix)) < 2 {
		return "", false
	}
	return fix, true
}
