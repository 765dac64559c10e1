//go:build e2e

package e2e

import (
	"context"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/facts"
	"github.com/kubectl-irsa/kubectl-irsa/test/fakeaws"
	"github.com/kubectl-irsa/kubectl-irsa/test/harness"
	"github.com/kubectl-irsa/kubectl-irsa/test/testutil"
	"github.com/kubectl-irsa/kubectl-irsa/test/webhook"
)

// scenario is one failure mode (or a healthy setup) built on the real
// control plane, diagnosed through the real kubectl.
type scenario struct {
	name     string
	ns       string // namespace of the scenario; unique
	nsLabels map[string]string
	// setup builds the Kubernetes objects and the AWS state and returns the
	// diagnose target (e.g. "pod/web"; "" diagnoses the namespace).
	setup func(w *world) string
	// extra flags for diagnose
	flags []string
	// fail is exactly the set of check ids with a failing finding.
	fail []string
	// unknown ids must be reported unknown (could not tell).
	unknown []string
	code    int
	// sts, when set, presents an API-server token of service account "app"
	// to the emulated STS and expects this verdict ("ok" or an error code);
	// stsID is the plugin check that must fail for the same reason ("" with
	// "ok": none of the checks STS decides may fail).
	sts, stsID string
	// check makes scenario-specific assertions.
	check func(w *world, fs []finding)
}

// TestScenarios runs every failure mode the plugin checks against one real
// control plane with the webhook in its admission chain and a per-scenario
// AWS fake. It never skips: without a control plane it fails.
func TestScenarios(t *testing.T) {
	s := startSuite(t)
	start := time.Now()
	t.Cleanup(func() { t.Logf("scenarios ran in %s", time.Since(start).Round(time.Millisecond)) })

	t.Run("diagnose", func(t *testing.T) {
		for _, sc := range slices.Concat(scenarios(), podIdentityScenarios(), cloudTrailScenarios()) {
			t.Run(sc.name, func(t *testing.T) {
				t.Parallel()
				ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
				defer cancel()
				w := s.newWorld(ctx, t, sc.ns, sc.nsLabels)
				target := sc.setup(w)
				args := []string{"diagnose"}
				if target != "" {
					args = append(args, strings.Fields(target)...)
				}
				args = append(args, "-n", w.ns, "-o", "json")
				args = append(args, sc.flags...)
				snapshot := filepath.Join(t.TempDir(), "snapshot.json")
				out, stderr, code := w.irsa(append(args, "--save-snapshot", snapshot)...)
				fs := findings(t, out)
				replay(w, snapshot, sc.flags, out, code)
				if code != sc.code {
					t.Errorf("exit code %d, want %d\nstderr: %s", code, sc.code, stderr)
				}
				assertIDs(t, "failing", statusIDs(fs, "fail"), sc.fail, fs)
				got := statusIDs(fs, "unknown")
				for _, id := range sc.unknown {
					if !slices.Contains(got, id) {
						t.Errorf("no unknown %s finding; unknown: %v", id, got)
					}
				}
				for _, f := range fs {
					if f.Status != "pass" {
						t.Logf("%s %s %s %s/%s[%s]: %s", f.ID, f.Severity, f.Status, f.Object.Kind, f.Object.Name, f.Object.Container, f.Message)
					}
				}
				if sc.check != nil {
					sc.check(w, fs)
				}
				if sc.sts != "" {
					crossCheckSTS(w, fs, sc.sts, sc.stsID)
				}
				if t.Failed() {
					t.Logf("diagnose %s:\n%s\nstderr:\n%s\nAWS calls: %+v", strings.Join(args, " "), out, stderr, w.aws.Calls())
				}
			})
		}
	})
	t.Run("thumbprint", func(t *testing.T) { testThumbprint(t, s) })
	t.Run("pod identity agent", func(t *testing.T) { testPodIdentityAgent(t, s) })
	// Last: it removes the webhook registration the other scenarios need.
	t.Run("webhook not registered", func(t *testing.T) { testWebhookUnregistered(t, s) })
}

// replay judges the scenario's saved snapshot again with no cluster and no
// AWS to reach, and wants the live run's findings, byte for byte, and its
// exit code; the file must hold no secret.
func replay(w *world, snapshot string, flags []string, liveOut string, liveCode int) {
	w.t.Helper()
	args := []string{"diagnose", "--from-snapshot", snapshot, "-o", "json"}
	for _, f := range flags {
		if strings.HasPrefix(f, "--fail-on") || f == "--show-passed" {
			args = append(args, f)
		}
	}
	out, stderr, code := w.irsaOffline(args...)
	if code != liveCode {
		w.t.Errorf("replay exit code %d, live %d\nstderr: %s", code, liveCode, stderr)
	}
	if out != liveOut {
		w.t.Errorf("replayed findings differ from the live run's\nlive:\n%s\nreplay:\n%s\nstderr: %s", liveOut, out, stderr)
	}
	assertNoSecrets(w, snapshot)
}

// testWebhookUnregistered deletes the webhook's registration, as a failed
// add-on upgrade does, so new pods are admitted unmutated.
func testWebhookUnregistered(t *testing.T, s *suite) {
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	w := s.newWorld(ctx, t, "e2e-no-webhook", nil)
	w.irsaSA("app", w.healthy(acctA, "app", "app"))
	if err := s.cs.AdmissionregistrationV1().MutatingWebhookConfigurations().Delete(ctx, webhook.ConfigurationName, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	// The API server drops the webhook only once its informer catches up:
	// wait until a dry-run pod comes back unmutated.
	probe := w.newPod("probe", "app").Build()
	clearSystemFields(&probe.ObjectMeta)
	for {
		got, err := s.cs.CoreV1().Pods(w.ns).Create(ctx, probe, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Spec.Containers[0].Env) == 0 {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatal("the webhook stayed active after its registration was deleted")
		case <-time.After(200 * time.Millisecond):
		}
	}
	w.pod(w.newPod("web", "app").Container("sidecar"))
	snapshot := filepath.Join(t.TempDir(), "snapshot.json")
	out, stderr, code := w.irsa("diagnose", "pod/web", "-n", w.ns, "-o", "json", "--save-snapshot", snapshot)
	fs := findings(t, out)
	if code != 2 {
		t.Errorf("exit code %d, want 2\n%s", code, stderr)
	}
	assertIDs(t, "failing", statusIDs(fs, "fail"), []string{"IRSA-POD-001", "IRSA-WEBHOOK-001"}, fs)
	replay(w, snapshot, nil, out, code)
}

// stsDecided are the checks whose failure means STS refuses the token.
var stsDecided = []string{"IRSA-OIDC-001", "IRSA-OIDC-002", "IRSA-OIDC-003", "IRSA-ROLE-001", "IRSA-TRUST-001"}

// crossCheckSTS asks the emulator's STS, which validates the token itself
// and has its own trust-policy evaluator, for its verdict on a real
// API-server token, and checks that the plugin's offline verdict agrees.
func crossCheckSTS(w *world, fs []finding, want, wantID string) {
	w.t.Helper()
	got := w.assumeWithAPIServerToken("app")
	if got == "" {
		got = "ok"
	}
	if got != want {
		w.t.Errorf("emulated STS says %s, want %s", got, want)
	}
	failing := statusIDs(fs, "fail")
	if got == "ok" {
		for _, id := range stsDecided {
			if slices.Contains(failing, id) {
				w.t.Errorf("STS and the plugin disagree: STS accepts the token, the plugin fails %s", id)
			}
		}
		return
	}
	if !slices.Contains(failing, wantID) {
		w.t.Errorf("STS and the plugin disagree: STS says %s, the plugin does not fail %s (failing: %v)", got, wantID, failing)
	}
}

func statusIDs(fs []finding, status string) []string {
	var ids []string
	for _, f := range fs {
		if f.Status == status && !slices.Contains(ids, f.ID) {
			ids = append(ids, f.ID)
		}
	}
	sort.Strings(ids)
	return ids
}

func assertIDs(t *testing.T, what string, got, want []string, fs []finding) {
	t.Helper()
	want = slices.Clone(want)
	sort.Strings(want)
	if !slices.Equal(got, want) {
		t.Errorf("%s ids %v, want %v", what, got, want)
		for _, f := range fs {
			if f.Status != "pass" {
				t.Logf("  %s %s %s %s[%s]: %s", f.ID, f.Severity, f.Status, f.Object.Name, f.Object.Container, f.Message)
			}
		}
	}
}

// hit returns the first finding with this id and status, or fails.
func hit(t *testing.T, fs []finding, id, status string) finding {
	t.Helper()
	for _, f := range fs {
		if f.ID == id && f.Status == status {
			return f
		}
	}
	t.Fatalf("no %s %s finding", status, id)
	return finding{}
}

func mentions(t *testing.T, f finding, field, text, want string) {
	t.Helper()
	if !strings.Contains(text, want) {
		t.Errorf("%s %s %q does not contain %q", f.ID, field, text, want)
	}
}

// trustBroken builds a scenario whose trust policy (built by stmts) denies
// the pod although provider and role exist.
func trustBroken(name, ns string, fail []string, stmts func(w *world) []statement, wantInMessage string) scenario {
	return scenario{name: name, ns: ns, fail: fail, code: 2, sts: "AccessDenied", stsID: "IRSA-TRUST-001",
		setup: func(w *world) string {
			w.healthy(acctA, "app", "app")
			arn := w.role(acctA, "app", w.policy(stmts(w)...))
			w.irsaSA("app", arn)
			w.pod(w.newPod("web", "app"))
			return "pod/web"
		},
		check: func(w *world, fs []finding) {
			if wantInMessage == "" {
				return
			}
			f := hit(w.t, fs, "IRSA-TRUST-001", "fail")
			mentions(w.t, f, "message", f.Message+" "+f.Remediation, wantInMessage)
		},
	}
}

// probeInjected is a --probe scenario whose healthy setup STS refuses with
// code and message: the live answer disagrees with the offline checks, which
// all pass, and the finding must say so, with reason among the likely causes.
func probeInjected(code, message, ns, reason string) scenario {
	return scenario{name: "probe: STS answers " + code, ns: ns, code: 2, flags: []string{"--probe"}, fail: []string{"IRSA-PROBE-003"},
		setup: func(w *world) string {
			w.irsaSA("app", w.healthy(acctA, "app", "app"))
			w.aws.Fail("sts:AssumeRoleWithWebIdentity", "", code, message, 0)
			w.pod(w.newPod("web", "app"))
			return "sa/app"
		},
		check: func(w *world, fs []finding) {
			f := hit(w.t, fs, "IRSA-PROBE-003", "fail")
			// The plugin prints AWS's message on one line, runs of spaces folded.
			mentions(w.t, f, "message", f.Message, code+": "+strings.Join(strings.Fields(message), " "))
			mentions(w.t, f, "message", f.Message, "no offline check explains it")
			mentions(w.t, f, "message", f.Message, reason)
		}}
}

func scenarios() []scenario {
	return []scenario{
		// --- healthy ---
		{name: "healthy same account, two containers and an init container", ns: "e2e-healthy", code: 0, sts: "ok",
			setup: func(w *world) string {
				w.irsaSA("app", w.healthy(acctA, "app", "app"))
				w.pod(w.newPod("web", "app").InitContainer("migrate", false).Container("sidecar"))
				return "pod/web"
			}},
		{name: "healthy cross-account with credentials for the role's account", ns: "e2e-cross", code: 0, sts: "ok",
			setup: func(w *world) string {
				// The provider exists in the role's account B, which is
				// also the account the plugin's credentials are for.
				w.irsaSA("app", w.healthy(acctB, "app", "app"))
				w.pod(w.newPod("web", "app"))
				return "sa/app"
			},
			check: func(w *world, fs []finding) {
				if w.aws.Count("iam:GetOpenIDConnectProvider") == 0 {
					w.t.Errorf("the provider in the role's account was never read")
				}
			}},
		{name: "healthy role with a path", ns: "e2e-path", code: 0, sts: "ok",
			setup: func(w *world) string {
				w.healthy(acctA, "unused", "app")
				arn := w.role(acctA, "team/payments/app", w.policy(w.webIdentity(acctA, w.exact("app"))))
				w.irsaSA("app", arn)
				w.deployment("payments", "app", 2)
				return "deploy/payments"
			}},
		{name: "healthy several statements, several pods", ns: "e2e-multi", code: 0, sts: "ok",
			setup: func(w *world) string {
				w.healthy(acctA, "app", "app")
				arn := w.role(acctA, "app", w.policy(
					w.webIdentity(acctA, w.exact("batch")),
					statement{"Effect": "Allow", "Principal": map[string]any{"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"},
					w.webIdentity(acctA, w.exact("app")),
				))
				w.irsaSA("app", arn)
				w.irsaSA("batch", arn)
				w.pod(w.newPod("web-1", "app").Container("sidecar"))
				w.pod(w.newPod("web-2", "app"))
				w.pod(w.newPod("batch", "batch"))
				return ""
			}},

		{name: "probe: a real token accepted by the emulated STS", ns: "e2e-probe-ok", code: 0, flags: []string{"--probe", "--show-passed"},
			setup: func(w *world) string {
				w.irsaSA("app", w.healthy(acctA, "app", "app"))
				w.pod(w.newPod("web", "app"))
				return "sa/app"
			},
			check: func(w *world, fs []finding) {
				hit(w.t, fs, "IRSA-PROBE-003", "pass")
				if w.aws.Count("sts:AssumeRoleWithWebIdentity") != 1 {
					w.t.Errorf("%d AssumeRoleWithWebIdentity calls, want 1", w.aws.Count("sts:AssumeRoleWithWebIdentity"))
				}
			}},
		{name: "probe: the emulated STS refuses a token the trust policy does not allow", ns: "e2e-probe-denied", code: 2, flags: []string{"--probe"},
			fail: []string{"IRSA-PROBE-003", "IRSA-TRUST-001"},
			setup: func(w *world) string {
				w.healthy(acctA, "app", "app")
				w.irsaSA("app", w.role(acctA, "app", w.policy(w.webIdentity(acctA, w.exact("other")))))
				w.pod(w.newPod("web", "app"))
				return "sa/app"
			},
			check: func(w *world, fs []finding) {
				f := hit(w.t, fs, "IRSA-PROBE-003", "fail")
				mentions(w.t, f, "message", f.Message, "Not authorized to perform sts:AssumeRoleWithWebIdentity")
			}},

		// --- service account and annotations ---
		{name: "service account missing", ns: "e2e-sa-missing", fail: []string{"IRSA-SA-001"}, code: 2,
			setup: func(w *world) string {
				// The ServiceAccount admission plugin refuses pods of a
				// missing SA, so the SA goes away after the pod exists, as
				// when someone deletes it or a Helm release renames it.
				w.sa(w.newSA("gone"))
				w.pod(w.newPod("web", "gone"))
				if err := w.cs.CoreV1().ServiceAccounts(w.ns).Delete(w.ctx, "gone", metav1.DeleteOptions{}); err != nil {
					w.t.Fatal(err)
				}
				return "pod/web"
			}},
		{name: "no role-arn annotation", ns: "e2e-no-annotation", fail: []string{"IRSA-SA-002"}, code: 2,
			setup: func(w *world) string {
				w.sa(w.newSA("app"))
				w.pod(w.newPod("web", "app"))
				return "sa/app"
			}},
		{name: "misspelt role-arn annotation", ns: "e2e-misspelt", fail: []string{"IRSA-SA-002", "IRSA-SA-003"}, code: 2,
			setup: func(w *world) string {
				w.sa(w.newSA("app").Annotate("eks.amazon.com/role-arn", w.healthy(acctA, "app", "app")))
				w.pod(w.newPod("web", "app"))
				return "sa/app"
			},
			check: func(w *world, fs []finding) {
				f := hit(w.t, fs, "IRSA-SA-003", "fail")
				mentions(w.t, f, "message", f.Message, "eks.amazon.com/role-arn")
			}},
		{name: "invalid role ARN", ns: "e2e-invalid-arn", fail: []string{"IRSA-SA-004"}, code: 2,
			setup: func(w *world) string {
				w.irsaSA("app", "arn:aws:iam::1111222233:role/app")
				w.pod(w.newPod("web", "app"))
				return "sa/app"
			}},

		// --- the webhook's mutation ---
		{name: "deployment pods created before the annotation", ns: "e2e-late", fail: []string{"IRSA-POD-001"}, code: 2,
			setup: func(w *world) string {
				arn := w.healthy(acctA, "app", "app")
				w.sa(w.newSA("app"))
				pods := w.deployment("web", "app", 2, "app", "sidecar")
				w.annotateLater(pods[len(pods)-1], "serviceaccount/app", webhook.AnnotationRoleARN+"="+arn)
				return "deploy/web"
			},
			check: func(w *world, fs []finding) {
				f := hit(w.t, fs, "IRSA-POD-001", "fail")
				mentions(w.t, f, "remediation", f.Remediation, "kubectl rollout restart deployment/web -n "+w.ns)
				mentions(w.t, f, "message", f.Message, "before the role-arn annotation")
				n := 0
				for _, f := range fs {
					if f.ID == "IRSA-POD-001" && f.Status == "fail" {
						n++
					}
				}
				if n < 2 {
					w.t.Errorf("%d failing IRSA-POD-001 findings, want one per pod (or container) of the two pods", n)
				}
			}},
		{name: "skip label", ns: "e2e-skip-label", fail: []string{"IRSA-POD-001", "IRSA-WEBHOOK-002"}, code: 2,
			setup: func(w *world) string {
				w.irsaSA("app", w.healthy(acctA, "app", "app"))
				w.pod(w.newPod("web", "app").Label(webhook.LabelSkipWebhook, "true"))
				return "pod/web"
			},
			check: func(w *world, fs []finding) {
				f := hit(w.t, fs, "IRSA-POD-001", "fail")
				mentions(w.t, f, "message", f.Message, webhook.LabelSkipWebhook)
			}},
		{name: "skip-containers with a misspelt name and a skipped sidecar", ns: "e2e-skip-containers", fail: []string{"IRSA-POD-001", "IRSA-POD-004"}, code: 0,
			setup: func(w *world) string {
				w.irsaSA("app", w.healthy(acctA, "app", "app"))
				// "app, sidecar": the webhook reads one CSV record without
				// trimming, so it skips "app" and " sidecar" (no such container).
				w.pod(w.newPod("web", "app").Container("sidecar").Annotate(webhook.AnnotationSkipContainers, "app, sidecar"))
				return "pod/web"
			},
			check: func(w *world, fs []finding) {
				// Skipping a listed container is deliberate: a warning, not an error.
				f := hit(w.t, fs, "IRSA-POD-001", "fail")
				if f.Object.Container != "app" || f.Severity != "warning" {
					w.t.Errorf("IRSA-POD-001 %s on container %q, want a warning on app (the one the webhook skipped)", f.Severity, f.Object.Container)
				}
			}},
		{name: "early exit: container sets AWS_ROLE_ARN, region and AWS_STS_REGIONAL_ENDPOINTS", ns: "e2e-early-exit", fail: []string{"IRSA-POD-001"}, code: 2,
			setup: func(w *world) string {
				arn := w.healthy(acctA, "app", "app")
				w.irsaSA("app", arn)
				w.pod(w.newPod("web", "app").Container("legacy").
					Env("legacy", "AWS_ROLE_ARN", arn).Env("legacy", "AWS_REGION", "us-west-2").Env("legacy", "AWS_STS_REGIONAL_ENDPOINTS", "regional"))
				return "pod/web"
			},
			check: func(w *world, fs []finding) {
				f := hit(w.t, fs, "IRSA-POD-001", "fail")
				if f.Object.Container != "legacy" {
					w.t.Errorf("IRSA-POD-001 on container %q, want legacy", f.Object.Container)
				}
			}},
		{name: "stale AWS_ROLE_ARN after the annotation changed", ns: "e2e-stale-arn", fail: []string{"IRSA-POD-002"}, code: 2,
			setup: func(w *world) string {
				w.healthy(acctA, "old", "app")
				arn := w.healthy(acctA, "new", "app")
				w.irsaSA("app", "arn:aws:iam::"+acctA+":role/old")
				p := w.pod(w.newPod("web", "app"))
				w.annotateLater(p, "serviceaccount/app", webhook.AnnotationRoleARN+"="+arn)
				return "pod/web"
			}},
		{name: "token audience differs from the annotation", ns: "e2e-audience", fail: []string{"IRSA-SA-005", "IRSA-TOKEN-001"}, code: 2,
			setup: func(w *world) string {
				arn := w.healthy(acctA, "app", "app")
				w.irsaSA("app", arn)
				p := w.pod(w.newPod("web", "app"))
				w.annotateLater(p, "serviceaccount/app", webhook.AnnotationAudience+"=sts.amazonaws.com.cn")
				return "pod/web"
			}},
		{name: "AWS_WEB_IDENTITY_TOKEN_FILE is the default service account token", ns: "e2e-token-path", fail: []string{"IRSA-TOKEN-002"}, code: 2,
			setup: func(w *world) string {
				arn := w.healthy(acctA, "app", "app")
				w.irsaSA("app", arn)
				w.pod(w.newPod("web", "app").Env("app", "AWS_ROLE_ARN", arn).
					Env("app", "AWS_WEB_IDENTITY_TOKEN_FILE", "/var/run/secrets/kubernetes.io/serviceaccount/token"))
				return "pod/web"
			}},

		{name: "live pods run as another service account than the deployment names", ns: "e2e-pod-sa", fail: []string{"IRSA-POD-003"}, code: 0,
			setup: func(w *world) string {
				w.irsaSA("app", w.healthy(acctA, "app", "app"))
				w.irsaSA("old", w.healthy(acctA, "old", "old"))
				rs, _ := w.deploymentRS("web", "app", 0)
				// A pod left over from before the template switched to "app".
				w.pod(testutil.PodOf(rs, "web-7d4b9c-old").ServiceAccount("old"))
				return "deploy/web"
			}},
		{name: "sts-regional-endpoints annotation is not a boolean", ns: "e2e-sa-sts-annotation", fail: []string{"IRSA-SA-006"}, code: 0,
			setup: func(w *world) string {
				w.sa(w.newSA("app").Annotate(webhook.AnnotationRoleARN, w.healthy(acctA, "app", "app")).Annotate(webhook.AnnotationSTSRegionalEndpoints, "yes"))
				w.pod(w.newPod("web", "app"))
				return "pod/web"
			}},
		{name: "token-expiration annotation is not an integer", ns: "e2e-sa-expiration", fail: []string{"IRSA-SA-007"}, code: 0,
			setup: func(w *world) string {
				w.sa(w.newSA("app").Annotate(webhook.AnnotationRoleARN, w.healthy(acctA, "app", "app")).Annotate(webhook.AnnotationTokenExpiration, "1d"))
				w.pod(w.newPod("web", "app"))
				return "pod/web"
			}},
		{name: "token expiration changed after the pod was created", ns: "e2e-token-expiry", fail: []string{"IRSA-TOKEN-004"}, code: 0,
			setup: func(w *world) string {
				w.irsaSA("app", w.healthy(acctA, "app", "app"))
				p := w.pod(w.newPod("web", "app"))
				w.annotateLater(p, "serviceaccount/app", webhook.AnnotationTokenExpiration+"=3600")
				return "pod/web"
			}},
		{name: "non-root containers of different users, token mode 0600, no fsGroup", ns: "e2e-non-root", fail: []string{"IRSA-TOKEN-003"}, code: 0,
			setup: func(w *world) string {
				w.irsaSA("app", w.healthy(acctA, "app", "app"))
				// A hardened chart brings its own aws-iam-token volume
				// (the webhook keeps a volume of that name) with mode 0600.
				// With two different users the kubelet cannot hand the file
				// to either, and without fsGroup one of them cannot read it.
				w.pod(w.newPod("web", "app").Container("sidecar").RunAs("app", 1000).RunAs("sidecar", 2000).
					TokenVolume(stsAud).TokenVolumeMode(0o600))
				return "pod/web"
			}},
		{name: "AWS_STS_REGIONAL_ENDPOINTS=legacy set by the container", ns: "e2e-sts-legacy", fail: []string{"IRSA-REGION-002"}, code: 0,
			setup: func(w *world) string {
				w.irsaSA("app", w.healthy(acctA, "app", "app"))
				w.pod(w.newPod("web", "app").Env("app", "AWS_STS_REGIONAL_ENDPOINTS", "legacy"))
				return "pod/web"
			}},

		// --- credentials that shadow IRSA ---
		{name: "static keys through an envFrom Secret", ns: "e2e-static-keys", fail: []string{"IRSA-CRED-001"}, code: 2,
			setup: func(w *world) string {
				w.irsaSA("app", w.healthy(acctA, "app", "app"))
				if _, err := w.cs.CoreV1().Secrets(w.ns).Create(w.ctx, &corev1.Secret{
					ObjectMeta: metav1.ObjectMeta{Name: "aws-keys"},
					StringData: map[string]string{"AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE", "AWS_SECRET_ACCESS_KEY": "not-a-real-secret"},
				}, metav1.CreateOptions{}); err != nil {
					w.t.Fatal(err)
				}
				w.pod(w.newPod("web", "app").EnvFromSecret("app", "aws-keys", "").Container("sidecar"))
				return "pod/web"
			},
			check: func(w *world, fs []finding) {
				f := hit(w.t, fs, "IRSA-CRED-001", "fail")
				if f.Object.Container != "app" || strings.Contains(f.Message, "not-a-real-secret") {
					w.t.Errorf("IRSA-CRED-001 on %q: %s", f.Object.Container, f.Message)
				}
			}},
		{name: "AWS_REGION and AWS_DEFAULT_REGION written by hand, differently", ns: "e2e-two-regions", fail: []string{"IRSA-REGION-003"}, code: 0,
			setup: func(w *world) string {
				// The webhook adds no region when either is set, so both
				// reach the container as written.
				w.irsaSA("app", w.healthy(acctA, "app", "app"))
				w.pod(w.newPod("web", "app").Env("app", "AWS_REGION", "eu-west-1").Env("app", "AWS_DEFAULT_REGION", "us-east-1"))
				return "pod/web"
			},
			check: func(w *world, fs []finding) {
				f := hit(w.t, fs, "IRSA-REGION-003", "fail")
				if f.Object.Container != "app" {
					w.t.Errorf("IRSA-REGION-003 on container %q, want app", f.Object.Container)
				}
				mentions(w.t, f, "remediation", f.Remediation, "AWS_DEFAULT_REGION=eu-west-1 -n "+w.ns)
			}},
		// --- what the real webhook does (its cache, its ConfigMap, the empty audience) ---
		{name: "empty audience annotation: the token carries the API server's audience", ns: "e2e-empty-audience", fail: []string{"IRSA-SA-005"}, code: 2,
			setup: func(w *world) string {
				w.sa(w.newSA("app").Annotate(webhook.AnnotationRoleARN, w.healthy(acctA, "app", "app")).Annotate("eks.amazonaws.com/audience", ""))
				p := w.pod(w.newPod("web", "app"))
				for _, v := range p.Spec.Volumes {
					if v.Projected != nil && v.Projected.Sources[0].ServiceAccountToken != nil && v.Projected.Sources[0].ServiceAccountToken.Audience != "" {
						w.t.Errorf("the webhook projected audience %q; the real one projects none", v.Projected.Sources[0].ServiceAccountToken.Audience)
					}
				}
				return "pod/web"
			},
			check: func(w *world, fs []finding) {
				f := hit(w.t, fs, "IRSA-SA-005", "fail")
				if f.Severity != "error" {
					w.t.Errorf("IRSA-SA-005 severity %q, want error", f.Severity)
				}
				mentions(w.t, f, "message", f.Message, "carries the API server's own audience")
			}},
		{name: "pod created seconds after its service account: the webhook's cache race", ns: cacheRaceNamespace, fail: []string{"IRSA-POD-001"}, code: 2,
			setup: func(w *world) string {
				// The webhook's cache sees the service account cacheDelay
				// after the API server; the pod comes at once.
				w.irsaSA("app", w.healthy(acctA, "app", "app"))
				if p := w.pod(w.newPod("web", "app")); len(p.Spec.Containers[0].Env) != 0 {
					w.t.Fatalf("the pod was mutated: the cache was not behind")
				}
				return "pod/web"
			},
			check: func(w *world, fs []finding) {
				f := hit(w.t, fs, "IRSA-POD-001", "fail")
				mentions(w.t, f, "message", f.Message, "the webhook reads service accounts from a cache that had not seen it yet")
				mentions(w.t, f, "remediation", f.Remediation, "Helm pre-install hook")
				if strings.Contains(f.Message, "registers the pod identity webhook") {
					w.t.Errorf("blamed the registration: %s", f.Message)
				}
			}},
		{name: "a role from the webhook's ConfigMap, no annotation: healthy", ns: configMapNamespace, code: 0,
			flags: []string{"--show-passed"},
			setup: func(w *world) string {
				role := w.healthy(acctA, "app", "app")
				w.sa(w.newSA("app"))
				if err := harness.PutWebhookConfigMapRoles(w.ctx, w.cs, configMapNamespace, webhook.ConfigMapRoles{
					w.ns + "/app": {RoleARN: role, Audience: stsAud, UseRegionalSTS: true}}); err != nil {
					w.t.Fatal(err)
				}
				if p := w.pod(w.newPod("web", "app")); len(p.Spec.Containers[0].Env) == 0 {
					w.t.Fatalf("the webhook did not give the pod the ConfigMap's role")
				}
				return "pod/web"
			},
			check: func(w *world, fs []finding) {
				f := hit(w.t, fs, "IRSA-SA-002", "pass")
				mentions(w.t, f, "message", f.Message, "the webhook's ConfigMap "+configMapNamespace+"/pod-identity-webhook gives it role")
				hit(w.t, fs, "IRSA-TRUST-001", "pass")
			}},
		{name: "a webhook run with --token-mount-path: healthy, the path shown", ns: "e2e-custom-mount",
			nsLabels: map[string]string{excludeLabel: "off", customMountLabel: "on"}, flags: []string{"--show-passed"}, code: 0,
			setup: func(w *world) string {
				w.customMountWebhook("/custom/aws-token")
				w.irsaSA("app", w.healthy(acctA, "app", "app"))
				p := w.pod(w.newPod("web", "app"))
				if m, ok := facts.MountOf(p.Spec.Containers[0], facts.TokenVolumeName); !ok || m.MountPath != "/custom/aws-token" {
					w.t.Fatalf("the second webhook did not mount the token at /custom/aws-token: %+v", p.Spec.Containers[0].VolumeMounts)
				}
				return "pod/web"
			},
			check: func(w *world, fs []finding) {
				for _, f := range fs {
					if f.ID == "IRSA-TOKEN-002" && f.Object.Container == "app" {
						mentions(w.t, f, "message", f.Message, "non-default path (the webhook runs with --token-mount-path)")
						return
					}
				}
				w.t.Error("no IRSA-TOKEN-002 finding on container app naming the non-default path")
			}},
		{name: "static keys written into the pod spec", ns: "e2e-literal-keys", fail: []string{"IRSA-CRED-001"}, code: 2,
			setup: func(w *world) string {
				w.irsaSA("app", w.healthy(acctA, "app", "app"))
				// The values must not reach the output or the saved snapshot.
				w.pod(w.newPod("web", "app").Env("app", "AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE").
					Env("app", "AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY").Env("app", "DB_PASSWORD", "not-a-real-secret"))
				return "pod/web"
			},
			check: func(w *world, fs []finding) {
				f := hit(w.t, fs, "IRSA-CRED-001", "fail")
				var evs []string
				for _, e := range f.Evidence {
					evs = append(evs, e.Key+"="+e.Value)
				}
				mentions(w.t, f, "evidence", strings.Join(evs, "; "), "AWS_SECRET_ACCESS_KEY=<set, value not shown>")
			}},
		{name: "AWS_PROFILE in the environment (fails with --fail-on=warning)", ns: "e2e-profile", fail: []string{"IRSA-CRED-002"}, code: 2,
			flags: []string{"--fail-on=warning"},
			setup: func(w *world) string {
				w.irsaSA("app", w.healthy(acctA, "app", "app"))
				w.pod(w.newPod("web", "app").Env("app", "AWS_PROFILE", "dev"))
				return "pod/web"
			}},
		{name: "AWS_PROFILE in the environment is only a warning", ns: "e2e-profile-warn", fail: []string{"IRSA-CRED-002"}, code: 0,
			setup: func(w *world) string {
				w.irsaSA("app", w.healthy(acctA, "app", "app"))
				w.pod(w.newPod("web", "app").Env("app", "AWS_PROFILE", "dev"))
				return "pod/web"
			}},
		{name: "Pod Identity association next to an IRSA annotation", ns: piNamespace, fail: []string{"IRSA-CRED-003", "IRSA-POD-001", "IRSA-TOKEN-002"}, code: 2,
			setup: func(w *world) string {
				arn := w.healthy(acctA, "app", piServiceAccount)
				w.irsaSA(piServiceAccount, arn)
				// The association wins in the webhook; the container still
				// carries hand-written IRSA variables from an old manifest.
				w.pod(w.newPod("web", piServiceAccount).
					Env("app", "AWS_ROLE_ARN", arn).Env("app", "AWS_WEB_IDENTITY_TOKEN_FILE", webhook.IRSAMountPath+"/token"))
				return "pod/web"
			},
			check: func(w *world, fs []finding) {
				// The token file the old manifest names is not mounted: the
				// association won, so the webhook added no IRSA volume.
				f := hit(w.t, fs, "IRSA-TOKEN-002", "fail")
				if f.Object.Container != "app" {
					w.t.Errorf("IRSA-TOKEN-002 on %q", f.Object.Container)
				}
			}},

		// --- region ---
		{name: "China role without a region", ns: "e2e-china", fail: []string{"IRSA-REGION-001"}, code: 2,
			setup: func(w *world) string {
				arn := "arn:aws-cn:iam::" + acctA + ":role/app"
				w.irsaSA("app", arn)
				// Hand-rolled IRSA (the webhook is skipped), so nothing
				// injects AWS_REGION; China has no global STS endpoint.
				w.pod(w.newPod("web", "app").Label(webhook.LabelSkipWebhook, "true").
					Env("app", "AWS_ROLE_ARN", arn).Env("app", "AWS_WEB_IDENTITY_TOKEN_FILE", webhook.IRSAMountPath+"/token").
					Mount("app", webhook.IRSAVolumeName, webhook.IRSAMountPath).TokenVolume(stsAud))
				return "pod/web"
			},
			flags: []string{"--skip-aws"}},

		// --- webhook registration ---
		{name: "webhook excluded by its objectSelector", ns: "e2e-object-selector", fail: []string{"IRSA-POD-001", "IRSA-WEBHOOK-002"}, code: 2,
			setup: func(w *world) string {
				w.irsaSA("app", w.healthy(acctA, "app", "app"))
				w.pod(w.newPod("web", "app").Label(excludeLabel, "off"))
				return "pod/web"
			}},
		{name: "webhook excluded by its namespaceSelector", ns: "e2e-ns-selector", nsLabels: map[string]string{excludeLabel: "off"},
			fail: []string{"IRSA-POD-001", "IRSA-WEBHOOK-002"}, code: 2,
			setup: func(w *world) string {
				w.irsaSA("app", w.healthy(acctA, "app", "app"))
				w.pod(w.newPod("web", "app"))
				return "pod/web"
			}},

		// --- the OIDC provider ---
		{name: "provider missing", ns: "e2e-no-provider", fail: []string{"IRSA-OIDC-001"}, code: 2,
			sts: "InvalidIdentityToken", stsID: "IRSA-OIDC-001",
			setup: func(w *world) string {
				w.irsaSA("app", w.role(acctA, "app", w.policy(w.webIdentity(acctA, w.exact("app")))))
				w.aws.SetCaller(fakeaws.Caller{ARN: "arn:aws:iam::" + acctA + ":user/e2e"})
				w.pod(w.newPod("web", "app"))
				return "pod/web"
			},
			check: func(w *world, fs []finding) {
				f := hit(w.t, fs, "IRSA-OIDC-001", "fail")
				mentions(w.t, f, "message", f.Message, "No OpenIDConnect provider found in your account for "+w.issuer)
			}},
		{name: "provider only in the cluster's account, role in another (F14)", ns: "e2e-f14", fail: []string{"IRSA-OIDC-001"}, code: 2,
			setup: func(w *world) string {
				// The credentials are for the role's account B; the
				// provider was only ever created in the cluster's account A.
				w.aws.AddProvider(fakeaws.Provider{ARN: w.providerARN(acctA), URL: w.issuerHost, ClientIDs: []string{stsAud}, Thumbprints: []string{w.thumbprint}})
				w.aws.SetCaller(fakeaws.Caller{ARN: "arn:aws:iam::" + acctB + ":user/e2e"})
				w.irsaSA("app", w.role(acctB, "app", w.policy(w.webIdentity(acctB, w.exact("app")))))
				w.pod(w.newPod("web", "app"))
				return "pod/web"
			},
			check: func(w *world, fs []finding) {
				f := hit(w.t, fs, "IRSA-OIDC-001", "fail")
				mentions(w.t, f, "message", f.Message, "account "+acctB)
			}},
		{name: "token audience not among the provider's client IDs", ns: "e2e-client-id", fail: []string{"IRSA-OIDC-002"}, code: 2,
			sts: "InvalidIdentityToken", stsID: "IRSA-OIDC-002",
			setup: func(w *world) string {
				w.irsaSA("app", w.healthy(acctA, "app", "app"))
				w.aws.AddProvider(fakeaws.Provider{ARN: w.providerARN(acctA), URL: w.issuerHost, ClientIDs: []string{"sts.amazon.com"}, Thumbprints: []string{w.thumbprint}})
				w.pod(w.newPod("web", "app"))
				return "pod/web"
			}},
		{name: "stale thumbprint on a private-CA issuer", ns: "e2e-thumb-diag", fail: []string{"IRSA-OIDC-003"}, code: 2,
			sts: "InvalidIdentityToken", stsID: "IRSA-OIDC-003",
			setup: func(w *world) string {
				w.irsaSA("app", w.healthy(acctA, "app", "app"))
				w.aws.AddProvider(fakeaws.Provider{ARN: w.providerARN(acctA), URL: w.issuerHost, ClientIDs: []string{stsAud}, Thumbprints: []string{strings.Repeat("ab", 20)}})
				w.pod(w.newPod("web", "app"))
				return "pod/web"
			}},

		// --- the role ---
		{name: "role missing", ns: "e2e-no-role", fail: []string{"IRSA-ROLE-001"}, code: 2,
			sts: "AccessDenied", stsID: "IRSA-ROLE-001",
			setup: func(w *world) string {
				w.healthy(acctA, "other", "app")
				w.irsaSA("app", "arn:aws:iam::"+acctA+":role/app")
				w.pod(w.newPod("web", "app"))
				return "pod/web"
			}},
		{name: "role with no permission policies", ns: "e2e-no-policies", fail: []string{"IRSA-ROLE-002"}, code: 0,
			setup: func(w *world) string {
				arn := w.healthy(acctA, "app", "app")
				w.aws.AddRole(fakeaws.Role{ARN: arn, TrustPolicy: w.policy(w.webIdentity(acctA, w.exact("app")))})
				w.irsaSA("app", arn)
				w.pod(w.newPod("web", "app"))
				return "pod/web"
			}},

		// --- trust policy: each cause of AccessDenied ---
		trustBroken("trust :sub names another namespace", "e2e-trust-ns", []string{"IRSA-TRUST-001"}, func(w *world) []statement {
			return []statement{w.webIdentity(acctA, map[string]map[string]any{"StringEquals": {
				w.issuerHost + ":sub": "system:serviceaccount:default:app", w.issuerHost + ":aud": stsAud}})}
		}, `namespace "default"`),
		trustBroken("trust wildcard under StringEquals", "e2e-trust-wild-eq", []string{"IRSA-TRUST-001"}, func(w *world) []statement {
			return []statement{w.webIdentity(acctA, map[string]map[string]any{"StringEquals": {
				w.issuerHost + ":sub": "system:serviceaccount:" + w.ns + ":*", w.issuerHost + ":aud": stsAud}})}
		}, "StringLike"),
		trustBroken("trust condition key with https://", "e2e-trust-https", []string{"IRSA-TRUST-001"}, func(w *world) []statement {
			return []statement{w.webIdentity(acctA, map[string]map[string]any{"StringEquals": {
				"https://" + w.issuerHost + ":sub": w.subject("app"), "https://" + w.issuerHost + ":aud": stsAud}})}
		}, "https://"),
		trustBroken("trust condition key is the provider ARN", "e2e-trust-arn-key", []string{"IRSA-TRUST-001"}, func(w *world) []statement {
			return []statement{w.webIdentity(acctA, map[string]map[string]any{"StringEquals": {
				w.providerARN(acctA) + ":sub": w.subject("app"), w.providerARN(acctA) + ":aud": stsAud}})}
		}, "provider ARN"),
		trustBroken("trust :aud and :sub swapped", "e2e-trust-swapped", []string{"IRSA-TRUST-001"}, func(w *world) []statement {
			return []statement{w.webIdentity(acctA, map[string]map[string]any{"StringEquals": {
				w.issuerHost + ":aud": w.subject("app"), w.issuerHost + ":sub": stsAud}})}
		}, "swapped"),
		trustBroken("trust explicit Deny", "e2e-trust-deny", []string{"IRSA-TRUST-001"}, func(w *world) []statement {
			deny := w.webIdentity(acctA, map[string]map[string]any{"StringLike": {w.issuerHost + ":sub": "system:serviceaccount:" + w.ns + ":*"}})
			deny["Effect"] = "Deny"
			return []statement{w.webIdentity(acctA, w.exact("app")), deny}
		}, "Deny"),
		trustBroken("trust has no statement for this provider", "e2e-trust-other-provider", []string{"IRSA-TRUST-001"}, func(w *world) []statement {
			other := "oidc.eks.us-west-2.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"
			st := w.webIdentity(acctA, map[string]map[string]any{"StringEquals": {other + ":sub": w.subject("app")}})
			st["Principal"] = map[string]any{"Federated": providerARN(acctA, other)}
			return []statement{st}
		}, ""),
		trustBroken("trust allows sts:AssumeRole only", "e2e-trust-assumerole", []string{"IRSA-TRUST-001"}, func(w *world) []statement {
			st := w.webIdentity(acctA, w.exact("app"))
			st["Action"] = "sts:AssumeRole"
			return []statement{st}
		}, "sts:AssumeRoleWithWebIdentity"),

		{name: "trust allows the pod, but another statement has https:// keys", ns: "e2e-trust-defect", fail: []string{"IRSA-TRUST-003"}, code: 0, sts: "ok",
			setup: func(w *world) string {
				w.healthy(acctA, "app", "app")
				broken := w.webIdentity(acctA, map[string]map[string]any{"StringEquals": {
					"https://" + w.issuerHost + ":sub": w.subject("worker"), "https://" + w.issuerHost + ":aud": stsAud}})
				arn := w.role(acctA, "app", w.policy(w.webIdentity(acctA, w.exact("app")), broken))
				w.irsaSA("app", arn)
				w.pod(w.newPod("web", "app"))
				return "pod/web"
			},
			check: func(w *world, fs []finding) {
				f := hit(w.t, fs, "IRSA-TRUST-003", "fail")
				mentions(w.t, f, "message", f.Message, "https://")
			}},

		// --- trust policy: works, but lets others in ---
		{name: "trust without a :sub condition", ns: "e2e-risk-no-sub", fail: []string{"IRSA-TRUST-002"}, code: 2, sts: "ok",
			setup: func(w *world) string {
				w.healthy(acctA, "app", "app")
				arn := w.role(acctA, "app", w.policy(w.webIdentity(acctA, map[string]map[string]any{"StringEquals": {w.issuerHost + ":aud": stsAud}})))
				w.irsaSA("app", arn)
				w.pod(w.newPod("web", "app"))
				return "pod/web"
			}},
		{name: "trust with StringLike wildcards over namespaces", ns: "e2e-risk-wildcard", fail: []string{"IRSA-TRUST-002"}, code: 2, sts: "ok",
			setup: func(w *world) string {
				w.healthy(acctA, "app", "app")
				arn := w.role(acctA, "app", w.policy(w.webIdentity(acctA, map[string]map[string]any{"StringLike": {
					w.issuerHost + ":sub": "system:serviceaccount:*:app", w.issuerHost + ":aud": stsAud}})))
				w.irsaSA("app", arn)
				w.pod(w.newPod("web", "app"))
				return "pod/web"
			}},

		{name: "issuer unknown: the reader may not read the API server's discovery", ns: "e2e-no-issuer", code: 0, flags: []string{"--as", "e2e-reader"},
			unknown: []string{"IRSA-ISSUER-001"},
			setup: func(w *world) string {
				w.irsaSA("app", w.healthy(acctA, "app", "app"))
				w.pod(w.newPod("web", "app"))
				w.reader()
				return "pod/web"
			}},
		{name: "probe: token verification fails like STS on the audience", ns: "e2e-probe-aud", code: 2, flags: []string{"--probe"},
			fail: []string{"IRSA-OIDC-002", "IRSA-PROBE-002", "IRSA-PROBE-003"},
			setup: func(w *world) string {
				w.irsaSA("app", w.healthy(acctA, "app", "app"))
				w.aws.AddProvider(fakeaws.Provider{ARN: w.providerARN(acctA), URL: w.issuerHost, ClientIDs: []string{"sts.amazonaws.com.cn"}, Thumbprints: []string{w.thumbprint}})
				w.pod(w.newPod("web", "app"))
				return "sa/app"
			},
			check: func(w *world, fs []finding) {
				f := hit(w.t, fs, "IRSA-PROBE-003", "fail")
				mentions(w.t, f, "message", f.Message, "Incorrect token audience")
			}},
		{name: "probe without RBAC to mint a token", ns: "e2e-probe-rbac", code: 0, flags: []string{"--probe", "--as", "e2e-reader"},
			unknown: []string{"IRSA-PROBE-001"},
			setup: func(w *world) string {
				w.irsaSA("app", w.healthy(acctA, "app", "app"))
				w.pod(w.newPod("web", "app"))
				w.reader()
				return "sa/app"
			}},

		// --- --probe against each error the emulated STS answers with ---
		{name: "probe: provider missing, STS finds no provider for the token's iss", ns: "e2e-probe-no-provider", code: 2, flags: []string{"--probe"},
			fail: []string{"IRSA-OIDC-001", "IRSA-PROBE-003"},
			setup: func(w *world) string {
				w.irsaSA("app", w.role(acctA, "app", w.policy(w.webIdentity(acctA, w.exact("app")))))
				w.aws.SetCaller(fakeaws.Caller{ARN: "arn:aws:iam::" + acctA + ":user/e2e"})
				w.pod(w.newPod("web", "app"))
				return "sa/app"
			},
			check: func(w *world, fs []finding) {
				f := hit(w.t, fs, "IRSA-PROBE-003", "fail")
				mentions(w.t, f, "message", f.Message, "No OpenIDConnect provider found in your account for "+w.issuer)
				mentions(w.t, f, "message", f.Message, "offline, IRSA-OIDC-001 explains it")
			}},
		{name: "probe: stale thumbprint, STS refuses the issuer's certificate", ns: "e2e-probe-thumbprint", code: 2, flags: []string{"--probe"},
			fail: []string{"IRSA-OIDC-003", "IRSA-PROBE-003"},
			setup: func(w *world) string {
				w.irsaSA("app", w.healthy(acctA, "app", "app"))
				w.aws.AddProvider(fakeaws.Provider{ARN: w.providerARN(acctA), URL: w.issuerHost, ClientIDs: []string{stsAud}, Thumbprints: []string{strings.Repeat("ab", 20)}})
				w.pod(w.newPod("web", "app"))
				return "sa/app"
			},
			check: func(w *world, fs []finding) {
				f := hit(w.t, fs, "IRSA-PROBE-003", "fail")
				mentions(w.t, f, "message", f.Message, "OpenIDConnect provider's HTTPS certificate doesn't match configured thumbprint")
				mentions(w.t, f, "message", f.Message, "IRSA-OIDC-003 explains it")
			}},
		{name: "probe: role missing, STS says only AccessDenied", ns: "e2e-probe-no-role", code: 2, flags: []string{"--probe"},
			fail: []string{"IRSA-ROLE-001", "IRSA-PROBE-003"},
			setup: func(w *world) string {
				w.healthy(acctA, "other", "app")
				w.irsaSA("app", "arn:aws:iam::"+acctA+":role/app")
				w.pod(w.newPod("web", "app"))
				return "sa/app"
			},
			check: func(w *world, fs []finding) {
				f := hit(w.t, fs, "IRSA-PROBE-003", "fail")
				mentions(w.t, f, "message", f.Message, "Not authorized to perform sts:AssumeRoleWithWebIdentity")
				mentions(w.t, f, "message", f.Message, "IRSA-ROLE-001 explains it")
			}},
		// STS answers these for causes a real API server cannot be made to
		// produce on demand (its JWKS unreachable from AWS, a token past its
		// exp, a signature by a rotated key): the emulator injects them, on
		// the wire, exactly as STS words them, so that the plugin's mapping
		// is tested through the real SDK.
		probeInjected("IDPCommunicationError", "Couldn't retrieve verification key from your identity provider,  please reference AssumeRoleWithWebIdentity documentation for requirements", "e2e-probe-idp", "AWS cannot reach them"),
		probeInjected("ExpiredTokenException", "Token expired: current date/time 1700000600 must be before the expiration date/time 1700000000", "e2e-probe-expired", "clock"),
		probeInjected("InvalidIdentityToken", "Signature verification failed for the ID Token", "e2e-probe-signature", "keys it cached before a rotation"),
		{name: "probe: STS throttles past the SDK's retries", ns: "e2e-probe-throttled", code: 0, flags: []string{"--probe"},
			unknown: []string{"IRSA-PROBE-003"},
			setup: func(w *world) string {
				w.irsaSA("app", w.healthy(acctA, "app", "app"))
				w.aws.Throttle("sts:AssumeRoleWithWebIdentity", 100)
				w.pod(w.newPod("web", "app"))
				return "sa/app"
			},
			check: func(w *world, fs []finding) {
				f := hit(w.t, fs, "IRSA-PROBE-003", "unknown")
				mentions(w.t, f, "message", f.Message, "Rate exceeded")
			}},

		// --- AWS errors: could not tell, never a verdict ---
		{name: "AccessDenied on iam:GetRole", ns: "e2e-access-denied", unknown: []string{"IRSA-ROLE-001"}, code: 0,
			setup: func(w *world) string {
				w.irsaSA("app", w.healthy(acctA, "app", "app"))
				w.aws.Fail("iam:GetRole", "", "AccessDenied", "", 0)
				w.pod(w.newPod("web", "app"))
				return "pod/web"
			},
			check: func(w *world, fs []finding) {
				f := hit(w.t, fs, "IRSA-ROLE-001", "unknown")
				mentions(w.t, f, "message", f.Message, "iam:GetRole")
			}},
		{name: "Throttling on iam:GetOpenIDConnectProvider", ns: "e2e-throttle", unknown: []string{"IRSA-OIDC-001"}, code: 0,
			setup: func(w *world) string {
				w.irsaSA("app", w.healthy(acctA, "app", "app"))
				// More throttles than the SDK retries; two attempts keep it fast.
				w.aws.Throttle("iam:GetOpenIDConnectProvider", 100)
				w.env = append(w.env, "AWS_MAX_ATTEMPTS=2")
				w.pod(w.newPod("web", "app"))
				return "pod/web"
			},
			check: func(w *world, fs []finding) {
				f := hit(w.t, fs, "IRSA-OIDC-001", "unknown")
				mentions(w.t, f, "message", f.Message, "Rate exceeded")
			}},
	}
}
