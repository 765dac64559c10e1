package webhook

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"net/http"
	"testing"

	admissionv1 "k8s.io/api/admission/v1"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"
)

func review(t *testing.T, op admissionv1.Operation, resource string, pod *corev1.Pod) admissionv1.AdmissionReview {
	t.Helper()
	raw, err := json.Marshal(pod)
	if err != nil {
		t.Fatal(err)
	}
	return admissionv1.AdmissionReview{
		TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"},
		Request: &admissionv1.AdmissionRequest{
			UID:       types.UID("uid-1"),
			Operation: op,
			Resource:  metav1.GroupVersionResource{Version: "v1", Resource: resource},
			Namespace: testNS,
			Object:    runtime.RawExtension{Raw: raw},
		},
	}
}

func TestServerAdmissionReview(t *testing.T) {
	ctx := t.Context()
	client := fake.NewClientset(roleSA())
	srv, err := Start(ctx, "", &Handler{Client: client, Config: Config{DefaultRegion: "eu-west-1"}, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Error(err)
		}
	})
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(srv.CABundle) {
		t.Fatal("CABundle holds no certificate")
	}
	httpc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
	t.Cleanup(httpc.CloseIdleConnections)

	post := func(t *testing.T, in admissionv1.AdmissionReview) admissionv1.AdmissionReview {
		t.Helper()
		body, err := json.Marshal(in)
		if err != nil {
			t.Fatal(err)
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL, bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := httpc.Do(req)
		if err != nil {
			t.Fatalf("POST %s (TLS verified against CABundle): %v", srv.URL, err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d", resp.StatusCode)
		}
		var out admissionv1.AdmissionReview
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
			t.Fatal(err)
		}
		if out.APIVersion != in.APIVersion || out.Kind != in.Kind {
			t.Errorf("reply is %s %s, want the request's %s %s", out.APIVersion, out.Kind, in.APIVersion, in.Kind)
		}
		if out.Response == nil || out.Response.UID != in.Request.UID || !out.Response.Allowed {
			t.Fatalf("response %+v: want allowed with uid %s", out.Response, in.Request.UID)
		}
		return out
	}

	t.Run("create pod is patched", func(t *testing.T) {
		pod := podOf(ctr("app"))
		pod.Namespace = "" // as in a real CREATE: the namespace comes with the request
		out := post(t, review(t, admissionv1.Create, "pods", pod))
		if out.Response.PatchType == nil || *out.Response.PatchType != admissionv1.PatchTypeJSONPatch {
			t.Fatalf("patchType = %v, want JSONPatch", out.Response.PatchType)
		}
		got := applyPatch(t, pod, out.Response.Patch)
		want, _ := Mutate(Config{DefaultRegion: "eu-west-1"}, testNS, pod, roleSA())
		assertSamePod(t, "patched", got, want)
	})
	t.Run("update is not patched", func(t *testing.T) {
		out := post(t, review(t, admissionv1.Update, "pods", podOf(ctr("app"))))
		if out.Response.Patch != nil || out.Response.PatchType != nil {
			t.Errorf("update got a patch: %s", out.Response.Patch)
		}
	})
	t.Run("missing service account is admitted unmodified", func(t *testing.T) {
		pod := podOf(ctr("app"))
		pod.Spec.ServiceAccountName = "nobody"
		out := post(t, review(t, admissionv1.Create, "pods", pod))
		if out.Response.Patch != nil {
			t.Errorf("got a patch: %s", out.Response.Patch)
		}
	})
	t.Run("other resources are ignored", func(t *testing.T) {
		out := post(t, review(t, admissionv1.Create, "configmaps", podOf(ctr("app"))))
		if out.Response.Patch != nil {
			t.Errorf("got a patch: %s", out.Response.Patch)
		}
	})
}

func TestServerRejectsGarbage(t *testing.T) {
	h := &Handler{}
	for _, body := range []string{"", "{}", "not json"} {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, "/mutate", bytes.NewBufferString(body))
		if err != nil {
			t.Fatal(err)
		}
		rec := &recorder{header: http.Header{}}
		h.ServeHTTP(rec, req)
		if rec.code != http.StatusBadRequest {
			t.Errorf("body %q: status %d, want 400", body, rec.code)
		}
	}
}

type recorder struct {
	header http.Header
	code   int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }
func (r *recorder) Write(b []byte) (int, error) {
	if r.code == 0 {
		r.code = http.StatusOK
	}
	return r.body.Write(b)
}
func (r *recorder) WriteHeader(code int) { r.code = code }

func TestRegister(t *testing.T) {
	ctx := context.Background()
	client := fake.NewClientset()
	url := "https://127.0.0.1:1234/mutate"
	if err := Register(ctx, client, Configuration(url, []byte("ca-1"))); err != nil {
		t.Fatal(err)
	}
	// A second registration replaces the first (a restarted webhook has a new CA).
	if err := Register(ctx, client, Configuration(url, []byte("ca-2"))); err != nil {
		t.Fatal(err)
	}
	got, err := client.AdmissionregistrationV1().MutatingWebhookConfigurations().Get(ctx, ConfigurationName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Webhooks) != 1 {
		t.Fatalf("%d webhooks, want 1", len(got.Webhooks))
	}
	wh := got.Webhooks[0]
	checks := []struct {
		what      string
		got, want any
	}{
		{"name", wh.Name, WebhookName},
		{"url", *wh.ClientConfig.URL, url},
		{"caBundle", string(wh.ClientConfig.CABundle), "ca-2"},
		{"operations", wh.Rules[0].Operations, []admissionregistrationv1.OperationType{admissionregistrationv1.Create}},
		{"resources", wh.Rules[0].Resources, []string{"pods"}},
		{"apiVersions", wh.Rules[0].APIVersions, []string{"v1"}},
		{"apiGroups", wh.Rules[0].APIGroups, []string{""}},
		{"objectSelector key", wh.ObjectSelector.MatchExpressions[0].Key, LabelSkipWebhook},
		{"objectSelector op", wh.ObjectSelector.MatchExpressions[0].Operator, metav1.LabelSelectorOpDoesNotExist},
		{"failurePolicy", *wh.FailurePolicy, admissionregistrationv1.Ignore},
		{"sideEffects", *wh.SideEffects, admissionregistrationv1.SideEffectClassNone},
		{"admissionReviewVersions", wh.AdmissionReviewVersions, []string{"v1"}},
	}
	for _, c := range checks {
		gj, _ := json.Marshal(c.got)
		wj, _ := json.Marshal(c.want)
		if !bytes.Equal(gj, wj) {
			t.Errorf("%s = %s, want %s", c.what, gj, wj)
		}
	}
}

func TestStartRefusesNonLoopback(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", ":0", "10.0.0.1:0", "example.com:443"} {
		if srv, err := Start(t.Context(), addr, &Handler{}); err == nil {
			_ = srv.Close()
			t.Errorf("Start(%q) succeeded, want a loopback error", addr)
		}
	}
	srv, err := Start(t.Context(), "[::1]:0", &Handler{})
	if err != nil {
		t.Logf("no IPv6 loopback here: %v", err)
		return
	}
	_ = srv.Close()
}
