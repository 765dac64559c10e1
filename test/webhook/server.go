package webhook

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/kubectl-irsa/kubectl-irsa/test/e2e/pki"
)

// Names of the registration, as in the reference manifest
// deploy/mutatingwebhook.yaml (docs/behaviour.md#webhook-admission).
const (
	ConfigurationName = "pod-identity-webhook"
	WebhookName       = "iam-for-pods.amazonaws.com"
	MutatePath        = "/mutate"
)

// Handler serves AdmissionReview v1 requests for pods.
type Handler struct {
	Config Config
	// Client looks up the pod's ServiceAccount (and, with
	// Config.WatchConfigMap, the ConfigMap): straight from the API server, or,
	// with Config.Cache, through informers whose events arrive late
	// (docs/behaviour.md#webhook-decision-flow).
	Client kubernetes.Interface
	// Logf, when set, receives one line per decision.
	Logf func(format string, args ...any)

	cache atomic.Pointer[informerCache]
}

// StartCache starts the informer cache Config.Cache asks for and returns the
// function that stops it; without Config.Cache it does nothing. Start calls
// it. Until it has run, a handler with Config.Cache sees an empty cache, as
// the real webhook does before its informers have synced.
func (h *Handler) StartCache(ctx context.Context) (stop func(), err error) {
	if h.Config.Cache == nil {
		return func() {}, nil
	}
	c, err := startCache(ctx, h.Client, h.Config, h.Logf)
	if err != nil {
		return nil, err
	}
	if !h.cache.CompareAndSwap(nil, c) {
		c.close()
		return nil, errors.New("webhook cache already started")
	}
	return func() {
		h.cache.CompareAndSwap(c, nil)
		c.close()
	}, nil
}

func (h *Handler) logf(format string, args ...any) {
	if h.Logf != nil {
		h.Logf(format, args...)
	}
}

// ServeHTTP decodes an AdmissionReview and answers with the same apiVersion
// and kind, which the API server requires.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "only POST is supported", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 8<<20))
	if err != nil {
		http.Error(w, "read body: "+err.Error(), http.StatusBadRequest)
		return
	}
	var review admissionv1.AdmissionReview
	if err := json.Unmarshal(body, &review); err != nil || review.Request == nil {
		http.Error(w, "expected an AdmissionReview with a request", http.StatusBadRequest)
		return
	}
	resp := h.Admit(r.Context(), review.Request)
	out := admissionv1.AdmissionReview{TypeMeta: review.TypeMeta, Response: resp}
	w.Header().Set("Content-Type", "application/json")
	if err := json.NewEncoder(w).Encode(out); err != nil {
		h.logf("write admission response: %v", err)
	}
}

// Admit decides one admission request. Anything other than a pod CREATE, and
// every internal error, is allowed unmodified: the registration uses
// failurePolicy Ignore, so the real webhook's errors look the same.
func (h *Handler) Admit(ctx context.Context, req *admissionv1.AdmissionRequest) *admissionv1.AdmissionResponse {
	resp := &admissionv1.AdmissionResponse{UID: req.UID, Allowed: true}
	if req.Operation != admissionv1.Create || req.Resource.Resource != "pods" || req.SubResource != "" {
		return resp
	}
	var pod corev1.Pod
	if err := json.Unmarshal(req.Object.Raw, &pod); err != nil {
		h.logf("decode pod: %v", err)
		return resp
	}
	namespace := req.Namespace
	if namespace == "" {
		namespace = pod.Namespace
	}
	name := pod.Name
	if name == "" {
		name = pod.GenerateName + "*"
	}
	// Filled in by the API server's ServiceAccount admission plugin before
	// any webhook; never defaulted here (pkg/handler/handler.go uses it as is).
	saName := pod.Spec.ServiceAccountName

	in := h.inputs(ctx, namespace, name, saName)
	mutated, changed := MutateWith(h.Config, namespace, &pod, in)
	if !changed {
		h.logf("pod %s/%s: not mutated", namespace, name)
		return resp
	}
	ops, err := CreatePatch(&pod, mutated)
	if err == nil {
		resp.Patch, err = MarshalPatch(ops)
	}
	if err != nil {
		h.logf("pod %s/%s: %v", namespace, name, err)
		return resp
	}
	pt := admissionv1.PatchTypeJSONPatch
	resp.PatchType = &pt
	h.logf("pod %s/%s: mutated (%d patch operations)", namespace, name, len(ops))
	return resp
}

// inputs is what the webhook knows of the pod's service account: the API
// server's view, or its cache's for a namespace Config.Cache covers. On a
// cache miss with a grace period it waits as buildPodPatchConfig does; the
// Pod Identity path never waits (pkg/handler/handler.go).
func (h *Handler) inputs(ctx context.Context, namespace, pod, saName string) Inputs {
	if !h.Config.Cache.covers(namespace) {
		return h.liveInputs(ctx, namespace, pod, saName)
	}
	c := h.cache.Load()
	if c == nil {
		h.logf("pod %s/%s: the webhook cache is not started: nothing is cached", namespace, pod)
		return Inputs{}
	}
	in := c.inputs(namespace, saName)
	if in.found(namespace, saName) || h.Config.hasAssociation(namespace, saName) {
		return in
	}
	grace := h.Config.Cache.LookupGracePeriod
	if grace <= 0 || saName == "" {
		h.logf("pod %s/%s: service account %q not in the webhook cache", namespace, pod, saName)
		return in
	}
	if !c.waitForServiceAccount(ctx, namespace, saName, grace) {
		h.logf("pod %s/%s: service account %q not in the webhook cache after %s", namespace, pod, saName, grace)
		return in
	}
	return c.inputs(namespace, saName)
}

// liveInputs reads the service account and the ConfigMap from the API server.
func (h *Handler) liveInputs(ctx context.Context, namespace, pod, saName string) Inputs {
	var in Inputs
	if h.Client == nil {
		return in
	}
	if saName != "" {
		got, err := h.Client.CoreV1().ServiceAccounts(namespace).Get(ctx, saName, metav1.GetOptions{})
		switch {
		case err == nil:
			in.ServiceAccount = got
		case apierrors.IsNotFound(err):
			h.logf("pod %s/%s: service account %q not found", namespace, pod, saName)
		default:
			h.logf("pod %s/%s: get service account %q: %v", namespace, pod, saName, err)
			// Only the Pod Identity and ConfigMap paths can proceed without the SA.
		}
	}
	if h.Config.WatchConfigMap {
		ns := h.Config.namespace()
		cm, err := h.Client.CoreV1().ConfigMaps(ns).Get(ctx, ConfigMapName, metav1.GetOptions{})
		switch {
		case err == nil:
			roles, skipped, perr := ParseConfigMapRoles(cm.Data[ConfigMapKey], h.Config.tokenExpiration())
			if perr != nil {
				h.logf("pod %s/%s: %v", namespace, pod, perr)
			}
			if len(skipped) > 0 {
				h.logf("pod %s/%s: configmap %s/%s: skipped entries %q (the real webhook panics on them)", namespace, pod, ns, ConfigMapName, skipped)
			}
			in.ConfigMap = roles
		case apierrors.IsNotFound(err):
		default:
			h.logf("pod %s/%s: get configmap %s/%s: %v", namespace, pod, ns, ConfigMapName, err)
		}
	}
	return in
}

// Server is the Handler served over HTTPS on a loopback port with a
// certificate from its own CA.
type Server struct {
	// URL is https://127.0.0.1:PORT/mutate, the clientConfig.url to register.
	URL string
	// CABundle is the PEM CA that signed the serving certificate.
	CABundle []byte

	srv       *http.Server
	stopCache func()
	done      chan struct{} // closed when the serve loop ends
	serveErr  error
	stopOnce  sync.Once
	stopErr   error
}

// Start listens on addr (empty: 127.0.0.1 on a free port) and serves h until
// Close, with h's cache (Config.Cache) started and synced first. ctx bounds
// only the startup.
func Start(ctx context.Context, addr string, h *Handler) (*Server, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("start webhook: %w", err)
	}
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	if err := checkLoopback(addr); err != nil {
		return nil, err
	}
	ca, err := pki.NewCA("pod-identity-webhook-ca")
	if err != nil {
		return nil, err
	}
	kp, err := ca.ServingCert("pod-identity-webhook")
	if err != nil {
		return nil, err
	}
	cert, err := tls.X509KeyPair(kp.CertPEM, kp.KeyPEM)
	if err != nil {
		return nil, fmt.Errorf("load webhook serving certificate: %w", err)
	}
	stopCache, err := h.StartCache(ctx)
	if err != nil {
		return nil, err
	}
	var lc net.ListenConfig
	l, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		stopCache()
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle(MutatePath, h)
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") })
	s := &Server{
		URL:      "https://" + l.Addr().String() + MutatePath,
		CABundle: ca.CertPEM,
		srv: &http.Server{
			Handler:           mux,
			TLSConfig:         &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12},
			ReadHeaderTimeout: 10 * time.Second,
		},
		stopCache: stopCache,
		done:      make(chan struct{}),
	}
	go func() {
		s.serveErr = s.srv.ServeTLS(l, "", "")
		close(s.done)
	}()
	return s, nil
}

// checkLoopback refuses addresses other than loopback: the serving
// certificate names only 127.0.0.1, ::1 and localhost, and a test webhook has
// no business listening on a real interface.
func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("listen address %q: %w", addr, err)
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("listen address %q is not a loopback address", addr)
	}
	return nil
}

// Close stops the server and waits for it. It is idempotent.
func (s *Server) Close() error {
	s.stopOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		err := s.srv.Shutdown(ctx)
		<-s.done
		s.stopCache()
		if !errors.Is(s.serveErr, http.ErrServerClosed) {
			err = errors.Join(err, s.serveErr)
		}
		if err != nil {
			s.stopErr = fmt.Errorf("stop webhook: %w", err)
		}
	})
	return s.stopErr
}

// Done is closed when the serve loop ends; Err then tells why.
func (s *Server) Done() <-chan struct{} { return s.done }

// Err is the serve loop's error once Done is closed (http.ErrServerClosed
// after Close).
func (s *Server) Err() error {
	select {
	case <-s.done:
		return s.serveErr
	default:
		return nil
	}
}

// Configuration is the MutatingWebhookConfiguration that points the API
// server at url, shaped like the reference manifest (docs/behaviour.md#webhook-admission): CREATE
// of v1 pods, pods labelled eks.amazonaws.com/skip-pod-identity-webhook
// excluded, failurePolicy Ignore.
func Configuration(url string, caBundle []byte) *admissionregistrationv1.MutatingWebhookConfiguration {
	ignore := admissionregistrationv1.Ignore
	none := admissionregistrationv1.SideEffectClassNone
	timeout := int32(10)
	return &admissionregistrationv1.MutatingWebhookConfiguration{
		ObjectMeta: metav1.ObjectMeta{Name: ConfigurationName},
		Webhooks: []admissionregistrationv1.MutatingWebhook{{
			Name:         WebhookName,
			ClientConfig: admissionregistrationv1.WebhookClientConfig{URL: &url, CABundle: caBundle},
			Rules: []admissionregistrationv1.RuleWithOperations{{
				Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create},
				Rule: admissionregistrationv1.Rule{
					APIGroups:   []string{""},
					APIVersions: []string{"v1"},
					Resources:   []string{"pods"},
				},
			}},
			ObjectSelector: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{
				Key: LabelSkipWebhook, Operator: metav1.LabelSelectorOpDoesNotExist,
			}}},
			FailurePolicy:           &ignore,
			SideEffects:             &none,
			AdmissionReviewVersions: []string{"v1"},
			TimeoutSeconds:          &timeout,
		}},
	}
}

// Register creates (or replaces) the pod-identity-webhook
// MutatingWebhookConfiguration pointing at this server.
func (s *Server) Register(ctx context.Context, client kubernetes.Interface) error {
	return Register(ctx, client, Configuration(s.URL, s.CABundle))
}

// Register creates cfg, or updates the existing object of that name.
func Register(ctx context.Context, client kubernetes.Interface, cfg *admissionregistrationv1.MutatingWebhookConfiguration) error {
	api := client.AdmissionregistrationV1().MutatingWebhookConfigurations()
	_, err := api.Create(ctx, cfg, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		var cur *admissionregistrationv1.MutatingWebhookConfiguration
		cur, err = api.Get(ctx, cfg.Name, metav1.GetOptions{})
		if err == nil {
			cfg = cfg.DeepCopy()
			cfg.ResourceVersion = cur.ResourceVersion
			_, err = api.Update(ctx, cfg, metav1.UpdateOptions{})
		}
	}
	if err != nil {
		return fmt.Errorf("register mutating webhook configuration %q: %w", cfg.Name, err)
	}
	return nil
}

// ProbeServiceAccount is the ServiceAccount WaitActive creates (and removes)
// to probe the registration.
const ProbeServiceAccount = "pod-identity-webhook-probe"

// WaitActive blocks until the API server actually calls the webhook: a newly
// created MutatingWebhookConfiguration reaches the admission chain only after
// the API server's informer sees it. It dry-runs pod creations (sideEffects
// None makes that legal) for a role-annotated probe ServiceAccount in
// namespace until one comes back mutated.
func WaitActive(ctx context.Context, client kubernetes.Interface, namespace string) error {
	return WaitActiveWith(ctx, client, namespace, Config{})
}

// WaitActiveWith is WaitActive for a webhook run with cfg: the probe's
// role-arn annotation carries cfg's --annotation-prefix. With cfg.Cache the
// probe comes back mutated only once the service account has reached the
// cache, so the wait includes the cache's delay.
func WaitActiveWith(ctx context.Context, client kubernetes.Interface, namespace string, cfg Config) error {
	sas := client.CoreV1().ServiceAccounts(namespace)
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{
		Name:        ProbeServiceAccount,
		Annotations: map[string]string{cfg.annotation(suffixRoleARN): "arn:aws:iam::111122223333:role/pod-identity-webhook-probe"},
	}}
	if _, err := sas.Create(ctx, sa, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create probe service account: %w", err)
	}
	defer func() {
		// Best effort, with its own deadline: ctx may be the one that ended.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = sas.Delete(cctx, ProbeServiceAccount, metav1.DeleteOptions{})
	}()
	probe := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{GenerateName: "pod-identity-webhook-probe-"},
		Spec: corev1.PodSpec{
			ServiceAccountName: ProbeServiceAccount,
			Containers:         []corev1.Container{{Name: "probe", Image: "registry.k8s.io/pause:3.10"}},
		},
	}
	var lastErr error
	for {
		got, err := client.CoreV1().Pods(namespace).Create(ctx, probe, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		switch {
		case err != nil:
			lastErr = err
		case hasVolume(got, IRSAVolumeName) || hasVolume(got, PodIdentityVolumeName):
			return nil
		default:
			lastErr = errors.New("probe pod came back unmutated")
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("webhook not active: %w (last: %w)", ctx.Err(), lastErr)
		case <-time.After(200 * time.Millisecond):
		}
	}
}
