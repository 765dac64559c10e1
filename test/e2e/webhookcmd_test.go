//go:build e2e

package e2e

import (
	"context"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-irsa/kubectl-irsa/test/e2e/controlplane"
	"github.com/kubectl-irsa/kubectl-irsa/test/testutil"
	"github.com/kubectl-irsa/kubectl-irsa/test/webhook"
)

// TestWebhookCommand runs test/webhook/cmd/pod-identity-webhook as a process,
// the way `make demo` does: it registers itself, mutates a Pod Identity pod,
// and removes its registration on SIGTERM.
func TestWebhookCommand(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "pod-identity-webhook")
	build := exec.CommandContext(t.Context(), "go", "build", "-o", bin, "./test/webhook/cmd/pod-identity-webhook")
	build.Dir = filepath.Join("..", "..")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build pod-identity-webhook: %v\n%s", err, out)
	}
	cp := controlplane.MustStart(t.Context(), t, controlplane.Options{})
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cs, err := cp.Clientset()
	if err != nil {
		t.Fatal(err)
	}

	cmd := exec.Command(bin, "--kubeconfig", cp.Kubeconfig, "--aws-default-region", "eu-west-1",
		"--pod-identity-association", "default/pi")
	var logs testutil.SyncBuffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			_ = cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("pod-identity-webhook output:\n%s", logs.String())
		}
	})

	wctx, wcancel := context.WithTimeout(ctx, 30*time.Second)
	defer wcancel()
	if err := webhook.WaitActive(wctx, cs, "default"); err != nil {
		t.Fatal(err)
	}
	createSA(ctx, t, cs, testutil.NewSA("default", "pi"))
	pod := createPod(ctx, t, cs, testutil.NewPod("default", "pi", "pi"))
	got := map[string]string{}
	for _, e := range pod.Spec.Containers[0].Env {
		got[e.Name] = e.Value
	}
	if got[webhook.EnvContainerCredentialsFullURI] != webhook.PodIdentityFullURI || got[webhook.EnvRegion] != "eu-west-1" || got[webhook.EnvRoleARN] != "" {
		t.Errorf("Pod Identity pod env = %v", got)
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		stopped = true
		if err != nil {
			t.Errorf("pod-identity-webhook exited with %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("pod-identity-webhook did not exit on SIGTERM")
	}
	_, err = cs.AdmissionregistrationV1().MutatingWebhookConfigurations().Get(ctx, webhook.ConfigurationName, metav1.GetOptions{})
	if !apierrors.IsNotFound(err) {
		t.Errorf("registration still there after exit: %v", err)
	}
}
