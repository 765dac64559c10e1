package explain

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

const (
	reqID    = "3f1c2b9e-4d5a-4b6c-8d7e-9f0a1b2c3d4e"
	issuerUS = "https://oidc.eks.us-west-2.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"
	issuerCN = "https://oidc.eks.cn-north-1.amazonaws.com.cn/id/88E5A1B2C3D4E5F60718293A4B5C6D7E"
	issuerDS = "https://oidc-eks.eu-west-1.api.aws/id/0123456789ABCDEF0123456789ABCDEF"
	roleARN  = "arn:aws:iam::111122223333:role/shop/app-irsa"
	tokPath  = "/var/run/secrets/eks.amazonaws.com/serviceaccount/token"
)

// An STS error as each SDK prints it (docs/behaviour.md#sdk-error-wrapping).
type wrapFn func(code, msg string, status int) string

func goV1(code, msg string, status int) string {
	return fmt.Sprintf("WebIdentityErr: failed to retrieve credentials\ncaused by: %s: %s\n\tstatus code: %d, request id: %s", code, msg, status, reqID)
}

func goV2(code, msg string, status int) string {
	if code == "AccessDenied" { // unmodelled: smithy GenericAPIError
		code = "api error " + code
	}
	return fmt.Sprintf("failed to refresh cached credentials, failed to retrieve credentials, operation error STS: AssumeRoleWithWebIdentity, exceeded maximum number of attempts, 3, https response error StatusCode: %d, RequestID: %s, %s: %s", status, reqID, code, msg)
}

func boto(code, msg string, _ int) string {
	return fmt.Sprintf("Traceback (most recent call last):\n  File \"app.py\", line 3, in <module>\nbotocore.exceptions.ClientError: An error occurred (%s) when calling the AssumeRoleWithWebIdentity operation: %s", code, msg)
}

func cli(code, msg string, _ int) string {
	return fmt.Sprintf("\nAn error occurred (%s) when calling the AssumeRoleWithWebIdentity operation: %s\n", code, msg)
}

var javaClass = map[string]string{
	"InvalidIdentityToken":    "InvalidIdentityTokenException",
	"ExpiredTokenException":   "ExpiredTokenException",
	"IDPCommunicationError":   "IdpCommunicationErrorException",
	"IDPRejectedClaim":        "IdpRejectedClaimException",
	"RegionDisabledException": "RegionDisabledException",
}

func javaV2(code, msg string, status int) string {
	cls, ok := javaClass[code]
	if !ok {
		cls = "StsException" // AccessDenied, ValidationError: not modelled
	}
	return fmt.Sprintf("software.amazon.awssdk.services.sts.model.%s: %s (Service: Sts, Status Code: %d, Request ID: %s)\n\tat software.amazon.awssdk.core.internal.http.CombinedResponseHandler.handleErrorResponse(CombinedResponseHandler.java:125)", cls, msg, status, reqID)
}

func jsV3(code, msg string, status int) string {
	name := code
	if c, ok := javaClass[code]; ok {
		name = c
	}
	return fmt.Sprintf("%s: %s\n    at de_%sRes (/app/node_modules/@aws-sdk/client-sts/dist-cjs/index.js:1:1)\n    at process.processTicksAndRejections (node:internal/process/task_queues:95:5) {\n  '$fault': 'client',\n  '$metadata': {\n    httpStatusCode: %d,\n    requestId: '%s',\n    attempts: 1\n  }\n}", name, msg, code, status, reqID)
}

var wrappers = []struct {
	name string
	fn   wrapFn
}{
	{WrapperGoV1, goV1}, {WrapperGoV2, goV2}, {WrapperBotocore, boto}, {WrapperCLI, cli}, {WrapperJavaV2, javaV2}, {WrapperJSV3, jsV3},
}

// want is what a case must produce. Empty fields are not checked.
type want struct {
	id, code, wrapper string
	facts             map[string]string
	noFacts           []string
	first             string   // substring of the first cause's summary
	checks            []string // must each appear in some cause
	next              []string // substrings that must each be in Next
	notes             []string // substrings that must each be in Notes
	msg               string   // substring of Message
}

func check(t *testing.T, text string, w want) Explanation {
	t.Helper()
	e, ok := Explain(text)
	if !ok {
		t.Fatalf("not recognised:\n%s", text)
	}
	if e.ID != w.id {
		t.Fatalf("id = %q, want %q\ntext:\n%s\nexplanation:\n%s", e.ID, w.id, text, e.Text())
	}
	if w.code != "" && e.Code != w.code {
		t.Errorf("code = %q, want %q", e.Code, w.code)
	}
	if w.wrapper != "" && e.Wrapper != w.wrapper {
		t.Errorf("wrapper = %q, want %q", e.Wrapper, w.wrapper)
	}
	if w.msg != "" && !strings.Contains(e.Message, w.msg) {
		t.Errorf("message = %q, want it to contain %q", e.Message, w.msg)
	}
	for k, v := range w.facts {
		if e.Facts[k] != v {
			t.Errorf("fact %s = %q, want %q", k, e.Facts[k], v)
		}
	}
	for _, k := range w.noFacts {
		if v, ok := e.Facts[k]; ok {
			t.Errorf("unexpected fact %s = %q", k, v)
		}
	}
	if w.first != "" && (len(e.Causes) == 0 || !strings.Contains(e.Causes[0].Summary, w.first)) {
		t.Errorf("first cause = %q, want it to contain %q", firstSummary(e), w.first)
	}
	all := map[string]bool{}
	for _, c := range e.Causes {
		for _, id := range c.CheckIDs {
			all[id] = true
		}
	}
	for _, id := range w.checks {
		if !all[id] {
			t.Errorf("check %s not among the causes' checks %v", id, all)
		}
	}
	next := strings.Join(e.Next, "\n")
	for _, n := range w.next {
		if !strings.Contains(next, n) {
			t.Errorf("Next lacks %q:\n%s", n, next)
		}
	}
	notes := strings.Join(e.Notes, "\n")
	for _, n := range w.notes {
		if !strings.Contains(notes, n) {
			t.Errorf("Notes lack %q:\n%s", n, notes)
		}
	}
	return e
}

func firstSummary(e Explanation) string {
	if len(e.Causes) == 0 {
		return ""
	}
	return e.Causes[0].Summary
}

func with(w want, f func(*want)) want {
	c := w
	c.facts = map[string]string{}
	for k, v := range w.facts {
		c.facts[k] = v
	}
	f(&c)
	return c
}

// Text transformations users' logs apply.
func jsonLine(s string) string {
	b, _ := json.Marshal(map[string]string{"level": "error", "msg": "unable to get credentials", "error": s})
	return string(b)
}

func crlf(s string) string { return strings.ReplaceAll(s, "\n", "\r\n") }

func prefixed(s string) string {
	lines := strings.Split(s, "\n")
	for i := range lines {
		lines[i] = "2024-11-08T19:47:20.123Z\tERROR\tcontroller\t" + lines[i]
	}
	return strings.Join(lines, "\n")
}

func klogQuoted(s string) string {
	return fmt.Sprintf(`E1108 19:47:20.123456       1 main.go:42] "failed to get credentials" err=%q`, s)
}

// wrapAt breaks the line at the space nearest to column n, as a terminal or
// a ticket would.
func wrapAt(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := strings.LastIndex(s[:n], " ")
	if i <= 0 {
		return s
	}
	return s[:i] + "\n" + s[i+1:]
}

// allOutput is every string of every explanation, for leak checks.
func allOutput(es ...Explanation) string {
	var b strings.Builder
	for _, e := range es {
		b.WriteString(e.Text())
		fmt.Fprintf(&b, "%#v", e)
		j, _ := json.Marshal(e)
		b.Write(j)
	}
	return b.String()
}
