package harness

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/retry"

	"github.com/kubectl-irsa/kubectl-irsa/test/webhook"
)

// defaultWebhookReady bounds the wait for the API server to call a newly
// registered webhook when WebhookOptions.ReadyTimeout is zero.
const defaultWebhookReady = time.Minute

// WebhookOptions configure StartWebhook.
type WebhookOptions struct {
	// Config is what the emulator injects (region, regional STS, Pod
	// Identity associations), as the real webhook's flags: also
	// AnnotationPrefix, MountPath, TokenExpiration, WatchConfigMap with
	// Namespace (see PutWebhookConfigMapRoles), and Cache, whose Delay
	// makes pods created right after their service account race the
	// webhook's informer cache (Cache.Namespaces confines that to the
	// scenarios that want it).
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
	// ProbeNamespace is where the readiness probe's service account and
	// dry-run pods go (default "default"): a second emulator registered
	// (through Edit) for some namespaces only must be probed in one of them.
	ProbeNamespace string
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
	ns := o.ProbeNamespace
	if ns == "" {
		ns = "default"
	}
	if err := webhook.WaitActiveWith(wctx, client, ns, o.Config); err != nil {
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

// PutWebhookConfigMapRoles merges roles into the pod-identity-webhook
// ConfigMap of namespace (creating it if needed), which an emulator run with
// Config.WatchConfigMap and Config.Namespace = namespace reads; an entry
// whose key is already there is replaced. Parallel scenarios may call it at
// once: conflicting writes are retried.
func PutWebhookConfigMapRoles(ctx context.Context, client kubernetes.Interface, namespace string, roles webhook.ConfigMapRoles) error {
	api := client.CoreV1().ConfigMaps(namespace)
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		cur, err := api.Get(ctx, webhook.ConfigMapName, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			cm, err := webhook.ConfigMap(namespace, roles)
			if err != nil {
				return err
			}
			_, err = api.Create(ctx, cm, metav1.CreateOptions{})
			if apierrors.IsAlreadyExists(err) {
				// Another writer won: retry as a conflict.
				return apierrors.NewConflict(schema.GroupResource{Resource: "configmaps"}, webhook.ConfigMapName, err)
			}
			return err
		}
		if err != nil {
			return err
		}
		merged := webhook.ConfigMapRoles{}
		if data, ok := cur.Data[webhook.ConfigMapKey]; ok && data != "" {
			// Entries are kept as written: no default expiration is filled in.
			old, _, err := webhook.ParseConfigMapRoles(data, 0)
			if err != nil {
				return fmt.Errorf("configmap %s/%s: %w", namespace, webhook.ConfigMapName, err)
			}
			merged = old
		}
		maps.Copy(merged, roles)
		data, err := webhook.EncodeConfigMapRoles(merged)
		if err != nil {
			return err
		}
		cur = cur.DeepCopy()
		if cur.Data == nil {
			cur.Data = map[string]string{}
		}
		cur.Data[webhook.ConfigMapKey] = data
		_, err = api.Update(ctx, cur, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		return fmt.Errorf("put webhook configmap roles in %s: %w", namespace, err)
	}
	return nil
}
