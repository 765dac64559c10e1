package iampolicy

import (
	"bytes"
	"encoding/json"
	"strings"
)

// SuggestedStatement returns a trust-policy statement that admits exactly
// the expected service account: the provider ARN as Federated principal,
// sts:AssumeRoleWithWebIdentity, and StringEquals on :sub and :aud (the EKS
// best-practice shape, docs/behaviour.md#trust-policy-security S1/S6). It is indented JSON with a fixed
// key order, ready to paste into the Statement array. It is empty when the
// expectation lacks the provider, issuer or subject.
func SuggestedStatement(exp Expectation) string {
	host := exp.issuerHost()
	if exp.ProviderARN == "" || host == "" || exp.Subject == "" {
		return ""
	}
	var b strings.Builder
	b.WriteString("{\n")
	b.WriteString(`  "Effect": "Allow",` + "\n")
	b.WriteString("  \"Principal\": {\n")
	b.WriteString(`    "Federated": ` + quoteJSON(exp.ProviderARN) + "\n")
	b.WriteString("  },\n")
	b.WriteString(`  "Action": ` + quoteJSON(ActionAssumeRoleWithWebIdentity) + ",\n")
	b.WriteString("  \"Condition\": {\n")
	b.WriteString("    \"StringEquals\": {\n")
	b.WriteString("      " + quoteJSON(host+":sub") + ": " + quoteJSON(exp.Subject))
	if exp.Audience != "" {
		b.WriteString(",\n      " + quoteJSON(host+":aud") + ": " + quoteJSON(exp.Audience))
	}
	b.WriteString("\n    }\n  }\n}")
	return b.String()
}

// quoteJSON encodes s as a JSON string without HTML escaping, so an ARN
// reads the same in the suggestion as in the console.
func quoteJSON(s string) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		// Encoding a Go string cannot fail; keep the output valid anyway.
		return `""`
	}
	return strings.TrimSuffix(buf.String(), "\n")
}
