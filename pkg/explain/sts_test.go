package explain

import (
	"strings"
	"testing"
)

// stsErrors are the STS AssumeRoleWithWebIdentity errors of docs/behaviour.md#sts-validation-order
// and docs/behaviour.md#exact-strings, and of failure modes F1–F5 and F11–F13
// (docs/behaviour.md#failure-modes), as code, message, status.
var stsErrors = []struct {
	name, code, msg string
	status          int
	want            want
}{
	{"no-oidc-provider", "InvalidIdentityToken", "No OpenIDConnect provider found in your account for " + issuerUS, 400, want{
		id: "sts-no-oidc-provider", msg: "No OpenIDConnect provider found in your account for " + issuerUS,
		facts: map[string]string{"issuer": issuerUS, "region": "us-west-2", "partition": "aws", "oidc_id": "EXAMPLED539D4633E53DE1B71EXAMPLE"},
		first: "No IAM OIDC provider was created", checks: []string{"IRSA-OIDC-001", "IRSA-ISSUER-001", "IRSA-REGION-001", "IRSA-CRED-003"},
		next: []string{"aws iam create-open-id-connect-provider --url " + issuerUS + " --client-id-list sts.amazonaws.com", "kubectl irsa diagnose pod/POD_NAME -n NAMESPACE"},
	}},
	{"no-oidc-provider-china", "InvalidIdentityToken", "No OpenIDConnect provider found in your account for " + issuerCN, 400, want{
		id: "sts-no-oidc-provider", facts: map[string]string{"issuer": issuerCN, "region": "cn-north-1", "partition": "aws-cn"},
		first: "wrong partition or region", checks: []string{"IRSA-REGION-001", "IRSA-OIDC-001"},
		next: []string{"--url " + issuerCN + " --client-id-list sts.amazonaws.com", "arn:aws-cn:iam::ACCOUNT_ID:oidc-provider/oidc.eks.cn-north-1.amazonaws.com.cn/id/"},
	}},
	{"thumbprint", "InvalidIdentityToken", "OpenIDConnect provider's HTTPS certificate doesn't match configured thumbprint", 400, want{
		id: "sts-thumbprint-mismatch", first: "thumbprint list holds a wrong or stale", checks: []string{"IRSA-OIDC-003"}, next: []string{"kubectl irsa thumbprint"},
	}},
	{"verification-key", "InvalidIdentityToken", "Couldn't retrieve verification key from your identity provider,  please reference AssumeRoleWithWebIdentity documentation for requirements", 400, want{
		id: "sts-verification-key", first: "transient", checks: []string{"IRSA-ISSUER-001", "IRSA-OIDC-003"}, next: []string{"kubectl irsa thumbprint", "/.well-known/openid-configuration"},
		msg: "Couldn't retrieve verification key from your identity provider, please reference AssumeRoleWithWebIdentity documentation for requirements",
	}},
	{"verification-key-lower", "InvalidIdentityToken", "couldn't retrieve verification key from your identity provider, please reference AssumeRoleWithWebIdentity documentation for requirements", 400, want{
		id: "sts-verification-key",
	}},
	{"audience", "InvalidIdentityToken", "Incorrect token audience", 400, want{
		id: "sts-incorrect-audience", first: "ClientIDList lacks", checks: []string{"IRSA-OIDC-002", "IRSA-SA-005", "IRSA-TOKEN-001", "IRSA-TOKEN-002"},
		next: []string{"--query ClientIDList"},
	}},
	{"expired-2021", "ExpiredTokenException", "Token expired: current date/time 1624482533 must be before the expiration date/time1624482335", 400, want{
		id: "sts-token-expired", facts: map[string]string{"now": "1624482533 (2021-06-23T21:08:53Z)", "exp": "1624482335 (2021-06-23T21:05:35Z)", "expired_by": "198s (3m18s)"},
		first: "Clock skew", checks: []string{"IRSA-TOKEN-004", "IRSA-SA-007"},
	}},
	{"expired-2024", "ExpiredTokenException", "Token expired: current date/time 1731095540 must be before the expiration date/time 1731009140", 400, want{
		id: "sts-token-expired", facts: map[string]string{"now": "1731095540 (2024-11-08T19:52:20Z)", "exp": "1731009140 (2024-11-07T19:52:20Z)", "expired_by": "86400s (24h0m0s)"},
		first: "read the token once",
	}},
	{"too-old", "ExpiredTokenException", "Token too old: 441398", 400, want{
		id: "sts-token-expired", facts: map[string]string{"token_age": "441398s (122h36m38s)"},
	}},
	{"missing-claim", "InvalidIdentityToken", "Missing a required claim: aud", 400, want{
		id: "sts-missing-claim", facts: map[string]string{"claim": "aud"}, first: "not a projected service-account token", checks: []string{"IRSA-TOKEN-002"},
	}},
	{"access-denied", "AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity", 403, want{
		id: "sts-access-denied", code: "AccessDenied", first: ":sub condition",
		checks: []string{"IRSA-ROLE-001", "IRSA-TRUST-001", "IRSA-TRUST-003", "IRSA-POD-002", "IRSA-OIDC-001", "IRSA-TOKEN-001", "IRSA-SA-004"},
		next:   []string{"aws iam get-role --role-name ROLE_NAME --query Role.AssumeRolePolicyDocument"},
		notes:  []string{"never about its permission policies"},
	}},
	{"request-arn", "ValidationError", "Request ARN is invalid", 400, want{
		id: "sts-request-arn-invalid", code: "ValidationError", first: "not a valid role ARN", checks: []string{"IRSA-SA-004", "IRSA-POD-002"},
	}},
	{"region-disabled", "RegionDisabledException", "STS is not activated in this region for account:111122223333. Your account administrator can activate STS in this region using the IAM Console.", 403, want{
		id: "sts-region-disabled", code: "RegionDisabledException", facts: map[string]string{"account": "111122223333"}, checks: []string{"IRSA-REGION-001"},
	}},
	{"idp-communication", "IDPCommunicationError", "The identity provider could not be reached. Try again.", 400, want{
		id: "sts-idp-communication", code: "IDPCommunicationError", first: "briefly unreachable", checks: []string{"IRSA-ISSUER-001"},
	}},
	{"idp-rejected", "IDPRejectedClaim", "The claim is invalid: the token is expired or has been revoked.", 403, want{
		id: "sts-idp-rejected-claim", code: "IDPRejectedClaim",
	}},
	{"duration", "ValidationError", "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.", 400, want{
		id: "sts-duration-exceeds-max", code: "ValidationError", checks: []string{"IRSA-ROLE-001"},
	}},
	{"unknown-invalid-token", "InvalidIdentityToken", "The ID Token provided is not a valid JWT.", 400, want{
		id: "sts-invalid-identity-token", code: "InvalidIdentityToken", msg: "The ID Token provided is not a valid JWT.",
		checks: []string{"IRSA-OIDC-001", "IRSA-OIDC-002", "IRSA-OIDC-003", "IRSA-TOKEN-002"},
	}},
}

func TestSTSErrorsInEveryWrapper(t *testing.T) {
	for _, se := range stsErrors {
		for _, w := range wrappers {
			t.Run(se.name+"/"+w.name, func(t *testing.T) {
				text := w.fn(se.code, se.msg, se.status)
				exp := with(se.want, func(x *want) {
					x.wrapper = w.name
					if x.code == "" {
						x.code = se.code
					}
					if w.name != WrapperBotocore && w.name != WrapperCLI {
						x.facts["request_id"] = reqID
						x.facts["http_status"] = itoa(se.status)
					}
				})
				e := check(t, text, exp)
				if w.name == WrapperGoV2 && se.code == "InvalidIdentityToken" {
					if !strings.Contains(strings.Join(e.Notes, " "), "retries InvalidIdentityToken") {
						t.Errorf("Go v2 note about retried InvalidIdentityToken missing: %v", e.Notes)
					}
					if e.Facts["attempts"] != "3" {
						t.Errorf("attempts = %q", e.Facts["attempts"])
					}
				}
			})
		}
	}
}

// Variants of the same text users paste: case, spacing, CRLF, log prefixes,
// JSON and Go quoting, wrapped lines.
func TestSTSErrorTextVariants(t *testing.T) {
	noOIDC := "No OpenIDConnect provider found in your account for " + issuerUS
	wantNoOIDC := want{id: "sts-no-oidc-provider", code: "InvalidIdentityToken", wrapper: WrapperGoV1,
		facts: map[string]string{"issuer": issuerUS, "request_id": reqID, "http_status": "400"}}
	base := goV1("InvalidIdentityToken", noOIDC, 400)
	for name, text := range map[string]string{
		"crlf":         crlf(base),
		"prefixed":     prefixed(base),
		"json":         jsonLine(base),
		"json-in-json": jsonLine(jsonLine(base)),
		"klog":         klogQuoted(base),
		"wrapped":      wrapAt(base, 110),
		"upper":        strings.ToUpper(base[:60]) + base[60:],
		"spaces":       strings.ReplaceAll(base, "provider found", "provider   found"),
		"tabs":         strings.ReplaceAll(base, " in your ", "\tin\tyour\t"),
	} {
		t.Run(name, func(t *testing.T) { check(t, text, wantNoOIDC) })
	}

	t.Run("issuer-wrapped-after-id", func(t *testing.T) {
		text := goV1("InvalidIdentityToken", "No OpenIDConnect provider found in your account for https://oidc.eks.us-west-2.amazonaws.com/id/\nEXAMPLED539D4633E53DE1B71EXAMPLE", 400)
		check(t, text, want{id: "sts-no-oidc-provider", facts: map[string]string{"issuer": issuerUS}})
	})
	t.Run("hard-wrapped-inside-a-word", func(t *testing.T) {
		text := "caused by: InvalidIdentityToken: Incorrect token aud\nience\n\tstatus code: 400"
		check(t, text, want{id: "sts-incorrect-audience", code: "InvalidIdentityToken"})
	})
	t.Run("verification-key-json-crlf", func(t *testing.T) {
		text := crlf(jsonLine(goV2("InvalidIdentityToken", "COULDN'T retrieve verification key from your identity provider,  please reference AssumeRoleWithWebIdentity documentation for requirements", 400)))
		check(t, text, want{id: "sts-verification-key", code: "InvalidIdentityToken", wrapper: WrapperGoV2, facts: map[string]string{"attempts": "3", "request_id": reqID}})
	})
	t.Run("expired-wrapped-between-numbers", func(t *testing.T) {
		text := "An error occurred (ExpiredTokenException) when calling the AssumeRoleWithWebIdentity operation: Token expired: current date/time 1624482533 must be\nbefore the expiration date/time1624482335"
		check(t, text, want{id: "sts-token-expired", code: "ExpiredTokenException", wrapper: WrapperCLI, facts: map[string]string{"expired_by": "198s (3m18s)"}})
	})
	t.Run("java-v1", func(t *testing.T) {
		text := "com.amazonaws.services.securitytoken.model.AWSSecurityTokenServiceException: Not authorized to perform sts:AssumeRoleWithWebIdentity (Service: AWSSecurityTokenService; Status Code: 403; Error Code: AccessDenied; Request ID: " + reqID + "; Proxy: null)"
		check(t, text, want{id: "sts-access-denied", code: "AccessDenied", wrapper: WrapperJavaV1, facts: map[string]string{"request_id": reqID, "http_status": "403"}})
	})
	t.Run("dual-stack-issuer", func(t *testing.T) {
		e := check(t, cli("InvalidIdentityToken", "No OpenIDConnect provider found in your account for "+issuerDS, 400),
			want{id: "sts-no-oidc-provider", facts: map[string]string{"issuer": issuerDS, "dual_stack_issuer": "true", "region": "eu-west-1"}})
		if !strings.Contains(e.Causes[1].Summary, "different URL form") {
			t.Errorf("second cause = %q, want the URL-form cause", e.Causes[1].Summary)
		}
	})
	t.Run("role-arn-in-log-line", func(t *testing.T) {
		text := `level=error msg="assume role failed" role_arn=` + roleARN + ` sa=system:serviceaccount:shop:app err="` + goV2("api error AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity", 403) + `"`
		check(t, text, want{id: "sts-access-denied", code: "AccessDenied", wrapper: WrapperGoV2,
			facts: map[string]string{"role_arn": roleARN, "account": "111122223333", "role_name": "app-irsa", "namespace": "shop", "service_account": "app"},
			next:  []string{"kubectl irsa diagnose sa/app -n shop", "aws iam get-role --role-name app-irsa"}})
	})
	t.Run("account-in-provider-command", func(t *testing.T) {
		text := "assuming " + roleARN + ": " + goV1("InvalidIdentityToken", "No OpenIDConnect provider found in your account for "+issuerUS, 400)
		check(t, text, want{id: "sts-no-oidc-provider", facts: map[string]string{"account": "111122223333"},
			next: []string{"--open-id-connect-provider-arn arn:aws:iam::111122223333:oidc-provider/oidc.eks.us-west-2.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"}})
	})
	t.Run("signature-region", func(t *testing.T) {
		text := "An error occurred (SignatureDoesNotMatch) when calling the GetCallerIdentity operation: Credential should be scoped to a valid region. "
		check(t, text, want{id: "sts-signature-region", code: "SignatureDoesNotMatch", wrapper: WrapperCLI, facts: map[string]string{"operation": "GetCallerIdentity"},
			first: "global STS endpoint", checks: []string{"IRSA-REGION-002", "IRSA-REGION-001"}})
	})
	t.Run("validation-constraint", func(t *testing.T) {
		text := "An error occurred (ValidationError) when calling the AssumeRoleWithWebIdentity operation: 1 validation error detected: Value 'app-irsa' at 'roleArn' failed to satisfy constraint: Member must have length greater than or equal to 20"
		check(t, text, want{id: "sts-request-arn-invalid", code: "ValidationError"})
	})
}
