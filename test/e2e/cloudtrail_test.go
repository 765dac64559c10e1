//go:build e2e

package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-irsa/kubectl-irsa/test/fakeaws"
	"github.com/kubectl-irsa/kubectl-irsa/test/webhook"
)

// User agents the scenarios' "pods" send: what the SDKs send (pkg/useragent's
// tests name their sources).
const (
	goV2Agent   = "aws-sdk-go-v2/1.30.3 os/linux lang/go#1.22.5 md/GOOS#linux md/GOARCH#amd64 api/sts#1.30.3"
	javaV1Agent = "aws-sdk-java/1.11.500 Linux/5.10.184-175.731.amzn2.x86_64 OpenJDK_64-Bit_Server_VM/17.0.8+7-LTS java/17.0.8 vendor/Amazon.com_Inc."
	regionalSTS = "sts.us-west-2.amazonaws.com"
	globalSTS   = "sts.amazonaws.com"
)

// exchange does what a pod's SDK does with its projected token: it mints an
// API-server token for sa (`kubectl create token`, audience
// sts.amazonaws.com) and POSTs AssumeRoleWithWebIdentity for roleARN to the
// emulated STS with the SDK's User-Agent and the Host header of the endpoint
// it would call. The emulator records the call as CloudTrail does, in the
// region that endpoint logs in. It returns "" on success, else STS's error
// code. The token lives only in memory and the answer's credentials are
// read by no one.
func (w *world) exchange(sa, roleARN, userAgent, host string) string {
	w.t.Helper()
	token, stderr, err := w.cp.Kubectl(w.ctx, "create", "token", sa, "-n", w.ns, "--audience", stsAud, "--duration", "10m")
	if err != nil {
		w.t.Fatalf("kubectl create token %s: %v\n%s", sa, err, stderr) // stderr only: never the token
	}
	mustLoopback(w.t, w.awsURL)
	form := url.Values{"Action": {"AssumeRoleWithWebIdentity"}, "Version": {"2011-06-15"}, "RoleArn": {roleARN},
		"RoleSessionName": {"e2e-" + sa}, "WebIdentityToken": {strings.TrimSpace(token)}}
	token = ""
	req, err := http.NewRequestWithContext(w.ctx, http.MethodPost, w.awsURL+"/", strings.NewReader(form.Encode()))
	if err != nil {
		w.t.Fatal(err)
	}
	req.Host = host
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	req.Header.Set("User-Agent", userAgent)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		w.t.Fatalf("AssumeRoleWithWebIdentity: %v", err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusOK {
		return ""
	}
	// <ErrorResponse><Error><Code>…</Code>
	code := string(body)
	if _, rest, ok := strings.Cut(code, "<Code>"); ok {
		code, _, _ = strings.Cut(rest, "</Code>")
	}
	return code
}

// running marks a pod Running on a node, as the kubelet would: the
// CloudTrail checks only expect calls from running pods, and match Pod
// Identity refusals to the node the agent called from.
func (w *world) running(p *corev1.Pod, hostIP string) {
	w.t.Helper()
	p.Status.Phase = corev1.PodRunning
	p.Status.HostIP = hostIP
	p.Status.HostIPs = []corev1.HostIP{{IP: hostIP}}
	if _, err := w.cs.CoreV1().Pods(w.ns).UpdateStatus(w.ctx, p, metav1.UpdateOptions{}); err != nil {
		w.t.Fatal(err)
	}
}

// trailFinding is the one finding of id, failing the test when there is
// not exactly one.
func trailFinding(w *world, fs []finding, id string) finding {
	w.t.Helper()
	var got []finding
	for _, f := range fs {
		if f.ID == id {
			got = append(got, f)
		}
	}
	if len(got) != 1 {
		w.t.Fatalf("%d %s findings, want 1: %+v", len(got), id, got)
	}
	return got[0]
}

func wantMessage(w *world, f finding, parts ...string) {
	w.t.Helper()
	for _, p := range parts {
		if !strings.Contains(f.Message+" || "+f.Remediation, p) {
			w.t.Errorf("%s %s: %q does not say %q (fix: %q)", f.ID, f.Status, f.Message, p, f.Remediation)
		}
	}
}

// cloudTrailScenarios produce real CloudTrail events the way a cluster
// does, through the emulated STS and EKS Auth, then read them with
// diagnose --cloudtrail (and kubectl irsa events).
func cloudTrailScenarios() []scenario {
	trail := []string{"--cloudtrail", "--since", "1h", "--show-passed"}
	return []scenario{
		{name: "cloudtrail: healthy exchanges only", ns: "e2e-ct-healthy", flags: trail, code: 0,
			setup: func(w *world) string {
				role := w.healthy(acctA, "app", "app")
				w.irsaSA("app", role)
				w.deployment("web", "app", 1)
				for range 2 {
					if got := w.exchange("app", role, goV2Agent, regionalSTS); got != "" {
						w.t.Fatalf("a healthy exchange failed: %s", got)
					}
				}
				return ""
			},
			check: func(w *world, fs []finding) {
				wantMessage(w, trailFinding(w, fs, "CLOUDTRAIL-READ-001"), "Read CloudTrail for the last 1h: 2 events of this service account")
				wantMessage(w, trailFinding(w, fs, "CLOUDTRAIL-FAIL-001"), "No token exchange failed in the last 1h (2 succeeded)")
				wantMessage(w, trailFinding(w, fs, "CLOUDTRAIL-SDK-001"), "AWS SDK for Go v2 1.30.3 (2 calls)")
				out, stderr, code := w.irsa("events", "-n", w.ns, "-o", "json")
				var l struct {
					Kind  string `json:"kind"`
					Items []struct {
						ServiceAccount string `json:"serviceAccount"`
						Succeeded      int    `json:"succeeded"`
						Failed         int    `json:"failed"`
					} `json:"items"`
				}
				if err := json.Unmarshal([]byte(out), &l); err != nil || code != 0 {
					w.t.Fatalf("events: exit %d, %v\n%s\n%s", code, err, out, stderr)
				}
				if l.Kind != "EventSummaryList" || len(l.Items) != 1 || l.Items[0].ServiceAccount != "app" || l.Items[0].Succeeded != 2 || l.Items[0].Failed != 0 {
					w.t.Errorf("events -o json: %+v", l)
				}
			}},
		{name: "cloudtrail: recent failures tied to the offline check", ns: "e2e-ct-failures", flags: trail, code: 2,
			fail: []string{"IRSA-TRUST-001", "CLOUDTRAIL-FAIL-001", "CLOUDTRAIL-QUIET-001"},
			setup: func(w *world) string {
				w.healthy(acctA, "unused", "app")
				role := w.role(acctA, "app", w.policy(w.webIdentity(acctA, w.exact("someone-else"))))
				w.irsaSA("app", role)
				pods := w.deployment("web", "app", 1)
				w.running(pods[0], "10.0.1.5")
				for range 3 {
					if got := w.exchange("app", role, goV2Agent, regionalSTS); got != "AccessDenied" {
						w.t.Fatalf("the exchange answered %q, want AccessDenied", got)
					}
				}
				return ""
			},
			check: func(w *world, fs []finding) {
				f := trailFinding(w, fs, "CLOUDTRAIL-FAIL-001")
				wantMessage(w, f, "3 AssumeRoleWithWebIdentity calls failed in the last 1h: AccessDenied", "offline, IRSA-TRUST-001 explains it")
				if f.Severity != "error" {
					w.t.Errorf("CLOUDTRAIL-FAIL-001 severity %s, want error", f.Severity)
				}
				wantMessage(w, trailFinding(w, fs, "CLOUDTRAIL-QUIET-001"), "1 running pod of this service account got no credentials from it in the last 1h")
			}},
		{name: "cloudtrail: pods still ask for the old role", ns: "e2e-ct-stale", flags: trail, code: 2,
			fail: []string{"IRSA-POD-002", "CLOUDTRAIL-STALE-001"},
			setup: func(w *world) string {
				old := w.healthy(acctA, "app-old", "app")
				current := w.role(acctA, "app", w.policy(w.webIdentity(acctA, w.exact("app"))))
				w.irsaSA("app", old)
				pods := w.deployment("web", "app", 1)
				for range 2 {
					if got := w.exchange("app", old, goV2Agent, regionalSTS); got != "" {
						w.t.Fatalf("the old role's exchange failed: %s", got)
					}
				}
				w.annotateLater(pods[0], "serviceaccount/app", webhook.AnnotationRoleARN+"="+current)
				return ""
			},
			check: func(w *world, fs []finding) {
				wantMessage(w, trailFinding(w, fs, "CLOUDTRAIL-STALE-001"), "Pods still ask for role arn:aws:iam::111122223333:role/app-old, not the annotated arn:aws:iam::111122223333:role/app: 2 calls since",
					"kubectl rollout restart deployment/web -n e2e-ct-stale")
			}},
		{name: "cloudtrail: SDK below the IRSA minimum, and one not recognised", ns: "e2e-ct-sdk", flags: trail, code: 0,
			fail: []string{"CLOUDTRAIL-SDK-001"},
			setup: func(w *world) string {
				role := w.healthy(acctA, "app", "app")
				w.irsaSA("app", role)
				w.deployment("web", "app", 1)
				for _, ua := range []string{javaV1Agent, javaV1Agent, "my-http-client/0.3"} {
					if got := w.exchange("app", role, ua, regionalSTS); got != "" {
						w.t.Fatalf("exchange: %s", got)
					}
				}
				return ""
			},
			check: func(w *world, fs []finding) {
				var msgs []string
				for _, f := range fs {
					if f.ID == "CLOUDTRAIL-SDK-001" {
						msgs = append(msgs, f.Severity+": "+f.Message)
					}
				}
				want := []string{"warning: AWS SDK for Java 1.x 1.11.500 made 2 calls; IRSA needs at least 1.12.782",
					`info: 1 call came from a user agent kubectl irsa does not recognise, so their SDK is not judged: "my-http-client/0.3"`}
				if !slices.Equal(msgs, want) {
					w.t.Errorf("CLOUDTRAIL-SDK-001 findings %q, want %q", msgs, want)
				}
			}},
		{name: "cloudtrail: calls to the global STS endpoint", ns: "e2e-ct-global", flags: trail, code: 0,
			fail: []string{"CLOUDTRAIL-GLOBAL-001"},
			setup: func(w *world) string {
				role := w.healthy(acctA, "app", "app")
				w.irsaSA("app", role)
				w.deployment("web", "app", 1)
				if got := w.exchange("app", role, goV2Agent, globalSTS); got != "" {
					w.t.Fatalf("exchange: %s", got)
				}
				if got := w.exchange("app", role, goV2Agent, regionalSTS); got != "" {
					w.t.Fatalf("exchange: %s", got)
				}
				// Logged in us-east-1, where only a lookup of that region finds it.
				if n := len(w.aws.TrailEvents(acctA, "us-east-1")); n != 1 {
					w.t.Fatalf("%d events in us-east-1, want the global endpoint's 1", n)
				}
				return ""
			},
			check: func(w *world, fs []finding) {
				wantMessage(w, trailFinding(w, fs, "CLOUDTRAIL-GLOBAL-001"), "1 call went to the global STS endpoint sts.amazonaws.com (logged in us-east-1)",
					"eks.amazonaws.com/sts-regional-endpoints=true")
				wantMessage(w, trailFinding(w, fs, "CLOUDTRAIL-READ-001"), "2 events of this service account")
			}},
		{name: "cloudtrail: Pod Identity exchanges named by EKS's AssumeRole", ns: "e2e-ct-podid-ok", flags: append(slices.Clone(trail), eksFlags...), code: 0,
			setup: func(w *world) string {
				w.healthyPodIdentity("app", "pi-app")
				w.running(w.pod(w.newPod("web", "app")), "127.0.0.1")
				for range 2 {
					if got := w.assumeForPodIdentity("app"); got != "" {
						w.t.Fatalf("EKS Auth refused a healthy association: %s", got)
					}
				}
				return "sa/app"
			},
			check: func(w *world, fs []finding) {
				wantMessage(w, trailFinding(w, fs, "CLOUDTRAIL-FAIL-001"), "No token exchange failed in the last 1h (2 succeeded)")
				wantMessage(w, trailFinding(w, fs, "CLOUDTRAIL-QUIET-001"), "The service account's pods got credentials in the last 1h")
				out, stderr, code := w.irsa(append([]string{"events", "-n", w.ns}, eksFlags...)...)
				if code != 0 || !strings.Contains(out, "PodIdentity") || !strings.Contains(out, "role/pi-app") {
					w.t.Errorf("events: exit %d\n%s\n%s", code, out, stderr)
				}
			}},
		{name: "cloudtrail: a Pod Identity refusal matched by its node", ns: "e2e-ct-podid", flags: append(slices.Clone(trail), eksFlags...), code: 2,
			fail: []string{"PODID-TRUST-001", "CLOUDTRAIL-FAIL-001", "CLOUDTRAIL-QUIET-001"},
			setup: func(w *world) string {
				w.eks("1.31", "eks.4")
				w.sa(w.newSA("app"))
				w.associate("app", w.podIdentityRole("pi-app", podIdentityTrust(nil, "sts:AssumeRole")), nil)
				p := w.pod(w.newPod("web", "app"))
				// The emulated agent calls EKS Auth from this machine: the
				// refusal's sourceIPAddress is the pod's node.
				w.running(p, "127.0.0.1")
				if got := w.assumeForPodIdentity("app"); got != "AccessDeniedException" {
					w.t.Fatalf("EKS Auth answered %q, want AccessDeniedException", got)
				}
				return "sa/app"
			},
			check: func(w *world, fs []finding) {
				f := trailFinding(w, fs, "CLOUDTRAIL-FAIL-001")
				// CloudTrail logs EKS Auth's AccessDeniedException as AccessDenied.
				wantMessage(w, f, "1 AssumeRoleForPodIdentity call failed in the last 1h: AccessDenied", "offline, PODID-TRUST-001 explains it")
				found := false
				for _, e := range f.Evidence {
					found = found || e.Key == "matched by node"
				}
				if !found {
					w.t.Errorf("CLOUDTRAIL-FAIL-001 evidence %+v does not say it was matched by node", f.Evidence)
				}
			}},
		{name: "cloudtrail: LookupEvents denied is unknown, the rest unchanged", ns: "e2e-ct-denied", flags: trail, code: 0,
			unknown: []string{"CLOUDTRAIL-READ-001"},
			setup: func(w *world) string {
				role := w.healthy(acctA, "app", "app")
				w.irsaSA("app", role)
				w.deployment("web", "app", 1)
				w.aws.Fail("cloudtrail:LookupEvents", "", "AccessDeniedException",
					"User: arn:aws:iam::111122223333:user/e2e is not authorized to perform: cloudtrail:LookupEvents because no identity-based policy allows the cloudtrail:LookupEvents action", http.StatusBadRequest)
				return ""
			},
			check: func(w *world, fs []finding) {
				wantMessage(w, trailFinding(w, fs, "CLOUDTRAIL-READ-001"), "is not authorized to perform: cloudtrail:LookupEvents", "allow cloudtrail:LookupEvents")
				for _, id := range []string{"CLOUDTRAIL-FAIL-001", "CLOUDTRAIL-STALE-001", "CLOUDTRAIL-SDK-001", "CLOUDTRAIL-QUIET-001"} {
					for _, f := range fs {
						if f.ID == id {
							w.t.Errorf("%s judged CloudTrail it could not read: %s", id, f.Message)
						}
					}
				}
				if f := trailFinding(w, fs, "IRSA-TRUST-001"); f.Status != "pass" {
					w.t.Errorf("IRSA-TRUST-001 %s, want pass as without --cloudtrail", f.Status)
				}
			}},
		{name: "cloudtrail: the role's account is not the credentials'", ns: "e2e-ct-account", flags: trail, code: 0,
			unknown: []string{"CLOUDTRAIL-READ-001"},
			setup: func(w *world) string {
				w.healthy(acctA, "unused", "app")
				w.aws.AddProvider(fakeaws.Provider{ARN: w.providerARN(acctB), URL: w.issuerHost, ClientIDs: []string{stsAud}, Thumbprints: []string{w.thumbprint}})
				role := w.role(acctB, "app", w.policy(w.webIdentity(acctB, w.exact("app"))))
				w.irsaSA("app", role)
				w.deployment("web", "app", 1)
				if got := w.exchange("app", role, goV2Agent, regionalSTS); got != "" {
					w.t.Fatalf("exchange: %s", got)
				}
				return ""
			},
			check: func(w *world, fs []finding) {
				wantMessage(w, trailFinding(w, fs, "CLOUDTRAIL-READ-001"), "CloudTrail logs this role's calls in account 444455556666, and the credentials are for account 111122223333",
					"run again with credentials of account 444455556666 (--aws-profile)")
			}},
		{name: "cloudtrail: an unreadable event is skipped and counted", ns: "e2e-ct-malformed", flags: trail, code: 0,
			setup: func(w *world) string {
				role := w.healthy(acctA, "app", "app")
				w.irsaSA("app", role)
				w.deployment("web", "app", 1)
				if got := w.exchange("app", role, goV2Agent, regionalSTS); got != "" {
					w.t.Fatalf("exchange: %s", got)
				}
				good := w.aws.TrailEvents(acctA, "us-west-2")[0]
				broken := good
				broken.EventID, broken.Payload = "", good.Payload[:len(good.Payload)/2]
				broken.Time = time.Now().Add(-time.Minute)
				w.aws.AddTrailEvent(broken)
				return ""
			},
			check: func(w *world, fs []finding) {
				f := trailFinding(w, fs, "CLOUDTRAIL-READ-001")
				wantMessage(w, f, "1 event of this service account")
				found := false
				for _, e := range f.Evidence {
					found = found || e.Key == "unreadable events" && strings.HasPrefix(e.Value, "1 skipped")
				}
				if !found {
					w.t.Errorf("CLOUDTRAIL-READ-001 evidence %+v lacks the skipped event", f.Evidence)
				}
			}},
	}
}
