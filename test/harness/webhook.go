package harness

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/kubectl-irsa/kubectl-irsa/test/webhook"
)

// defaultWebhookReady bounds the wait for the API server to call a newly
// registered webhook when WebhookOptions.ReadyTimeout is zero.
const defaultWebhookReady = time.Minute

// WebhookOptions configure StartWebhook.
type WebhookOptions struct {
	// Config is what the emulator injects (region, regional STS, Pod
	// Identity associations), as the real webhook's flags.
	Config webhook.Config
	// Logf receives the emulator's log lines; nil drops them.
	Logf func(format string, args ...any)
	// Edit, when set, changes the registration (webhook.Configuration,
	// shaped like the reference manifest) before it is written, e.g. to
	// add selectors.
	Edit func(*admissionregistrationv1.MutatingWebhookConfiguration)
	// ReadyTimeout bounds the wait until the API server calls the webhook
	// (default one minute).
	ReadyTimeout time.Duration
}

// StartWebhook runs the pod identity webhook emulator on loopback with
// client as its view of the cluster, registers it with the API server, and
// returns once the API server actually calls it (a registration reaches the
// admission chain only when the API server's informer sees it), so that
// every pod created afterwards is admitted through it. The caller closes the
// server; on error nothing is left running.
func StartWebhook(ctx context.Context, client kubernetes.Interface, o WebhookOptions) (*webhook.Server, error) {
	srv, err := webhook.Start(ctx, "", &webhook.Handler{Client: client, Config: o.Config, Logf: o.Logf})
	if err != nil {
		return nil, fmt.Errorf("start the webhook emulator: %w", err)
	}
	if err := register(ctx, client, srv, o); err != nil {
		return nil, errors.Join(err, srv.Close())
	}
	return srv, nil
}

func register(ctx context.Context, client kubernetes.Interface, srv *webhook.Server, o WebhookOptions) error {
	cfg := webhook.Configuration(srv.URL, srv.CABundle)
	if o.Edit != nil {
		o.Edit(cfg)
	}
	if err := webhook.Register(ctx, client, cfg); err != nil {
		return err
	}
	timeout := o.ReadyTimeout
	if timeout <= 0 {
		timeout = defaultWebhookReady
	}
	wctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := webhook.WaitActive(wctx, client, "default"); err != nil {
		return fmt.Errorf("wait for the API server to call the webhook: %w", err)
	}
	return nil
}

// MustStartWebhook is StartWebhook for a test: an error is fatal, and the
// server is closed at tb's cleanup (an error closing it fails the test).
func MustStartWebhook(ctx context.Context, tb testing.TB, client kubernetes.Interface, o WebhookOptions) *webhook.Server {
	tb.Helper()
	srv, err := StartWebhook(ctx, client, o)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := srv.Close(); err != nil {
			tb.Error(err)
		}
	})
	return srv
}
