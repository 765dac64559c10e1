package diag_test

import (
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/diag"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/facts"
	"github.com/kubectl-irsa/kubectl-irsa/test/testutil"
)

// The CloudTrail world: the healthy IRSA world of checks_aws_test.go, its
// pods running on node 10.0.1.5, and CloudTrail read for the last hour in
// us-east-1 and us-west-2.
const (
	goV2Agent   = "aws-sdk-go-v2/1.30.3 os/linux lang/go#1.22.5 md/GOOS#linux md/GOARCH#amd64 api/sts#1.30.3"
	javaV1Agent = "aws-sdk-java/1.11.500 Linux/5.10.184-175.731.amzn2.x86_64 OpenJDK_64-Bit_Server_VM/17.0.8+7-LTS java/17.0.8 vendor/Amazon.com_Inc."
	oldRole     = "arn:aws:iam::111122223333:role/app-old"
	nodeIP      = "10.0.1.5"
)

// trailNow is the snapshot's clock (scenario.snapshot's Now).
var trailNow = testutil.T0.Add(2 * time.Hour)

// webIdentity is a successful IRSA call of shop/app, minutes before trailNow.
func webIdentity(minutesAgo int, edit ...func(*facts.TrailEvent)) facts.TrailEvent {
	e := facts.TrailEvent{ID: "ev-" + time.Duration(minutesAgo*int(time.Minute)).String(), Time: trailNow.Add(-time.Duration(minutesAgo) * time.Minute),
		Region: "us-west-2", Name: facts.EventAssumeRoleWithWebIdentity, Namespace: ns, ServiceAccount: "app", Provider: provider,
		Audience: "sts.amazonaws.com", RoleARN: testutil.RoleARN, UserAgent: goV2Agent, Host: "sts.us-west-2.amazonaws.com", SourceIP: "203.0.113.7",
		AssumedRoleARN: "arn:aws:sts::111122223333:assumed-role/app/1700000000000"}
	for _, f := range edit {
		f(&e)
	}
	return e
}

func failed(code, msg string) func(*facts.TrailEvent) {
	return func(e *facts.TrailEvent) { e.ErrorCode, e.ErrorMessage, e.AssumedRoleARN = code, msg, "" }
}

func trailFacts(evs ...facts.TrailEvent) *facts.TrailFacts {
	t := &facts.TrailFacts{Since: trailNow.Add(-time.Hour), Until: trailNow, MaxEvents: 2000, Account: "111122223333",
		Lookups: []facts.TrailLookup{
			{Region: "us-east-1", EventName: facts.EventAssumeRoleWithWebIdentity, Pages: 1},
			{Region: "us-west-2", EventName: facts.EventAssumeRoleWithWebIdentity, Pages: 1, Events: len(evs)},
		}, Events: evs}
	facts.SortTrailEvents(t.Events)
	return t
}

// trailScenario is the healthy IRSA world with CloudTrail's facts; its one
// pod runs, owned by deployment/web.
func trailScenario(t *facts.TrailFacts, edit func(*facts.Snapshot)) *facts.Snapshot {
	p := healthyPod("web").OwnedBy("ReplicaSet", "web-5d8f").Build()
	p.Status.Phase = corev1.PodRunning
	p.Status.HostIP = nodeIP
	sc := awsScenario(nil)
	sc.pods = []*corev1.Pod{p}
	sc.owners = map[string]facts.Owner{"web": {Kind: "Deployment", Name: "web"}}
	snap := sc.snapshot()
	snap.CloudTrail = t
	if edit != nil {
		edit(snap)
	}
	return snap
}

var trailChecks = []diag.CheckID{"CLOUDTRAIL-READ-001", "CLOUDTRAIL-FAIL-001", "CLOUDTRAIL-STALE-001", "CLOUDTRAIL-SDK-001", "CLOUDTRAIL-GLOBAL-001", "CLOUDTRAIL-QUIET-001"}

// TestTrailHealthy: a service account with only successful calls from a
// supported SDK passes every CloudTrail check, and without --cloudtrail
// none says anything.
func TestTrailHealthy(t *testing.T) {
	t.Parallel()
	snap := trailScenario(trailFacts(webIdentity(50), webIdentity(5)), nil)
	wantPass := map[diag.CheckID]string{
		"CLOUDTRAIL-READ-001":   "Read CloudTrail for the last 1h: 2 events of this service account",
		"CLOUDTRAIL-FAIL-001":   "No token exchange failed in the last 1h (2 succeeded)",
		"CLOUDTRAIL-STALE-001":  "Every call in the last 1h asked for the annotated role " + testutil.RoleARN,
		"CLOUDTRAIL-SDK-001":    "The calls come from SDKs that support IRSA: AWS SDK for Go v2 1.30.3 (2 calls)",
		"CLOUDTRAIL-GLOBAL-001": "The calls in the last 1h went to regional STS endpoints",
		"CLOUDTRAIL-QUIET-001":  "The service account's pods got credentials in the last 1h, the last at 2026-11-01T13:55:00Z",
	}
	for _, id := range trailChecks {
		expect(t, findingsOf(t, snap, id), []want{{status: diag.StatusPass, message: wantPass[id]}})
	}
	without := trailScenario(nil, nil)
	for _, id := range trailChecks {
		expect(t, findingsOf(t, without, id), nil)
	}
}

func TestCheckTrailRead(t *testing.T) {
	t.Parallel()
	denied := trailFacts()
	denied.Lookups[0].Err = &facts.CallError{Op: "cloudtrail:LookupEvents", Code: facts.ErrAccessDenied, Message: "User: arn:aws:iam::111122223333:user/dev is not authorized to perform: cloudtrail:LookupEvents"}
	truncated := trailFacts(webIdentity(3))
	truncated.Lookups[1].Truncated, truncated.Lookups[1].Oldest = true, trailNow.Add(-20*time.Minute)
	truncated.Malformed = 2
	tests := []struct {
		name string
		t    *facts.TrailFacts
		edit func(*facts.Snapshot)
		want []want
	}{
		{"read: the passes as evidence", trailFacts(webIdentity(3)), nil,
			[]want{{status: diag.StatusPass, message: "1 event of this service account", evidence: []string{"AssumeRoleWithWebIdentity us-west-2=1 page, 1 event", "AssumeRoleWithWebIdentity us-east-1=1 page, 0 events"}}}},
		{"stopped at the bound: says how far back", truncated, nil,
			[]want{{status: diag.StatusPass, message: "the newest 2000 events of a region were read, back to 2026-11-01T13:40:00Z",
				evidence: []string{"unreadable events=2 skipped"}}}},
		{"LookupEvents denied: unknown naming the permission", denied, nil,
			[]want{{status: diag.StatusUnknown, message: "CloudTrail could not be read: AssumeRoleWithWebIdentity in us-east-1: User: arn:aws:iam::111122223333:user/dev is not authorized",
				fix: "allow cloudtrail:LookupEvents"}}},
		{"no caller account: unknown", &facts.TrailFacts{Unavailable: "the credentials' account is unknown"}, nil,
			[]want{{status: diag.StatusUnknown, message: "CloudTrail was not read: the credentials' account is unknown"}}},
		{"the role lives in another account: unknown naming it", trailFacts(), func(s *facts.Snapshot) { s.CloudTrail.Account = "444455556666" },
			[]want{{status: diag.StatusUnknown, message: "CloudTrail logs this role's calls in account 111122223333, and the credentials are for account 444455556666",
				fix: "run again with credentials of account 111122223333 (--aws-profile)"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			snap := trailScenario(tt.t, tt.edit)
			expect(t, findingsOf(t, snap, "CLOUDTRAIL-READ-001"), tt.want)
			if tt.want[0].status == diag.StatusUnknown {
				// Incomplete facts are never judged: no other CloudTrail check speaks.
				for _, id := range trailChecks[1:] {
					expect(t, findingsOf(t, snap, id), nil)
				}
			}
		})
	}
}

func TestCheckTrailFailures(t *testing.T) {
	t.Parallel()
	noProvider := "No OpenIDConnect provider found in your account for " + issuer
	explained := func(s *facts.Snapshot) {
		delete(s.AWS.Providers, provider)
		s.AWS.Providers[provider] = facts.OIDCProvider{ARN: provider, Err: &facts.CallError{Op: "iam:GetOpenIDConnectProvider", Code: facts.ErrNotFound, Message: "not found"}}
		s.CloudTrail.Explanations = map[string]*facts.ProbeExplanation{facts.ExplanationKey("InvalidIdentityToken", noProvider): {
			ID: "sts-no-oidc-provider", Cause: "The role's account has no IAM OIDC provider for the cluster's issuer", CheckIDs: []string{"IRSA-OIDC-001"}}}
	}
	tests := []struct {
		name string
		t    *facts.TrailFacts
		edit func(*facts.Snapshot)
		want []want
	}{
		{"failures tied to the offline check that explains them", trailFacts(webIdentity(40, failed("InvalidIdentityToken", noProvider)), webIdentity(10, failed("InvalidIdentityToken", noProvider))), explained,
			[]want{{status: diag.StatusFail, severity: diag.SeverityError,
				message:  "2 AssumeRoleWithWebIdentity calls failed in the last 1h: InvalidIdentityToken: " + noProvider + "; offline, IRSA-OIDC-001 explains it",
				evidence: []string{"count=2", "first=2026-11-01T13:20:00Z", "last=2026-11-01T13:50:00Z", "role=" + testutil.RoleARN, "likely cause=The role's account has no IAM OIDC provider"},
				fix:      "see IRSA-OIDC-001; kubectl irsa explain"}}},
		{"CloudTrail's bare AccessDenied tied to the trust check by its code", trailFacts(webIdentity(10, failed("AccessDenied", "An unknown error occurred"))), func(s *facts.Snapshot) {
			r := s.AWS.Roles[testutil.RoleARN]
			r.TrustPolicy = trust("system:serviceaccount:shop:other")
			s.AWS.Roles[testutil.RoleARN] = r
		}, []want{{status: diag.StatusFail, severity: diag.SeverityError, message: "AccessDenied: An unknown error occurred; offline, IRSA-TRUST-001 explains it"}}},
		{"a failure nothing offline explains says so", trailFacts(webIdentity(10, failed("AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity"))), nil,
			[]want{{status: diag.StatusFail, severity: diag.SeverityError, message: "1 AssumeRoleWithWebIdentity call failed in the last 1h: AccessDenied: Not authorized to perform sts:AssumeRoleWithWebIdentity; no offline check explains it"}}},
		{"failures, then success: a warning that it recovered", trailFacts(webIdentity(40, failed("AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity")), webIdentity(5)), nil,
			[]want{{status: diag.StatusFail, severity: diag.SeverityWarning, message: "calls have succeeded since, the last at 2026-11-01T13:55:00Z"}}},
		{"two errors: two findings, the most frequent first", trailFacts(
			webIdentity(30, failed("AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity")),
			webIdentity(20, failed("InvalidIdentityToken", "Incorrect token audience")), webIdentity(10, failed("InvalidIdentityToken", "Incorrect token audience"))), nil,
			[]want{{message: "2 AssumeRoleWithWebIdentity calls failed in the last 1h: InvalidIdentityToken: Incorrect token audience"},
				{message: "1 AssumeRoleWithWebIdentity call failed in the last 1h: AccessDenied"}}},
		{"failures for another role are not this role's", trailFacts(webIdentity(10, failed("AccessDenied", "denied"), func(e *facts.TrailEvent) { e.RoleARN = oldRole })), nil,
			[]want{{status: diag.StatusPass, message: "No token exchange failed in the last 1h (0 succeeded)"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			expect(t, findingsOf(t, trailScenario(tt.t, tt.edit), "CLOUDTRAIL-FAIL-001"), tt.want)
		})
	}
}

// TestCheckTrailPodIdentityRefusal: EKS Auth logs a refusal without the
// service account; one from a node that runs the subject's pods is its.
func TestCheckTrailPodIdentityRefusal(t *testing.T) {
	t.Parallel()
	refusal := facts.TrailEvent{ID: "pi-1", Time: trailNow.Add(-7 * time.Minute), Region: "us-west-2", Name: facts.EventAssumeRoleForPodIdentity, Cluster: piCluster,
		ErrorCode: "AccessDenied", ErrorMessage: "Unauthorized Exception! EKS does not have permissions to assume the associated role.", SourceIP: nodeIP}
	elsewhere := refusal
	elsewhere.ID, elsewhere.SourceIP = "pi-2", "10.0.9.9"
	build := func(evs ...facts.TrailEvent) *facts.Snapshot {
		p := podIdentityPod("web", facts.PodIdentityAudience)
		p.Status.Phase, p.Status.HostIP = corev1.PodRunning, nodeIP
		return piScenario([]*corev1.Pod{p}, func(s *facts.Snapshot) {
			s.CloudTrail = &facts.TrailFacts{Since: trailNow.Add(-time.Hour), Until: trailNow, MaxEvents: 2000, Account: "111122223333",
				Lookups: []facts.TrailLookup{{Region: "us-west-2", EventName: facts.EventAssumeRoleForPodIdentity, Pages: 1, Events: len(evs)},
					{Region: "us-west-2", EventName: facts.EventAssumeRole, Pages: 1}}, Events: evs}
			setTrust(s.AWS, piRole, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"pods.eks.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)
		})
	}
	expect(t, findingsOf(t, build(refusal, elsewhere), "CLOUDTRAIL-FAIL-001"), []want{{status: diag.StatusFail, severity: diag.SeverityError,
		message:  "1 AssumeRoleForPodIdentity call failed in the last 1h: AccessDenied: Unauthorized Exception! EKS does not have permissions to assume the associated role.; offline, PODID-TRUST-001 explains it",
		evidence: []string{"matched by node=1 refusals name no service account"}}})
	expect(t, findingsOf(t, build(elsewhere), "CLOUDTRAIL-FAIL-001"), []want{{status: diag.StatusPass, message: "No token exchange failed"}})
	// EKS's AssumeRole behind a success names the service account.
	session := facts.TrailEvent{ID: "as-1", Time: trailNow.Add(-3 * time.Minute), Region: "us-west-2", Name: facts.EventAssumeRole, Cluster: piCluster,
		Namespace: ns, ServiceAccount: "app", RoleARN: piRole, UserAgent: "pods.eks.amazonaws.com"}
	expect(t, findingsOf(t, build(session), "CLOUDTRAIL-FAIL-001"), []want{{status: diag.StatusPass, message: "No token exchange failed in the last 1h (1 succeeded)"}})
	expect(t, findingsOf(t, build(session), "CLOUDTRAIL-QUIET-001"), []want{{status: diag.StatusPass, message: "the last at 2026-11-01T13:57:00Z"}})
	// No success while the pod runs: the quiet notice.
	expect(t, findingsOf(t, build(refusal), "CLOUDTRAIL-QUIET-001"), []want{{status: diag.StatusFail, severity: diag.SeverityInfo, message: "1 running pod of this service account got no credentials from it in the last 1h (web)"}})
}

func TestCheckTrailStaleRole(t *testing.T) {
	t.Parallel()
	asOld := func(e *facts.TrailEvent) { e.RoleARN = oldRole }
	stalePod := func(s *facts.Snapshot) {
		p := s.Subjects[0].Pods[0].Pod
		for i := range p.Spec.Containers[0].Env {
			if p.Spec.Containers[0].Env[i].Name == "AWS_ROLE_ARN" {
				p.Spec.Containers[0].Env[i].Value = oldRole
			}
		}
	}
	annotatedAt := func(at time.Time) func(*facts.Snapshot) {
		return func(s *facts.Snapshot) {
			s.Subjects[0].ServiceAccount = sa("app").RoleARN(testutil.RoleARN).AnnotationWrittenAt("eks.amazonaws.com/role-arn", at).Build()
		}
	}
	tests := []struct {
		name string
		t    *facts.TrailFacts
		edit func(*facts.Snapshot)
		want []want
	}{
		{"a running pod still asks for the old role: restart through its owner", trailFacts(webIdentity(50, asOld), webIdentity(20, asOld), webIdentity(5)), stalePod,
			[]want{{status: diag.StatusFail, severity: diag.SeverityWarning,
				message:  "Pods still ask for role " + oldRole + ", not the annotated " + testutil.RoleARN + ": 2 calls since 2026-11-01T13:10:00Z, the last at 2026-11-01T13:40:00Z; the webhook set AWS_ROLE_ARN when pod/web were created",
				evidence: []string{"role asked for=" + oldRole, "calls=2", "annotated role=" + testutil.RoleARN},
				fix:      "kubectl rollout restart deployment/web -n shop"}}},
		{"old-role calls but no pod in scope has it: info", trailFacts(webIdentity(20, asOld)), nil,
			[]want{{status: diag.StatusFail, severity: diag.SeverityInfo, message: "no running pod in scope has that role now"}}},
		{"old-role calls only before the annotation changed: history", trailFacts(webIdentity(50, asOld), webIdentity(5)), annotatedAt(trailNow.Add(-30 * time.Minute)),
			[]want{{status: diag.StatusPass, message: "Before the annotation changed at 2026-11-01T13:30:00Z, pods asked for role " + oldRole + " (1 call"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			expect(t, findingsOf(t, trailScenario(tt.t, tt.edit), "CLOUDTRAIL-STALE-001"), tt.want)
		})
	}
}

func TestCheckTrailSDK(t *testing.T) {
	t.Parallel()
	agent := func(ua string) func(*facts.TrailEvent) { return func(e *facts.TrailEvent) { e.UserAgent = ua } }
	tests := []struct {
		name string
		t    *facts.TrailFacts
		want []want
	}{
		{"Java v1 below the IRSA minimum: name, version and minimum", trailFacts(webIdentity(30, agent(javaV1Agent)), webIdentity(10, agent(javaV1Agent))),
			[]want{{status: diag.StatusFail, severity: diag.SeverityWarning, message: "AWS SDK for Java 1.x 1.11.500 made 2 calls; IRSA needs at least 1.12.782",
				evidence: []string{"sdk=AWS SDK for Java 1.x 1.11.500", "calls=2"}, fix: "iam-roles-for-service-accounts-minimum-sdk.html"}}},
		{"an unknown user agent is noted, not guessed", trailFacts(webIdentity(10, agent("my-custom-client/0.1"))),
			[]want{{status: diag.StatusFail, severity: diag.SeverityInfo, message: `1 call came from a user agent kubectl irsa does not recognise, so their SDK is not judged: "my-custom-client/0.1"`}}},
		{"kubectl irsa's own probe says nothing of the pods' SDK", trailFacts(webIdentity(10, agent("aws-sdk-go-v2/1.30.3 os/linux lang/go#1.22.5 md/GOOS#linux md/GOARCH#amd64 api/sts#1.30.3 kubectl-irsa/v0.3.0"))), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			expect(t, findingsOf(t, trailScenario(tt.t, nil), "CLOUDTRAIL-SDK-001"), tt.want)
		})
	}
}

func TestCheckTrailGlobalEndpoint(t *testing.T) {
	t.Parallel()
	global := func(e *facts.TrailEvent) { e.Host, e.Region = "sts.amazonaws.com", "us-east-1" }
	expect(t, findingsOf(t, trailScenario(trailFacts(webIdentity(30, global), webIdentity(10, global), webIdentity(5)), nil), "CLOUDTRAIL-GLOBAL-001"),
		[]want{{status: diag.StatusFail, severity: diag.SeverityWarning,
			message:  "2 calls went to the global STS endpoint sts.amazonaws.com (logged in us-east-1), not the regional one",
			evidence: []string{"endpoint=sts.amazonaws.com", "calls=2", "first=2026-11-01T13:30:00Z", "last=2026-11-01T13:50:00Z"},
			fix:      "kubectl annotate serviceaccount app -n shop eks.amazonaws.com/sts-regional-endpoints=true --overwrite"}})
	// A partition without a global endpoint: such calls cannot succeed.
	const cnRole = "arn:aws-cn:iam::111122223333:role/app"
	cn := trailScenario(trailFacts(webIdentity(30, global, func(e *facts.TrailEvent) { e.RoleARN = cnRole })), func(s *facts.Snapshot) {
		s.Subjects[0].ServiceAccount = sa("app").RoleARN(cnRole).Build()
	})
	expect(t, findingsOf(t, cn, "CLOUDTRAIL-GLOBAL-001"), []want{{status: diag.StatusFail, severity: diag.SeverityError,
		message: "1 call went to the global STS endpoint sts.amazonaws.com, which partition aws-cn does not have: they cannot succeed"}})
	// No call at all: nothing to say about endpoints.
	expect(t, findingsOf(t, trailScenario(trailFacts(), nil), "CLOUDTRAIL-GLOBAL-001"), nil)
}

func TestCheckTrailQuiet(t *testing.T) {
	t.Parallel()
	expect(t, findingsOf(t, trailScenario(trailFacts(), nil), "CLOUDTRAIL-QUIET-001"), []want{{status: diag.StatusFail, severity: diag.SeverityInfo,
		message: "1 running pod of this service account got no credentials from it in the last 1h (web): they may not use it at all", evidence: []string{"running pods=1"}}})
	// Only failures: still no credentials.
	f := findingsOf(t, trailScenario(trailFacts(webIdentity(5, failed("AccessDenied", "denied"))), nil), "CLOUDTRAIL-QUIET-001")
	expect(t, f, []want{{status: diag.StatusFail, severity: diag.SeverityInfo}})
	// A lookup stopped at the bound says the answer may be in what it did not read.
	cut := trailFacts()
	cut.Lookups[1].Truncated, cut.Lookups[1].Oldest = true, trailNow.Add(-10*time.Minute)
	expect(t, findingsOf(t, trailScenario(cut, nil), "CLOUDTRAIL-QUIET-001"), []want{{status: diag.StatusFail, severity: diag.SeverityInfo,
		message: "the AssumeRoleWithWebIdentity lookup in us-west-2 stopped at --cloudtrail-max-events, back to 2026-11-01T13:50:00Z, so older calls were not read"}})
	// Pods that do not run: nothing to expect.
	expect(t, findingsOf(t, trailScenario(trailFacts(), func(s *facts.Snapshot) { s.Subjects[0].Pods[0].Pod.Status.Phase = corev1.PodPending }), "CLOUDTRAIL-QUIET-001"), nil)
}

// TestTrailFindingsExitCode: only a current failure is an error, the one
// finding that makes diagnose exit 2 with the default --fail-on.
func TestTrailFindingsExitCode(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name    string
		t       *facts.TrailFacts
		failing bool
	}{
		{"successes only", trailFacts(webIdentity(5)), false},
		{"recovered", trailFacts(webIdentity(20, failed("AccessDenied", "denied")), webIdentity(5)), false},
		{"failing now", trailFacts(webIdentity(5, failed("AccessDenied", "denied"))), true},
	} {
		ds := diag.Run(trailScenario(tt.t, nil))
		if got := diag.Failing(ds, diag.SeverityError); got != tt.failing {
			var b strings.Builder
			for _, d := range ds {
				b.WriteString(dump(d.Findings))
			}
			t.Errorf("%s: Failing = %v, want %v\n%s", tt.name, got, tt.failing, b.String())
		}
	}
}
