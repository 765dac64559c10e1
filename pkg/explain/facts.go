package explain

import (
	"regexp"
	"strconv"
	"strings"
	"time"
)

var (
	// docs/behaviour.md#partitions-and-audiences: EKS issuers, commercial, China and dual-stack hosts.
	eksIssuerRe = re(`https://oidc[.-]eks[.-][a-z0-9-]+\.(?:amazonaws\.com(?:\.cn)?|api\.aws)/id/[A-Za-z0-9]+`)
	roleARNRe   = re(`arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+`)
	providerRe  = re(`arn:aws[a-z-]*:iam::\d{12}:oidc-provider/[\w.:/-]+`)
	assumedRe   = re(`arn:(aws[a-z-]*):sts::(\d{12}):assumed-role/([\w+=,.@-]+)/([\w+=,.@-]+)`)
	tokenPathRe = re(`/var/run/secrets/[\w./-]*token|[A-Za-z]:\\var\\run\\secrets\\[\w.\\-]*token`)
	requestIDRe = re(`request[ _-]?id["']?\s*[:=]?\s*["']?([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9A-Za-z]{16,})`)
	statusRe    = re(`(?:status\s*code|httpstatuscode)["']?\s*[:=]?\s*(\d{3})\b`)
	attemptsRe  = re(`exceeded\s+maximum\s+number\s+of\s+attempts,\s*(\d+)`)
	operationRe = re(`(?:operation\s+error\s+[\w ]+:\s*|when\s+calling\s+the\s+|perform:?\s*(?:sts|eks-auth):)(AssumeRoleWithWebIdentity|AssumeRoleForPodIdentity|GetCallerIdentity|AssumeRole)\b`)
	saSubRe     = re(`system:serviceaccount:([a-z0-9][a-z0-9.-]*):([a-z0-9][a-z0-9.-]*)`)
	klogPodRe   = re(`\bpod="([a-z0-9][a-z0-9-]*)/([a-z0-9][a-z0-9.-]*)"`)
	slashPodRe  = regexp.MustCompile(`\bpods?/([a-z0-9][a-z0-9.-]*[a-z0-9])`)
	nsFlagRe    = regexp.MustCompile(`(?:\s-n\s+|--namespace[= ]|\bnamespace[=:]\s*"?)([a-z0-9][a-z0-9-]*)`)
	fileErrRe   = re(`permission\s+denied|eacces|errno\s+13|accessdeniedexception|no\s+such\s+file|enoent|errno\s+2\b|nosuchfileexception`)
	regionEnvRe = re(`\bAWS_(?:DEFAULT_)?REGION["']?\s*[:=]\s*["']?([a-z]{2}(?:-[a-z]+)+-\d)`)
	// Where the SDK found static credentials (docs/behaviour.md#sdk-credential-chain):
	// botocore's credential log lines, or an access key id in an env dump
	// (redacted by then, but the variable name stays).
	credSourceRe = re(`found\s+credentials\s+in\s+(environment\s+variables|shared\s+credentials\s+file)|\b(AWS_ACCESS_KEY_ID)["']?\s*[:=]`)
	// Go v2 session names are Unix nanoseconds, botocore's
	// "botocore-session-<epoch>" (docs/behaviour.md#session-details).
	sdkSessionRe = regexp.MustCompile(`^(?:\d{18,20}|botocore-session-\d+|aws-sdk-java-\d+|aws-sdk-js-\d+)$`)
	idAfterWrap  = regexp.MustCompile(`^\s+([A-Za-z0-9]{16,})`)
	issuerParts  = re(`^oidc[.-]eks[.-]([a-z0-9-]+)\.(amazonaws\.com(?:\.cn)?|api\.aws)/id/([A-Za-z0-9]+)`)
)

// first returns the first submatch 1 (or the match) of re in the part of the
// region after the error's start, else the last one before it: the fact
// closest to the error wins.
func first(t string, h hit, r *regexp.Regexp) string {
	pick := func(m []string) string {
		if len(m) > 1 && m[1] != "" {
			return m[1]
		}
		return m[0]
	}
	if m := r.FindStringSubmatch(t[h.start:h.regEnd]); m != nil {
		return pick(m)
	}
	if ms := r.FindAllStringSubmatch(t[h.regStart:h.start], -1); len(ms) > 0 {
		return pick(ms[len(ms)-1])
	}
	// Go v1 puts the wrapper (and a log line its prefix) on the line above.
	if h.ctxStart < h.regStart {
		if ms := r.FindAllStringSubmatch(t[h.ctxStart:h.regStart], -1); len(ms) > 0 {
			return pick(ms[len(ms)-1])
		}
	}
	return ""
}

func setIf(f map[string]string, k, v string) {
	if v != "" && f[k] == "" {
		f[k] = v
	}
}

func extractFacts(t string, h hit, f map[string]string, cl []claims) {
	setIf(f, "issuer", trimURL(first(t, h, eksIssuerRe)))
	if iss := f["issuer"]; strings.HasSuffix(iss, "/id") || strings.HasSuffix(iss, "/id/") {
		// A wrap right after ".../id/": the id is the next word.
		if m := idAfterWrap.FindStringSubmatch(t[h.end:h.regEnd]); m != nil {
			f["issuer"] = strings.TrimSuffix(iss, "/") + "/" + m[1]
		}
	}
	setIf(f, "role_arn", strings.TrimRight(first(t, h, roleARNRe), ".,/"))
	setIf(f, "provider_arn", strings.TrimRight(first(t, h, providerRe), ".,/"))
	setIf(f, "token_path", first(t, h, tokenPathRe))
	setIf(f, "request_id", first(t, h, requestIDRe))
	setIf(f, "http_status", first(t, h, statusRe))
	setIf(f, "attempts", first(t, h, attemptsRe))
	setIf(f, "operation", first(t, h, operationRe))
	if h.id == "sdk-token-file-unreadable" {
		switch e := strings.ToLower(first(t, h, fileErrRe)); {
		case e == "":
		case strings.Contains(e, "such") || strings.Contains(e, "enoent") || strings.HasPrefix(e, "errno 2"):
			f["file_error"] = "not-found"
		default:
			f["file_error"] = "permission-denied"
		}
	}
	if m := saSubRe.FindStringSubmatch(t[h.regStart:h.regEnd]); m != nil {
		setIf(f, "namespace", m[1])
		setIf(f, "service_account", m[2])
	}
	if m := klogPodRe.FindStringSubmatch(t[h.regStart:h.regEnd]); m != nil {
		setIf(f, "namespace", m[1])
		setIf(f, "pod", m[2])
	} else if m := slashPodRe.FindStringSubmatch(t[h.regStart:h.regEnd]); m != nil {
		setIf(f, "pod", m[1])
	}
	if m := nsFlagRe.FindStringSubmatch(t[h.regStart:h.regEnd]); m != nil {
		setIf(f, "namespace", m[1])
	}
	setIf(f, "region", first(t, h, regionEnvRe))
	// botocore logs where it found credentials on the lines before the error.
	if m := credSourceRe.FindStringSubmatch(t[h.ctxStart:h.regEnd]); m != nil {
		src := "environment"
		if strings.Contains(strings.ToLower(m[1]), "shared") {
			src = "shared-credentials-file"
		}
		setIf(f, "credential_source", src)
	}
	for _, c := range cl {
		claimFacts(c, f)
	}
	derive(f)
}

func claimFacts(c claims, f map[string]string) {
	setIf(f, "token_iss", c.Iss)
	setIf(f, "token_sub", c.Sub)
	setIf(f, "token_aud", strings.Join(c.Aud, ","))
	if c.Exp > 0 {
		setIf(f, "token_exp", unixFact(c.Exp))
	}
	if c.Iat > 0 {
		setIf(f, "token_iat", unixFact(c.Iat))
	}
	setIf(f, "namespace", c.Namespace)
	setIf(f, "service_account", c.ServiceAccount)
	setIf(f, "pod", c.Pod)
	if m := saSubRe.FindStringSubmatch(c.Sub); m != nil {
		setIf(f, "namespace", m[1])
		setIf(f, "service_account", m[2])
	}
}

// derive fills facts that follow from others: region, partition and id from
// the issuer (docs/behaviour.md#partitions-and-audiences), account and name from ARNs.
func derive(f map[string]string) {
	iss := f["issuer"]
	if iss == "" {
		iss = f["token_iss"]
	}
	if iss != "" {
		host := strings.TrimPrefix(strings.TrimPrefix(iss, "https://"), "http://")
		if f["issuer"] != "" {
			f["issuer_host"] = host
		}
		if m := issuerParts.FindStringSubmatch(host); m != nil {
			setIf(f, "region", m[1])
			setIf(f, "oidc_id", m[3])
			if strings.EqualFold(m[2], "api.aws") {
				f["dual_stack_issuer"] = "true"
			}
		}
	}
	if arn := f["role_arn"]; arn != "" {
		parts := strings.SplitN(arn, ":", 6)
		if len(parts) == 6 {
			setIf(f, "partition", parts[1])
			setIf(f, "account", parts[4])
			setIf(f, "role_name", parts[5][strings.LastIndex(parts[5], "/")+1:])
		}
	}
	if p := f["principal"]; p != "" {
		if m := assumedRe.FindStringSubmatch(p); m != nil {
			setIf(f, "partition", m[1])
			setIf(f, "account", m[2])
			setIf(f, "role_name", m[3])
			setIf(f, "session_name", m[4])
			if strings.HasPrefix(m[4], "i-") {
				setIf(f, "node_role", m[3])
				setIf(f, "instance_id", m[4])
			}
		} else if parts := strings.SplitN(p, ":", 6); len(parts) == 6 {
			setIf(f, "partition", parts[1])
			setIf(f, "account", parts[4])
		}
	}
	if r := f["region"]; r != "" {
		setIf(f, "partition", partitionOf(r))
	}
}

// partitionOf maps a region to its partition the way the webhook does
// (docs/behaviour.md#partitions-and-audiences).
func partitionOf(region string) string {
	for _, p := range []struct{ prefix, part string }{
		{"cn-", "aws-cn"}, {"us-gov-", "aws-us-gov"}, {"us-isob-", "aws-iso-b"}, {"us-iso-", "aws-iso"},
		{"eu-isoe-", "aws-iso-e"}, {"us-isof-", "aws-iso-f"}, {"eusc-", "aws-eusc"},
	} {
		if strings.HasPrefix(region, p.prefix) {
			return p.part
		}
	}
	return "aws"
}

// expiryFacts records the two timestamps of ExpiredTokenException and how
// long ago the token expired. IAM allows 5 minutes of clock skew past exp
// (docs/behaviour.md#sts-validation-order step 6).
func expiryFacts(now, exp string, f map[string]string) {
	n, e := atoi64(now), atoi64(exp)
	f["now"] = unixFact(n)
	f["exp"] = unixFact(e)
	f["expired_by"] = seconds(n - e)
}

func unixFact(s int64) string {
	return strconv.FormatInt(s, 10) + " (" + time.Unix(s, 0).UTC().Format(time.RFC3339) + ")"
}

func seconds(d int64) string {
	return strconv.FormatInt(d, 10) + "s (" + (time.Duration(d) * time.Second).String() + ")"
}

func atoi64(s string) int64 {
	n, _ := strconv.ParseInt(s, 10, 64)
	return n
}

// leadingInt reads the number at the start of a fact such as "198s (3m18s)".
func leadingInt(s string) int64 {
	i := 0
	for i < len(s) && (s[i] >= '0' && s[i] <= '9' || i == 0 && s[i] == '-') {
		i++
	}
	return atoi64(s[:i])
}
