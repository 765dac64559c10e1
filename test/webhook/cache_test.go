package webhook

import (
	"context"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"
)

// admit runs one pod CREATE in testNS through h and returns the patched pod
// (the pod itself when there is no patch) and whether there was a patch.
func admit(t *testing.T, h *Handler, pod *corev1.Pod) (*corev1.Pod, bool) {
	t.Helper()
	resp := h.Admit(t.Context(), review(t, admissionv1.Create, "pods", pod).Request)
	if !resp.Allowed {
		t.Fatalf("pod not allowed: %+v", resp)
	}
	if resp.Patch == nil {
		return pod, false
	}
	return applyPatch(t, pod, resp.Patch), true
}

// eventually polls f until it is true or ten seconds have passed.
func eventually(t *testing.T, what string, f func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !f() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not after 10s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func startHandler(t *testing.T, client kubernetes.Interface, cfg Config) *Handler {
	t.Helper()
	h := &Handler{Client: client, Config: cfg, Logf: t.Logf}
	stop, err := h.StartCache(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	return h
}

// watching waits until the cache's watch delivers a new object: the fake
// clientset drops events created between an informer's list and its watch.
func watching(t *testing.T, h *Handler, client kubernetes.Interface) {
	t.Helper()
	createSA(t, client, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: testNS, Name: "sentinel"}})
	eventually(t, "the cache sees a new service account", func() bool {
		return h.cache.Load().inputs(testNS, "sentinel").ServiceAccount != nil
	})
}

func createSA(t *testing.T, client kubernetes.Interface, sa *corev1.ServiceAccount) {
	t.Helper()
	if _, err := client.CoreV1().ServiceAccounts(sa.Namespace).Create(t.Context(), sa, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func updateSA(t *testing.T, client kubernetes.Interface, sa *corev1.ServiceAccount) {
	t.Helper()
	if _, err := client.CoreV1().ServiceAccounts(sa.Namespace).Update(t.Context(), sa, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// TestCacheRace reproduces webhook issues #174 and #264 (pkg/cache/cache.go,
// pkg/handler/handler.go buildPodPatchConfig with the default grace period
// of 0): a pod created within the cache's delay after its service account,
// or after the role-arn annotation, is admitted unmutated; the same pod
// created later is mutated.
func TestCacheRace(t *testing.T) {
	const delay = time.Second
	client := fake.NewClientset()
	h := startHandler(t, client, Config{Cache: &CacheConfig{Delay: delay}})
	watching(t, h, client)
	mutated, _ := Mutate(Config{}, testNS, podOf(ctr("app")), roleSA())

	t.Run("pod right after its service account", func(t *testing.T) {
		createSA(t, client, roleSA())
		created := time.Now()
		if _, patched := admit(t, h, podOf(ctr("app"))); patched && time.Since(created) < delay {
			t.Fatalf("pod admitted %s after its service account was mutated, want unmutated within the %s delay", time.Since(created), delay)
		}
		eventually(t, "a later pod is mutated", func() bool {
			_, patched := admit(t, h, podOf(ctr("app")))
			return patched
		})
		if time.Since(created) < delay {
			t.Errorf("a pod was mutated %s after its service account, before the %s delay", time.Since(created), delay)
		}
		got, _ := admit(t, h, podOf(ctr("app")))
		assertSamePod(t, "later pod", got, mutated)
	})

	t.Run("pod right after the role-arn annotation", func(t *testing.T) {
		late := sa()
		late.Name = "late"
		createSA(t, client, late)
		pod := podOf(ctr("app"))
		pod.Spec.ServiceAccountName = "late"
		eventually(t, "the unannotated service account is cached", func() bool {
			return h.cache.Load().inputs(testNS, "late").ServiceAccount != nil
		})
		late.Annotations[AnnotationRoleARN] = testRole
		updateSA(t, client, late)
		annotated := time.Now()
		if _, patched := admit(t, h, pod); patched && time.Since(annotated) < delay {
			t.Fatalf("pod admitted %s after the annotation was mutated, want unmutated within the %s delay", time.Since(annotated), delay)
		}
		eventually(t, "a later pod is mutated", func() bool {
			_, patched := admit(t, h, pod)
			return patched
		})
	})

	t.Run("a deleted service account leaves the cache after the delay", func(t *testing.T) {
		if err := client.CoreV1().ServiceAccounts(testNS).Delete(t.Context(), testSA, metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		eventually(t, "pods of the deleted service account are not mutated", func() bool {
			_, patched := admit(t, h, podOf(ctr("app")))
			return !patched
		})
	})
}

// TestCacheGracePeriod: with --service-account-lookup-grace-period a pod
// whose service account is not cached waits while the webhook fetches it
// from the API server; a stale cached copy is not waited for
// (pkg/handler/handler.go buildPodPatchConfig, pkg/cache/notifications.go).
func TestCacheGracePeriod(t *testing.T) {
	client := fake.NewClientset(roleSA())
	// A delay no test waits for: only the grace period's fetch can fill the cache.
	h := startHandler(t, client, Config{Cache: &CacheConfig{Delay: time.Hour, LookupGracePeriod: 5 * time.Second}})

	t.Run("a missing service account is fetched", func(t *testing.T) {
		got, patched := admit(t, h, podOf(ctr("app")))
		if !patched {
			t.Fatal("pod not mutated: the grace period should have fetched the service account")
		}
		want, _ := Mutate(Config{}, testNS, podOf(ctr("app")), roleSA())
		assertSamePod(t, "mutated", got, want)
	})

	t.Run("a stale service account is not", func(t *testing.T) {
		stale := sa()
		stale.Name = "stale"
		h.cache.Load().setServiceAccount(stale) // cached before the annotation
		fresh := roleSA()
		fresh.Name = "stale"
		createSA(t, client, fresh)
		pod := podOf(ctr("app"))
		pod.Spec.ServiceAccountName = "stale"
		start := time.Now()
		if _, patched := admit(t, h, pod); patched {
			t.Error("pod mutated from the API server's copy, want the cache's stale one")
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("admission took %s: a cached service account must not wait", d)
		}
	})

	t.Run("a service account that does not exist waits the whole grace period", func(t *testing.T) {
		h := startHandler(t, client, Config{Cache: &CacheConfig{Delay: time.Hour, LookupGracePeriod: 300 * time.Millisecond}})
		pod := podOf(ctr("app"))
		pod.Spec.ServiceAccountName = "nobody"
		start := time.Now()
		if _, patched := admit(t, h, pod); patched {
			t.Error("pod of a missing service account mutated")
		}
		if d := time.Since(start); d < 300*time.Millisecond {
			t.Errorf("admission took %s, want at least the 300ms grace period", d)
		}
	})
}

func TestCacheNamespaces(t *testing.T) {
	other := roleSA()
	other.Namespace = "other"
	client := fake.NewClientset(roleSA(), other)
	h := startHandler(t, client, Config{Cache: &CacheConfig{Delay: time.Hour, Namespaces: []string{testNS}}})
	if _, patched := admit(t, h, podOf(ctr("app"))); patched {
		t.Error("pod in a cached namespace mutated before the cache has its service account")
	}
	pod := podOf(ctr("app"))
	req := review(t, admissionv1.Create, "pods", pod).Request
	req.Namespace = "other"
	if resp := h.Admit(t.Context(), req); resp.Patch == nil {
		t.Error("pod in a namespace the cache does not cover was not mutated from the API server")
	}
}

func TestCacheNotStarted(t *testing.T) {
	h := &Handler{Client: fake.NewClientset(roleSA()), Config: Config{Cache: &CacheConfig{}}, Logf: t.Logf}
	if _, patched := admit(t, h, podOf(ctr("app"))); patched {
		t.Error("a handler whose cache was never started mutated a pod")
	}
}

// TestCacheConfigMapUpdates follows populateCacheFromCM (pkg/cache/cache.go)
// event by event.
func TestCacheConfigMapUpdates(t *testing.T) {
	cfg := Config{WatchConfigMap: true, TokenExpiration: 3600}
	c := &informerCache{cfg: cfg, roles: ConfigMapRoles{}, sas: map[string]*corev1.ServiceAccount{}, logf: t.Logf}
	mk := func(name, data string) *corev1.ConfigMap {
		return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: DefaultNamespace}, Data: map[string]string{ConfigMapKey: data}}
	}
	a := `{"shop/a":{"RoleARN":"ra"}}`
	ab := `{"shop/a":{"RoleARN":"ra2"},"shop/b":{"RoleARN":"rb"}}`
	b := `{"shop/b":{"RoleARN":"rb"}}`
	steps := []struct {
		name     string
		old, new *corev1.ConfigMap
		want     ConfigMapRoles
	}{
		{"add", nil, mk(ConfigMapName, a), ConfigMapRoles{"shop/a": {RoleARN: "ra", TokenExpiration: 3600}}},
		{"another name is ignored", nil, mk("other", b), ConfigMapRoles{"shop/a": {RoleARN: "ra", TokenExpiration: 3600}}},
		{"update adds and changes", mk(ConfigMapName, a), mk(ConfigMapName, ab),
			ConfigMapRoles{"shop/a": {RoleARN: "ra2", TokenExpiration: 3600}, "shop/b": {RoleARN: "rb", TokenExpiration: 3600}}},
		{"update drops the keys it no longer has", mk(ConfigMapName, ab), mk(ConfigMapName, b), ConfigMapRoles{"shop/b": {RoleARN: "rb", TokenExpiration: 3600}}},
		{"invalid new JSON changes nothing", mk(ConfigMapName, b), mk(ConfigMapName, "{"), ConfigMapRoles{"shop/b": {RoleARN: "rb", TokenExpiration: 3600}}},
		{"invalid old JSON: the new keys are set, none removed", mk(ConfigMapName, "{"), mk(ConfigMapName, a),
			ConfigMapRoles{"shop/a": {RoleARN: "ra", TokenExpiration: 3600}, "shop/b": {RoleARN: "rb", TokenExpiration: 3600}}},
	}
	for _, s := range steps {
		c.applyConfigMap(s.old, s.new)
		if got := c.inputs("shop", "x").ConfigMap; !equalRoles(got, s.want) {
			t.Fatalf("after %q: roles = %+v, want %+v", s.name, got, s.want)
		}
	}
}

func equalRoles(a, b ConfigMapRoles) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// TestCacheConfigMapWatch: the ConfigMap reaches the cache through its
// informer; deleting it leaves its roles in place (pkg/cache/cache.go has
// no delete handler for it).
func TestCacheConfigMapWatch(t *testing.T) {
	client := fake.NewClientset(sa())
	cfg := Config{WatchConfigMap: true, Namespace: "kube-system", Cache: &CacheConfig{}}
	h := startHandler(t, client, cfg)
	watching(t, h, client)
	cm, err := ConfigMap("kube-system", ConfigMapRoles{testNS + "/" + testSA: {RoleARN: testRole, Audience: DefaultAudience}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.CoreV1().ConfigMaps("kube-system").Create(t.Context(), cm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	want, _ := MutateWith(cfg, testNS, podOf(ctr("app")), Inputs{ServiceAccount: sa(), ConfigMap: ConfigMapRoles{testNS + "/" + testSA: {RoleARN: testRole, Audience: DefaultAudience, TokenExpiration: 86400}}})
	eventually(t, "the configmap's role is used", func() bool {
		_, patched := admit(t, h, podOf(ctr("app")))
		return patched
	})
	got, _ := admit(t, h, podOf(ctr("app")))
	assertSamePod(t, "mutated", got, want)

	if err := client.CoreV1().ConfigMaps("kube-system").Delete(t.Context(), ConfigMapName, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	// The deletion is an event the cache ignores; a service account event
	// sent after it proves the informers have moved past it.
	watchedSA := sa()
	watchedSA.Name = "after-delete"
	createSA(t, client, watchedSA)
	eventually(t, "the later event", func() bool { return h.cache.Load().inputs(testNS, "after-delete").ServiceAccount != nil })
	if _, patched := admit(t, h, podOf(ctr("app"))); !patched {
		t.Error("roles of the deleted configmap were dropped; the real webhook keeps them")
	}
}

// TestLiveConfigMap: without a cache the ConfigMap is read on every admission.
func TestLiveConfigMap(t *testing.T) {
	roles := ConfigMapRoles{testNS + "/" + testSA: {RoleARN: testRole, Audience: DefaultAudience}}
	inEKS, err := ConfigMap(DefaultNamespace, roles)
	if err != nil {
		t.Fatal(err)
	}
	bad := inEKS.DeepCopy()
	bad.Data[ConfigMapKey] = "{"
	tests := []struct {
		name    string
		cfg     Config
		objects []corev1.ConfigMap
		want    bool
	}{
		{"the eks namespace by default", Config{WatchConfigMap: true}, []corev1.ConfigMap{*inEKS}, true},
		{"--namespace elsewhere", Config{WatchConfigMap: true, Namespace: "kube-system"}, []corev1.ConfigMap{*inEKS}, false},
		{"without --watch-config-map", Config{}, []corev1.ConfigMap{*inEKS}, false},
		{"invalid JSON", Config{WatchConfigMap: true}, []corev1.ConfigMap{*bad}, false},
		{"no configmap", Config{WatchConfigMap: true}, nil, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			client := fake.NewClientset(sa())
			for i := range tc.objects {
				if _, err := client.CoreV1().ConfigMaps(tc.objects[i].Namespace).Create(t.Context(), &tc.objects[i], metav1.CreateOptions{}); err != nil {
					t.Fatal(err)
				}
			}
			h := &Handler{Client: client, Config: tc.cfg, Logf: t.Logf}
			if _, patched := admit(t, h, podOf(ctr("app"))); patched != tc.want {
				t.Errorf("patched = %v, want %v", patched, tc.want)
			}
		})
	}
}

// TestHandlerEmptyServiceAccountName: the handler looks up no "default"
// service account for a pod without serviceAccountName (the API server has
// always filled it in).
func TestHandlerEmptyServiceAccountName(t *testing.T) {
	def := roleSA()
	def.Name = "default"
	h := &Handler{Client: fake.NewClientset(def), Config: Config{Associations: []Association{{Namespace: testNS, ServiceAccount: "default"}}}, Logf: t.Logf}
	pod := podOf(ctr("app"))
	pod.Spec.ServiceAccountName = ""
	if got, patched := admit(t, h, pod); patched {
		t.Errorf("pod without serviceAccountName mutated: %+v", got.Spec)
	}
	pod.Spec.ServiceAccountName = "default"
	if _, patched := admit(t, h, pod); !patched {
		t.Error("pod of the default service account, named, not mutated")
	}
}

func TestStartStopsCache(t *testing.T) {
	h := &Handler{Client: fake.NewClientset(), Config: Config{Cache: &CacheConfig{}}}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	srv, err := Start(ctx, "", h)
	if err != nil {
		t.Fatal(err)
	}
	if h.cache.Load() == nil {
		t.Error("Start did not start the cache")
	}
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	if h.cache.Load() != nil {
		t.Error("Close did not stop the cache")
	}
}
