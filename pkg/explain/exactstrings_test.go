package explain

import (
	"strings"
	"testing"
)

// exactErrors are the error strings of docs/behaviour.md#exact-strings,
// #sts-validation-order, #partitions-and-audiences and #sdk-credential-chain,
// verbatim: the STS errors, the China-without-a-region error and each SDK's
// "no credentials" wrapper. Every one must be recognised, alone and, for the
// STS errors, in every SDK wrapper the catalogue handles.
var exactErrors = []struct {
	name, code, msg string
	status          int
	id              string
	// sdkOnly texts are an SDK's own words, not an STS error to wrap.
	sdkOnly bool
}{
	{"InvalidIdentityToken", "InvalidIdentityToken", "", 400, "sts-invalid-identity-token", false},
	{"ExpiredTokenException", "ExpiredTokenException", "", 400, "sts-token-expired", false},
	{"IDPCommunicationError", "IDPCommunicationError", "", 400, "sts-idp-communication", false},
	{"IDPRejectedClaim", "IDPRejectedClaim", "", 403, "sts-idp-rejected-claim", false},
	{"AccessDenied", "AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity", 403, "sts-access-denied", false},
	{"RegionDisabledException", "RegionDisabledException", "", 403, "sts-region-disabled", false},
	{"no-oidc-provider", "InvalidIdentityToken", "No OpenIDConnect provider found in your account for " + issuerUS, 400, "sts-no-oidc-provider", false},
	{"audience", "InvalidIdentityToken", "Incorrect token audience", 400, "sts-incorrect-audience", false},
	{"thumbprint", "InvalidIdentityToken", "OpenIDConnect provider's HTTPS certificate doesn't match configured thumbprint", 400, "sts-thumbprint-mismatch", false},
	{"verification-key", "InvalidIdentityToken", "Couldn't retrieve verification key from your identity provider,  please reference AssumeRoleWithWebIdentity documentation for requirements", 400, "sts-verification-key", false},
	{"token-expired-space", "ExpiredTokenException", "Token expired: current date/time 1731095540 must be before the expiration date/time 1731009140", 400, "sts-token-expired", false},
	{"token-expired-no-space", "ExpiredTokenException", "Token expired: current date/time 1624482533 must be before the expiration date/time1624482335", 400, "sts-token-expired", false},
	{"missing-claim", "InvalidIdentityToken", "Missing a required claim: aud", 400, "sts-missing-claim", false},
	{"invalid-client-token", "InvalidClientTokenId", "The security token included in the request is invalid", 403, "aws-invalid-client-token", false},
	{"invalid-client-token-china", "", "An error occurred (InvalidClientTokenId) when calling the GetCallerIdentity operation: The security token included in the request is invalid", 0, "aws-invalid-client-token", true},
	{"unrecognized-client", "", "An error occurred (UnrecognizedClientException) when calling the ListTables operation: The security token included in the request is invalid.", 0, "aws-invalid-client-token", true},
	{"no-creds-go-v1", "", "NoCredentialProviders: no valid providers in chain. Deprecated.", 0, "sdk-no-credentials", true},
	{"no-creds-go-v2", "", "failed to refresh cached credentials, no EC2 IMDS role found", 0, "sdk-no-credentials", true},
	{"no-creds-botocore", "", "Unable to locate credentials", 0, "sdk-no-credentials", true},
	{"no-creds-js-v3", "", "Could not load credentials from any providers", 0, "sdk-no-credentials", true},
	{"no-creds-java-v2", "", "Unable to load credentials from any of the providers in the chain AwsCredentialsProviderChain", 0, "sdk-no-credentials", true},
}

func TestExactErrorStringsRecognised(t *testing.T) {
	for _, x := range exactErrors {
		texts := map[string]string{}
		switch {
		case x.sdkOnly:
			texts["as is"] = x.msg
		case x.msg == "":
			texts["code alone"] = x.code
		default:
			texts["message alone"] = x.msg
		}
		if !x.sdkOnly {
			msg := x.msg
			if msg == "" {
				msg = "see the AWS documentation"
			}
			for _, w := range wrappers {
				texts[w.name] = w.fn(x.code, msg, x.status)
			}
		}
		for form, text := range texts {
			t.Run(x.name+"/"+form, func(t *testing.T) {
				e, ok := Explain(text)
				if !ok || e.ID != x.id {
					t.Fatalf("Explain = %q (recognised %v), want %q\ntext:\n%s", e.ID, ok, x.id, text)
				}
				if len(e.Causes) == 0 || len(e.Next) == 0 {
					t.Errorf("no causes or next steps: %+v", e)
				}
			})
		}
	}
}

// invalidClientToken is the error as each SDK prints it when a signed call
// (here sts:GetCallerIdentity, as in AWS's troubleshooting of China regions)
// presents an access key the endpoint does not know
// (docs/behaviour.md#partitions-and-audiences). STS does not model the code,
// so Go v2 prints "api error", Java v2 StsException and Java v1 "Error Code:".
var invalidClientToken = map[string]string{
	WrapperCLI:      "\nAn error occurred (InvalidClientTokenId) when calling the GetCallerIdentity operation: The security token included in the request is invalid\n",
	WrapperBotocore: "Traceback (most recent call last):\n  File \"app.py\", line 4, in <module>\nbotocore.exceptions.ClientError: An error occurred (InvalidClientTokenId) when calling the GetCallerIdentity operation: The security token included in the request is invalid",
	WrapperGoV1:     "InvalidClientTokenId: The security token included in the request is invalid.\n\tstatus code: 403, request id: " + reqID,
	WrapperGoV2:     "operation error STS: GetCallerIdentity, https response error StatusCode: 403, RequestID: " + reqID + ", api error InvalidClientTokenId: The security token included in the request is invalid.",
	WrapperJavaV2:   "software.amazon.awssdk.services.sts.model.StsException: The security token included in the request is invalid. (Service: Sts, Status Code: 403, Request ID: " + reqID + ")\n\tat software.amazon.awssdk.core.internal.http.CombinedResponseHandler.handleErrorResponse(CombinedResponseHandler.java:125)",
	WrapperJavaV1:   "com.amazonaws.services.securitytoken.model.AWSSecurityTokenServiceException: The security token included in the request is invalid. (Service: AWSSecurityTokenService; Status Code: 403; Error Code: InvalidClientTokenId; Request ID: " + reqID + "; Proxy: null)",
	WrapperJSV3:     "InvalidClientTokenId: The security token included in the request is invalid.\n    at throwDefaultError (/app/node_modules/@smithy/smithy-client/dist-cjs/index.js:1:1)\n    at process.processTicksAndRejections (node:internal/process/task_queues:95:5) {\n  '$fault': 'client',\n  '$metadata': {\n    httpStatusCode: 403,\n    requestId: '" + reqID + "',\n    attempts: 1\n  },\n  Type: 'Sender',\n  Code: 'InvalidClientTokenId'\n}",
}

func TestInvalidClientTokenIDInEveryWrapper(t *testing.T) {
	for wrapper, text := range invalidClientToken {
		t.Run(wrapper, func(t *testing.T) {
			w := want{
				id: "aws-invalid-client-token", code: "InvalidClientTokenId", wrapper: wrapper,
				msg:    "The security token included in the request is invalid",
				first:  "China region",
				checks: []string{"IRSA-REGION-001", "IRSA-CRED-001"},
				next:   []string{"aws sts get-caller-identity --region REGION"},
			}
			if wrapper != WrapperCLI && wrapper != WrapperBotocore {
				w.facts = map[string]string{"request_id": reqID, "http_status": "403"}
			}
			if wrapper == WrapperCLI || wrapper == WrapperBotocore || wrapper == WrapperGoV2 {
				w.facts = with(w, func(x *want) { x.facts["operation"] = "GetCallerIdentity" }).facts
			}
			e := check(t, text, w)
			// The ranking the docs give: China without a region, another
			// partition's credentials, then deleted or expired static keys.
			if len(e.Causes) < 3 || !strings.Contains(e.Causes[1].Summary, "another partition") || !strings.Contains(e.Causes[2].Summary, "Static access keys") {
				t.Errorf("causes out of order:\n%s", e.Text())
			}
			if !hasCheck(e.Causes[0], "IRSA-REGION-001") || !hasCheck(e.Causes[2], "IRSA-CRED-001") {
				t.Errorf("China cause must name IRSA-REGION-001, static keys IRSA-CRED-001:\n%s", e.Text())
			}
		})
	}
}

// The facts around the error re-rank the causes.
func TestInvalidClientTokenIDRanking(t *testing.T) {
	cli := invalidClientToken[WrapperCLI]
	tests := []struct {
		name, text, first string
		facts             map[string]string
	}{
		{"china role ARN", "assuming arn:aws-cn:iam::111122223333:role/app\n" + cli, "China region", map[string]string{"partition": "aws-cn"}},
		{"govcloud role ARN", "role_arn=arn:aws-us-gov:iam::111122223333:role/app\n" + cli, "China region", map[string]string{"partition": "aws-us-gov"}},
		{"keys in the environment", "2024-06-04 11:28:22,588 - MainThread - botocore.credentials - INFO - Found credentials in environment variables.\n" + cli,
			"Static access keys", map[string]string{"credential_source": "environment"}},
		{"keys in a credentials file", "2024-06-04 11:28:22,588 - MainThread - botocore.credentials - INFO - Found credentials in shared credentials file: ~/.aws/credentials\n" + cli,
			"Static access keys", map[string]string{"credential_source": "shared-credentials-file"}},
		{"access key in the env dump", "AWS_ACCESS_KEY_ID=" + akid + "\n" + cli, "Static access keys", nil},
		{"commercial region known", "AWS_REGION=eu-west-1 AWS_DEFAULT_REGION=eu-west-1\n" + cli, "Static access keys", map[string]string{"partition": "aws"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := check(t, tt.text, want{id: "aws-invalid-client-token", first: tt.first, facts: tt.facts})
			if strings.Contains(allOutput(e), akid) {
				t.Errorf("access key id echoed")
			}
		})
	}
}

func hasCheck(c Cause, id string) bool {
	for _, x := range c.CheckIDs {
		if x == id {
			return true
		}
	}
	return false
}

// Keep the table honest: each entry's id is one the catalogue knows.
func TestExactErrorIDsAreCatalogued(t *testing.T) {
	for _, x := range exactErrors {
		if _, ok := catalog[x.id]; !ok {
			t.Errorf("%s: id %q is not in the catalogue", x.name, x.id)
		}
	}
	if n := len(exactErrors); n < 20 {
		t.Fatalf("only %d exact strings", n)
	}
}
