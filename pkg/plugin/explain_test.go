package plugin

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"k8s.io/cli-runtime/pkg/genericiooptions"
)

func runExplain(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	streams, in, out, errOut := genericiooptions.NewTestIOStreams()
	in.WriteString(stdin)
	code := Execute(context.Background(), streams, append([]string{"explain"}, args...))
	return result{code: code, stdout: out.String(), stderr: errOut.String()}
}

func TestExplainCommand(t *testing.T) {
	t.Parallel()
	goV2 := `operation error STS: AssumeRoleWithWebIdentity, exceeded maximum number of attempts, 3, https response error StatusCode: 400, RequestID: 0a1b, InvalidIdentityToken: Incorrect token audience`
	r := runExplain(t, "", goV2)
	if r.code != ExitOK || !strings.Contains(r.stdout, "Seen as:  aws-sdk-go-v2 (sts-incorrect-audience)") || !strings.Contains(r.stdout, "IRSA-OIDC-002") {
		t.Errorf("argument: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	// A piped log with two distinct errors, one of them repeated.
	log := "2026-11-22T10:00:00Z " + goV2 + "\n2026-11-22T10:00:01Z " + goV2 +
		"\nAn error occurred (AccessDenied) when calling the AssumeRoleWithWebIdentity operation: Not authorized to perform sts:AssumeRoleWithWebIdentity\n"
	r = runExplain(t, log, "-o", "json")
	var l ExplanationList
	if err := json.Unmarshal([]byte(r.stdout), &l); err != nil || r.code != ExitOK {
		t.Fatalf("stdin json: exit %d, %v\n%s", r.code, err, r.stdout)
	}
	var ids []string
	for _, e := range l.Items {
		ids = append(ids, e.ID)
	}
	if strings.Join(ids, ",") != "sts-incorrect-audience,sts-access-denied" || l.Kind != KindExplanationList {
		t.Errorf("ids %v kind %s", ids, l.Kind)
	}

	if r = runExplain(t, "   \n"); r.code != ExitError || !strings.Contains(r.stderr, "no error text") {
		t.Errorf("empty stdin: exit %d, stderr %q", r.code, r.stderr)
	}
	if r = runExplain(t, "", "-o", "xml", "x"); r.code != ExitError {
		t.Errorf("bad -o: exit %d", r.code)
	}
}

func TestExplainNeverPrintsSecrets(t *testing.T) {
	t.Parallel()
	secret := "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	jwt := "eyJhbGciOiJSUzI1NiIsImtpZCI6IngifQ.eyJpc3MiOiJodHRwczovL29pZGMuZWtzLnVzLXdlc3QtMi5hbWF6b25hd3MuY29tL2lkL0FCQyIsInN1YiI6InN5c3RlbTpzZXJ2aWNlYWNjb3VudDpzaG9wOmFwcCIsImF1ZCI6WyJzdHMuYW1hem9uYXdzLmNvbSJdLCJleHAiOjE3MDAwMDAwMDB9.c2lnbmF0dXJl"
	text := "AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE AWS_SECRET_ACCESS_KEY=" + secret + " token=" + jwt +
		"\nInvalidIdentityToken: Incorrect token audience"
	for _, format := range []string{"", "json", "yaml"} {
		r := runExplain(t, "", "-o", format, text)
		if format == "" {
			r = runExplain(t, "", text)
		}
		for _, s := range []string{"AKIAIOSFODNN7EXAMPLE", secret, jwt, "c2lnbmF0dXJl"} {
			if strings.Contains(r.stdout, s) || strings.Contains(r.stderr, s) {
				t.Errorf("-o %q printed secret material %q", format, s)
			}
		}
	}
}
