// Package fakekube is a small in-process Kubernetes API server for tests: it
// speaks enough of the real REST protocol (discovery, GET, LIST with label
// selectors and paging, Status errors) that the real kubectl machinery —
// ConfigFlags, RESTMapper discovery, resource.Builder, typed clientsets — runs
// against it unchanged. Every request is logged so tests can count them.
package fakekube

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"
	"k8s.io/kubectl/pkg/scheme"
)

type resourceInfo struct {
	gv         schema.GroupVersion
	resource   string
	kind       string
	namespaced bool
	shortNames []string
}

var resources = []resourceInfo{
	{gv: schema.GroupVersion{Version: "v1"}, resource: "pods", kind: "Pod", namespaced: true, shortNames: []string{"po"}},
	{gv: schema.GroupVersion{Version: "v1"}, resource: "serviceaccounts", kind: "ServiceAccount", namespaced: true, shortNames: []string{"sa"}},
	{gv: schema.GroupVersion{Version: "v1"}, resource: "namespaces", kind: "Namespace", shortNames: []string{"ns"}},
	{gv: schema.GroupVersion{Version: "v1"}, resource: "secrets", kind: "Secret", namespaced: true},
	{gv: schema.GroupVersion{Version: "v1"}, resource: "configmaps", kind: "ConfigMap", namespaced: true, shortNames: []string{"cm"}},
	{gv: schema.GroupVersion{Version: "v1"}, resource: "replicationcontrollers", kind: "ReplicationController", namespaced: true, shortNames: []string{"rc"}},
	{gv: schema.GroupVersion{Group: "apps", Version: "v1"}, resource: "deployments", kind: "Deployment", namespaced: true, shortNames: []string{"deploy"}},
	{gv: schema.GroupVersion{Group: "apps", Version: "v1"}, resource: "statefulsets", kind: "StatefulSet", namespaced: true, shortNames: []string{"sts"}},
	{gv: schema.GroupVersion{Group: "apps", Version: "v1"}, resource: "daemonsets", kind: "DaemonSet", namespaced: true, shortNames: []string{"ds"}},
	{gv: schema.GroupVersion{Group: "apps", Version: "v1"}, resource: "replicasets", kind: "ReplicaSet", namespaced: true, shortNames: []string{"rs"}},
	{gv: schema.GroupVersion{Group: "batch", Version: "v1"}, resource: "jobs", kind: "Job", namespaced: true},
	{gv: schema.GroupVersion{Group: "batch", Version: "v1"}, resource: "cronjobs", kind: "CronJob", namespaced: true, shortNames: []string{"cj"}},
	{gv: schema.GroupVersion{Group: "admissionregistration.k8s.io", Version: "v1"}, resource: "mutatingwebhookconfigurations", kind: "MutatingWebhookConfiguration"},
}

// Request is one logged API request.
type Request struct {
	Verb      string // get, list
	Resource  string
	Namespace string
	Name      string
}

// Server is the fake API server.
type Server struct {
	*httptest.Server
	mu        sync.Mutex
	objects   map[string][]runtime.Object // by resource
	forbidden map[string]bool             // "verb resource namespace"
	issuer    string
	signer    *rsa.PrivateKey
	kid       string
	minted    []string
	requests  []Request
}

// New starts a server holding objs; it stops when the test ends.
func New(t testing.TB, objs ...runtime.Object) *Server {
	t.Helper()
	s := &Server{objects: map[string][]runtime.Object{}, forbidden: map[string]bool{}}
	for _, o := range objs {
		if err := s.Add(o); err != nil {
			t.Fatal(err)
		}
	}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

// Add stores an object; its kind decides the resource.
func (s *Server) Add(o runtime.Object) error {
	gvks, _, err := scheme.Scheme.ObjectKinds(o)
	if err != nil || len(gvks) == 0 {
		return fmt.Errorf("fakekube: unknown object %T", o)
	}
	for _, r := range resources {
		if r.kind != gvks[0].Kind {
			continue
		}
		o.GetObjectKind().SetGroupVersionKind(r.gv.WithKind(r.kind))
		s.mu.Lock()
		s.objects[r.resource] = append(s.objects[r.resource], o)
		s.mu.Unlock()
		return nil
	}
	return fmt.Errorf("fakekube: no resource for kind %s", gvks[0].Kind)
}

// Forbid makes verb on resource in namespace ("" = cluster-wide or any) answer 403.
func (s *Server) Forbid(verb, resource, namespace string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.forbidden[verb+" "+resource+" "+namespace] = true
}

// SetIssuer makes the server publish an OIDC discovery document with this
// issuer, as a kube-apiserver does for --service-account-issuer.
func (s *Server) SetIssuer(iss string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.issuer = iss
}

// SetTokenSigner makes TokenRequest work: tokens are RS256-signed with key
// under kid, with the issuer of SetIssuer, as kube-apiserver signs them.
func (s *Server) SetTokenSigner(key *rsa.PrivateKey, kid string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.signer, s.kid = key, kid
}

// Minted returns every token the server issued, so tests can prove that
// none of them reached an output.
func (s *Server) Minted() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.minted...)
}

// Requests returns the logged requests (discovery excluded).
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Count returns how many requests had this verb and resource.
func (s *Server) Count(verb, resource string) int {
	n := 0
	for _, r := range s.Requests() {
		if r.Verb == verb && r.Resource == resource {
			n++
		}
	}
	return n
}

// Kubeconfig writes a kubeconfig for the server with one context "test"
// (namespace ns) and returns its path.
func (s *Server) Kubeconfig(t testing.TB, ns string) string {
	t.Helper()
	cfg := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: fake
  cluster:
    server: %s
contexts:
- name: test
  context:
    cluster: fake
    user: tester
    namespace: %s
current-context: test
users:
- name: tester
  user:
    token: not-a-real-token
`, s.URL, ns)
	p := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(p, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	switch r.URL.Path {
	case "/api":
		writeJSON(w, http.StatusOK, metav1.APIVersions{TypeMeta: metav1.TypeMeta{Kind: "APIVersions"}, Versions: []string{"v1"}})
		return
	case "/apis":
		writeJSON(w, http.StatusOK, groupList())
		return
	case "/.well-known/openid-configuration":
		s.mu.Lock()
		iss := s.issuer
		s.mu.Unlock()
		if iss == "" {
			writeStatus(w, http.StatusNotFound, "NotFound", "the server could not find the requested resource")
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"issuer": iss, "jwks_uri": iss + "/openid/v1/jwks"})
		return
	case "/version":
		writeJSON(w, http.StatusOK, map[string]string{"major": "1", "minor": "37", "gitVersion": "v1.37.2"})
		return
	}
	var gv schema.GroupVersion
	var tail []string
	switch {
	case len(parts) >= 2 && parts[0] == "api":
		gv, tail = schema.GroupVersion{Version: parts[1]}, parts[2:]
	case len(parts) >= 3 && parts[0] == "apis":
		gv, tail = schema.GroupVersion{Group: parts[1], Version: parts[2]}, parts[3:]
	default:
		writeStatus(w, http.StatusNotFound, "NotFound", "the server could not find the requested resource")
		return
	}
	if len(tail) == 0 {
		writeJSON(w, http.StatusOK, resourceList(gv))
		return
	}
	ns := ""
	if len(tail) >= 3 && tail[0] == "namespaces" {
		ns, tail = tail[1], tail[2:]
	}
	res, name := tail[0], ""
	if len(tail) > 1 {
		name = tail[1]
	}
	if r.Method == http.MethodPost && res == "serviceaccounts" && len(tail) == 3 && tail[2] == "token" {
		s.tokenRequest(w, r, ns, name)
		return
	}
	if ns == "" && res == "namespaces" && len(tail) == 2 {
		name = tail[1]
	}
	info, ok := lookup(gv, res)
	if !ok {
		writeStatus(w, http.StatusNotFound, "NotFound", "the server could not find the requested resource")
		return
	}
	verb := "list"
	if name != "" {
		verb = "get"
	}
	s.mu.Lock()
	s.requests = append(s.requests, Request{Verb: verb, Resource: res, Namespace: ns, Name: name})
	denied := s.forbidden[verb+" "+res+" "+ns] || s.forbidden[verb+" "+res+" "]
	objs := append([]runtime.Object(nil), s.objects[res]...)
	s.mu.Unlock()
	if denied {
		where := ""
		if ns != "" {
			where = fmt.Sprintf(" in the namespace %q", ns)
		}
		writeStatus(w, http.StatusForbidden, "Forbidden", fmt.Sprintf("%s is forbidden: User \"tester\" cannot %s resource %q in API group %q%s", res, verb, res, gv.Group, where))
		return
	}
	if verb == "get" {
		for _, o := range objs {
			m, _ := o.(metav1.Object)
			if m.GetName() == name && (m.GetNamespace() == ns || !info.namespaced) {
				writeJSON(w, http.StatusOK, o)
				return
			}
		}
		writeStatus(w, http.StatusNotFound, "NotFound", fmt.Sprintf("%s %q not found", res, name))
		return
	}
	s.list(w, r, info, ns, objs)
}

func (s *Server) list(w http.ResponseWriter, r *http.Request, info resourceInfo, ns string, objs []runtime.Object) {
	sel := labels.Everything()
	if q := r.URL.Query().Get("labelSelector"); q != "" {
		var err error
		if sel, err = labels.Parse(q); err != nil {
			writeStatus(w, http.StatusBadRequest, "BadRequest", "unable to parse requirement: "+err.Error())
			return
		}
	}
	var items []json.RawMessage
	for _, o := range objs {
		m, _ := o.(metav1.Object)
		if (ns != "" && m.GetNamespace() != ns) || !sel.Matches(labels.Set(m.GetLabels())) {
			continue
		}
		b, _ := json.Marshal(o)
		items = append(items, b)
	}
	// Stable order, as etcd returns keys sorted by namespace/name.
	sort.SliceStable(items, func(i, j int) bool { return keyOf(items[i]) < keyOf(items[j]) })
	start, _ := strconv.Atoi(r.URL.Query().Get("continue"))
	end := len(items)
	cont := ""
	if limit, _ := strconv.Atoi(r.URL.Query().Get("limit")); limit > 0 && start+limit < len(items) {
		end = start + limit
		cont = strconv.Itoa(end)
	}
	if start > len(items) {
		start = len(items)
	}
	page := items[start:end]
	if page == nil {
		page = []json.RawMessage{}
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"apiVersion": info.gv.String(), "kind": info.kind + "List",
		"metadata": map[string]any{"resourceVersion": "1", "continue": cont},
		"items":    page,
	})
}

func keyOf(raw json.RawMessage) string {
	var m struct {
		Metadata struct{ Namespace, Name string } `json:"metadata"`
	}
	_ = json.Unmarshal(raw, &m)
	return m.Metadata.Namespace + "/" + m.Metadata.Name
}

func lookup(gv schema.GroupVersion, res string) (resourceInfo, bool) {
	for _, r := range resources {
		if r.gv == gv && r.resource == res {
			return r, true
		}
	}
	return resourceInfo{}, false
}

func groupList() metav1.APIGroupList {
	var groups []metav1.APIGroup
	seen := map[string]bool{}
	for _, r := range resources {
		if r.gv.Group == "" || seen[r.gv.Group] {
			continue
		}
		seen[r.gv.Group] = true
		v := metav1.GroupVersionForDiscovery{GroupVersion: r.gv.String(), Version: r.gv.Version}
		groups = append(groups, metav1.APIGroup{Name: r.gv.Group, Versions: []metav1.GroupVersionForDiscovery{v}, PreferredVersion: v})
	}
	return metav1.APIGroupList{TypeMeta: metav1.TypeMeta{Kind: "APIGroupList", APIVersion: "v1"}, Groups: groups}
}

func resourceList(gv schema.GroupVersion) metav1.APIResourceList {
	l := metav1.APIResourceList{TypeMeta: metav1.TypeMeta{Kind: "APIResourceList", APIVersion: "v1"}, GroupVersion: gv.String()}
	for _, r := range resources {
		if r.gv != gv {
			continue
		}
		l.APIResources = append(l.APIResources, metav1.APIResource{Name: r.resource, SingularName: strings.ToLower(r.kind),
			Namespaced: r.namespaced, Kind: r.kind, Verbs: metav1.Verbs{"get", "list"}, ShortNames: r.shortNames})
	}
	return l
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func writeStatus(w http.ResponseWriter, code int, reason, msg string) {
	writeJSON(w, code, metav1.Status{TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"}, Status: metav1.StatusFailure,
		Message: msg, Reason: metav1.StatusReason(reason), Code: int32(code)}) //nolint:gosec // code is an HTTP status (100-599)
}

// RESTConfig returns a client configuration for the server.
func (s *Server) RESTConfig() *rest.Config {
	return &rest.Config{Host: s.URL, BearerToken: "not-a-real-token"}
}

// tokenRequest implements POST …/serviceaccounts/NAME/token.
func (s *Server) tokenRequest(w http.ResponseWriter, r *http.Request, ns, name string) {
	s.mu.Lock()
	s.requests = append(s.requests, Request{Verb: "create", Resource: "serviceaccounts/token", Namespace: ns, Name: name})
	denied := s.forbidden["create serviceaccounts/token "+ns] || s.forbidden["create serviceaccounts/token "]
	key, kid, iss := s.signer, s.kid, s.issuer
	exists := false
	for _, o := range s.objects["serviceaccounts"] {
		if m, _ := o.(metav1.Object); m.GetNamespace() == ns && m.GetName() == name {
			exists = true
		}
	}
	s.mu.Unlock()
	switch {
	case denied:
		writeStatus(w, http.StatusForbidden, "Forbidden", fmt.Sprintf(`serviceaccounts %q is forbidden: User "tester" cannot create resource "serviceaccounts/token" in API group "" in the namespace %q`, name, ns))
		return
	case !exists:
		writeStatus(w, http.StatusNotFound, "NotFound", fmt.Sprintf("serviceaccounts %q not found", name))
		return
	case key == nil:
		writeStatus(w, http.StatusInternalServerError, "InternalError", "fakekube: no token signer configured")
		return
	}
	// client-go may send protobuf or JSON; the universal deserializer reads
	// both, as the API server does.
	body, err := io.ReadAll(r.Body)
	if err != nil {
		writeStatus(w, http.StatusBadRequest, "BadRequest", err.Error())
		return
	}
	var req authenticationv1.TokenRequest
	if _, _, err := scheme.Codecs.UniversalDeserializer().Decode(body, nil, &req); err != nil {
		writeStatus(w, http.StatusBadRequest, "BadRequest", err.Error())
		return
	}
	exp := time.Now().Add(time.Duration(*req.Spec.ExpirationSeconds) * time.Second)
	claims := map[string]any{"iss": iss, "sub": "system:serviceaccount:" + ns + ":" + name, "aud": req.Spec.Audiences,
		"exp": exp.Unix(), "iat": time.Now().Unix(), "nbf": time.Now().Unix(),
		"kubernetes.io": map[string]any{"namespace": ns, "serviceaccount": map[string]string{"name": name}}}
	h, _ := json.Marshal(map[string]string{"alg": "RS256", "kid": kid})
	p, _ := json.Marshal(claims)
	in := base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(p)
	sum := sha256.Sum256([]byte(in))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	if err != nil {
		writeStatus(w, http.StatusInternalServerError, "InternalError", err.Error())
		return
	}
	tok := in + "." + base64.RawURLEncoding.EncodeToString(sig)
	s.mu.Lock()
	s.minted = append(s.minted, tok)
	s.mu.Unlock()
	req.Status = authenticationv1.TokenRequestStatus{Token: tok, ExpirationTimestamp: metav1.NewTime(exp)}
	req.Kind, req.APIVersion = "TokenRequest", "authentication.k8s.io/v1"
	writeJSON(w, http.StatusCreated, req)
}
