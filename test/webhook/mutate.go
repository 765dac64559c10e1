// Package webhook is a test-only stand-in for aws/amazon-eks-pod-identity-webhook,
// which cannot be downloaded on the project's build machines. It reproduces
// the webhook's pod mutation as docs/behaviour.md#pod-identity-webhook and
// docs/behaviour.md#pod-identity-injection describe
// it (behaviour, not code: nothing here is copied from the real webhook), so
// that the end-to-end tests see pods exactly as an EKS API server would admit
// them. docs/webhook-emulator.md lists what it models, with the real
// webhook's file for each, and what it leaves out.
package webhook

import (
	"encoding/csv"
	"math/rand/v2"
	"path"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/sets"
)

// Annotations, env vars, paths and names, verbatim from docs/behaviour.md#pod-identity-webhook, #exact-strings.
const (
	AnnotationRoleARN              = "eks.amazonaws.com/role-arn"
	AnnotationAudience             = "eks.amazonaws.com/audience"
	AnnotationSTSRegionalEndpoints = "eks.amazonaws.com/sts-regional-endpoints"
	AnnotationTokenExpiration      = "eks.amazonaws.com/token-expiration"
	AnnotationSkipContainers       = "eks.amazonaws.com/skip-containers"
	LabelSkipWebhook               = "eks.amazonaws.com/skip-pod-identity-webhook"
	// LabelPodIdentity is set to LabelPodIdentityEnabled on every pod that gets
	// the Pod Identity mutation, by webhooks since March 2026 (webhook #295;
	// amazon-eks-pod-identity-webhook pkg/handler/handler.go getPodSpecPatch).
	// Its key does not follow --annotation-prefix.
	LabelPodIdentity        = "eks.amazonaws.com/pod-identity"
	LabelPodIdentityEnabled = "enabled"

	// DefaultAnnotationPrefix is the --annotation-prefix default (main.go).
	DefaultAnnotationPrefix = "eks.amazonaws.com"
	// The suffixes the prefix is joined to with "/" (pkg/annotations.go).
	suffixRoleARN         = "role-arn"
	suffixAudience        = "audience"
	suffixRegionalSTS     = "sts-regional-endpoints"
	suffixTokenExpiration = "token-expiration"
	suffixSkipContainers  = "skip-containers"

	// ConfigMapName is the ConfigMap --watch-config-map reads, in the
	// --namespace namespace; its roles are the JSON of data[ConfigMapKey]
	// (pkg/cache/cache.go populateCacheFromCM, main.go).
	ConfigMapName = "pod-identity-webhook"
	ConfigMapKey  = "config"
	// DefaultNamespace is the --namespace default (main.go); the reference
	// deployment passes --namespace=default, kOps runs it in kube-system.
	DefaultNamespace = "eks"

	EnvRoleARN                         = "AWS_ROLE_ARN"
	EnvWebIdentityTokenFile            = "AWS_WEB_IDENTITY_TOKEN_FILE"
	EnvRegion                          = "AWS_REGION"
	EnvDefaultRegion                   = "AWS_DEFAULT_REGION"
	EnvSTSRegionalEndpoints            = "AWS_STS_REGIONAL_ENDPOINTS"
	EnvContainerCredentialsFullURI     = "AWS_CONTAINER_CREDENTIALS_FULL_URI"
	EnvContainerAuthorizationTokenFile = "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"

	DefaultAudience = "sts.amazonaws.com"
	// DefaultTokenExpiration is the IRSA default, used without jitter (docs/behaviour.md#token-volume-and-mount).
	DefaultTokenExpiration int64 = 86400
	// MinTokenExpiration is the floor the webhook raises shorter values to;
	// there is no upper cap (docs/behaviour.md#webhook-inputs).
	MinTokenExpiration int64 = 600

	IRSAVolumeName = "aws-iam-token"
	// IRSAMountPath is the --token-mount-path default (main.go).
	IRSAMountPath = "/var/run/secrets/eks.amazonaws.com/serviceaccount"
	IRSATokenPath = "token"

	PodIdentityAudience   = "pods.eks.amazonaws.com"
	PodIdentityVolumeName = "eks-pod-identity-token"
	PodIdentityMountPath  = "/var/run/secrets/pods.eks.amazonaws.com/serviceaccount"
	PodIdentityTokenPath  = "eks-pod-identity-token"
	PodIdentityFullURI    = "http://169.254.170.23/v1/credentials"
	// The Pod Identity default expiration is jittered into this range (docs/behaviour.md#pod-identity-injection).
	podIdentityJitterMin int64 = 79200
)

// Association is an EKS Pod Identity association: pods of this service account
// get the Pod Identity mutation instead of IRSA (docs/behaviour.md#webhook-decision-flow step 1).
type Association struct {
	Namespace      string
	ServiceAccount string
}

// Config is what the real webhook takes as flags and files. The zero value is
// the real webhook's defaults (main.go) with no region, no ConfigMap and no
// cache: service accounts are read straight from the API server.
type Config struct {
	// DefaultRegion is --aws-default-region: when set, AWS_DEFAULT_REGION and
	// AWS_REGION are injected (docs/behaviour.md#injected-environment). Empty injects no region.
	DefaultRegion string
	// RegionalSTS is --sts-regional-endpoint; the SA annotation overrides it.
	RegionalSTS bool
	// Audience is --token-audience; empty means sts.amazonaws.com. (The real
	// flag set explicitly to "" would give tokens without an audience; use
	// an empty audience annotation for that.)
	Audience string
	// AnnotationPrefix is --annotation-prefix; empty means eks.amazonaws.com.
	// It prefixes the service account annotations role-arn, audience,
	// sts-regional-endpoints and token-expiration (pkg/cache/cache.go addSA)
	// and the pod annotations token-expiration and skip-containers
	// (pkg/handler/handler.go parsePodAnnotations, getContainersToSkip), not
	// the labels LabelPodIdentity and LabelSkipWebhook.
	AnnotationPrefix string
	// MountPath is --token-mount-path, where the IRSA token volume is mounted;
	// empty means IRSAMountPath. AWS_WEB_IDENTITY_TOKEN_FILE is the cleaned
	// join of it and "token"; the mount keeps the value as given.
	MountPath string
	// TokenExpiration is --token-expiration, the IRSA expirationSeconds when
	// no annotation sets one; 0 means 86400, and values under 600 are raised
	// to 600 (main.go). It also applies to Pod Identity pods whose service
	// account is known (pkg/cache/cache.go GetCommonConfigurations).
	TokenExpiration int64
	// WatchConfigMap is --watch-config-map: roles also come from the
	// ConfigMapName ConfigMap in Namespace, for service accounts without a
	// role-arn annotation (pkg/cache/cache.go Get).
	WatchConfigMap bool
	// Namespace is --namespace, where the ConfigMap is read; empty means
	// DefaultNamespace ("eks").
	Namespace string
	// Cache, when set, makes the Handler read service accounts (and the
	// ConfigMap) through an informer cache with a propagation delay, as the
	// real webhook does (pkg/cache/cache.go); nil reads the API server on
	// every admission, a cache that is never behind.
	Cache *CacheConfig
	// OmitPodIdentityLabel leaves out LabelPodIdentity, as webhooks before
	// March 2026 (webhook #295) do.
	OmitPodIdentityLabel bool
	// Associations is the container-credentials (Pod Identity) configuration
	// the webhook starts with.
	Associations []Association
	// AssociationSource, when set, is consulted at every admission besides
	// Associations: the live set, as the real webhook follows its
	// --watch-container-credentials-config file (an AssociationSet, fed by
	// WatchContainerCredentialsConfig or by the AWS emulator's associations).
	// A pod gets what the source says when it is admitted and keeps it.
	AssociationSource AssociationSource
	// PodIdentityExpiration picks the jittered default expiration of Pod
	// Identity tokens; nil draws uniformly from [79200, 86400]. Tests set it to
	// get deterministic patches.
	PodIdentityExpiration func() int64
}

func (c Config) annotation(suffix string) string {
	prefix := c.AnnotationPrefix
	if prefix == "" {
		prefix = DefaultAnnotationPrefix
	}
	return prefix + "/" + suffix
}

func (c Config) audience() string {
	if c.Audience == "" {
		return DefaultAudience
	}
	return c.Audience
}

func (c Config) mountPath() string {
	if c.MountPath == "" {
		return IRSAMountPath
	}
	return c.MountPath
}

// tokenExpiration is the flag's value as main.go leaves it.
func (c Config) tokenExpiration() int64 {
	if c.TokenExpiration == 0 {
		return DefaultTokenExpiration
	}
	return max(c.TokenExpiration, MinTokenExpiration)
}

func (c Config) namespace() string {
	if c.Namespace == "" {
		return DefaultNamespace
	}
	return c.Namespace
}

func (c Config) hasAssociation(namespace, serviceAccount string) bool {
	for _, a := range c.Associations {
		if a.Namespace == namespace && a.ServiceAccount == serviceAccount {
			return true
		}
	}
	return c.AssociationSource != nil && c.AssociationSource.Has(namespace, serviceAccount)
}

// Entry is one service account's IRSA settings as the real webhook's cache
// holds them (amazon-eks-pod-identity-webhook pkg/cache/cache.go Entry). It is
// also the value type of the ConfigMap's JSON: the type has no JSON tags, so
// the keys are the field names, matched case-insensitively by encoding/json.
type Entry struct {
	RoleARN         string
	Audience        string
	UseRegionalSTS  bool
	TokenExpiration int64
}

// ConfigMapRoles are the ConfigMap's entries by "namespace/serviceaccount";
// the namespace "*" matches every namespace.
type ConfigMapRoles map[string]Entry

// lookup finds the entry for a service account: its own namespace first,
// then "*" (pkg/cache/cache.go Get). Only a namespace that is exactly "*"
// is a wildcard: the README's "test-*/name" example matches nothing.
func (r ConfigMapRoles) lookup(namespace, name string) (Entry, bool) {
	if e, ok := r[namespace+"/"+name]; ok {
		return e, true
	}
	e, ok := r["*/"+name]
	return e, ok
}

// Inputs is what the webhook knows of a pod's service account when it admits
// the pod, besides its flags.
type Inputs struct {
	// ServiceAccount is the pod's service account as the webhook sees it:
	// from the API server, or from its cache, where it may be missing or
	// older than the API server's copy. nil when the webhook has not seen it.
	ServiceAccount *corev1.ServiceAccount
	// ConfigMap holds the ConfigMap's roles (with Config.WatchConfigMap).
	ConfigMap ConfigMapRoles
}

// found is the real cache's FoundInCache: the service account is known, or
// the ConfigMap names it (pkg/cache/cache.go Get).
func (in Inputs) found(namespace, name string) bool {
	if in.ServiceAccount != nil {
		return true
	}
	_, ok := in.ConfigMap.lookup(namespace, name)
	return ok
}

// Mutate returns the pod as the webhook would admit it, and whether anything
// changed. namespace is the admission request's namespace (a pod being
// created may not carry it yet); sa is the pod's ServiceAccount, nil when it
// does not exist. The input pod is not modified.
func Mutate(cfg Config, namespace string, pod *corev1.Pod, sa *corev1.ServiceAccount) (*corev1.Pod, bool) {
	return MutateWith(cfg, namespace, pod, Inputs{ServiceAccount: sa})
}

// MutateWith is Mutate with everything the webhook knows of the service
// account: its cached copy and the ConfigMap's roles.
func MutateWith(cfg Config, namespace string, pod *corev1.Pod, in Inputs) (*corev1.Pod, bool) {
	// The API server's ServiceAccount admission plugin has filled in
	// serviceAccountName before any webhook runs; the real webhook uses it as
	// it comes (pkg/handler/handler.go buildPodPatchConfig), so an empty one
	// matches no association and no service account.
	saName := pod.Spec.ServiceAccountName

	var p patchConfig
	if cfg.hasAssociation(namespace, saName) {
		// docs/behaviour.md#webhook-decision-flow step 1: Pod Identity wins over IRSA annotations.
		p = podIdentityConfig(cfg, namespace, pod, in)
	} else {
		e, ok := irsaEntry(cfg, namespace, saName, in)
		if !ok || e.RoleARN == "" {
			// docs/behaviour.md#webhook-decision-flow steps 2 and 3: service
			// account not known, or no role ⇒ admitted unmodified.
			return pod, false
		}
		p = irsaConfig(cfg, pod, e)
	}

	out := pod.DeepCopy()
	skip := skipContainers(cfg, pod)
	changed := false
	// docs/behaviour.md#init-and-ephemeral-containers: init containers (native sidecars included) get the same treatment;
	// ephemeral containers are never touched.
	for i := range out.Spec.InitContainers {
		if !skip.Has(out.Spec.InitContainers[i].Name) && p.mutateContainer(&out.Spec.InitContainers[i]) {
			changed = true
		}
	}
	for i := range out.Spec.Containers {
		if !skip.Has(out.Spec.Containers[i].Name) && p.mutateContainer(&out.Spec.Containers[i]) {
			changed = true
		}
	}
	// The Pod Identity label is set (overwriting any value) on every Pod
	// Identity pod, even when no container changed (pkg/handler/handler.go getPodSpecPatch).
	if p.podIdentity && !cfg.OmitPodIdentityLabel {
		if out.Labels == nil {
			out.Labels = map[string]string{}
		}
		out.Labels[LabelPodIdentity] = LabelPodIdentityEnabled
		changed = true
	}
	// docs/behaviour.md#token-volume-and-mount: the volume is added unless one with that name already exists,
	// whether or not any container was changed.
	if !hasVolume(out, p.volumeName) {
		out.Spec.Volumes = append(out.Spec.Volumes, p.volume())
		changed = true
	}
	return out, changed
}

// patchConfig is what one pod's mutation needs, whichever path chose it.
type patchConfig struct {
	podIdentity bool
	regionalSTS bool
	region      string
	// credential env vars, in injection order, and their values
	credKeys   [2]string
	credValues [2]string

	volumeName string
	mountPath  string
	tokenPath  string
	audience   string
	expiration int64
}

// serviceAccountEntry is what the real cache stores for a service account
// (pkg/cache/cache.go addSA): each annotation, when present, overrides the
// flag. An audience annotation counts even when empty: the token then has
// no audience and the API server puts in its own.
func serviceAccountEntry(cfg Config, sa *corev1.ServiceAccount) Entry {
	e := Entry{
		RoleARN:         sa.Annotations[cfg.annotation(suffixRoleARN)],
		Audience:        cfg.audience(),
		UseRegionalSTS:  cfg.RegionalSTS,
		TokenExpiration: cfg.tokenExpiration(),
	}
	if a, ok := sa.Annotations[cfg.annotation(suffixAudience)]; ok {
		e.Audience = a
	}
	// strconv.ParseBool; an unparsable value is ignored (docs/behaviour.md#webhook-inputs).
	if v, ok := sa.Annotations[cfg.annotation(suffixRegionalSTS)]; ok {
		if b, err := strconv.ParseBool(v); err == nil {
			e.UseRegionalSTS = b
		}
	}
	if n, ok := parseExpiration(sa.Annotations, cfg.annotation(suffixTokenExpiration)); ok {
		e.TokenExpiration = n
	}
	return e
}

// irsaEntry is the real cache's Get: the service account's own entry when it
// has a role, else the ConfigMap's, whole (audience, regional STS and
// expiration included, none of the flags); ok is FoundInCache.
func irsaEntry(cfg Config, namespace, name string, in Inputs) (Entry, bool) {
	if in.ServiceAccount != nil {
		if e := serviceAccountEntry(cfg, in.ServiceAccount); e.RoleARN != "" {
			return e, true
		}
	}
	if e, ok := in.ConfigMap.lookup(namespace, name); ok {
		return e, true
	}
	return Entry{}, in.ServiceAccount != nil
}

func irsaConfig(cfg Config, pod *corev1.Pod, e Entry) patchConfig {
	mount := cfg.mountPath()
	return patchConfig{
		regionalSTS: e.UseRegionalSTS,
		region:      cfg.DefaultRegion,
		credKeys:    [2]string{EnvRoleARN, EnvWebIdentityTokenFile},
		credValues:  [2]string{e.RoleARN, tokenFile(pod, mount, IRSATokenPath)},
		volumeName:  IRSAVolumeName,
		mountPath:   mount,
		tokenPath:   IRSATokenPath,
		audience:    e.Audience,
		expiration:  podExpiration(cfg, pod, e.TokenExpiration),
	}
}

// podIdentityConfig: regional STS and the expiration come from the service
// account when the webhook knows it, else from the ConfigMap entry of exactly
// its namespace (no "*"), else false and 86400, whatever the flags say
// (pkg/cache/cache.go GetCommonConfigurations). The pod annotation then
// overrides the expiration, and a result of exactly 86400 is jittered
// (pkg/handler/handler.go addJitterToDefaultToken).
func podIdentityConfig(cfg Config, namespace string, pod *corev1.Pod, in Inputs) patchConfig {
	regional, exp := false, DefaultTokenExpiration
	if in.ServiceAccount != nil {
		e := serviceAccountEntry(cfg, in.ServiceAccount)
		regional, exp = e.UseRegionalSTS, e.TokenExpiration
	} else if e, ok := in.ConfigMap[namespace+"/"+pod.Spec.ServiceAccountName]; ok {
		regional, exp = e.UseRegionalSTS, e.TokenExpiration
	}
	exp = podExpiration(cfg, pod, exp)
	if exp == DefaultTokenExpiration {
		jitter := cfg.PodIdentityExpiration
		if jitter == nil {
			jitter = func() int64 {
				return podIdentityJitterMin + rand.Int64N(DefaultTokenExpiration-podIdentityJitterMin+1) //nolint:gosec // jitter spreading token lifetimes, not a secret
			}
		}
		exp = jitter()
	}
	return patchConfig{
		podIdentity: true,
		regionalSTS: regional,
		region:      cfg.DefaultRegion,
		credKeys:    [2]string{EnvContainerCredentialsFullURI, EnvContainerAuthorizationTokenFile},
		credValues:  [2]string{PodIdentityFullURI, tokenFile(pod, PodIdentityMountPath, PodIdentityTokenPath)},
		volumeName:  PodIdentityVolumeName,
		mountPath:   PodIdentityMountPath,
		tokenPath:   PodIdentityTokenPath,
		audience:    PodIdentityAudience,
		expiration:  exp,
	}
}

// parseExpiration reads a token-expiration annotation: non-integers are
// ignored and values under 600 are raised to 600, with no upper cap
// (docs/behaviour.md#webhook-inputs).
func parseExpiration(annotations map[string]string, key string) (int64, bool) {
	v, ok := annotations[key]
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, false
	}
	return max(n, MinTokenExpiration), true
}

// podExpiration: the pod annotation wins over def, the service account's or
// ConfigMap's value (pkg/handler/handler.go parsePodAnnotations).
func podExpiration(cfg Config, pod *corev1.Pod, def int64) int64 {
	if n, ok := parseExpiration(pod.Annotations, cfg.annotation(suffixTokenExpiration)); ok {
		return n
	}
	return def
}

// tokenFile is the token's path in the environment: the cleaned join of the
// mount path and the token path (filepath.Join on the webhook's Linux), which
// on Windows pods becomes "C:" and the path with backslashes
// (docs/behaviour.md#windows-pods; pkg/handler/handler.go getPodSpecPatch).
func tokenFile(pod *corev1.Pod, mountPath, tokenPath string) string {
	f := path.Join(mountPath, tokenPath)
	if isWindows(pod) {
		f = "C:" + strings.ReplaceAll(f, "/", `\`)
	}
	return f
}

// skipContainers reads the pod's skip-containers annotation as ONE CSV record,
// names untrimmed ("a, b" skips "a" and " b"); a parse error skips nothing (docs/behaviour.md#webhook-inputs).
func skipContainers(cfg Config, pod *corev1.Pod) sets.Set[string] {
	v, ok := pod.Annotations[cfg.annotation(suffixSkipContainers)]
	if !ok {
		return nil
	}
	record, err := csv.NewReader(strings.NewReader(v)).Read()
	if err != nil {
		return nil
	}
	return sets.New(record...)
}

// isWindows looks only at nodeSelector, never at nodeAffinity (docs/behaviour.md#windows-pods).
func isWindows(pod *corev1.Pod) bool {
	ns := pod.Spec.NodeSelector
	return ns["kubernetes.io/os"] == "windows" || ns["beta.kubernetes.io/os"] == "windows"
}

// mutateContainer applies docs/behaviour.md#injected-environment and the mount
// of docs/behaviour.md#token-volume-and-mount and #pod-identity-injection to one container and
// reports whether it changed.
func (p patchConfig) mutateContainer(c *corev1.Container) bool {
	has := func(name string) bool {
		// Detection looks only at env, never envFrom (docs/behaviour.md#injected-environment, webhook#248).
		for _, e := range c.Env {
			if e.Name == name {
				return true
			}
		}
		return false
	}
	credPresent := has(p.credKeys[0]) || has(p.credKeys[1])
	regionPresent := has(EnvRegion) || has(EnvDefaultRegion)
	stsPresent := has(EnvSTSRegionalEndpoints)
	if credPresent && regionPresent && stsPresent {
		// Early exit: the container is left completely alone, mount included.
		return false
	}

	changed := false
	add := func(name, value string) {
		c.Env = append(c.Env, corev1.EnvVar{Name: name, Value: value})
		changed = true
	}
	// Order: STS variable, region variables, credential variables (docs/behaviour.md#injected-environment).
	if !stsPresent && p.regionalSTS {
		add(EnvSTSRegionalEndpoints, "regional")
	}
	if !regionPresent && p.region != "" {
		add(EnvDefaultRegion, p.region)
		add(EnvRegion, p.region)
	}
	if !credPresent {
		add(p.credKeys[0], p.credValues[0])
		add(p.credKeys[1], p.credValues[1])
	}
	// The mount is skipped when one with the same NAME exists; the mountPath
	// is not compared (docs/behaviour.md#token-volume-and-mount).
	mounted := false
	for _, m := range c.VolumeMounts {
		if m.Name == p.volumeName {
			mounted = true
			break
		}
	}
	if !mounted {
		c.VolumeMounts = append(c.VolumeMounts, corev1.VolumeMount{Name: p.volumeName, MountPath: p.mountPath, ReadOnly: true})
		changed = true
	}
	return changed
}

func (p patchConfig) volume() corev1.Volume {
	exp := p.expiration
	return corev1.Volume{
		Name: p.volumeName,
		VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{
			Sources: []corev1.VolumeProjection{{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{
				Audience:          p.audience,
				ExpirationSeconds: &exp,
				Path:              p.tokenPath,
			}}},
		}},
	}
}

func hasVolume(pod *corev1.Pod, name string) bool {
	for _, v := range pod.Spec.Volumes {
		if v.Name == name {
			return true
		}
	}
	return false
}
