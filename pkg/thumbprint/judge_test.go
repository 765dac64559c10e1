package thumbprint

import (
	"reflect"
	"strings"
	"testing"
)

const (
	tJWKS   = "06b25927c42a721631c1efd9431e648fa62e1e39"
	tIssuer = "9e99a48a9960b14926bb7f3b02e22da2b0ab7280"
	tOther  = "a9d53002e97e00e043244f3d170d6f4c414104fd"
)

// chain builds a HostChain as InspectHost would report it.
func chain(role, host, thumb string, verified, private, tls13only bool) HostChain {
	h := HostChain{
		Role: role, Host: host, Port: "443", ServerName: host,
		Certs: []CertInfo{
			{Depth: 0, Subject: "CN=" + host, Issuer: "CN=Issuing CA", SHA1: "1111111111111111111111111111111111111111"},
			{Depth: 1, Subject: "CN=Issuing CA", Issuer: "CN=Top CA", SHA1: thumb, IsCA: true},
		},
		Thumbprint: thumb,
		Verified:   verified,
		PrivateCA:  private,
		TLS13Only:  tls13only,
	}
	if !verified {
		if private {
			h.VerifyError = "x509: certificate signed by unknown authority"
		} else {
			h.VerifyError = "x509: certificate has expired or is not yet valid"
		}
	}
	return h
}

func report(hosts ...HostChain) Report {
	r := Report{Issuer: "https://issuer.example.com/id/X", Hosts: hosts}
	if len(hosts) > 0 {
		r.Thumbprint = hosts[0].Thumbprint
	}
	return r
}

func colons(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i += 2 {
		if i > 0 {
			b.WriteByte(':')
		}
		b.WriteString(strings.ToUpper(s[i : i+2]))
	}
	return b.String()
}

func TestJudge(t *testing.T) {
	public := chain(RoleJWKS, "issuer.example.com", tJWKS, true, false, false)
	private := chain(RoleJWKS, "issuer.example.com", tJWKS, false, true, false)
	expired := chain(RoleJWKS, "issuer.example.com", tJWKS, false, false, false)
	tls13 := chain(RoleJWKS, "issuer.example.com", tJWKS, true, false, true)
	issPublic := chain(RoleIssuer, "discovery.example.com", tIssuer, true, false, false)
	issPrivate := chain(RoleIssuer, "discovery.example.com", tIssuer, false, true, false)
	issFailed := HostChain{Role: RoleIssuer, Host: "discovery.example.com", Port: "443", Error: "tls discovery.example.com:443: dial: connection refused"}

	for _, tc := range []struct {
		name     string
		r        Report
		found    bool
		list     []string
		verdict  Verdict
		severity string
		matched  string
		required []string
		invalid  []string
		msg      []string // substrings
	}{
		{name: "provider missing wins over everything", r: report(private), found: false, list: []string{tOther},
			verdict: ProviderMissing, severity: SeverityError,
			msg: []string{`No OpenIDConnect provider found in your account for https://issuer.example.com/id/X`}},
		{name: "discovery failed", r: Report{Issuer: "https://i", DiscoveryError: "fetch discovery document: dial tcp: lookup i: no such host"}, found: true, list: []string{tJWKS},
			verdict: Unreachable, severity: SeverityWarning,
			msg: []string{"(fetch discovery document: dial tcp: lookup i: no such host)", "VPC-endpoint DNS"}},
		{name: "jwks host failed", r: report(HostChain{Role: RoleJWKS, Host: "k", Error: "tls k:443: timed out after 10s"}), found: true, list: []string{tJWKS},
			verdict: Unreachable, severity: SeverityWarning, msg: []string{"(tls k:443: timed out after 10s)"}},
		{name: "match, case-insensitive", r: report(public), found: true, list: []string{tOther, strings.ToUpper(tJWKS)},
			verdict: Match, severity: SeverityInfo, matched: strings.ToUpper(tJWKS), required: []string{tJWKS},
			msg: []string{"contains " + tJWKS, "does not consult it anyway"}},
		{name: "match on private CA", r: report(private), found: true, list: []string{tJWKS},
			verdict: Match, severity: SeverityInfo, matched: tJWKS, required: []string{tJWKS}},
		{name: "stale but ignored for public chain", r: report(public), found: true, list: []string{tOther},
			verdict: StaleIgnored, severity: SeverityInfo, required: []string{tJWKS},
			msg: []string{`ThumbprintList ["` + tOther + `"] lacks ` + tJWKS, "ignores the thumbprint"}},
		{name: "private CA mismatch breaks", r: report(private), found: true, list: []string{tOther},
			verdict: MismatchBreaks, severity: SeverityError, required: []string{tJWKS},
			msg: []string{"lacks " + tJWKS + " (last certificate served by jwks host issuer.example.com:443)", "chain does not verify: x509: certificate signed by unknown authority",
				`"InvalidIdentityToken: OpenIDConnect provider's HTTPS certificate doesn't match configured thumbprint"`}},
		{name: "empty list on private CA breaks", r: report(private), found: true, list: nil,
			verdict: MismatchBreaks, severity: SeverityError, required: []string{tJWKS}, msg: []string{"ThumbprintList [] lacks"}},
		{name: "expired chain is judged as not trusted", r: report(expired), found: true, list: []string{tOther},
			verdict: MismatchBreaks, severity: SeverityError, required: []string{tJWKS}, msg: []string{"has expired"}},
		{name: "tls 1.3 only consults thumbprints", r: report(tls13), found: true, list: []string{tOther},
			verdict: MismatchBreaks, severity: SeverityError, required: []string{tJWKS}, msg: []string{"issuer.example.com:443 requires TLS 1.3"}},
		{name: "both hosts private, issuer missing", r: report(private, issPrivate), found: true, list: []string{tJWKS},
			verdict: MismatchBreaks, severity: SeverityError, matched: tJWKS, required: []string{tJWKS, tIssuer},
			msg: []string{"lacks " + tIssuer + " (last certificate served by issuer host discovery.example.com:443)"}},
		{name: "both hosts private, both present", r: report(private, issPrivate), found: true, list: []string{tIssuer, tJWKS},
			verdict: Match, severity: SeverityInfo, matched: tJWKS, required: []string{tJWKS, tIssuer}},
		{name: "private issuer host forces fallback for public jwks", r: report(public, issPrivate), found: true, list: []string{tIssuer},
			verdict: MismatchBreaks, severity: SeverityError, required: []string{tJWKS, tIssuer}, msg: []string{"lacks " + tJWKS}},
		{name: "both hosts public, one missing", r: report(public, issPublic), found: true, list: []string{tJWKS},
			verdict: StaleIgnored, severity: SeverityInfo, matched: tJWKS, required: []string{tJWKS, tIssuer}},
		{name: "issuer host unreadable is skipped", r: report(private, issFailed), found: true, list: []string{tJWKS},
			verdict: Match, severity: SeverityInfo, matched: tJWKS, required: []string{tJWKS}},
		{name: "openssl-style entry flagged with hint", r: report(public), found: true, list: []string{colons(tJWKS), tOther},
			verdict: InvalidEntries, severity: SeverityWarning, required: []string{tJWKS}, invalid: []string{colons(tJWKS)},
			msg: []string{"can never match (STS ignores the list", `entry "` + colons(tJWKS) + `" would match if written as ` + tJWKS}},
		{name: "whitespace entry next to a valid match", r: report(public), found: true, list: []string{" " + tJWKS + " ", tJWKS},
			verdict: InvalidEntries, severity: SeverityWarning, matched: tJWKS, required: []string{tJWKS}, invalid: []string{" " + tJWKS + " "},
			msg: []string{"the valid entries cover every host"}},
		{name: "mismatch outranks invalid entries", r: report(private), found: true, list: []string{"SHA1 Fingerprint=" + colons(tJWKS)},
			verdict: MismatchBreaks, severity: SeverityError, required: []string{tJWKS}, invalid: []string{"SHA1 Fingerprint=" + colons(tJWKS)},
			msg: []string{"would match if written as " + tJWKS}},
		{name: "intercepted EKS host", r: report(chain(RoleJWKS, "oidc.eks.eu-west-1.amazonaws.com", tOther, false, true, false)), found: true, list: []string{tIssuer},
			verdict: LikelyInterceptingProxy, severity: SeverityWarning,
			msg: []string{"oidc.eks.eu-west-1.amazonaws.com:443 is served by AWS", `ends in "CN=Top CA"`, "a TLS-intercepting proxy is the likely cause", "do not put the local thumbprint " + tOther}},
		{name: "intercepted China EKS host", r: report(chain(RoleJWKS, "OIDC.EKS.cn-north-1.amazonaws.com.cn", tOther, false, true, false)), found: true, list: []string{tIssuer},
			verdict: LikelyInterceptingProxy, severity: SeverityWarning},
		{name: "intercepted S3 jwks host behind a private issuer host", r: report(chain(RoleJWKS, "my-oidc.s3.us-east-1.amazonaws.com", tOther, false, true, false), issPrivate), found: true, list: []string{tIssuer},
			verdict: LikelyInterceptingProxy, severity: SeverityWarning},
		{name: "expired EKS chain is not interception", r: report(chain(RoleJWKS, "oidc.eks.eu-west-1.amazonaws.com", tOther, false, false, false)), found: true, list: []string{tIssuer},
			verdict: MismatchBreaks, severity: SeverityError, required: []string{tOther}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			j := Judge(tc.r, tc.found, tc.list)
			if j.Verdict != tc.verdict || j.Severity != tc.severity || j.Matched != tc.matched {
				t.Fatalf("got %s/%s matched %q, want %s/%s matched %q; message: %s", j.Verdict, j.Severity, j.Matched, tc.verdict, tc.severity, tc.matched, j.Message)
			}
			if !reflect.DeepEqual(j.Required, tc.required) {
				t.Errorf("required = %q, want %q", j.Required, tc.required)
			}
			if !reflect.DeepEqual(j.Invalid, tc.invalid) {
				t.Errorf("invalid = %q, want %q", j.Invalid, tc.invalid)
			}
			if j.Message == "" || strings.Contains(j.Message, "\n") {
				t.Errorf("message must be one non-empty line: %q", j.Message)
			}
			for _, s := range tc.msg {
				if !strings.Contains(j.Message, s) {
					t.Errorf("message %q\nlacks %q", j.Message, s)
				}
			}
		})
	}
}

func TestVerdictStrings(t *testing.T) {
	got := []Verdict{Match, StaleIgnored, MismatchBreaks, ProviderMissing, Unreachable, InvalidEntries, LikelyInterceptingProxy}
	want := []string{"Match", "StaleIgnored", "MismatchBreaks", "ProviderMissing", "Unreachable", "InvalidEntries", "LikelyInterceptingProxy"}
	for i := range got {
		if string(got[i]) != want[i] {
			t.Errorf("verdict %d = %q, want %q (stable identifiers)", i, got[i], want[i])
		}
	}
}

func TestAWSOperatedHost(t *testing.T) {
	for host, want := range map[string]bool{
		"oidc.eks.us-west-2.amazonaws.com":            true,
		"oidc.eks.cn-northwest-1.amazonaws.com.cn":    true,
		"oidc.eks.us-gov-west-1.amazonaws.com.":       true,
		"oidc-eks.us-west-2.api.aws":                  true,
		"s3.amazonaws.com":                            true,
		"bucket.s3.amazonaws.com":                     true,
		"bucket.s3.eu-west-1.amazonaws.com":           true,
		"bucket.s3-eu-west-1.amazonaws.com":           true,
		"bucket.s3.dualstack.us-east-1.amazonaws.com": true,
		"d111111abcdef8.cloudfront.net":               true,
		"oidc.eks.amazonaws.com":                      false,
		"sts.amazonaws.com.evil.example":              false,
		"oidc.eks.us-west-2.amazonaws.com.evil":       false,
		"ec2.us-east-1.amazonaws.com":                 false,
		"issuer.example.com":                          false,
		"s3.example.com":                              false,
		"localhost":                                   false,
		"127.0.0.1":                                   false,
	} {
		if got := awsOperatedHost(host); got != want {
			t.Errorf("awsOperatedHost(%q) = %v, want %v", host, got, want)
		}
	}
}
