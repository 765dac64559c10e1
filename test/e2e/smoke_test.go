//go:build e2e

// Package e2e runs the built kubectl-irsa through a real kubectl against a real
// kube-apiserver with the test pod identity webhook in its admission chain.
//
//	go test -tags e2e ./test/e2e/ -count=1 -v
//
// The first run on a machine builds kube-apiserver, kubectl and etcd (about
// 6 minutes on 2 cores plus module downloads, see hack/k8s-tools.sh), close to
// go test's default 10-minute -timeout: run hack/k8s-tools.sh first, or pass
// -timeout 30m. Later runs reuse the cached binaries and take about 25 seconds.
package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/kubectl-irsa/kubectl-irsa/test/e2e/controlplane"
	"github.com/kubectl-irsa/kubectl-irsa/test/harness"
	"github.com/kubectl-irsa/kubectl-irsa/test/testutil"
	"github.com/kubectl-irsa/kubectl-irsa/test/webhook"
)

const (
	ns      = "shop"
	roleARN = "arn:aws:iam::111122223333:role/app"
)

// diagnosisList mirrors the plugin's -o json output; decoding into our own
// type keeps this test honest about the public contract.
type diagnosisList struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Items      []struct {
		Subject  json.RawMessage `json:"subject"`
		Findings []finding       `json:"findings"`
	} `json:"items"`
}

type finding struct {
	ID       string `json:"id"`
	Severity string `json:"severity"`
	Status   string `json:"status"`
	Object   struct {
		Kind, Namespace, Name, Container string
	} `json:"object"`
	Message  string `json:"message"`
	Evidence []struct {
		Key, Value, Source string
	} `json:"evidence"`
	Remediation string `json:"remediation"`
}

func TestSmoke(t *testing.T) {
	// Building the plugin and (on a machine's first run) the tools is bounded
	// only by go test's -timeout; the scenario itself gets a deadline.
	pluginDir := buildPlugin(t.Context(), t)
	cp := controlplane.MustStart(t.Context(), t, controlplane.Options{})
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	// cp.Kubectl passes this process's environment on. No AWS endpoint: the
	// smoke test has no AWS, and without credentials the plugin calls none.
	harness.PluginEnv{PluginDir: pluginDir, ToolsBin: cp.BinDir, Kubeconfig: cp.Kubeconfig, CacheDir: t.TempDir()}.Setenv(t)

	cs, err := cp.Clientset()
	if err != nil {
		t.Fatal(err)
	}
	harness.MustStartWebhook(ctx, t, cs, harness.WebhookOptions{
		// What EKS runs: a default region and regional STS (docs/behaviour.md#webhook-inputs).
		Config: webhook.Config{DefaultRegion: "us-east-1", RegionalSTS: true},
		Logf:   t.Logf,
	})

	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	t.Run("mutated pod passes", func(t *testing.T) {
		createSA(ctx, t, cs, testutil.NewSA(ns, "app").Annotate(webhook.AnnotationRoleARN, roleARN))
		pod := createPod(ctx, t, cs, testutil.NewPod(ns, "web", "app"))
		assertMutated(t, pod)

		out, code := diagnose(ctx, t, cp, "pod/web")
		if code != 0 {
			t.Errorf("exit code %d, want 0\n%s", code, out)
		}
		for _, f := range findings(t, out) {
			if f.Status == "fail" && f.Severity == "error" {
				t.Errorf("unexpected failing error finding %s on %s: %s", f.ID, f.Object.Name, f.Message)
			}
		}
	})

	t.Run("pod older than the annotation fails IRSA-POD-001", func(t *testing.T) {
		// The label is not decoration: the API server starts tracking
		// managedFields only for objects created with at least one field
		// besides the name. A bare ServiceAccount (`kubectl create sa`) that is
		// annotated later has no managedFields at all, so nothing can tell when
		// the annotation was written; see the next subtest.
		createSA(ctx, t, cs, testutil.NewSA(ns, "late").Label("app.kubernetes.io/name", "late"))
		createPodThenAnnotate(ctx, t, cs, cp, "old", "late")

		out, code := diagnose(ctx, t, cp, "pod/old")
		if code != 2 {
			t.Errorf("exit code %d, want 2 (findings at or above --fail-on)\n%s", code, out)
		}
		hit := failing(t, out, "IRSA-POD-001")
		if !strings.Contains(hit.Message, "pod was created") || !strings.Contains(hit.Message, "before the role-arn annotation") {
			t.Errorf("IRSA-POD-001 message %q does not say the pod was created before the annotation", hit.Message)
			dump(ctx, t, cp, "serviceaccount/late", "pod/old")
		}
		if hit.Severity != "error" {
			t.Errorf("IRSA-POD-001 severity %q, want error", hit.Severity)
		}
	})

	t.Run("pod older than the annotation of a bare service account still fails IRSA-POD-001", func(t *testing.T) {
		if _, stderr, err := cp.Kubectl(ctx, "create", "serviceaccount", "bare", "-n", ns); err != nil {
			t.Fatalf("%v\n%s", err, stderr)
		}
		createPodThenAnnotate(ctx, t, cs, cp, "older", "bare")
		out, code := diagnose(ctx, t, cp, "pod/older")
		if code != 2 {
			t.Errorf("exit code %d, want 2\n%s", code, out)
		}
		hit := failing(t, out, "IRSA-POD-001")
		if !strings.Contains(hit.Message, "most often the role-arn annotation was added after the pod was created") {
			t.Errorf("without managedFields the likeliest cause must come first: %s", hit.Message)
		}
	})
}

// createPodThenAnnotate creates pod name running as sa (which has no role
// yet, so the webhook leaves it alone), then annotates sa with the role.
func createPodThenAnnotate(ctx context.Context, t *testing.T, cs kubernetes.Interface, cp *controlplane.ControlPlane, name, sa string) {
	t.Helper()
	pod := createPod(ctx, t, cs, testutil.NewPod(ns, name, sa))
	for _, c := range pod.Spec.Containers {
		for _, e := range c.Env {
			if e.Name == webhook.EnvRoleARN {
				t.Fatalf("pod %s was mutated although its service account had no role: %+v", name, c.Env)
			}
		}
	}
	// managedFields times have a one-second resolution: make sure the
	// annotation lands in a later second than the pod's creation.
	time.Sleep(time.Until(pod.CreationTimestamp.Add(1100 * time.Millisecond)))
	if _, stderr, err := cp.Kubectl(ctx, "annotate", "serviceaccount/"+sa, "-n", ns, webhook.AnnotationRoleARN+"="+roleARN); err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
}

// failing returns the first failing finding with this id, or fails the test.
func failing(t *testing.T, out, id string) finding {
	t.Helper()
	for _, f := range findings(t, out) {
		if f.ID == id && f.Status == "fail" {
			return f
		}
	}
	t.Fatalf("no failing %s finding in\n%s", id, out)
	return finding{}
}

// buildPlugin builds the plugin into a directory of its own, for PATH.
func buildPlugin(ctx context.Context, t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	start := time.Now()
	if err := harness.BuildPlugin(ctx, filepath.Join("..", ".."), dir); err != nil { // the module root, from test/e2e
		t.Fatal(err)
	}
	t.Logf("built kubectl-irsa in %s", time.Since(start).Round(time.Millisecond))
	return dir
}

// createSA creates the service account b builds.
func createSA(ctx context.Context, t *testing.T, cs kubernetes.Interface, b *testutil.SA) {
	t.Helper()
	sa := b.Build()
	clearSystemFields(&sa.ObjectMeta)
	if _, err := cs.CoreV1().ServiceAccounts(sa.Namespace).Create(ctx, sa, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// createPod creates the pod b builds and returns it as the API server stored
// it, that is after the webhook's mutation.
func createPod(ctx context.Context, t *testing.T, cs kubernetes.Interface, b *testutil.Pod) *corev1.Pod {
	t.Helper()
	pod := b.Build()
	clearSystemFields(&pod.ObjectMeta)
	got, err := cs.CoreV1().Pods(pod.Namespace).Create(ctx, pod, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// clearSystemFields drops what testutil fills in for unit tests and an API
// server assigns itself: the UID, the creation time and managedFields. The
// last matter: the plugin dates an annotation by its managedFields entry and
// compares that with the pod's creation, so both must be the server's.
func clearSystemFields(m *metav1.ObjectMeta) {
	m.UID, m.CreationTimestamp, m.ManagedFields = "", metav1.Time{}, nil
}

// assertMutated checks what the API server stored, i.e. that the webhook's
// patch went through the real admission chain (docs/behaviour.md#injected-environment, #token-volume-and-mount).
func assertMutated(t *testing.T, pod *corev1.Pod) {
	t.Helper()
	env := map[string]string{}
	var names []string
	for _, e := range pod.Spec.Containers[0].Env {
		env[e.Name] = e.Value
		names = append(names, e.Name)
	}
	want := []string{"AWS_STS_REGIONAL_ENDPOINTS", "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE"}
	if strings.Join(names, ",") != strings.Join(want, ",") {
		t.Errorf("env %v, want %v", names, want)
	}
	if env["AWS_ROLE_ARN"] != roleARN || env["AWS_WEB_IDENTITY_TOKEN_FILE"] != webhook.IRSAMountPath+"/token" {
		t.Errorf("env %v", env)
	}
	var vol *corev1.Volume
	for i := range pod.Spec.Volumes {
		if pod.Spec.Volumes[i].Name == webhook.IRSAVolumeName {
			vol = &pod.Spec.Volumes[i]
		}
	}
	if vol == nil || vol.Projected == nil || len(vol.Projected.Sources) != 1 || vol.Projected.Sources[0].ServiceAccountToken == nil {
		t.Fatalf("no projected %s volume in %+v", webhook.IRSAVolumeName, pod.Spec.Volumes)
	}
	tok := vol.Projected.Sources[0].ServiceAccountToken
	if tok.Audience != "sts.amazonaws.com" || tok.Path != "token" || tok.ExpirationSeconds == nil || *tok.ExpirationSeconds != 86400 {
		t.Errorf("token projection %+v", tok)
	}
	mounted := false
	for _, m := range pod.Spec.Containers[0].VolumeMounts {
		mounted = mounted || (m.Name == webhook.IRSAVolumeName && m.MountPath == webhook.IRSAMountPath && m.ReadOnly)
	}
	if !mounted {
		t.Errorf("no read-only %s mount in %+v", webhook.IRSAVolumeName, pod.Spec.Containers[0].VolumeMounts)
	}
}

// diagnose runs `kubectl irsa diagnose TARGET -n shop -o json` through the
// real kubectl's plugin dispatch and returns stdout and the exit code.
// Each run also saves its snapshot and judges it again with a kubeconfig
// that does not exist: the same stdout and exit code.
func diagnose(ctx context.Context, t *testing.T, cp *controlplane.ControlPlane, target string) (string, int) {
	t.Helper()
	snapshot := filepath.Join(t.TempDir(), "snapshot.json")
	stdout, code := kubectlIRSA(ctx, t, cp, "diagnose", target, "-n", ns, "-o", "json", "--save-snapshot", snapshot)
	replayed, replayCode := kubectlIRSA(ctx, t, cp, "diagnose", "--from-snapshot", snapshot, "-o", "json",
		"--kubeconfig", filepath.Join(t.TempDir(), "no-kubeconfig"))
	if replayed != stdout || replayCode != code {
		t.Errorf("replay of %s: exit %d (live %d), same output %v\nlive:\n%s\nreplay:\n%s", target, replayCode, code, replayed == stdout, stdout, replayed)
	}
	return stdout, code
}

func kubectlIRSA(ctx context.Context, t *testing.T, cp *controlplane.ControlPlane, args ...string) (string, int) {
	t.Helper()
	stdout, stderr, err := cp.Kubectl(ctx, append([]string{"irsa"}, args...)...)
	if stderr != "" {
		t.Logf("stderr of kubectl irsa %s:\n%s", strings.Join(args, " "), stderr)
	}
	var exit *exec.ExitError
	switch {
	case err == nil:
		return stdout, 0
	case errors.As(err, &exit):
		return stdout, exit.ExitCode()
	default:
		t.Fatalf("run kubectl irsa: %v\n%s", err, stderr)
		return "", -1
	}
}

// dump logs objects with their managedFields, to explain a failed assertion.
func dump(ctx context.Context, t *testing.T, cp *controlplane.ControlPlane, objects ...string) {
	t.Helper()
	for _, o := range objects {
		out, stderr, err := cp.Kubectl(ctx, "get", o, "-n", ns, "-o", "yaml", "--show-managed-fields")
		t.Logf("%s:\n%s%s%v", o, out, stderr, err)
	}
}

func findings(t *testing.T, out string) []finding {
	t.Helper()
	var list diagnosisList
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		t.Fatalf("diagnose output is not JSON: %v\n%s", err, out)
	}
	if list.APIVersion != "kubectl-irsa.io/v1alpha1" || list.Kind != "DiagnosisList" {
		t.Errorf("output is %s %s, want kubectl-irsa.io/v1alpha1 DiagnosisList", list.APIVersion, list.Kind)
	}
	if len(list.Items) == 0 {
		t.Fatalf("no diagnosis items in\n%s", out)
	}
	var all []finding
	for _, it := range list.Items {
		all = append(all, it.Findings...)
	}
	return all
}
