package explain

import (
	"strings"
	"testing"
)

const nodeARN = "arn:aws:sts::111122223333:assumed-role/eksctl-prod-nodegroup-ng-1-NodeInstanceRole-1A2B3C4D/i-0abcd1234ef567890"

// SDK-side failures (docs/behaviour.md#sdk-side-failures, #pod-identity-flow, #sdk-credential-chain;
// failure modes F6–F10, F12, F13 and F15 of docs/behaviour.md#failure-modes),
// each in the wrappers it exists in.
var sdkCases = []struct {
	name, text string
	want       want
}{
	// F7 / docs/behaviour.md#sdk-side-failures: token file unreadable.
	{"token-file/go-v2", "operation error S3: ListBuckets, get identity: get credentials: failed to refresh cached credentials, failed to retrieve jwt from provide source, unable to read file at " + tokPath + ": open " + tokPath + ": permission denied",
		want{id: "sdk-token-file-unreadable", wrapper: WrapperGoV2, facts: map[string]string{"token_path": tokPath, "file_error": "permission-denied"}, first: "cannot read the token file", checks: []string{"IRSA-TOKEN-003"}}},
	{"token-file/go-v1", "WebIdentityErr: failed fetching WebIdentity token: \ncaused by: WebIdentityErr: unable to read file at " + tokPath + "\ncaused by: open " + tokPath + ": permission denied",
		want{id: "sdk-token-file-unreadable", code: "WebIdentityErr", wrapper: WrapperGoV1, facts: map[string]string{"token_path": tokPath, "file_error": "permission-denied"}, first: "cannot read the token file"}},
	{"token-file/botocore", "Traceback (most recent call last):\n  File \"/usr/lib/python3/site-packages/botocore/utils.py\", line 3016, in __call__\nPermissionError: [Errno 13] Permission denied: '" + tokPath + "'",
		want{id: "sdk-token-file-unreadable", wrapper: WrapperBotocore, facts: map[string]string{"token_path": tokPath, "file_error": "permission-denied"}, checks: []string{"IRSA-TOKEN-003"}}},
	{"token-file/js-v3-missing", "Error: ENOENT: no such file or directory, open '" + tokPath + "'\n    at Object.openSync (node:fs:601:3)",
		want{id: "sdk-token-file-unreadable", wrapper: WrapperJSV3, facts: map[string]string{"token_path": tokPath, "file_error": "not-found"}, first: "not mounted in this container", checks: []string{"IRSA-POD-001", "IRSA-POD-004", "IRSA-TOKEN-002"}}},
	{"token-file/java", "software.amazon.awssdk.core.exception.SdkClientException: Unable to load credentials from WebIdentityTokenCredentialsProvider: java.nio.file.AccessDeniedException: " + tokPath,
		want{id: "sdk-token-file-unreadable", wrapper: WrapperJavaV2, facts: map[string]string{"token_path": tokPath, "file_error": "permission-denied"}}},
	{"token-file/windows", `failed to retrieve jwt from provide source, unable to read file at C:\var\run\secrets\eks.amazonaws.com\serviceaccount\token: open C:\var\run\secrets\eks.amazonaws.com\serviceaccount\token: The system cannot find the file specified.`,
		want{id: "sdk-token-file-unreadable", wrapper: WrapperGoV2, facts: map[string]string{"token_path": `C:\var\run\secrets\eks.amazonaws.com\serviceaccount\token`}}},

	// docs/behaviour.md#sts-validation-order, #sdk-credential-chain: role ARN missing.
	{"role-arn/go-v2", "operation error S3: ListBuckets, get identity: get credentials: failed to refresh cached credentials, role ARN is not set",
		want{id: "sdk-role-arn-not-set", wrapper: WrapperGoV2, first: "sets AWS_WEB_IDENTITY_TOKEN_FILE itself", checks: []string{"IRSA-POD-001", "IRSA-POD-002", "IRSA-CRED-002"}}},
	{"role-arn/botocore", `botocore.exceptions.InvalidConfigError: The profile "default" is configured to assume role with web identity but has no role ARN configured. Ensure the role_arn is set.`,
		want{id: "sdk-role-arn-not-set", code: "InvalidConfigError", wrapper: WrapperBotocore}},

	// docs/behaviour.md#sts-validation-order, #sdk-credential-chain, docs/behaviour.md#f8-sdk-without-web-identity: Java without the sts module,
	// inside the chain's summary (the summary must not win).
	{"java-sts/v2", "software.amazon.awssdk.core.exception.SdkClientException: Unable to load credentials from any of the providers in the chain AwsCredentialsProviderChain(credentialsProviders=[SystemPropertyCredentialsProvider(), EnvironmentVariableCredentialsProvider(), WebIdentityTokenCredentialsProvider(), ProfileCredentialsProvider()]) : [SystemPropertyCredentialsProvider(): Unable to load credentials from system settings., WebIdentityTokenCredentialsProvider(): To use web identity tokens, the 'sts' service module must be on the class path., ProfileCredentialsProvider(): Profile file contained no credentials.]",
		want{id: "sdk-java-sts-module-missing", code: "SdkClientException", wrapper: WrapperJavaV2, first: "lacks the STS module", next: []string{"mvn dependency:tree"}}},
	{"java-sts/v1", "com.amazonaws.SdkClientException: Unable to load AWS credentials from any provider in the chain: [EnvironmentVariableCredentialsProvider: Unable to load AWS credentials from environment variables, WebIdentityTokenCredentialsProvider: To use assume role profiles the aws-java-sdk-sts module must be on the class path., InstanceProfileCredentialsProvider: Failed to connect to service endpoint: ]",
		want{id: "sdk-java-sts-module-missing", wrapper: WrapperJavaV1}},

	// docs/behaviour.md#f6-pod-not-mutated: no credentials at all.
	{"no-creds/cli", "Unable to locate credentials. You can configure credentials by running \"aws configure\".",
		want{id: "sdk-no-credentials", wrapper: WrapperCLI, first: "webhook did not mutate it", checks: []string{"IRSA-POD-001", "IRSA-SA-002", "IRSA-SA-003", "IRSA-WEBHOOK-001", "IRSA-WEBHOOK-002", "IRSA-CRED-003"}}},
	{"no-creds/botocore", "botocore.exceptions.NoCredentialsError: Unable to locate credentials",
		want{id: "sdk-no-credentials", code: "NoCredentialsError", wrapper: WrapperBotocore}},
	{"no-creds/go-v1", "NoCredentialProviders: no valid providers in chain. Deprecated.\n\tFor verbose messaging see aws.Config.CredentialsChainVerboseErrors",
		want{id: "sdk-no-credentials", code: "NoCredentialProviders", wrapper: WrapperGoV1}},
	{"no-creds/go-v2", "operation error S3: ListBuckets, get identity: get credentials: failed to refresh cached credentials, no EC2 IMDS role found, operation error ec2imds: GetMetadata, http response error StatusCode: 404, request to EC2 IMDS failed",
		want{id: "sdk-no-credentials", wrapper: WrapperGoV2, notes: []string{"no EC2 IMDS role found"}}},
	{"no-creds/js-v3", "CredentialsProviderError: Could not load credentials from any providers\n    at /app/node_modules/@aws-sdk/credential-provider-node/dist-cjs/index.js:1:1",
		want{id: "sdk-no-credentials", code: "CredentialsProviderError", wrapper: WrapperJSV3}},
	{"no-creds/java-v2", "software.amazon.awssdk.core.exception.SdkClientException: Unable to load credentials from any of the providers in the chain AwsCredentialsProviderChain(credentialsProviders=[SystemPropertyCredentialsProvider(), EnvironmentVariableCredentialsProvider()])",
		want{id: "sdk-no-credentials", wrapper: WrapperJavaV2}},

	// docs/behaviour.md#f9-node-role-instead-of-irsa: the node role.
	{"node-role/cli", "An error occurred (AccessDenied) when calling the ListBuckets operation: User: " + nodeARN + " is not authorized to perform: s3:ListAllMyBuckets because no identity-based policy allows the s3:ListAllMyBuckets action",
		want{id: "node-role-used", code: "AccessDenied", wrapper: WrapperCLI,
			facts: map[string]string{"node_role": "eksctl-prod-nodegroup-ng-1-NodeInstanceRole-1A2B3C4D", "instance_id": "i-0abcd1234ef567890", "account": "111122223333", "action": "s3:ListAllMyBuckets", "principal": nodeARN},
			first: "webhook did not mutate it", checks: []string{"IRSA-POD-001", "IRSA-CRED-001", "IRSA-CRED-002"}, notes: []string{"instance id"}}},
	{"node-role/go-v2", "operation error S3: GetObject, https response error StatusCode: 403, RequestID: 7XK2MZ1Q9H3B5C8D, HostID: abc=, api error AccessDenied: User: " + nodeARN + " is not authorized to perform: s3:GetObject on resource: \"arn:aws:s3:::shop-bucket/key\" because no identity-based policy allows the s3:GetObject action",
		want{id: "node-role-used", code: "AccessDenied", wrapper: WrapperGoV2, facts: map[string]string{"resource": "arn:aws:s3:::shop-bucket/key", "http_status": "403", "request_id": "7XK2MZ1Q9H3B5C8D"}}},
	{"node-role/go-v1", "AccessDeniedException: User: " + nodeARN + " is not authorized to perform: secretsmanager:GetSecretValue on resource: shop-db\n\tstatus code: 400, request id: " + reqID,
		want{id: "node-role-used", code: "AccessDeniedException", wrapper: WrapperGoV1, facts: map[string]string{"action": "secretsmanager:GetSecretValue"}}},
	{"node-role/java-v2", "software.amazon.awssdk.services.s3.model.S3Exception: User: " + nodeARN + " is not authorized to perform: s3:ListBucket on resource: \"arn:aws:s3:::shop\" (Service: S3, Status Code: 403, Request ID: " + reqID + ")",
		want{id: "node-role-used", code: "AccessDenied", wrapper: WrapperJavaV2, facts: map[string]string{"http_status": "403"}}},
	{"node-role/get-caller-identity", "{\n    \"UserId\": \"AROAEXAMPLEID:i-0abcd1234ef567890\",\n    \"Account\": \"111122223333\",\n    \"Arn\": \"" + nodeARN + "\"\n}",
		want{id: "node-role-used", facts: map[string]string{"instance_id": "i-0abcd1234ef567890"}}},

	// Other identities denied an action.
	{"denied/irsa-works", "An error occurred (AccessDenied) when calling the GetObject operation: User: arn:aws:sts::111122223333:assumed-role/app-irsa/botocore-session-1700000000 is not authorized to perform: s3:GetObject on resource: \"arn:aws:s3:::shop/k\"",
		want{id: "aws-permission-denied", facts: map[string]string{"role_name": "app-irsa", "session_name": "botocore-session-1700000000"}, first: "IRSA works", checks: []string{"IRSA-ROLE-002"}, next: []string{"aws iam list-attached-role-policies --role-name app-irsa"}}},
	{"denied/static-user", "AccessDenied: User: arn:aws:iam::111122223333:user/ci-bot is not authorized to perform: s3:GetObject\n\tstatus code: 403, request id: " + reqID,
		want{id: "aws-permission-denied", first: "another identity", checks: []string{"IRSA-CRED-001"}}},
	{"expired-session", "ExpiredToken: The security token included in the request is expired\n\tstatus code: 403, request id: " + reqID,
		want{id: "aws-credentials-expired", code: "ExpiredToken", wrapper: WrapperGoV1}},
	// docs/behaviour.md#partitions-and-audiences: China without a region, another partition's or dead static keys.
	{"invalid-client-token/cli", "An error occurred (InvalidClientTokenId) when calling the GetCallerIdentity operation: The security token included in the request is invalid",
		want{id: "aws-invalid-client-token", code: "InvalidClientTokenId", wrapper: WrapperCLI, facts: map[string]string{"operation": "GetCallerIdentity"},
			first: "China region", checks: []string{"IRSA-REGION-001", "IRSA-CRED-001"}}},
	{"unrecognized-client/js-v3", "UnrecognizedClientException: The security token included in the request is invalid.\n    at throwDefaultError (/app/node_modules/@smithy/smithy-client/dist-cjs/index.js:1:1) {\n  '$fault': 'client',\n  '$metadata': { httpStatusCode: 400 }\n}",
		want{id: "aws-invalid-client-token", code: "UnrecognizedClientException", wrapper: WrapperJSV3, facts: map[string]string{"http_status": "400"}}},

	// docs/behaviour.md#f12-sts-endpoint, #f13-china-and-govcloud: STS endpoint.
	{"sts-unreachable/go-v1", "WebIdentityErr: failed to retrieve credentials\ncaused by: RequestError: send request failed\ncaused by: Post \"https://sts.amazonaws.com/\": dial tcp 52.94.241.129:443: i/o timeout",
		want{id: "sts-endpoint-unreachable", code: "RequestError", wrapper: WrapperGoV1, facts: map[string]string{"sts_host": "sts.amazonaws.com"}, first: "private network", checks: []string{"IRSA-REGION-002"}}},
	{"sts-unreachable/go-v2", "operation error STS: AssumeRoleWithWebIdentity, exceeded maximum number of attempts, 3, https response error StatusCode: 0, RequestID: , request send failed, Post \"https://sts.us-east-1.amazonaws.com/\": dial tcp 10.0.0.1:443: i/o timeout",
		want{id: "sts-endpoint-unreachable", wrapper: WrapperGoV2, facts: map[string]string{"sts_host": "sts.us-east-1.amazonaws.com", "attempts": "3"}}},
	{"sts-unreachable/botocore", "botocore.exceptions.ConnectTimeoutError: Connect timeout on endpoint URL: \"https://sts.amazonaws.com/\"",
		want{id: "sts-endpoint-unreachable", wrapper: WrapperBotocore, facts: map[string]string{"sts_host": "sts.amazonaws.com"}}},
	{"sts-unreachable/china", "Inaccessible host: `sts.cn-northwest-1.amazonaws.com'. This service may not be available in the `cn-northwest-1' region.",
		want{id: "sts-endpoint-unreachable", facts: map[string]string{"sts_host": "sts.cn-northwest-1.amazonaws.com"}, first: "wrong partition", checks: []string{"IRSA-REGION-001"}}},
	{"partition-invalid", `Error: Partition "aws" is not valid for resource "arn:aws:iam::111122223333:role/app".`,
		want{id: "arn-partition-invalid", facts: map[string]string{"partition": "aws"}, checks: []string{"IRSA-SA-004", "IRSA-TRUST-001"}}},

	// docs/behaviour.md#f15-trust-policy-size-and-stale-issuers.
	{"trust-size", "Error: updating IAM Role (app) assume role policy: LimitExceeded: Cannot exceed quota for ACLSizePerRole: 2048\n\tstatus code: 409, request id: " + reqID,
		want{id: "iam-trust-policy-size", code: "LimitExceeded", facts: map[string]string{"quota": "2048"}, checks: []string{"IRSA-TRUST-002"}}},

	// docs/behaviour.md#webhook-admission: webhook outage; kubelet projection.
	{"webhook", `Error creating: Internal error occurred: failed calling webhook "iam-for-pods.amazonaws.com": failed to call webhook: Post "https://pod-identity-webhook.kube-system.svc:443/mutate?timeout=10s": context deadline exceeded`,
		want{id: "webhook-call-failed", wrapper: WrapperWebhook, facts: map[string]string{"webhook": "iam-for-pods.amazonaws.com"}, checks: []string{"IRSA-WEBHOOK-001", "IRSA-WEBHOOK-002"}}},
	{"kubelet", `Warning  FailedMount  12s  kubelet  MountVolume.SetUp failed for volume "aws-iam-token" : failed to fetch token: serviceaccounts "app" not found`,
		want{id: "kubelet-token-mount-failed", wrapper: WrapperKubelet, facts: map[string]string{"volume": "aws-iam-token"}, checks: []string{"IRSA-SA-001"}}},
}

func TestSDKErrors(t *testing.T) {
	for _, c := range sdkCases {
		t.Run(c.name, func(t *testing.T) { check(t, c.text, c.want) })
	}
}

// The same SDK errors survive CRLF, prefixes and JSON quoting.
func TestSDKErrorVariants(t *testing.T) {
	for _, c := range sdkCases {
		for name, tr := range map[string]func(string) string{"crlf": crlf, "prefixed": prefixed, "json": jsonLine} {
			t.Run(c.name+"/"+name, func(t *testing.T) {
				e, ok := Explain(tr(c.text))
				if !ok || e.ID != c.want.id {
					t.Fatalf("id = %q (ok %v), want %q", e.ID, ok, c.want.id)
				}
				for _, k := range []string{"token_path", "issuer", "node_role", "sts_host"} {
					if v := c.want.facts[k]; v != "" && e.Facts[k] != v {
						t.Errorf("fact %s = %q, want %q", k, e.Facts[k], v)
					}
				}
			})
		}
	}
}

func TestPodIdentityAgentErrors(t *testing.T) {
	agent := func(code, msg string) string {
		return "[" + reqID + "]: (" + code + "): " + msg + ", fault: client"
	}
	cases := []struct {
		name, text string
		want       want
	}{
		{"access-denied", agent("AccessDeniedException", "Unauthorized Exception! EKS does not have permissions to assume the associated role."),
			want{id: "pod-identity-agent-access-denied", code: "AccessDeniedException", wrapper: WrapperAgent, facts: map[string]string{"request_id": reqID, "fault": "client"},
				first: "pods.eks.amazonaws.com", msg: "EKS does not have permissions to assume the associated role.", next: []string{"aws eks list-pod-identity-associations", "ds/eks-pod-identity-agent"}}},
		{"access-denied-node-role", agent("AccessDeniedException", "User: arn:aws:sts::111122223333:assumed-role/node/i-0abcd1234ef567890 is not authorized to perform: eks-auth:AssumeRoleForPodIdentity"),
			want{id: "pod-identity-agent-access-denied", first: "node role lacks"}},
		{"no-association", agent("ResourceNotFoundException", "Pod Identity Association not found"),
			want{id: "pod-identity-agent-no-association", code: "ResourceNotFoundException", first: "No association", checks: []string{"PODID-ASSOC-002"}}},
		{"expired", agent("ExpiredTokenException", "Service account token has expired"), want{id: "pod-identity-agent-expired-token", code: "ExpiredTokenException"}},
		{"invalid", agent("InvalidTokenException", "Token is not valid"), want{id: "pod-identity-agent-invalid-token", first: "not the Pod Identity token"}},
		{"invalid-param", agent("InvalidParameterException", "Cluster name is invalid"), want{id: "pod-identity-agent-invalid-request"}},
		{"throttled", agent("ThrottlingException", "Rate exceeded"), want{id: "pod-identity-agent-throttled"}},
		{"server", strings.Replace(agent("InternalServerException", "Internal failure"), "client", "server", 1), want{id: "pod-identity-agent-server-error", facts: map[string]string{"fault": "server"}}},
		{"other-code", agent("SomethingNewException", "new"), want{id: "pod-identity-agent-error", code: "SomethingNewException"}},
		{"empty", "Service account token cannot be empty", want{id: "pod-identity-agent-token-empty", wrapper: WrapperAgent}},
		{"unparsable", "Service account token cannot be parsed: token contains an invalid number of segments", want{id: "pod-identity-agent-token-unparsable"}},
		{"claims", "Service account token failed basic claim validations: token is expired", want{id: "pod-identity-agent-token-claims-invalid"}},
		{"botocore-container-role", "botocore.exceptions.CredentialRetrievalError: Error when retrieving credentials from container-role: Error retrieving metadata: Received non 200 response 400 from container metadata: [" + reqID + "]: (ExpiredTokenException): Service account token has expired, fault: client",
			want{id: "pod-identity-agent-expired-token", code: "ExpiredTokenException", wrapper: WrapperBotocore}},
		{"f10-expired-from-container-role", "Error when retrieving credentials from container-role: ExpiredTokenException: the token has expired",
			want{id: "pod-identity-agent-expired-token", code: "ExpiredTokenException", wrapper: WrapperBotocore}},
		{"unreachable/go-v2", `failed to refresh cached credentials, failed to load credentials, exceeded maximum number of attempts, 3, request send failed, Get "http://169.254.170.23/v1/credentials": dial tcp 169.254.170.23:80: connect: connection refused`,
			want{id: "pod-identity-agent-unreachable", wrapper: WrapperGoV2, first: "not installed or not running"}},
		{"unreachable/botocore", `botocore.exceptions.CredentialRetrievalError: Error when retrieving credentials from container-role: Error retrieving metadata: Connect timeout on endpoint URL: "http://169.254.170.23/v1/credentials"`,
			want{id: "pod-identity-agent-unreachable", wrapper: WrapperBotocore}},
		{"old-sdk", `failed to refresh cached credentials, failed to load credentials, invalid endpoint host, "169.254.170.23", only loopback hosts are allowed`,
			want{id: "sdk-container-host-rejected", wrapper: WrapperGoV2, first: "older than the Pod Identity minimum"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { check(t, c.text, c.want) })
	}
}
