package explain

import (
	"regexp"
	"sort"
	"strings"
)

func build(doc document, h hit) Explanation {
	t := doc.text
	e := Explanation{ID: h.id, Facts: map[string]string{}}
	e.Wrapper = detectWrapper(t[h.ctxStart:h.regEnd], h)
	e.Code = pickCode(t, h)
	e.Message = message(t, h)
	if h.r != nil && h.r.facts != nil {
		h.r.facts(h.sub, e.Facts)
	}
	extractFacts(t, h, e.Facts, doc.claims)

	ent, ok := catalog[e.ID]
	if !ok {
		ent = catalog["sts-invalid-identity-token"]
	}
	// Causes and commands may look at the message too, without it becoming
	// a fact.
	ctx := map[string]string{"message": e.Message}
	for k, v := range e.Facts {
		ctx[k] = v
	}
	e.Title = ent.title
	e.Causes = ent.causes(ctx)
	e.Next = nextSteps(ctx, ent, e.Causes)
	if ent.notes != nil {
		e.Notes = ent.notes(ctx)
	}
	e.Notes = append(e.Notes, wrapperNotes(e)...)
	return e
}

// wrapperNotes explain what the wrapper itself says.
func wrapperNotes(e Explanation) []string {
	var n []string
	if e.Wrapper == WrapperGoV2 && e.Facts["attempts"] != "" && e.Code == "InvalidIdentityToken" {
		// [GOV2] web_identity_provider.go adds InvalidIdentityToken to the
		// retryable codes (docs/behaviour.md#sdk-error-wrapping).
		n = append(n, "aws-sdk-go-v2 retries InvalidIdentityToken, so \"exceeded maximum number of attempts, "+e.Facts["attempts"]+"\" does not mean the failure is transient: every attempt got the same answer.")
	}
	if e.Facts["token_iss"] != "" || e.Facts["token_sub"] != "" {
		n = append(n, "A JWT in the pasted text was decoded to its claims (token_*); the token itself and its signature were removed.")
	}
	return n
}

// nextSteps: the diagnose command, the error's own commands, then one line
// per check naming the causes it decides.
func nextSteps(f map[string]string, ent entry, causes []Cause) []string {
	out := []string{diagnoseCommand(f)}
	if ent.next != nil {
		out = append(out, ent.next(f)...)
	}
	byCheck := map[string][]string{}
	var order []string
	for i, c := range causes {
		for _, id := range c.CheckIDs {
			if _, seen := byCheck[id]; !seen {
				order = append(order, id)
			}
			byCheck[id] = append(byCheck[id], itoa(i+1))
		}
	}
	for _, id := range order {
		line := id
		if t := checkTitles()[id]; t != "" {
			line += " (" + t + ")"
		}
		word := "cause "
		if len(byCheck[id]) > 1 {
			word = "causes "
		}
		out = append(out, line+" decides "+word+strings.Join(byCheck[id], ", "))
	}
	return out
}

func diagnoseCommand(f map[string]string) string {
	ns := arg(f, "namespace", "NAMESPACE")
	switch {
	case f["pod"] != "":
		return "kubectl irsa diagnose pod/" + arg(f, "pod", "") + " -n " + ns
	case f["service_account"] != "":
		return "kubectl irsa diagnose sa/" + arg(f, "service_account", "") + " -n " + ns
	}
	return "kubectl irsa diagnose pod/POD_NAME -n " + ns
}

// arg returns the fact as a shell-safe word, or the placeholder. Facts come
// from pasted text and end up in commands users copy, so anything outside a
// conservative alphabet is single-quoted.
func arg(f map[string]string, key, placeholder string) string {
	v := f[key]
	if v == "" {
		return placeholder
	}
	return shellArg(v)
}

var plainWord = regexp.MustCompile(`^[A-Za-z0-9_.:/@+=,%-]+$`)

func shellArg(v string) string {
	if plainWord.MatchString(v) {
		return v
	}
	return "'" + strings.ReplaceAll(v, "'", `'\''`) + "'"
}

func unknownExplanation(text string) Explanation {
	doc := prepare(text)
	e := Explanation{
		ID:      IDUnknown,
		Title:   "The text holds no IRSA or Pod Identity error this tool knows",
		Wrapper: WrapperUnknown,
		Facts:   map[string]string{},
	}
	if strings.TrimSpace(doc.text) != "" {
		h := hit{start: 0, end: 0, regStart: 0, regEnd: len(doc.text)}
		extractFacts(doc.text, h, e.Facts, doc.claims)
	}
	e.Causes = []Cause{
		cause("Walk the whole IRSA chain for the pod",
			"kubectl irsa diagnose checks the service account, the webhook's mutation, credentials that shadow IRSA, the region, the issuer, the OIDC provider, the role and its trust policy.",
			"run kubectl irsa diagnose on the pod and apply the fix of the first failing check.",
			"IRSA-POD-001", "IRSA-OIDC-001", "IRSA-TRUST-001"),
		cause("Paste the complete error",
			"Include the lines around it: the SDK's wrapper (\"caused by:\", \"operation error STS\", \"An error occurred (…)\") and the AWS error code and message.",
			"run kubectl irsa explain again with those lines."),
	}
	e.Next = []string{diagnoseCommand(e.Facts), "kubectl irsa checks -o wide"}
	return e
}

// Text renders the explanation for a terminal, deterministically.
func (e Explanation) Text() string {
	var b strings.Builder
	b.WriteString(e.ID + ": " + e.Title + "\n")
	if e.Code != "" || e.Message != "" {
		b.WriteString("  error:   " + strings.TrimSpace(e.Code+": "+e.Message) + "\n")
	}
	b.WriteString("  format:  " + e.Wrapper + "\n")
	for _, f := range e.SortedFacts() {
		b.WriteString("  " + f.Key + ": " + f.Value + "\n")
	}
	if len(e.Causes) > 0 {
		b.WriteString("Likely causes, most likely first:\n")
		for i, c := range e.Causes {
			b.WriteString("  " + itoa(i+1) + ". " + c.Summary)
			if len(c.CheckIDs) > 0 {
				ids := append([]string(nil), c.CheckIDs...)
				sort.Strings(ids)
				b.WriteString(" [" + strings.Join(ids, ", ") + "]")
			}
			b.WriteString("\n")
			if c.Detail != "" {
				b.WriteString("     " + c.Detail + "\n")
			}
		}
	}
	if len(e.Next) > 0 {
		b.WriteString("Next:\n")
		for _, n := range e.Next {
			b.WriteString("  " + n + "\n")
		}
	}
	for _, n := range e.Notes {
		b.WriteString("Note: " + n + "\n")
	}
	return b.String()
}
