package explain

import (
	"encoding/base64"
	"encoding/json"
	"reflect"
	"sort"
	"strings"
	"testing"
)

func TestExplainAllMultiErrorLog(t *testing.T) {
	noOIDC := goV1("InvalidIdentityToken", "No OpenIDConnect provider found in your account for "+issuerUS, 400)
	log := strings.Join([]string{
		"2024-11-08T19:47:20Z INFO starting controller version=1.2.3",
		"2024-11-08T19:47:21Z ERROR " + noOIDC,
		"2024-11-08T19:47:22Z ERROR " + strings.Replace(noOIDC, reqID, "00000000-1111-2222-3333-444444444444", 1),
		"2024-11-08T19:47:23Z ERROR " + goV2("AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity", 403),
		"2024-11-08T19:47:24Z INFO retrying in 5s",
		"2024-11-08T19:47:25Z ERROR An error occurred (AccessDenied) when calling the ListBuckets operation: User: " + nodeARN + " is not authorized to perform: s3:ListAllMyBuckets",
		"2024-11-08T19:47:26Z ERROR " + goV1("InvalidIdentityToken", "Incorrect token audience", 400),
	}, "\r\n")
	es := ExplainAll(log)
	var ids []string
	for _, e := range es {
		ids = append(ids, e.ID)
	}
	wantIDs := []string{"sts-no-oidc-provider", "sts-access-denied", "node-role-used", "sts-incorrect-audience"}
	if !reflect.DeepEqual(ids, wantIDs) {
		t.Fatalf("ids = %v, want %v", ids, wantIDs)
	}
	if es[0].Facts["occurrences"] != "2" || es[0].Facts["request_id"] != reqID || es[0].Facts["issuer"] != issuerUS {
		t.Errorf("first: occurrences %q request_id %q issuer %q", es[0].Facts["occurrences"], es[0].Facts["request_id"], es[0].Facts["issuer"])
	}
	if es[1].Wrapper != WrapperGoV2 || es[1].Code != "AccessDenied" || es[1].Facts["http_status"] != "403" {
		t.Errorf("second: wrapper %q code %q status %q", es[1].Wrapper, es[1].Code, es[1].Facts["http_status"])
	}
	if es[1].Facts["issuer"] != "" {
		t.Errorf("the AccessDenied took the issuer of the error before it: %q", es[1].Facts["issuer"])
	}
	if _, ok := es[1].Facts["occurrences"]; ok {
		t.Errorf("single error has occurrences")
	}
	if es[2].Facts["node_role"] == "" || es[3].Code != "InvalidIdentityToken" || es[3].Wrapper != WrapperGoV1 {
		t.Errorf("third/fourth: %+v / %+v", es[2].Facts, es[3])
	}
	// Explain returns the first one.
	if e, ok := Explain(log); !ok || e.ID != "sts-no-oidc-provider" {
		t.Errorf("Explain = %q, %v", e.ID, ok)
	}
}

func TestDeterministic(t *testing.T) {
	text := "role " + roleARN + " " + goV2("InvalidIdentityToken", "No OpenIDConnect provider found in your account for "+issuerUS, 400)
	first := allOutput(ExplainAll(text)...)
	for i := 0; i < 20; i++ {
		if got := allOutput(ExplainAll(text)...); got != first {
			t.Fatalf("output differs between runs")
		}
	}
	e, _ := Explain(text)
	keys := []string{}
	for _, f := range e.SortedFacts() {
		keys = append(keys, f.Key)
	}
	if keys[0] != "issuer" || !contains(keys, "role_arn") {
		t.Errorf("fact order %v", keys)
	}
	if !strings.Contains(e.Text(), "1. No IAM OIDC provider was created") {
		t.Errorf("Text() lacks the ranked causes:\n%s", e.Text())
	}
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

func TestUnrecognised(t *testing.T) {
	for _, text := range []string{"", "   \n", "panic: runtime error: index out of range [3] with length 3", "InvalidIdentityTokenFoo is a made up word", "AccessDenied when calling ListBuckets"} {
		e, ok := Explain(text)
		if ok || e.ID != IDUnknown {
			t.Errorf("%q: ok=%v id=%q, want unrecognised", text, ok, e.ID)
		}
		if len(e.Next) == 0 || !strings.HasPrefix(e.Next[0], "kubectl irsa diagnose ") || len(e.Causes) == 0 {
			t.Errorf("%q: no generic advice: %+v", text, e)
		}
		if got := ExplainAll(text); len(got) != 0 {
			t.Errorf("%q: ExplainAll = %v", text, got)
		}
	}
}

// makeJWT builds a token with real-looking claims and a signature.
func makeJWT(claims map[string]any) (tok, sig string) {
	enc := base64.RawURLEncoding
	h, _ := json.Marshal(map[string]string{"alg": "RS256", "kid": "0a1b2c3d4e5f"})
	p, _ := json.Marshal(claims)
	sig = enc.EncodeToString([]byte("this-is-the-signature-of-the-token-0123456789-abcdefghijklmnop"))
	return enc.EncodeToString(h) + "." + enc.EncodeToString(p) + "." + sig, sig
}

var projectedClaims = map[string]any{
	"aud": []string{"sts.amazonaws.com"}, "exp": 1731095240, "iat": 1731008840,
	"iss": issuerUS, "sub": "system:serviceaccount:shop:app",
	"kubernetes.io": map[string]any{"namespace": "shop", "pod": map[string]string{"name": "app-7d4b9c-x2k8p"}, "serviceaccount": map[string]string{"name": "app"}},
}

const (
	akid   = "AKIAIOSFODNN7EXAMPLE"
	asid   = "ASIAY34FZKBOKMUTVV7A"
	secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	stoken = "IQoJb3JpZ2luX2VjEHoaCXVzLWVhc3QtMSJHMEUCIQD6example0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/example=="
)

func TestRedaction(t *testing.T) {
	jwt, sig := makeJWT(projectedClaims)
	texts := map[string]string{
		"env": "AWS_ACCESS_KEY_ID=" + akid + "\nAWS_SECRET_ACCESS_KEY=" + secret + "\nAWS_SESSION_TOKEN=" + stoken + "\n" +
			goV1("InvalidIdentityToken", "No OpenIDConnect provider found in your account for "+issuerUS, 400),
		"standalone": "keys " + akid + " " + secret + " token " + jwt + " " + goV2("InvalidIdentityToken", "Incorrect token audience", 400),
		"agent-json": `{"AccessKeyId":"` + asid + `","SecretAccessKey":"` + secret + `","Token":"` + stoken + `","AccountId":"111122223333","Expiration":"2024-11-08T20:47:20Z"}` + "\n" +
			"[" + reqID + "]: (AccessDeniedException): denied, fault: client",
		"in-message": "An error occurred (AccessDenied) when calling the AssumeRoleWithWebIdentity operation: Not authorized to perform sts:AssumeRoleWithWebIdentity token=" + jwt + " key " + akid + " " + secret,
		"bearer":     "Authorization: Bearer " + jwt + "\n" + cli("InvalidIdentityToken", "Incorrect token audience", 400),
		"json-escaped": jsonLine("aws_secret_access_key = " + secret + "\n" + goV1("InvalidIdentityToken",
			"No OpenIDConnect provider found in your account for "+issuerUS, 400) + "\nwebIdentityToken: " + jwt),
		"unknown": "nothing known here but " + akid + " and " + secret + " and " + jwt,
	}
	for name, text := range texts {
		t.Run(name, func(t *testing.T) {
			es := ExplainAll(text)
			u, _ := Explain(text)
			out := allOutput(append(es, u)...)
			segs := strings.Split(jwt, ".")
			for _, s := range []string{akid, asid, secret, stoken, jwt, sig, segs[0], segs[1], secret[10:30], stoken[20:60]} {
				if strings.Contains(out, s) {
					t.Errorf("output leaks %q", s)
				}
			}
			if name != "unknown" && len(es) == 0 {
				t.Errorf("nothing recognised")
			}
		})
	}
}

func TestJWTClaimsBecomeFacts(t *testing.T) {
	jwt, _ := makeJWT(map[string]any{"aud": []string{"https://kubernetes.default.svc"}, "exp": 1731095240, "iss": issuerUS, "sub": "system:serviceaccount:shop:app"})
	text := "token: " + jwt + "\n" + goV1("InvalidIdentityToken", "Incorrect token audience", 400)
	e := check(t, text, want{id: "sts-incorrect-audience", first: "points at a token with another audience",
		facts: map[string]string{"token_aud": "https://kubernetes.default.svc", "token_iss": issuerUS, "token_sub": "system:serviceaccount:shop:app",
			"token_exp": "1731095240 (2024-11-08T19:47:20Z)", "namespace": "shop", "service_account": "app"},
		next: []string{"kubectl irsa diagnose sa/app -n shop"}, notes: []string{"decoded to its claims"}})
	if strings.Contains(allOutput(e), jwt[:40]) {
		t.Errorf("raw token echoed")
	}

	jwt2, _ := makeJWT(projectedClaims)
	check(t, jwt2+" "+cli("AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity", 403),
		want{id: "sts-access-denied", facts: map[string]string{"pod": "app-7d4b9c-x2k8p", "namespace": "shop", "token_aud": "sts.amazonaws.com"},
			next: []string{"kubectl irsa diagnose pod/app-7d4b9c-x2k8p -n shop"}})
}

// Values that are not secrets must survive redaction: thumbprints, issuer
// ids, request ids, ARNs.
func TestRedactionKeepsUsefulValues(t *testing.T) {
	thumb := "9e99a48a9960b14926bb7f3b02e22da2b0ab7280"
	long := "https://oidc.eks.us-west-2.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE/.well-known/openid-configuration"
	got, _ := redact("thumbprint " + thumb + " url " + long + " " + roleARN + " " + reqID)
	for _, s := range []string{thumb, long, roleARN, reqID} {
		if !strings.Contains(got, s) {
			t.Errorf("%q was redacted: %s", s, got)
		}
	}
}

func TestShellArgsQuoted(t *testing.T) {
	text := "An error occurred (InvalidIdentityToken) when calling the AssumeRoleWithWebIdentity operation: No OpenIDConnect provider found in your account for https://evil.example/$(rm${IFS}-rf)"
	e := check(t, text, want{id: "sts-no-oidc-provider"})
	for _, n := range e.Next {
		if i := strings.Index(n, "$(rm"); i >= 0 && strings.Count(n[:i], "'")%2 != 1 {
			t.Errorf("unquoted: %s", n)
		}
	}
}

// Every id the catalogue knows is produced by some test text, and every
// check id it names is a real check.
func TestCatalogueCoverage(t *testing.T) {
	seen := map[string]bool{"sts-signature-region": true} // TestSTSErrorTextVariants
	for _, se := range stsErrors {
		seen[se.want.id] = true
	}
	for _, c := range sdkCases {
		seen[c.want.id] = true
	}
	for _, id := range []string{"sts-packed-policy-too-large", "sts-malformed-policy"} {
		e, ok := Explain(cli(map[string]string{"sts-packed-policy-too-large": "PackedPolicyTooLarge", "sts-malformed-policy": "MalformedPolicyDocument"}[id], "policy problem", 400))
		if !ok || e.ID != id {
			t.Errorf("%s: got %q", id, e.ID)
		}
		seen[e.ID] = true
	}
	for _, id := range []string{"pod-identity-agent-access-denied", "pod-identity-agent-no-association", "pod-identity-agent-expired-token", "pod-identity-agent-invalid-token",
		"pod-identity-agent-invalid-request", "pod-identity-agent-throttled", "pod-identity-agent-server-error", "pod-identity-agent-error",
		"pod-identity-agent-token-empty", "pod-identity-agent-token-unparsable", "pod-identity-agent-token-claims-invalid", "pod-identity-agent-unreachable", "sdk-container-host-rejected"} {
		seen[id] = true // TestPodIdentityAgentErrors
	}
	var missing []string
	for id, ent := range catalog {
		if !seen[id] {
			missing = append(missing, id)
		}
		for _, f := range []map[string]string{{}, {"partition": "aws-cn", "dual_stack_issuer": "true", "expired_by": "60s", "file_error": "not-found", "token_aud": "x"}} {
			for _, c := range ent.causes(f) {
				for _, cid := range c.CheckIDs {
					if checkTitles()[cid] == "" {
						t.Errorf("%s names unknown check %s", id, cid)
					}
				}
			}
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("ids without a test: %v", missing)
	}
}

func TestControlCharactersRemoved(t *testing.T) {
	text := "\x1b[31mERROR\x1b[0m " + cli("InvalidIdentityToken", "Incorrect token\x07 audience\x1b]0;title\x07", 400)
	e := check(t, text, want{id: "sts-incorrect-audience", wrapper: WrapperCLI})
	if out := allOutput(e); strings.ContainsAny(out, "\x1b\x07") {
		t.Errorf("control characters in output: %q", e.Message)
	}
}
