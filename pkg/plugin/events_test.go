package plugin

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/kubectl-irsa/kubectl-irsa/test/fakeaws"
	"github.com/kubectl-irsa/kubectl-irsa/test/testutil"
)

const (
	goV2UA   = "aws-sdk-go-v2/1.30.3 os/linux lang/go#1.22.5 md/GOOS#linux md/GOARCH#amd64 api/sts#1.30.3"
	javaV1UA = "aws-sdk-java/1.11.500 Linux/5.10.184-175.731.amzn2.x86_64 OpenJDK_64-Bit_Server_VM/17.0.8+7-LTS java/17.0.8 vendor/Amazon.com_Inc."
)

// trailWorld is awsWorld with CloudTrail events of the last hour, relative
// to the real clock (the run judges with it): shop/app's role got three
// successes and two InvalidIdentityToken failures from Go v2; shop/legacy's
// one success from Java v1, below the IRSA minimum.
func trailWorld() *fakeaws.Server {
	a := awsWorld()
	now := time.Now()
	add := func(ago time.Duration, sa, role, ua, code, msg string) {
		a.AddTrailEvent(fakeaws.WebIdentityTrailEvent(fakeaws.WebIdentityCall{Region: "us-west-2", Time: now.Add(-ago), ProviderARN: worldProvider,
			Audience: "sts.amazonaws.com", Subject: "system:serviceaccount:shop:" + sa, RoleARN: role, UserAgent: ua, Host: "sts.us-west-2.amazonaws.com",
			ErrorCode: code, ErrorMessage: msg}))
	}
	for _, ago := range []time.Duration{50*time.Minute + 30*time.Second, 40*time.Minute + 30*time.Second, 12*time.Minute + 30*time.Second} {
		add(ago, "app", testutil.RoleARN, goV2UA, "", "")
	}
	for _, ago := range []time.Duration{30*time.Minute + 30*time.Second, 20*time.Minute + 30*time.Second} {
		add(ago, "app", testutil.RoleARN, goV2UA, "InvalidIdentityToken", "Incorrect token audience")
	}
	add(15*time.Minute+30*time.Second, "legacy", "arn:aws:iam::111122223333:role/team/legacy", javaV1UA, "", "")
	return a
}

func TestEventsTable(t *testing.T) {
	t.Parallel()
	srv := newWorld(t)
	deps := fakeAWS(t, trailWorld())
	r := runAWS(t, srv, deps, "events", "--issuer", worldIssuer)
	if r.code != ExitOK {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	golden(t, "events-table.txt", r.stdout)
	wide := runAWS(t, srv, deps, "events", "--issuer", worldIssuer, "-o", "wide")
	golden(t, "events-wide.txt", wide.stdout)
	if !strings.Contains(r.stderr, "Read CloudTrail of account 111122223333 in us-east-1, us-west-2 for ") || !strings.Contains(r.stderr, "2 pages, 6 events, 6 of this cluster in scope") {
		t.Errorf("stderr %q lacks the summary of what was read", r.stderr)
	}
}

func TestEventsJSON(t *testing.T) {
	t.Parallel()
	r := runAWS(t, newWorld(t), fakeAWS(t, trailWorld()), "events", "--issuer", worldIssuer, "-o", "json")
	if r.code != ExitOK {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	var l EventSummaryList
	if err := json.Unmarshal([]byte(r.stdout), &l); err != nil {
		t.Fatalf("not an EventSummaryList: %v\n%s", err, r.stdout)
	}
	if l.APIVersion != APIVersion || l.Kind != KindEventSummaryList || l.Account != worldAccount || len(l.Lookups) != 2 {
		t.Errorf("header %s %s %s with %d lookups", l.APIVersion, l.Kind, l.Account, len(l.Lookups))
	}
	byRole := map[string]int{}
	for _, it := range l.Items {
		byRole[it.ServiceAccount+" "+it.Role] = it.Succeeded*100 + it.Failed
	}
	want := map[string]int{"app " + testutil.RoleARN: 302, "legacy arn:aws:iam::111122223333:role/team/legacy": 100}
	for k, v := range want {
		if byRole[k] != v {
			t.Errorf("%s: succeeded*100+failed = %d, want %d (items %+v)", k, byRole[k], v, l.Items)
		}
	}
}

// TestDiagnoseCloudTrail: --cloudtrail adds the CloudTrail findings and
// makes diagnose exit 2 on a current failure; LookupEvents denied or
// throttled past the retries is unknown, and every other finding stays.
func TestDiagnoseCloudTrail(t *testing.T) {
	t.Parallel()
	srv := newWorld(t)
	plain := decode(t, runAWS(t, srv, fakeAWS(t, trailWorld()), "diagnose", "pod/web-1", "--issuer", worldIssuer, "-o", "json"))
	r := runAWS(t, srv, fakeAWS(t, trailWorld()), "diagnose", "pod/web-1", "--issuer", worldIssuer, "-o", "json", "--cloudtrail", "--since", "1h")
	// The failures were followed by a success: a warning, so exit 0.
	if r.code != ExitOK {
		t.Errorf("exit %d, want %d: %s", r.code, ExitOK, r.stderr)
	}
	f := findingsByID(t, r).of(t, "CLOUDTRAIL-FAIL-001")
	if len(f) != 1 || f[0].Status != "fail" || f[0].Severity != "warning" || !strings.Contains(f[0].Message, "2 AssumeRoleWithWebIdentity calls failed in the last 1h: InvalidIdentityToken: Incorrect token audience") ||
		!strings.Contains(f[0].Message, "calls have succeeded since") {
		t.Errorf("CLOUDTRAIL-FAIL-001: %+v", f)
	}
	legacy := runAWS(t, srv, fakeAWS(t, trailWorld()), "diagnose", "sts/db", "--issuer", worldIssuer, "-o", "json", "--cloudtrail")
	sdk := findingsByID(t, legacy).of(t, "CLOUDTRAIL-SDK-001")
	if len(sdk) != 1 || !strings.Contains(sdk[0].Message, "AWS SDK for Java 1.x 1.11.500 made 1 call; IRSA needs at least 1.12.782") {
		t.Errorf("CLOUDTRAIL-SDK-001: %+v", sdk)
	}
	for name, inject := range map[string]func(*fakeaws.Server){
		"denied": func(a *fakeaws.Server) {
			a.Fail("cloudtrail:LookupEvents", "", "AccessDeniedException", "User: arn:aws:iam::111122223333:user/operator is not authorized to perform: cloudtrail:LookupEvents", http.StatusBadRequest)
		},
		"throttled": func(a *fakeaws.Server) { a.Throttle("cloudtrail:LookupEvents", 1000) },
	} {
		a := trailWorld()
		inject(a)
		r := runAWS(t, srv, fakeAWS(t, a), "diagnose", "pod/web-1", "--issuer", worldIssuer, "-o", "json", "--cloudtrail")
		read := findingsByID(t, r).of(t, "CLOUDTRAIL-READ-001")
		if len(read) != 1 || read[0].Status != "unknown" || !strings.Contains(read[0].Remediation, "allow cloudtrail:LookupEvents") {
			t.Errorf("%s: CLOUDTRAIL-READ-001 %+v", name, read)
		}
		if got := findingsByID(t, r).of(t, "CLOUDTRAIL-FAIL-001"); len(got) != 0 {
			t.Errorf("%s: CLOUDTRAIL-FAIL-001 judged incomplete facts: %+v", name, got)
		}
		if r.code != ExitOK || len(decode(t, r).Items[0].Findings) != len(plain.Items[0].Findings)+1 {
			t.Errorf("%s: exit %d and %d findings; want 0 and the run without --cloudtrail's %d plus the unknown", name, r.code, len(decode(t, r).Items[0].Findings), len(plain.Items[0].Findings))
		}
		ev := runAWS(t, srv, fakeAWS(t, a), "events", "--issuer", worldIssuer)
		if ev.code != ExitError || !strings.Contains(ev.stderr, "error: no CloudTrail lookup could be read (needs cloudtrail:LookupEvents)") {
			t.Errorf("%s: events exit %d, stderr %q", name, ev.code, ev.stderr)
		}
	}
}
