package kube

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/klog/v2"
	"k8s.io/kubectl/pkg/polymorphichelpers"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/facts"
)

// Collector gathers the Kubernetes facts for a diagnosis.
type Collector struct {
	Client    kubernetes.Interface
	Now       func() time.Time
	ChunkSize int64
	// Progress, when set, is told after every LIST page how many objects of
	// the resource ("pods", "serviceaccounts", …) have been read so far in
	// the namespace being listed ("" with -A). Collect calls it from one
	// goroutine.
	Progress func(resource, namespace string, listed int)
}

// onPage adapts Progress to one LIST.
func (c *Collector) onPage(resource, ns string) pageFunc {
	if c.Progress == nil {
		return nil
	}
	return func(n int) { c.Progress(resource, ns, n) }
}

// namespaceFacts is everything listed in one namespace (or, with -A, in all).
type namespaceFacts struct {
	pods      []corev1.Pod
	sas       map[string]*corev1.ServiceAccount // ns/name
	rsOwner   map[types.UID]metav1.OwnerReference
	jobOwner  map[types.UID]metav1.OwnerReference
	podsBySA  map[string][]*corev1.Pod // ns/sa
	ownersErr error
	// listed holds the namespaces listed ("" for all of them).
	listed map[string]bool
}

// Collect lists what the targets need and builds the snapshot. Pods and
// service accounts are required (an error aborts with a clear message); the
// rest is optional and becomes `unknown` findings when it cannot be read.
func (c *Collector) Collect(ctx context.Context, scope Scope, targets []Target) (*facts.Snapshot, error) {
	chunk := c.ChunkSize
	if chunk == 0 {
		chunk = DefaultChunkSize
	}
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	if scope.Discover() && !scope.AllNamespaces {
		// Listing in a namespace that does not exist returns nothing, which
		// would read as "no IRSA here"; say what is really wrong instead.
		if _, err := c.Client.CoreV1().Namespaces().Get(ctx, scope.Namespace, metav1.GetOptions{}); apierrors.IsNotFound(err) {
			return nil, fmt.Errorf("namespace %q not found", scope.Namespace)
		}
	}
	listNamespaces := c.namespacesToList(scope, targets)
	nsFacts := &namespaceFacts{sas: map[string]*corev1.ServiceAccount{}, rsOwner: map[types.UID]metav1.OwnerReference{},
		jobOwner: map[types.UID]metav1.OwnerReference{}, podsBySA: map[string][]*corev1.Pod{}, listed: map[string]bool{}}
	for _, ns := range listNamespaces {
		nsFacts.listed[ns] = true
		if err := c.listNamespace(ctx, ns, chunk, nsFacts); err != nil {
			return nil, err
		}
	}
	for i := range nsFacts.pods {
		p := &nsFacts.pods[i]
		key := p.Namespace + "/" + serviceAccountOf(&p.Spec)
		nsFacts.podsBySA[key] = append(nsFacts.podsBySA[key], p)
	}

	snap := &facts.Snapshot{Now: now(), Namespaces: map[string]*corev1.Namespace{}, NamespaceErrs: map[string]*facts.ReadError{},
		RoleServiceAccounts: nsFacts.roleServiceAccounts()}
	// The webhook's registration says where its ConfigMap lives, and the
	// ConfigMap's service accounts are IRSA subjects too.
	c.collectWebhooks(ctx, snap)
	snap.WebhookConfigMap = c.collectWebhookConfigMap(ctx, snap.Webhooks)
	b := &subjectBuilder{ns: nsFacts, config: snap.WebhookConfigMap, associated: scope.Associated,
		subjects: map[string]*facts.Subject{}, podsSeen: map[string]map[types.UID]bool{}}
	if scope.Discover() {
		b.discover()
	}
	for _, t := range targets {
		if err := b.addTarget(t); err != nil {
			return nil, err
		}
	}
	snap.Subjects = b.ordered()
	for _, s := range snap.Subjects {
		if e, ok := snap.WebhookConfigMap.Lookup(s.Namespace, s.ServiceAccountName); ok {
			s.WebhookConfig = &e
		}
	}
	c.collectNamespaces(ctx, scope, chunk, snap)
	c.collectEnvSources(ctx, snap)
	if usesPodIdentity(snap.Subjects, scope.Associated) {
		snap.PodIdentityAgent = c.collectPodIdentityAgent(ctx)
	}
	return snap, nil
}

// namespacesToList returns "" for all namespaces, else each namespace once.
func (c *Collector) namespacesToList(scope Scope, targets []Target) []string {
	if scope.AllNamespaces {
		return []string{metav1.NamespaceAll}
	}
	seen := map[string]bool{}
	var out []string
	add := func(ns string) {
		if !seen[ns] {
			seen[ns] = true
			out = append(out, ns)
		}
	}
	if scope.Discover() {
		add(scope.Namespace)
	}
	for _, t := range targets {
		add(t.Namespace)
	}
	sort.Strings(out)
	return out
}

func (c *Collector) listNamespace(ctx context.Context, ns string, chunk int64, f *namespaceFacts) error {
	pods, err := listPods(ctx, c.Client, ns, chunk, c.onPage("pods", ns))
	if err != nil {
		return requiredListError("pods", ns, err)
	}
	if f.pods == nil {
		// The first (with -A the only) namespace: its pods as listed, not a
		// copy of every pod while the list is still held.
		f.pods = pods
	} else {
		f.pods = append(f.pods, pods...)
	}
	sas, err := listServiceAccounts(ctx, c.Client, ns, chunk, c.onPage("serviceaccounts", ns))
	if err != nil {
		return requiredListError("serviceaccounts", ns, err)
	}
	for i := range sas {
		f.sas[sas[i].Namespace+"/"+sas[i].Name] = &sas[i]
	}
	// ReplicaSets and Jobs only connect pods to their Deployment or CronJob;
	// without them the remediation names the first owner instead.
	rss, err := listReplicaSets(ctx, c.Client, ns, chunk, c.onPage("replicasets", ns))
	if err != nil {
		klog.V(2).InfoS("cannot list replicasets; owners stop at the ReplicaSet", "namespace", ns, "err", err)
		f.ownersErr = err
	}
	for i := range rss {
		if o := metav1.GetControllerOf(&rss[i]); o != nil {
			f.rsOwner[rss[i].UID] = *o
		}
	}
	jobs, err := listJobs(ctx, c.Client, ns, chunk, c.onPage("jobs", ns))
	if err != nil {
		klog.V(2).InfoS("cannot list jobs; owners stop at the Job", "namespace", ns, "err", err)
		f.ownersErr = err
	}
	for i := range jobs {
		if o := metav1.GetControllerOf(&jobs[i]); o != nil {
			f.jobOwner[jobs[i].UID] = *o
		}
	}
	return nil
}

func serviceAccountOf(spec *corev1.PodSpec) string {
	if spec.ServiceAccountName != "" {
		return spec.ServiceAccountName
	}
	if spec.DeprecatedServiceAccount != "" {
		return spec.DeprecatedServiceAccount
	}
	return "default"
}

// ownerOf walks a pod's controller references up to the top workload, using
// the ReplicaSets and Jobs listed once (never a GET per pod).
func (f *namespaceFacts) ownerOf(p *corev1.Pod) facts.Owner {
	ref := metav1.GetControllerOf(p)
	if ref == nil {
		return facts.Owner{}
	}
	owner := facts.Owner{Kind: ref.Kind, Name: ref.Name}
	switch ref.Kind {
	case "ReplicaSet":
		if up, ok := f.rsOwner[ref.UID]; ok {
			owner = facts.Owner{Kind: up.Kind, Name: up.Name}
		}
	case "Job":
		if up, ok := f.jobOwner[ref.UID]; ok {
			owner = facts.Owner{Kind: up.Kind, Name: up.Name}
		}
	}
	return owner
}

// ownedBy reports whether a pod belongs to the workload with the given UID,
// directly or through one ReplicaSet/Job in between.
func (f *namespaceFacts) ownedBy(p *corev1.Pod, uid types.UID) bool {
	ref := metav1.GetControllerOf(p)
	if ref == nil {
		return false
	}
	if ref.UID == uid {
		return true
	}
	if up, ok := f.rsOwner[ref.UID]; ok && up.UID == uid {
		return true
	}
	if up, ok := f.jobOwner[ref.UID]; ok && up.UID == uid {
		return true
	}
	return false
}

type subjectBuilder struct {
	ns         *namespaceFacts
	config     *facts.WebhookConfigMap
	associated []string
	subjects   map[string]*facts.Subject
	podsSeen   map[string]map[types.UID]bool
}

func (b *subjectBuilder) subject(ns, sa string) *facts.Subject {
	key := ns + "/" + sa
	if s, ok := b.subjects[key]; ok {
		return s
	}
	s := &facts.Subject{Namespace: ns, ServiceAccountName: sa, ServiceAccount: b.ns.sas[key]}
	b.subjects[key] = s
	b.podsSeen[key] = map[types.UID]bool{}
	return s
}

func (b *subjectBuilder) addPod(p *corev1.Pod) {
	sa := serviceAccountOf(&p.Spec)
	s := b.subject(p.Namespace, sa)
	key := p.Namespace + "/" + sa
	if b.podsSeen[key][p.UID] {
		return
	}
	b.podsSeen[key][p.UID] = true
	s.Pods = append(s.Pods, facts.PodFacts{Pod: p, Owner: b.ns.ownerOf(p)})
}

// discover picks every service account with a role-arn annotation (even a
// misspelt one), every service account used by a pod that carries
// AWS_ROLE_ARN, and the Pod Identity ones (discoverPodIdentity), with all
// the pods that use them.
func (b *subjectBuilder) discover() {
	for key, sa := range b.ns.sas {
		_, configured := b.config.Lookup(sa.Namespace, sa.Name)
		if irsaAnnotated(sa) || configured {
			b.subject(sa.Namespace, sa.Name)
			for _, p := range b.ns.podsBySA[key] {
				b.addPod(p)
			}
		}
	}
	b.discoverPodIdentity()
	for i := range b.ns.pods {
		p := &b.ns.pods[i]
		if podClaimsIRSA(p) {
			for _, q := range b.ns.podsBySA[p.Namespace+"/"+serviceAccountOf(&p.Spec)] {
				b.addPod(q)
			}
		}
	}
}

func irsaAnnotated(sa *corev1.ServiceAccount) bool {
	for k := range sa.Annotations {
		if k == facts.AnnotationRoleARN || strings.Contains(strings.ToLower(k), "role-arn") || strings.Contains(strings.ToLower(k), "role_arn") {
			return true
		}
	}
	return false
}

func podClaimsIRSA(p *corev1.Pod) bool {
	for _, c := range facts.Containers(p) {
		if _, set, _ := facts.EnvValue(c.Container, facts.EnvRoleARN); set {
			return true
		}
	}
	return false
}

func (b *subjectBuilder) addTarget(t Target) error {
	switch t.Kind {
	case "Pod":
		p, ok := t.Object.(*corev1.Pod)
		if !ok {
			return fmt.Errorf("pod/%s: unexpected object type %T", t.Name, t.Object)
		}
		// Prefer the listed copy so every pod comes from the same snapshot.
		for i := range b.ns.pods {
			if b.ns.pods[i].UID == p.UID {
				p = &b.ns.pods[i]
				break
			}
		}
		b.addPod(p)
	case "ServiceAccount":
		b.subject(t.Namespace, t.Name)
		for _, p := range b.ns.podsBySA[t.Namespace+"/"+t.Name] {
			b.addPod(p)
		}
	default:
		return b.addWorkload(t)
	}
	return nil
}

func (b *subjectBuilder) addWorkload(t Target) error {
	var templateSA string
	_, err := polymorphichelpers.UpdatePodSpecForObjectFn(t.Object, func(spec *corev1.PodSpec) error {
		templateSA = serviceAccountOf(spec)
		return nil
	})
	if err != nil {
		return fmt.Errorf("reading the pod template of %s/%s: %w", strings.ToLower(t.Kind), t.Name, err)
	}
	accessor, err := metaAccessor(t.Object)
	if err != nil {
		return err
	}
	w := facts.Workload{Kind: t.Kind, Name: t.Name, TemplateServiceAccount: templateSA}
	var live []*corev1.Pod
	for i := range b.ns.pods {
		p := &b.ns.pods[i]
		if p.Namespace == t.Namespace && b.ns.ownedBy(p, accessor.GetUID()) {
			live = append(live, p)
			w.Pods = append(w.Pods, facts.PodRef{Name: p.Name, ServiceAccount: serviceAccountOf(&p.Spec)})
		}
	}
	s := b.subject(t.Namespace, templateSA)
	s.Workloads = append(s.Workloads, w)
	for _, p := range live {
		b.addPod(p)
	}
	return nil
}

func metaAccessor(obj runtime.Object) (metav1.Object, error) {
	m, ok := obj.(metav1.Object)
	if !ok {
		return nil, fmt.Errorf("object %T has no metadata", obj)
	}
	return m, nil
}

func (b *subjectBuilder) ordered() []*facts.Subject {
	keys := make([]string, 0, len(b.subjects))
	for k := range b.subjects {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]*facts.Subject, 0, len(keys))
	for _, k := range keys {
		s := b.subjects[k]
		sort.SliceStable(s.Pods, func(i, j int) bool { return s.Pods[i].Pod.Name < s.Pods[j].Pod.Name })
		sort.SliceStable(s.Workloads, func(i, j int) bool {
			return s.Workloads[i].Kind+"/"+s.Workloads[i].Name < s.Workloads[j].Kind+"/"+s.Workloads[j].Name
		})
		out = append(out, s)
	}
	return out
}

func (c *Collector) collectWebhooks(ctx context.Context, snap *facts.Snapshot) {
	l, err := c.Client.AdmissionregistrationV1().MutatingWebhookConfigurations().List(ctx, metav1.ListOptions{})
	if err != nil {
		snap.Webhooks.Err = readError("list", "mutatingwebhookconfigurations", "", "", err)
		return
	}
	snap.Webhooks.Configs = l.Items
	sort.Slice(snap.Webhooks.Configs, func(i, j int) bool { return snap.Webhooks.Configs[i].Name < snap.Webhooks.Configs[j].Name })
}

// collectNamespaces reads the namespaces of the subjects (their labels decide
// the webhook's namespaceSelector). With -A they are listed once, so the
// requests do not grow with the number of namespaces; when that LIST is
// refused, or without -A, each namespace is read with a GET.
func (c *Collector) collectNamespaces(ctx context.Context, scope Scope, chunk int64, snap *facts.Snapshot) {
	var wanted []string
	seen := map[string]bool{}
	for _, s := range snap.Subjects {
		if !seen[s.Namespace] {
			seen[s.Namespace] = true
			wanted = append(wanted, s.Namespace)
		}
	}
	if len(wanted) == 0 {
		return
	}
	if scope.AllNamespaces {
		all, err := listNamespaces(ctx, c.Client, chunk, c.onPage("namespaces", ""))
		if err == nil {
			for i := range all {
				if seen[all[i].Name] {
					snap.Namespaces[all[i].Name] = &all[i]
				}
			}
			for _, name := range wanted {
				if snap.Namespaces[name] == nil {
					// Deleted between the pod LIST and this one.
					snap.NamespaceErrs[name] = readError("list", "namespaces", "", name, apierrors.NewNotFound(corev1.Resource("namespaces"), name))
				}
			}
			return
		}
		klog.V(2).InfoS("cannot list namespaces; reading each with a GET", "err", err)
	}
	for _, name := range wanted {
		ns, err := c.Client.CoreV1().Namespaces().Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			snap.NamespaceErrs[name] = readError("get", "namespaces", "", name, err)
			continue
		}
		snap.Namespaces[name] = ns
	}
}

// collectEnvSources reads the key names of Secrets and ConfigMaps used with
// envFrom, once per distinct object. Values are dropped at once.
func (c *Collector) collectEnvSources(ctx context.Context, snap *facts.Snapshot) {
	cache := map[string]facts.EnvSource{}
	for _, s := range snap.Subjects {
		for i := range s.Pods {
			pf := &s.Pods[i]
			for _, ctr := range facts.Containers(pf.Pod) {
				for _, ef := range ctr.EnvFrom {
					kind, name := "", ""
					switch {
					case ef.SecretRef != nil:
						kind, name = "Secret", ef.SecretRef.Name
					case ef.ConfigMapRef != nil:
						kind, name = "ConfigMap", ef.ConfigMapRef.Name
					default:
						continue
					}
					id := kind + "/" + name
					key := pf.Pod.Namespace + "/" + id
					src, ok := cache[key]
					if !ok {
						src = c.readEnvSource(ctx, pf.Pod.Namespace, kind, name)
						cache[key] = src
					}
					if pf.EnvSources == nil {
						pf.EnvSources = map[string]facts.EnvSource{}
					}
					pf.EnvSources[id] = src
				}
			}
		}
	}
}

// readEnvSource GETs one Secret or ConfigMap (get secrets / get configmaps)
// for its keys only: the answer bypasses client-go's body logging and its
// values are skipped unread (getUnlogged), so no -v shows them.
func (c *Collector) readEnvSource(ctx context.Context, ns, kind, name string) facts.EnvSource {
	src := facts.EnvSource{Kind: kind, Name: name}
	resource := strings.ToLower(kind) + "s"
	var obj envSourceKeys
	err := getUnlogged(ctx, c.Client.CoreV1().RESTClient().Get().Namespace(ns).Resource(resource).Name(name), kind, &obj)
	var keys []string
	if err == nil {
		for k := range obj.Data {
			keys = append(keys, k)
		}
		if kind == "Secret" {
			for k := range obj.StringData {
				keys = append(keys, k)
			}
		}
	}
	switch {
	case apierrors.IsNotFound(err):
		src.Missing = true
	case err != nil:
		src.Err = readError("get", resource, ns, name, err)
	}
	sort.Strings(keys)
	src.Keys = keys
	return src
}

// oneLine keeps API errors on one line for findings and messages.
func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}

// roleServiceAccounts indexes the listed service accounts that carry a
// role-arn annotation.
func (f *namespaceFacts) roleServiceAccounts() map[string]map[string]string {
	out := map[string]map[string]string{}
	for _, sa := range f.sas {
		if v, ok := facts.RoleARNAnnotation(sa); ok && strings.TrimSpace(v) != "" {
			if out[sa.Namespace] == nil {
				out[sa.Namespace] = map[string]string{}
			}
			out[sa.Namespace][sa.Name] = v
		}
	}
	return out
}

// collectWebhookConfigMap reads the pod-identity-webhook ConfigMap that a
// webhook run with --watch-config-map takes roles from: with one GET in the
// namespace of the webhook's service when the registration names one (RBAC
// can then be limited to that one object), else with one LIST across
// namespaces, filtered to that name. Its absence is no error; a refused read
// is kept, so a finding can say `unknown`.
func (c *Collector) collectWebhookConfigMap(ctx context.Context, webhooks facts.WebhookFacts) *facts.WebhookConfigMap {
	var found *corev1.ConfigMap
	_, wh := facts.IRSAWebhook(webhooks.Configs)
	if wh != nil && wh.ClientConfig.Service != nil {
		ns := wh.ClientConfig.Service.Namespace
		cm, err := c.Client.CoreV1().ConfigMaps(ns).Get(ctx, facts.WebhookConfigMapName, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			return &facts.WebhookConfigMap{}
		case err != nil:
			return &facts.WebhookConfigMap{Err: readError("get", "configmaps", ns, facts.WebhookConfigMapName, err)}
		}
		found = cm
	} else {
		l, err := c.Client.CoreV1().ConfigMaps("").List(ctx, metav1.ListOptions{FieldSelector: "metadata.name=" + facts.WebhookConfigMapName})
		if err != nil {
			return &facts.WebhookConfigMap{Err: readError("list", "configmaps", "", facts.WebhookConfigMapName, err)}
		}
		// The name is checked again: a server may ignore the field selector.
		var named []corev1.ConfigMap
		for _, cm := range l.Items {
			if cm.Name == facts.WebhookConfigMapName {
				named = append(named, cm)
			}
		}
		if len(named) == 0 {
			return &facts.WebhookConfigMap{}
		}
		sort.Slice(named, func(i, j int) bool { return named[i].Namespace < named[j].Namespace })
		found = &named[0]
	}
	return parseWebhookConfigMap(found)
}

// parseWebhookConfigMap reads data["config"] the way the webhook does: a JSON
// object from "namespace/serviceaccount" to an entry whose field names match
// case-insensitively (amazon-eks-pod-identity-webhook pkg/cache/cache.go).
func parseWebhookConfigMap(cm *corev1.ConfigMap) *facts.WebhookConfigMap {
	out := &facts.WebhookConfigMap{Namespace: cm.Namespace, Entries: map[string]facts.WebhookConfigEntry{}}
	raw, ok := cm.Data["config"]
	if !ok {
		return out
	}
	if err := json.Unmarshal([]byte(raw), &out.Entries); err != nil {
		out.Entries, out.ParseError = nil, oneLine(err)
	}
	return out
}
