package plugin

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/cloud"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/diag"
	"github.com/kubectl-irsa/kubectl-irsa/test/fakeaws"
	"github.com/kubectl-irsa/kubectl-irsa/test/fakekube"
	"github.com/kubectl-irsa/kubectl-irsa/test/testutil"
)

const appRole = "arn:aws:iam::111122223333:role/app"

// appWith returns the world's AWS with the app role's trust policy replaced.
func appWith(trust string) *fakeaws.Server {
	a := awsWorld()
	a.AddRole(fakeaws.Role{ARN: appRole, TrustPolicy: trust, AttachedPolicyARNs: []string{"arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"}})
	return a
}

// statement builds a one-statement trust policy from raw JSON parts.
func statement(principal, action, condition string) string {
	return fmt.Sprintf(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":%s,"Action":%s,"Condition":%s}}`, principal, action, condition)
}

var (
	fedWorld = fmt.Sprintf(`{"Federated":%q}`, worldProvider)
	assumeWI = `"sts:AssumeRoleWithWebIdentity"`
)

func cond(op string, kv ...string) string {
	var parts []string
	for i := 0; i < len(kv); i += 2 {
		parts = append(parts, fmt.Sprintf("%q:%q", kv[i], kv[i+1]))
	}
	return fmt.Sprintf(`{%q:{%s}}`, op, strings.Join(parts, ","))
}

// outcome is what a scenario asserts about one check.
type outcome struct {
	id       diag.CheckID
	status   diag.Status
	severity diag.Severity
	contains []string // in the message, evidence or remediation
}

// byID are a run's findings by check id; read them with of.
type byID map[diag.CheckID][]diag.Finding

func findingsByID(t *testing.T, r result) byID {
	t.Helper()
	out := byID{}
	for _, d := range decode(t, r).Items {
		for _, f := range d.Findings {
			out[f.ID] = append(out[f.ID], f)
		}
	}
	return out
}

// of returns the findings of check id. An id that is not in the catalogue
// fails the test: it has no findings, so an assertion that a check found
// nothing would pass on a typo.
func (b byID) of(t testing.TB, id diag.CheckID) []diag.Finding {
	t.Helper()
	if _, ok := diag.Lookup(id); !ok {
		t.Fatalf("%s is not a check in the catalogue (diag.Lookup)", id)
	}
	return b[id]
}

// TestFindingsByIDRejectsUnknownIDs: a mistyped id fails the test instead
// of reading as "no such finding", in of and so in assertOutcomes.
func TestFindingsByIDRejectsUnknownIDs(t *testing.T) {
	found := byID{"IRSA-SA-002": {{ID: "IRSA-SA-002", Status: diag.StatusFail}}}
	msgs, failed, finished := testutil.Failures(t, func(tb testing.TB) { found.of(tb, "IRSA-SA-02") })
	if !failed || finished || len(msgs) != 1 || !strings.Contains(msgs[0], "IRSA-SA-02 is not a check in the catalogue") {
		t.Errorf("of(IRSA-SA-02): messages %q, failed %v, returned %v; want a fatal failure naming the id", msgs, failed, finished)
	}
	var got []diag.Finding
	if _, failed, _ := testutil.Failures(t, func(tb testing.TB) { got = found.of(tb, "IRSA-SA-002") }); failed || len(got) != 1 {
		t.Errorf("of(IRSA-SA-002) failed %v, returned %v; want the one finding", failed, got)
	}
	if _, failed, _ := testutil.Failures(t, func(tb testing.TB) { got = found.of(tb, "IRSA-SA-003") }); failed || len(got) != 0 {
		t.Errorf("of(IRSA-SA-003) failed %v, returned %v; want no findings and no failure", failed, got)
	}
}

func flatten(f diag.Finding) string {
	s := f.Message + " | " + f.Remediation
	for _, e := range f.Evidence {
		s += " | " + e.Key + "=" + e.Value + " (" + e.Source + ")"
	}
	return s
}

func assertOutcomes(t *testing.T, r result, wants []outcome) {
	t.Helper()
	found := findingsByID(t, r)
	for _, w := range wants {
		fs := found.of(t, w.id)
		matched := false
		for _, f := range fs {
			if f.Status != w.status || (w.severity != "" && f.Severity != w.severity) {
				continue
			}
			text := flatten(f)
			all := true
			for _, c := range w.contains {
				if !strings.Contains(text, c) {
					all = false
				}
			}
			if all {
				matched = true
			}
		}
		if !matched {
			var got []string
			for _, f := range fs {
				got = append(got, string(f.Status)+"/"+string(f.Severity)+": "+flatten(f))
			}
			t.Errorf("no %s %s finding containing %q; got:\n  %s", w.id, w.status, w.contains, strings.Join(got, "\n  "))
		}
	}
}

// TestDiagnoseAWSFailureModes runs diagnose pod/web-1 (service account app) against one AWS state per
// failure mode of docs/behaviour.md#sts-validation-order and failure modes
// F1, F3, F4, F5 and F14 of docs/behaviour.md#failure-modes.
func TestDiagnoseAWSFailureModes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		aws  func() *fakeaws.Server
		args []string
		code int
		want []outcome
	}{
		{"healthy", awsWorld, nil, ExitOK, []outcome{
			{"IRSA-ISSUER-001", diag.StatusPass, "", []string{"issuer=" + worldIssuer, "/.well-known/openid-configuration"}},
			{"IRSA-OIDC-001", diag.StatusPass, "", []string{worldProvider}},
			{"IRSA-OIDC-002", diag.StatusPass, "", nil},
			{"IRSA-ROLE-001", diag.StatusPass, "", nil},
			{"IRSA-TRUST-001", diag.StatusPass, "", nil},
			{"IRSA-TRUST-002", diag.StatusPass, "", nil}}},
		{"provider missing", func() *fakeaws.Server {
			a := fakeaws.New()
			a.SetCaller(fakeaws.Caller{Account: worldAccount})
			a.AddRole(fakeaws.Role{ARN: appRole, TrustPolicy: trustFor(worldProvider, worldHost, "system:serviceaccount:shop:app"), AttachedPolicyARNs: []string{"x"}})
			return a
		}, nil, ExitFindings, []outcome{{"IRSA-OIDC-001", diag.StatusFail, diag.SeverityError, []string{"No OpenIDConnect provider found in your account for " + worldIssuer, "aws iam create-open-id-connect-provider --url " + worldIssuer + " --client-id-list sts.amazonaws.com"}}}},
		{"provider registered with a trailing slash", func() *fakeaws.Server {
			a := fakeaws.New()
			a.SetCaller(fakeaws.Caller{Account: worldAccount})
			a.AddProvider(fakeaws.Provider{ARN: worldProvider + "/", URL: worldHost + "/", ClientIDs: []string{"sts.amazonaws.com"}})
			a.AddRole(fakeaws.Role{ARN: appRole, TrustPolicy: trustFor(worldProvider, worldHost, "system:serviceaccount:shop:app"), AttachedPolicyARNs: []string{"x"}})
			return a
		}, nil, ExitFindings, []outcome{{"IRSA-OIDC-001", diag.StatusFail, "", []string{"registered with a trailing slash"}}}},
		{"provider of a recreated cluster", func() *fakeaws.Server {
			a := fakeaws.New()
			a.SetCaller(fakeaws.Caller{Account: worldAccount})
			old := "oidc.eks.us-west-2.amazonaws.com/id/0000OLDCLUSTER0000"
			a.AddProvider(fakeaws.Provider{ARN: "arn:aws:iam::111122223333:oidc-provider/" + old, URL: old, ClientIDs: []string{"sts.amazonaws.com"}})
			a.AddRole(fakeaws.Role{ARN: appRole, TrustPolicy: trustFor(worldProvider, worldHost, "system:serviceaccount:shop:app"), AttachedPolicyARNs: []string{"x"}})
			return a
		}, nil, ExitFindings, []outcome{{"IRSA-OIDC-001", diag.StatusFail, "", []string{"another cluster ID on the same host"}}}},
		{"audience typo in the provider's client IDs", func() *fakeaws.Server {
			a := awsWorld()
			a.AddProvider(fakeaws.Provider{ARN: worldProvider, URL: worldHost, ClientIDs: []string{"sts.amazon.com"}})
			return a
		}, nil, ExitFindings, []outcome{{"IRSA-OIDC-002", diag.StatusFail, diag.SeverityError, []string{"Incorrect token audience", `client ID "sts.amazon.com" looks like a typo`, "add-client-id-to-open-id-connect-provider"}}}},
		{"role missing", func() *fakeaws.Server {
			a := fakeaws.New()
			a.SetCaller(fakeaws.Caller{Account: worldAccount})
			a.AddProvider(fakeaws.Provider{ARN: worldProvider, URL: worldHost, ClientIDs: []string{"sts.amazonaws.com"}})
			return a
		}, nil, ExitFindings, []outcome{{"IRSA-ROLE-001", diag.StatusFail, diag.SeverityError, []string{`Role "app" does not exist in account 111122223333`, "role name=app"}}}},
		{"role without permission policies", func() *fakeaws.Server {
			a := awsWorld()
			a.AddRole(fakeaws.Role{ARN: appRole, TrustPolicy: trustFor(worldProvider, worldHost, "system:serviceaccount:shop:app")})
			return a
		}, nil, ExitOK, []outcome{{"IRSA-ROLE-002", diag.StatusFail, diag.SeverityWarning, []string{"no permission policies", "attached policies=0"}}}},
		{"sub names another namespace", func() *fakeaws.Server {
			return appWith(trustFor(worldProvider, worldHost, "system:serviceaccount:default:app"))
		}, nil, ExitFindings, []outcome{{"IRSA-TRUST-001", diag.StatusFail, diag.SeverityError, []string{"cause=SubMismatch", "expected=system:serviceaccount:shop:app", "system:serviceaccount:default:app", `"Federated":"` + worldProvider}}}},
		{"wildcard under StringEquals", func() *fakeaws.Server {
			return appWith(statement(fedWorld, assumeWI, cond("StringEquals", worldHost+":sub", "system:serviceaccount:shop:*")))
		}, nil, ExitFindings, []outcome{{"IRSA-TRUST-001", diag.StatusFail, "", []string{"cause=WildcardUnderStringEquals"}}}},
		{"condition key with https://", func() *fakeaws.Server {
			return appWith(statement(fedWorld, assumeWI, cond("StringEquals", "https://"+worldHost+":sub", "system:serviceaccount:shop:app")))
		}, nil, ExitFindings, []outcome{{"IRSA-TRUST-001", diag.StatusFail, "", []string{"cause=KeyWithScheme", "key=https://" + worldHost + ":sub"}}}},
		{"condition key is the provider ARN", func() *fakeaws.Server {
			return appWith(statement(fedWorld, assumeWI, cond("StringEquals", worldProvider+":sub", "system:serviceaccount:shop:app")))
		}, nil, ExitFindings, []outcome{{"IRSA-TRUST-001", diag.StatusFail, "", []string{"cause=KeyWithProviderARN"}}}},
		{"condition key with a trailing slash", func() *fakeaws.Server {
			return appWith(statement(fedWorld, assumeWI, cond("StringEquals", worldHost+"/:sub", "system:serviceaccount:shop:app")))
		}, nil, ExitFindings, []outcome{{"IRSA-TRUST-001", diag.StatusFail, "", []string{"cause=KeyTrailingSlash"}}}},
		{"condition key of another issuer", func() *fakeaws.Server {
			return appWith(statement(fedWorld, assumeWI, cond("StringEquals", "oidc.eks.us-east-1.amazonaws.com/id/OTHER:sub", "system:serviceaccount:shop:app")))
		}, nil, ExitFindings, []outcome{{"IRSA-TRUST-001", diag.StatusFail, "", []string{"cause=KeyOtherIssuer"}}}},
		{"aud and sub swapped", func() *fakeaws.Server {
			return appWith(statement(fedWorld, assumeWI, cond("StringEquals", worldHost+":aud", "system:serviceaccount:shop:app", worldHost+":sub", "sts.amazonaws.com")))
		}, nil, ExitFindings, []outcome{{"IRSA-TRUST-001", diag.StatusFail, "", []string{"cause=AudSubSwapped"}}}},
		{"unsubstituted placeholder", func() *fakeaws.Server {
			return appWith(statement(fedWorld, assumeWI, cond("StringEquals", "OIDC_PROVIDER:sub", "system:serviceaccount:shop:app")))
		}, nil, ExitFindings, []outcome{{"IRSA-TRUST-001", diag.StatusFail, "", []string{"cause=UnsubstitutedPlaceholder"}}}},
		{"explicit deny", func() *fakeaws.Server {
			return appWith(`{"Version":"2012-10-17","Statement":[` +
				fmt.Sprintf(`{"Effect":"Allow","Principal":%s,"Action":%s,"Condition":%s},`, fedWorld, assumeWI, cond("StringEquals", worldHost+":sub", "system:serviceaccount:shop:app")) +
				fmt.Sprintf(`{"Effect":"Deny","Principal":%s,"Action":"sts:*","Condition":%s}]}`, fedWorld, cond("StringLike", worldHost+":sub", "system:serviceaccount:shop:*")))
		}, nil, ExitFindings, []outcome{{"IRSA-TRUST-001", diag.StatusFail, "", []string{"cause=ExplicitDeny"}}}},
		{"statement for another account's provider", func() *fakeaws.Server {
			return appWith(trustFor("arn:aws:iam::999999999999:oidc-provider/"+worldHost, worldHost, "system:serviceaccount:shop:app"))
		}, nil, ExitFindings, []outcome{{"IRSA-TRUST-001", diag.StatusFail, "", []string{"cause=NoStatementForProvider"}}}},
		{"action sts:AssumeRole only", func() *fakeaws.Server {
			return appWith(statement(fedWorld, `"sts:AssumeRole"`, cond("StringEquals", worldHost+":sub", "system:serviceaccount:shop:app")))
		}, nil, ExitFindings, []outcome{{"IRSA-TRUST-001", diag.StatusFail, "", []string{"cause=ActionMissing"}}}},
		{"security: no sub condition", func() *fakeaws.Server {
			return appWith(statement(fedWorld, assumeWI, cond("StringEquals", worldHost+":aud", "sts.amazonaws.com")))
		}, nil, ExitFindings, []outcome{{"IRSA-TRUST-001", diag.StatusPass, "", nil}, {"IRSA-TRUST-002", diag.StatusFail, diag.SeverityError, []string{"cause=NoSubCondition"}}}},
		{"security: any service account of the cluster", func() *fakeaws.Server {
			return appWith(statement(fedWorld, assumeWI, cond("StringLike", worldHost+":sub", "system:serviceaccount:*", worldHost+":aud", "sts.amazonaws.com")))
		}, nil, ExitFindings, []outcome{{"IRSA-TRUST-002", diag.StatusFail, diag.SeverityError, []string{"cause=SubWildcardAll"}}}},
		{"security: namespace wildcard", func() *fakeaws.Server {
			return appWith(statement(fedWorld, assumeWI, cond("StringLike", worldHost+":sub", "system:serviceaccount:*:app", worldHost+":aud", "sts.amazonaws.com")))
		}, nil, ExitFindings, []outcome{{"IRSA-TRUST-002", diag.StatusFail, diag.SeverityError, []string{"cause=NamespaceWildcard"}}}},
		{"security: service-account wildcard is a warning", func() *fakeaws.Server {
			return appWith(statement(fedWorld, assumeWI, cond("StringLike", worldHost+":sub", "system:serviceaccount:shop:*", worldHost+":aud", "sts.amazonaws.com")))
		}, []string{"--fail-on", "error"}, ExitOK, []outcome{{"IRSA-TRUST-002", diag.StatusFail, diag.SeverityWarning, []string{"cause=ServiceAccountWildcard"}}}},
		{"security: ForAllValues on sub", func() *fakeaws.Server {
			return appWith(statement(fedWorld, assumeWI, cond("ForAllValues:StringEquals", worldHost+":sub", "system:serviceaccount:shop:app", worldHost+":aud", "sts.amazonaws.com")))
		}, nil, ExitOK, []outcome{{"IRSA-TRUST-002", diag.StatusFail, diag.SeverityInfo, []string{"cause=ForAllValuesOnClaim"}}}},
		{"security: Principal *", func() *fakeaws.Server {
			return appWith(statement(`"*"`, assumeWI, cond("StringEquals", worldHost+":sub", "system:serviceaccount:shop:app", worldHost+":aud", "sts.amazonaws.com")))
		}, nil, ExitFindings, []outcome{{"IRSA-TRUST-002", diag.StatusFail, diag.SeverityError, []string{"cause=PrincipalWildcard"}}}},
		{"AccessDenied on GetRole is unknown, the rest still runs", func() *fakeaws.Server {
			a := awsWorld()
			a.Fail("iam:GetRole", "", "AccessDenied", "User: arn:aws:iam::111122223333:user/operator is not authorized to perform: iam:GetRole", 403)
			return a
		}, nil, ExitOK, []outcome{
			{"IRSA-ROLE-001", diag.StatusUnknown, "", []string{"iam:GetRole failed (AccessDenied)", "grant iam:GetRole"}},
			{"IRSA-OIDC-001", diag.StatusPass, "", nil}}},
		{"persistent throttling is unknown", func() *fakeaws.Server {
			a := awsWorld()
			a.Throttle("iam:GetOpenIDConnectProvider", 100)
			return a
		}, nil, ExitOK, []outcome{{"IRSA-OIDC-001", diag.StatusUnknown, "", []string{"(Throttled)", "lower --aws-concurrency"}}}},
		{"timeout is unknown, not a hang", func() *fakeaws.Server {
			a := awsWorld()
			a.Latency(5 * time.Second)
			return a
		}, []string{"--aws-timeout", "300ms"}, ExitOK, []outcome{{"IRSA-ROLE-001", diag.StatusUnknown, "", []string{"(Timeout)"}}}},
		{"issuer from --issuer", awsWorld, []string{"--issuer", worldIssuer}, ExitOK, []outcome{{"IRSA-ISSUER-001", diag.StatusPass, "", []string{"--issuer"}}}},
		{"issuer from eks:DescribeCluster", func() *fakeaws.Server {
			a := awsWorld()
			a.AddCluster(fakeaws.Cluster{Name: "shop-prod", ARN: "arn:aws:eks:us-west-2:111122223333:cluster/shop-prod", Version: "1.33", Issuer: worldIssuer})
			return a
		}, []string{"--cluster", "shop-prod"}, ExitOK, []outcome{{"IRSA-ISSUER-001", diag.StatusPass, "", []string{"eks:DescribeCluster shop-prod (cluster from --cluster)"}}}},
		{"unknown cluster falls back to API server discovery", awsWorld, []string{"--cluster", "nope"}, ExitOK,
			[]outcome{{"IRSA-ISSUER-001", diag.StatusPass, "", []string{"/.well-known/openid-configuration"}}}},
	}
	kube := newWorld(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := runAWS(t, kube, fakeAWS(t, tc.aws()), append([]string{"diagnose", "pod/web-1", "-o", "json", "--show-passed"}, tc.args...)...)
			if r.code != tc.code {
				t.Errorf("exit %d, want %d; stderr: %s", r.code, tc.code, r.stderr)
			}
			assertOutcomes(t, r, tc.want)
		})
	}
}

func TestDiagnoseAWSWithoutIssuer(t *testing.T) {
	t.Parallel()
	kube := fakekube.New(t, world()...) // no discovery document
	r := runAWS(t, kube, fakeAWS(t, awsWorld()), "diagnose", "pod/web-1", "-o", "json")
	assertOutcomes(t, r, []outcome{{"IRSA-ISSUER-001", diag.StatusUnknown, "", []string{"no EKS cluster name", "API server discovery", "pass --issuer"}}})
	if r.code != ExitOK {
		t.Errorf("exit %d: unknown findings must not fail the run", r.code)
	}
}

func TestDiagnoseAWSUnavailable(t *testing.T) {
	t.Parallel()
	deps := Deps{NewAWSCollector: func(context.Context, []string) (*cloud.Collector, error) {
		return nil, fmt.Errorf("loading AWS configuration: failed to get shared config profile, nope")
	}}
	r := runAWS(t, newWorld(t), deps, "diagnose", "pod/web-1", "-o", "json")
	assertOutcomes(t, r, []outcome{{"IRSA-ISSUER-001", diag.StatusUnknown, "", []string{"failed to get shared config profile, nope", "--skip-aws"}}})
	skipped := runAWS(t, newWorld(t), deps, "diagnose", "sa/app", "-o", "json", "--skip-aws", "--show-passed")
	if found := findingsByID(t, skipped); len(found.of(t, "IRSA-ISSUER-001"))+len(found.of(t, "IRSA-ROLE-001")) != 0 {
		t.Errorf("--skip-aws still ran AWS checks: %v %v", found.of(t, "IRSA-ISSUER-001"), found.of(t, "IRSA-ROLE-001"))
	}
}

// TestDiagnoseCrossAccountAndPartitions covers healthy set-ups that naive
// tools get wrong: the role (and so the provider) in another account than the
// cluster, a role with a path, and the China and GovCloud partitions.
func TestDiagnoseCrossAccountAndPartitions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, partition, account, region, suffix, roleName string
	}{
		{"cross-account role with a path", "aws", "444455556666", "us-west-2", "amazonaws.com", "team/app"},
		{"china", "aws-cn", "111122223333", "cn-north-1", "amazonaws.com.cn", "app"},
		{"govcloud", "aws-us-gov", "111122223333", "us-gov-west-1", "amazonaws.com", "app"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			host := "oidc.eks." + tc.region + "." + tc.suffix + "/id/C0FFEE"
			issuer := "https://" + host
			role := "arn:" + tc.partition + ":iam::" + tc.account + ":role/" + tc.roleName
			provider := "arn:" + tc.partition + ":iam::" + tc.account + ":oidc-provider/" + host
			kube := fakekube.New(t, testutil.Namespace("shop", nil), testutil.Webhook(),
				testutil.NewSA("shop", "app").RoleARN(role).Build(),
				testutil.NewPod("shop", "web", "app").Mutate(role, "sts.amazonaws.com").Build())
			kube.SetIssuer(issuer)
			a := fakeaws.New()
			// The plugin runs with credentials for the role's account, as it
			// must for cross-account roles.
			a.SetCaller(fakeaws.Caller{Account: tc.account, ARN: "arn:" + tc.partition + ":iam::" + tc.account + ":user/operator"})
			a.AddProvider(fakeaws.Provider{ARN: provider, URL: host, ClientIDs: []string{"sts.amazonaws.com"}})
			a.AddRole(fakeaws.Role{ARN: role, TrustPolicy: trustFor(provider, host, "system:serviceaccount:shop:app"), InlinePolicyNames: []string{"p"}})
			r := runAWS(t, kube, fakeAWS(t, a), "diagnose", "-o", "json", "--fail-on", "warning", "--show-passed")
			if r.code != ExitOK {
				t.Errorf("exit %d, failing: %v, stderr %s", r.code, failing(decode(t, r)), r.stderr)
			}
			assertOutcomes(t, r, []outcome{{"IRSA-OIDC-001", diag.StatusPass, "", nil}, {"IRSA-TRUST-001", diag.StatusPass, "", nil}})
		})
	}
	// The same cross-account role read with the cluster account's credentials
	// is unknown, never "missing".
	kube := fakekube.New(t, testutil.Namespace("shop", nil), testutil.Webhook(),
		testutil.NewSA("shop", "app").RoleARN("arn:aws:iam::444455556666:role/app").Build(),
		testutil.NewPod("shop", "web", "app").Mutate("arn:aws:iam::444455556666:role/app", "sts.amazonaws.com").Build())
	kube.SetIssuer(worldIssuer)
	r := runAWS(t, kube, fakeAWS(t, awsWorld()), "diagnose", "-o", "json")
	if r.code != ExitOK {
		t.Errorf("cross-account with the wrong account's credentials: exit %d, failing %v", r.code, failing(decode(t, r)))
	}
	assertOutcomes(t, r, []outcome{
		{"IRSA-ROLE-001", diag.StatusUnknown, "", []string{"it is in account 444455556666, but kubectl-irsa runs as account 111122223333", "--aws-profile"}},
		// F14: the provider exists in the cluster's (caller's) account only.
		{"IRSA-OIDC-001", diag.StatusUnknown, "", []string{"a provider for this issuer exists in account 111122223333, but STS looks for it in the role's account 444455556666", "create-open-id-connect-provider"}},
	})
}

// TestDiagnoseFetchesEachRoleOnce: many pods and subjects share roles; IAM
// sees one GetRole per distinct role and one provider lookup per account.
func TestDiagnoseFetchesEachRoleOnce(t *testing.T) {
	t.Parallel()
	a := awsWorld()
	r := runAWS(t, newWorld(t), fakeAWS(t, a), "diagnose", "-A", "-o", "json", "--fail-on", "none")
	if r.code != ExitOK {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if n := a.Count("GetRole"); n != 2 {
		t.Errorf("GetRole calls: %d, want 2 (app and team/legacy, 4 pods)", n)
	}
	if n := a.Count("GetOpenIDConnectProvider"); n != 1 {
		t.Errorf("GetOpenIDConnectProvider calls: %d, want 1", n)
	}
}

func TestDiagnoseAWSWithoutCredentials(t *testing.T) {
	t.Parallel()
	// No credentials provider: the SDK sends unsigned requests and AWS
	// answers MissingAuthenticationToken, as it would for a user with none.
	cfg := fakeaws.Start(t, awsWorld())
	cfg.Credentials, cfg.RetryMaxAttempts = nil, 1
	deps := Deps{NewAWSCollector: func(context.Context, []string) (*cloud.Collector, error) {
		return cloud.NewCollector(cfg, cloud.CollectorOptions{}), nil
	}}
	r := runAWS(t, newWorld(t), deps, "diagnose", "pod/web-1", "-o", "json")
	if r.code != ExitOK {
		t.Errorf("exit %d, want 0", r.code)
	}
	assertOutcomes(t, r, []outcome{{"IRSA-ROLE-001", diag.StatusUnknown, "", []string{"(NoCredentials)", "configure AWS credentials"}}})
	if strings.Contains(r.stdout, "AKID") || strings.Contains(r.stdout, "Signature=") {
		t.Error("credential material in the output")
	}
}
