package explain

import (
	"regexp"
	"strings"
)

// rule recognises one error message. Patterns are case-insensitive and use
// \s+ between words, so any case ("Couldn't"/"couldn't"), doubled spaces
// ("provider,  please") and lines wrapped at a space all match.
type rule struct {
	id string
	re *regexp.Regexp
	// code is the AWS/SDK error code the message comes with, used when the
	// wrapper does not show one (e.g. Java v2 prints only StsException).
	code string
	// facts copies submatches into facts; nil if none.
	facts func(sub []string, f map[string]string)
	// idFor picks the id from the submatches; nil means id.
	idFor func(sub []string) string
	// msg is the submatch holding the message; 0 means "from the match to
	// the end of its line".
	msg int
	// weak rules describe a summary the SDK prints around a more specific
	// error (Java's "Unable to load credentials from any of the providers in
	// the chain […: To use web identity tokens, the 'sts' service module
	// must be on the class path.]"); they are dropped when another error is
	// on the same line.
	weak bool
	// kw are lower-case words of which the text must hold one for re to be
	// tried at all: most logs hold one kind of error, and skipping the
	// other patterns keeps a long log cheap.
	kw []string
}

func re(s string) *regexp.Regexp { return regexp.MustCompile(`(?i)` + s) }

// rules in priority order: when two matches overlap, the earlier rule wins.
var rules = []rule{
	// docs/behaviour.md#pod-identity-flow: the Pod Identity agent answers with
	// "[<request-id>]: (<ErrorCode>): <message>, fault: client".
	{id: "pod-identity-agent-error", kw: []string{"fault"}, re: re(`\[([A-Za-z0-9-]{8,})\]:\s*\(([A-Za-z]+)\):\s*([^\n]*?),\s*fault:\s*(client|server)`), msg: 3,
		idFor: func(s []string) string { return agentID(s[2], s[3]) },
		facts: func(s []string, f map[string]string) { f["request_id"], f["fault"] = s[1], strings.ToLower(s[4]) }},
	// docs/behaviour.md#pod-identity-flow: the agent's own 400 validation errors.
	{id: "pod-identity-agent-token-rejected", kw: []string{"cannot", "claim"}, re: re(`service\s+account\s+token\s+(cannot\s+be\s+empty|cannot\s+be\s+parsed|failed\s+basic\s+claim\s+validations)`),
		idFor: func(s []string) string {
			switch l := strings.ToLower(s[1]); {
			case strings.Contains(l, "empty"):
				return "pod-identity-agent-token-empty"
			case strings.Contains(l, "parsed"):
				return "pod-identity-agent-token-unparsable"
			}
			return "pod-identity-agent-token-claims-invalid"
		}},
	// docs/behaviour.md#f9-node-role-instead-of-irsa: an instance-id session name means the node role.
	{id: "node-role-used", code: "AccessDenied", kw: []string{"assumed-role/"}, re: re(`user:\s*(arn:aws[a-z-]*:sts::\d{12}:assumed-role/[\w+=,.@-]+/i-[0-9a-f]{8,17})\b(?:\s+is\s+not\s+authorized\s+to\s+perform:?\s*([\w-]+:[\w*]+)(?:\s+on\s+resource:?\s*"?([^\s"',]+))?)?`),
		facts: deniedFacts},
	{id: "node-role-used", kw: []string{"assumed-role/"}, re: re(`(arn:aws[a-z-]*:sts::\d{12}:assumed-role/[\w+=,.@-]+/i-[0-9a-f]{8,17})\b`),
		facts: func(s []string, f map[string]string) { f["principal"] = s[1] }},
	// docs/behaviour.md#sts-validation-order step 2, docs/behaviour.md#f1-no-openidconnect-provider, #f13-china-and-govcloud, #f14-cross-account-irsa. The issuer is echoed.
	{id: "sts-no-oidc-provider", code: "InvalidIdentityToken", kw: []string{"connect"}, re: re(`no\s+open\s?id\s?connect\s+provider\s+found\s+in\s+your\s+account(?:\s+for\s+([^\s"'<>,;]+))?`),
		facts: func(s []string, f map[string]string) {
			if iss := trimURL(s[1]); iss != "" {
				f["issuer"] = iss
			}
		}},
	// docs/behaviour.md#sts-validation-order step 3, docs/behaviour.md#f2-thumbprint-mismatch.
	{id: "sts-thumbprint-mismatch", code: "InvalidIdentityToken", kw: []string{"thumbprint"}, re: re(`open\s?id\s?connect\s+provider(?:['’]s)?\s+https\s+certificate\s+doesn['’]?t\s+match\s+(?:the\s+)?configured\s+thumbprint`)},
	// docs/behaviour.md#sts-validation-order steps 3–4, docs/behaviour.md#f11-expired-token-or-jwks: note the double space and
	// the lower-case "couldn't" variant.
	{id: "sts-verification-key", code: "InvalidIdentityToken", kw: []string{"verification"}, re: re(`could(?:n['’]?t|\s+not)\s+retrieve\s+verification\s+key\s+from\s+your\s+identity\s+provider(?:\s*,\s*please\s+reference\s+assumerolewithwebidentity\s+documentation\s+for\s+requirements)?`)},
	// docs/behaviour.md#sts-validation-order step 5, docs/behaviour.md#f3-incorrect-token-audience.
	{id: "sts-incorrect-audience", code: "InvalidIdentityToken", kw: []string{"audience"}, re: re(`incorrect\s+token\s+audience`)},
	// docs/behaviour.md#sts-validation-order step 6, docs/behaviour.md#f11-expired-token-or-jwks: "date/time1624482335" (2021)
	// and "date/time 1731095240" (2024).
	{id: "sts-token-expired", code: "ExpiredTokenException", kw: []string{"expiration"}, re: re(`token\s+expired\s*:?\s*current\s+date\s*/\s*time\s*(\d{9,})\s+must\s+be\s+before\s+the\s+expiration\s+date\s*/\s*time\s*(\d{9,})`),
		facts: func(s []string, f map[string]string) { expiryFacts(s[1], s[2], f) }},
	{id: "sts-token-expired", code: "ExpiredTokenException", kw: []string{"old"}, re: re(`token\s+too\s+old\s*:?\s*(\d+)`),
		facts: func(s []string, f map[string]string) { f["token_age"] = seconds(atoi64(s[1])) }},
	// docs/behaviour.md#sts-validation-order step 1.
	{id: "sts-missing-claim", code: "InvalidIdentityToken", kw: []string{"claim"}, re: re(`missing\s+a\s+required\s+claim\s*:?\s*([\w.:-]+)`),
		facts: func(s []string, f map[string]string) { f["claim"] = s[1] }},
	// docs/behaviour.md#sts-validation-order step 8, docs/behaviour.md#f4-accessdenied-from-the-trust-policy.
	{id: "sts-access-denied", code: "AccessDenied", kw: []string{"assumerolewithwebidentity"}, re: re(`not\s+authorized\s+to\s+perform:?\s*sts:assumerolewithwebidentity\b`)},
	// docs/behaviour.md#f5-invalid-role-arn.
	{id: "sts-request-arn-invalid", code: "ValidationError", kw: []string{"invalid", "rolearn"}, re: re(`request\s+arn\s+is\s+invalid|value\s+'[^'\n]*'\s+at\s+'roleArn'\s+failed\s+to\s+satisfy\s+constraint`)},
	// docs/behaviour.md#sts-validation-order step 9.
	{id: "sts-duration-exceeds-max", code: "ValidationError", kw: []string{"maxsessionduration"}, re: re(`durationseconds\s+exceeds\s+the\s+maxsessionduration`)},
	// docs/behaviour.md#sdk-side-failures, docs/behaviour.md#f12-sts-endpoint.
	{id: "sts-region-disabled", code: "RegionDisabledException", kw: []string{"activated"}, re: re(`sts\s+is\s+not\s+activated\s+(?:in|for)\s+this\s+region(?:\s+for\s+account\s*:?\s*(\d{12}))?`),
		facts: func(s []string, f map[string]string) {
			if s[1] != "" {
				f["account"] = s[1]
			}
		}},
	{id: "sts-signature-region", code: "SignatureDoesNotMatch", kw: []string{"scoped"}, re: re(`credential\s+should\s+be\s+scoped\s+to\s+a\s+valid\s+region`)},
	// docs/behaviour.md#sdk-side-failures, docs/behaviour.md#f7-token-file-unreadable. Go v2 says
	// "failed to retrieve jwt from provide source" (sic) before it.
	{id: "sdk-token-file-unreadable", kw: []string{"read"}, re: re(`unable\s+to\s+read\s+file\s+at\s+([A-Za-z]:\\[^\s,"']+|[^\s,:"']+)`),
		facts: func(s []string, f map[string]string) { f["token_path"] = trimURL(s[1]) }},
	{id: "sdk-token-file-unreadable", kw: []string{"errno"}, re: re(`\[errno\s+(?:13|2)\]\s+(?:permission\s+denied|no\s+such\s+file\s+or\s+directory)\s*:?\s*['"]([^'"\n]*(?:token|eks\.amazonaws\.com)[^'"\n]*)['"]`),
		facts: func(s []string, f map[string]string) { f["token_path"] = s[1] }},
	{id: "sdk-token-file-unreadable", kw: []string{"eacces", "enoent"}, re: re(`(?:eacces|enoent):\s*(?:permission\s+denied|no\s+such\s+file\s+or\s+directory),\s*open\s+['"]([^'"\n]*(?:token|eks\.amazonaws\.com)[^'"\n]*)['"]`),
		facts: func(s []string, f map[string]string) { f["token_path"] = s[1] }},
	{id: "sdk-token-file-unreadable", kw: []string{"java.nio"}, re: re(`java\.nio\.file\.(?:accessdeniedexception|nosuchfileexception):\s*([^\s"']*(?:token|eks\.amazonaws\.com)[^\s"']*)`),
		facts: func(s []string, f map[string]string) { f["token_path"] = s[1] }},
	// docs/behaviour.md#sts-validation-order, #sdk-credential-chain: Go v2 and botocore fail hard, no fall-through.
	{id: "sdk-role-arn-not-set", kw: []string{"role"}, re: re(`role\s+arn\s+is\s+not\s+set|(?:configured\s+to\s+assume\s+role\s+with\s+web\s+identity\s+but\s+)?has\s+no\s+role\s+arn\s+configured`)},
	// docs/behaviour.md#sts-validation-order, #sdk-credential-chain, docs/behaviour.md#f8-sdk-without-web-identity (v2 and v1 wording).
	{id: "sdk-java-sts-module-missing", kw: []string{"class"}, re: re(`to\s+use\s+web\s+identity\s+tokens,?\s+the\s+['"]?sts['"]?\s+service\s+module\s+must\s+be\s+on\s+the\s+class\s*path|to\s+use\s+assume\s+role\s+profiles\s+the\s+aws-java-sdk-sts\s+module\s+must\s+be\s+on\s+the\s+class\s*path`)},
	// docs/behaviour.md#sdk-credential-chain, #common-mistakes: SDKs older than the Pod Identity minimum.
	{id: "sdk-container-host-rejected", kw: []string{"loopback", "endpoint"}, re: re(`only\s+loopback(?:/ecs/eks)?\s+hosts\s+are\s+allowed|invalid\s+endpoint\s+host`)},
	// docs/behaviour.md#pod-identity-flow, #pod-identity-restrictions: the agent listens on 169.254.170.23 / [fd00:ec2::23].
	{id: "pod-identity-agent-unreachable", kw: []string{"169.254.170.23", "fd00:ec2"}, re: re(`(?:169\.254\.170\.23|fd00:ec2::23)[^\n]{0,100}?(?:connection\s+refused|i/o\s+timeout|no\s+route\s+to\s+host|network\s+is\s+unreachable|timed\s+out|connection\s+reset)|(?:connect\s+timeout\s+on\s+endpoint\s+url|could\s+not\s+connect\s+to\s+the\s+endpoint\s+url|connection\s+refused)[^\n]{0,60}?(?:169\.254\.170\.23|fd00:ec2::23)`)},
	// docs/behaviour.md#f12-sts-endpoint, #f13-china-and-govcloud.
	{id: "sts-endpoint-unreachable", kw: []string{"sts"}, re: re(`(sts(?:[.-][a-z0-9-]+)?\.(?:amazonaws\.com(?:\.cn)?|api\.aws))[^\n]{0,100}?(?:i/o\s+timeout|connection\s+refused|no\s+such\s+host|timed\s+out|network\s+is\s+unreachable|could\s+not\s+resolve)|(?:connect\s+timeout\s+on\s+endpoint\s+url|could\s+not\s+connect\s+to\s+the\s+endpoint\s+url|inaccessible\s+host|unable\s+to\s+execute\s+http\s+request:\s*connect\s+to)\s*:?\s*["'\x60]?(?:https?://)?(sts[a-z0-9.-]*\.(?:amazonaws\.com(?:\.cn)?|api\.aws))`),
		facts: func(s []string, f map[string]string) { f["sts_host"] = strings.ToLower(s[1] + s[2]) }},
	// docs/behaviour.md#f6-pod-not-mutated; docs/behaviour.md#sdk-credential-chain (each SDK's "no credentials" text).
	{id: "sdk-no-credentials", weak: true, kw: []string{"credentials", "providers", "imds"}, re: re(`unable\s+to\s+locate\s+credentials|no\s+valid\s+providers\s+in\s+chain|no\s+ec2\s+imds\s+role\s+found|could\s+not\s+load\s+credentials\s+from\s+any\s+providers|unable\s+to\s+load\s+(?:aws\s+)?credentials\s+from\s+any\s+(?:of\s+the\s+providers\s+in\s+the\s+chain|provider\s+in\s+the\s+chain)`)},
	// docs/behaviour.md#sdk-side-failures, #partitions-and-audiences: the endpoint does not know the
	// access key the request was signed with (a China pod without a region,
	// another partition's keys, deleted static keys). Query services say
	// InvalidClientTokenId, JSON ones UnrecognizedClientException.
	{id: "aws-invalid-client-token", code: "InvalidClientTokenId", kw: []string{"security"}, re: re(`the\s+security\s+token\s+included\s+in\s+the\s+request\s+is\s+invalid`)},
	// Credentials obtained through IRSA expired and were not refreshed.
	{id: "aws-credentials-expired", code: "ExpiredToken", kw: []string{"security"}, re: re(`the\s+security\s+token\s+included\s+in\s+the\s+request\s+is\s+expired`)},
	// Any other identity denied an action (IRSA itself may be working).
	{id: "aws-permission-denied", code: "AccessDenied", kw: []string{"user"}, re: re(`user:\s*(arn:aws[a-z-]*:(?:sts|iam)::\d{12}:[^\s"']+)\s+is\s+not\s+authorized\s+to\s+perform:?\s*([\w-]+:[\w*]+)(?:\s+on\s+resource:?\s*"?([^\s"',]+))?`),
		facts: deniedFacts},
	// docs/behaviour.md#f13-china-and-govcloud.
	{id: "arn-partition-invalid", kw: []string{"partition"}, re: re(`partition\s+["']?([\w-]+)["']?\s+is\s+not\s+valid`),
		facts: func(s []string, f map[string]string) { f["partition"] = s[1] }},
	// docs/behaviour.md#f15-trust-policy-size-and-stale-issuers.
	{id: "iam-trust-policy-size", code: "LimitExceeded", kw: []string{"aclsizeperrole"}, re: re(`cannot\s+exceed\s+quota\s+for\s+aclsizeperrole\s*:?\s*(\d+)`),
		facts: func(s []string, f map[string]string) { f["quota"] = s[1] }},
	// docs/behaviour.md#webhook-admission: failurePolicy Ignore admits pods un-mutated.
	{id: "webhook-call-failed", kw: []string{"webhook"}, re: re(`failed\s+calling\s+webhook\s+\\?"?([\w.-]*(?:pod-identity|iam-for-pods)[\w.-]*)`),
		facts: func(s []string, f map[string]string) { f["webhook"] = s[1] }},
	// kubelet cannot project the token volume (docs/behaviour.md#token-volume-and-mount, #pod-identity-injection).
	{id: "kubelet-token-mount-failed", kw: []string{"mountvolume"}, re: re(`mountvolume\.setup\s+failed\s+for\s+volume\s+\\?"?(aws-iam-token|eks-pod-identity-token)\b`),
		facts: func(s []string, f map[string]string) { f["volume"] = s[1] }},
}

func deniedFacts(s []string, f map[string]string) {
	f["principal"] = s[1]
	if s[2] != "" {
		f["action"] = s[2]
	}
	if s[3] != "" {
		f["resource"] = strings.TrimRight(s[3], ".")
	}
}

// agentID maps an EKS Auth error code relayed by the agent (docs/behaviour.md#pod-identity-flow).
func agentID(code, _ string) string {
	switch strings.ToLower(code) {
	case "accessdeniedexception":
		return "pod-identity-agent-access-denied"
	case "expiredtokenexception":
		return "pod-identity-agent-expired-token"
	case "invalidtokenexception":
		return "pod-identity-agent-invalid-token"
	case "resourcenotfoundexception":
		return "pod-identity-agent-no-association"
	case "invalidparameterexception", "invalidrequestexception":
		return "pod-identity-agent-invalid-request"
	case "throttlingexception":
		return "pod-identity-agent-throttled"
	case "internalserverexception", "serviceunavailableexception":
		return "pod-identity-agent-server-error"
	}
	return "pod-identity-agent-error"
}

// trimURL drops punctuation a sentence or a log format glued to a URL or
// path.
func trimURL(s string) string { return strings.TrimRight(s, ".,;:)]}'\"\\`") }

// Code tokens name the error when the message is not one of the rules
// (e.g. an unknown InvalidIdentityToken message). Java and JS print the
// modelled exception class; botocore and Go print the wire code.
var codeRe = re(`\b(?:[a-z0-9_]+\.)*(InvalidIdentityToken(?:Exception)?|ExpiredToken(?:Exception)?|IDPCommunicationError(?:Exception)?|IDPRejectedClaim(?:Exception)?|AccessDenied(?:Exception)?|RegionDisabled(?:Exception)?|ValidationError|PackedPolicyTooLarge(?:Exception)?|MalformedPolicyDocument(?:Exception)?|SignatureDoesNotMatch|InvalidClientTokenId|UnrecognizedClient(?:Exception)?|LimitExceeded(?:Exception)?|NoCredentialProviders|NoCredentialsError|InvalidConfigError|CredentialsProviderError|CredentialRetrievalError|SdkClientException|WebIdentityErr|RequestError|StsException)\b`)

var canonicalCodes = map[string]string{
	"invalididentitytoken":     "InvalidIdentityToken",
	"expiredtokenexception":    "ExpiredTokenException",
	"expiredtoken":             "ExpiredToken",
	"idpcommunicationerror":    "IDPCommunicationError",
	"idprejectedclaim":         "IDPRejectedClaim",
	"accessdenied":             "AccessDenied",
	"accessdeniedexception":    "AccessDeniedException",
	"regiondisabledexception":  "RegionDisabledException",
	"regiondisabled":           "RegionDisabledException",
	"validationerror":          "ValidationError",
	"packedpolicytoolarge":     "PackedPolicyTooLarge",
	"malformedpolicydocument":  "MalformedPolicyDocument",
	"signaturedoesnotmatch":    "SignatureDoesNotMatch",
	"invalidclienttokenid":     "InvalidClientTokenId",
	"unrecognizedclient":       "UnrecognizedClientException",
	"limitexceeded":            "LimitExceeded",
	"nocredentialproviders":    "NoCredentialProviders",
	"nocredentialserror":       "NoCredentialsError",
	"invalidconfigerror":       "InvalidConfigError",
	"credentialsprovidererror": "CredentialsProviderError",
	"credentialretrievalerror": "CredentialRetrievalError",
	"sdkclientexception":       "SdkClientException",
	"webidentityerr":           "WebIdentityErr",
	"requesterror":             "RequestError",
	"stsexception":             "StsException",
}

// weakCodes name a wrapper class, not the AWS error; they are used only
// when nothing better is in the text.
var weakCodes = map[string]bool{
	"WebIdentityErr": true, "SdkClientException": true, "CredentialsProviderError": true,
	"CredentialRetrievalError": true, "RequestError": true, "StsException": true, "InvalidConfigError": true,
}

func canonicalCode(tok string) string {
	l := strings.ToLower(tok)
	if c, ok := canonicalCodes[l]; ok {
		return c
	}
	if c, ok := canonicalCodes[strings.TrimSuffix(l, "exception")]; ok {
		return c
	}
	return tok
}

// genericID maps a code seen without a known message to an id; line is the
// lower-cased line around it for context. "" means no explanation.
func genericID(code, line string) string {
	switch code {
	case "InvalidIdentityToken":
		return "sts-invalid-identity-token"
	case "ExpiredTokenException":
		if podIdentityContext(line) {
			return "pod-identity-agent-expired-token"
		}
		return "sts-token-expired"
	case "IDPCommunicationError":
		return "sts-idp-communication"
	case "IDPRejectedClaim":
		return "sts-idp-rejected-claim"
	case "RegionDisabledException":
		return "sts-region-disabled"
	case "PackedPolicyTooLarge":
		return "sts-packed-policy-too-large"
	case "MalformedPolicyDocument":
		return "sts-malformed-policy"
	case "AccessDenied":
		if strings.Contains(line, "assumerolewithwebidentity") {
			return "sts-access-denied"
		}
	case "ExpiredToken":
		return "aws-credentials-expired"
	case "InvalidClientTokenId", "UnrecognizedClientException":
		return "aws-invalid-client-token"
	case "NoCredentialProviders", "NoCredentialsError":
		return "sdk-no-credentials"
	}
	return ""
}

// podIdentityContext reports text that belongs to the Pod Identity path
// (docs/behaviour.md#pod-identity-flow, docs/behaviour.md#f10-pod-identity-and-irsa-mixed "from container-role").
func podIdentityContext(l string) bool {
	for _, m := range []string{"169.254.170.23", "fd00:ec2::23", "container-role", "assumeroleforpodidentity", "eks-auth", "pod identity", "pod-identity"} {
		if strings.Contains(l, m) {
			return true
		}
	}
	return false
}
