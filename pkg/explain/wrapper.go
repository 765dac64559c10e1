package explain

import "strings"

// Wrapper formats (docs/behaviour.md#sdk-error-wrapping, #pod-identity-flow, #sdk-credential-chain):
//
//	Go v2     failed to refresh cached credentials, … operation error STS: AssumeRoleWithWebIdentity,
//	          exceeded maximum number of attempts, 3, https response error StatusCode: 400, RequestID: …,
//	          InvalidIdentityToken: …   (unmodelled codes: "api error AccessDenied: …")
//	Go v1     WebIdentityErr: failed to retrieve credentials\ncaused by: InvalidIdentityToken: …\n\tstatus code: 400, request id: …
//	botocore  botocore.exceptions.ClientError: An error occurred (InvalidIdentityToken) when calling the AssumeRoleWithWebIdentity operation: …
//	AWS CLI   An error occurred (InvalidIdentityToken) when calling the AssumeRoleWithWebIdentity operation: …
//	Java v2   software.amazon.awssdk.services.sts.model.InvalidIdentityTokenException: … (Service: Sts, Status Code: 400, Request ID: …)
//	Java v1   com.amazonaws.services.securitytoken.model.…: … (Service: AWSSecurityTokenService; Status Code: 400; Error Code: …; Request ID: …)
//	JS v3     InvalidIdentityTokenException: … { '$fault': 'client', '$metadata': { httpStatusCode: 400, … } }
//	agent     [<request-id>]: (<ErrorCode>): <message>, fault: client
var wrapperMarkers = []struct {
	name    string
	markers []string
}{
	{WrapperJavaV2, []string{"software.amazon.awssdk", "(service: sts,", "sdk attempt count", "webidentitytokenfilecredentialsprovider", "'sts' service module"}},
	{WrapperJavaV1, []string{"com.amazonaws.", "(service: awssecuritytokenservice", "aws-java-sdk"}},
	{WrapperBotocore, []string{"botocore", "boto3", "traceback (most recent call last)", "clienterror:", "nocredentialserror", "invalidconfigerror", "credentialretrievalerror", "container-role", "permissionerror:", "filenotfounderror:"}},
	{WrapperGoV2, []string{"operation error ", "https response error statuscode", "failed to refresh cached credentials", "failed to retrieve jwt from provide source", "api error ", "no ec2 imds role found", "role arn is not set", "get identity: get credentials"}},
	{WrapperGoV1, []string{"webidentityerr", "caused by:", "nocredentialproviders", "\tstatus code:"}},
	{WrapperJSV3, []string{"$fault", "$metadata", "credentialsprovidererror", "@aws-sdk/", "could not load credentials from any providers", "eacces:", "enoent:"}},
	{WrapperCLI, []string{"an error occurred (", "aws configure", "unable to locate credentials", "aws: error"}},
	{WrapperKubelet, []string{"mountvolume.setup", "kubelet"}},
	{WrapperWebhook, []string{"failed calling webhook", "pod-identity-webhook"}},
}

// jsName matches a bare modelled exception name at the start of a line or
// after a quote, which is how JS v3 prints errors (Java prefixes a package).
var jsName = re(`(?:^|[\s'"])(?:invalididentitytoken|expiredtoken|idpcommunicationerror|idprejectedclaim|regiondisabled|packedpolicytoolarge|malformedpolicydocument)exception:`)

func detectWrapper(ctx string, h hit) string {
	l := strings.ToLower(ctx)
	for _, w := range wrapperMarkers {
		for _, m := range w.markers {
			if strings.Contains(l, m) {
				return w.name
			}
		}
		if w.name == WrapperJSV3 && jsName.MatchString(l) {
			return WrapperJSV3
		}
	}
	if h.r != nil && h.r.id == "pod-identity-agent-error" || strings.HasPrefix(h.id, "pod-identity-agent-token") {
		return WrapperAgent
	}
	return WrapperUnknown
}

// pickCode finds the error code of h: the code on the same line before the
// message, else a labelled code after it (Java v1 "Error Code:"), else one
// directly before it across a line break, else the rule's default, else a
// wrapper class such as WebIdentityErr.
func pickCode(t string, h hit) string {
	if h.r == nil {
		return h.code
	}
	if h.r.id == "pod-identity-agent-error" {
		return h.sub[2]
	}
	var before, after, glued, weak string
	for _, m := range codeRe.FindAllStringSubmatchIndex(t[h.ctxStart:h.regEnd], -1) {
		s, e := m[0]+h.ctxStart, m[1]+h.ctxStart
		code := canonicalCode(t[m[2]+h.ctxStart : m[3]+h.ctxStart])
		if s >= h.start && s < h.end {
			continue // a code inside the message is not its code
		}
		if weakCodes[code] {
			if weak == "" || s < h.start {
				weak = code
			}
			continue
		}
		switch {
		case e <= h.start && lineStart(t, s) == lineStart(t, h.start):
			before = code
		case e <= h.start && onlyGlue.MatchString(t[e:h.start]):
			glued = code
		case s >= h.end && after == "" && (lineStart(t, s) == lineStart(t, h.end) || labelled.MatchString(t[lineStart(t, s):s])):
			after = code
		}
	}
	for _, c := range []string{before, glued, after, h.r.code, weak} {
		if c != "" {
			return c
		}
	}
	return ""
}

// trailers end a message: Java's "(Service: …", Go v1's status line, the
// agent's ", fault:", a closing quote of a JSON or logfmt field.
var trailer = re(`\s*\((?:service|sdk attempt count):|\s+status\s+code:\s*\d{3}|,\s*fault:\s*(?:client|server)|"\s*[,}]|\s+at\s+[\w$.]+\(`)

func message(t string, h hit) string {
	var m string
	switch {
	case h.r == nil:
		rest := t[h.end:min(lineEnd(t, h.end), h.end+600)]
		m = strings.TrimLeft(rest, " \t:'\"")
		if strings.HasPrefix(strings.ToLower(m), "when calling") {
			if i := strings.Index(m, ":"); i >= 0 {
				m = m[i+1:]
			}
		}
	case h.r.msg > 0:
		m = h.sub[h.r.msg]
	default:
		m = t[h.start:max(h.end, min(lineEnd(t, h.end), h.end+600))]
	}
	if loc := trailer.FindStringIndex(m); len(loc) == 2 && loc[0] > 0 {
		m = m[:loc[0]]
	}
	m = collapse(m)
	if strings.Count(m, `"`)%2 == 1 {
		m = strings.TrimSpace(strings.TrimSuffix(m, `"`))
	}
	if len(m) > 400 {
		m = strings.ToValidUTF8(m[:400], "") + "…"
	}
	return m
}
