// Package webhook is a test-only stand-in for aws/amazon-eks-pod-identity-webhook,
// which cannot be downloaded on the project's build machines. It reproduces
// the webhook's pod mutation as docs/behaviour.md#pod-identity-webhook and
// docs/behaviour.md#pod-identity-injection describe
// it (behaviour, not code: nothing here is copied from the real webhook), so
// that the end-to-end tests see pods exactly as an EKS API server would admit
// them.
package webhook

import (
	"encoding/csv"
	"math/rand/v2"
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

	IRSAVolumeName       = "aws-iam-token"
	IRSAMountPath        = "/var/run/secrets/eks.amazonaws.com/serviceaccount"
	IRSATokenPath        = "token"
	irsaWindowsTokenFile = `C:\var\run\secrets\eks.amazonaws.com\serviceaccount\token`

	PodIdentityAudience         = "pods.eks.amazonaws.com"
	PodIdentityVolumeName       = "eks-pod-identity-token"
	PodIdentityMountPath        = "/var/run/secrets/pods.eks.amazonaws.com/serviceaccount"
	PodIdentityTokenPath        = "eks-pod-identity-token"
	PodIdentityFullURI          = "http://169.254.170.23/v1/credentials"
	podIdentityWindowsTokenFile = `C:\var\run\secrets\pods.eks.amazonaws.com\serviceaccount\eks-pod-identity-token`
	// The Pod Identity default expiration is jittered into this range (docs/behaviour.md#pod-identity-injection).
	podIdentityJitterMin int64 = 79200
)

// Association is an EKS Pod Identity association: pods of this service account
// get the Pod Identity mutation instead of IRSA (docs/behaviour.md#webhook-decision-flow step 1).
type Association struct {
	Namespace      string
	ServiceAccount string
}

// Config is what the real webhook takes as flags and files.
type Config struct {
	// DefaultRegion is --aws-default-region: when set, AWS_DEFAULT_REGION and
	// AWS_REGION are injected (docs/behaviour.md#injected-environment). Empty injects no region.
	DefaultRegion string
	// RegionalSTS is --sts-regional-endpoint; the SA annotation overrides it.
	RegionalSTS bool
	// Audience is --token-audience; empty means sts.amazonaws.com.
	Audience string
	// Associations is the container-credentials (Pod Identity) configuration.
	Associations []Association
	// PodIdentityExpiration picks the jittered default expiration of Pod
	// Identity tokens; nil draws uniformly from [79200, 86400]. Tests set it to
	// get deterministic patches.
	PodIdentityExpiration func() int64
}

func (c Config) hasAssociation(namespace, serviceAccount string) bool {
	for _, a := range c.Associations {
		if a.Namespace == namespace && a.ServiceAccount == serviceAccount {
			return true
		}
	}
	return false
}

// Mutate returns the pod as the webhook would admit it, and whether anything
// changed. namespace is the admission request's namespace (a pod being
// created may not carry it yet); sa is the pod's ServiceAccount, nil when it
// does not exist. The input pod is not modified.
func Mutate(cfg Config, namespace string, pod *corev1.Pod, sa *corev1.ServiceAccount) (*corev1.Pod, bool) {
	saName := pod.Spec.ServiceAccountName
	if saName == "" {
		// The built-in ServiceAccount admission plugin runs before webhooks and
		// fills this in; default for callers that skip it.
		saName = "default"
	}

	var p patchConfig
	switch {
	case cfg.hasAssociation(namespace, saName):
		// docs/behaviour.md#webhook-decision-flow step 1: Pod Identity wins over IRSA annotations.
		p = podIdentityConfig(cfg, pod, sa)
	case sa == nil:
		// docs/behaviour.md#webhook-decision-flow step 2: service account not found ⇒ admitted unmodified.
		return pod, false
	case sa.Annotations[AnnotationRoleARN] == "":
		// docs/behaviour.md#webhook-decision-flow step 3: no role ⇒ no mutation.
		return pod, false
	default:
		p = irsaConfig(cfg, pod, sa)
	}

	out := pod.DeepCopy()
	skip := skipContainers(pod)
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

func irsaConfig(cfg Config, pod *corev1.Pod, sa *corev1.ServiceAccount) patchConfig {
	audience := cfg.Audience
	if audience == "" {
		audience = DefaultAudience
	}
	if a := sa.Annotations[AnnotationAudience]; a != "" {
		audience = a
	}
	tokenFile := IRSAMountPath + "/" + IRSATokenPath
	if isWindows(pod) {
		// docs/behaviour.md#windows-pods: only the env path changes; the mountPath stays.
		tokenFile = irsaWindowsTokenFile
	}
	return patchConfig{
		regionalSTS: regionalSTS(cfg, sa),
		region:      cfg.DefaultRegion,
		credKeys:    [2]string{EnvRoleARN, EnvWebIdentityTokenFile},
		credValues:  [2]string{sa.Annotations[AnnotationRoleARN], tokenFile},
		volumeName:  IRSAVolumeName,
		mountPath:   IRSAMountPath,
		tokenPath:   IRSATokenPath,
		audience:    audience,
		expiration:  tokenExpiration(pod, sa, DefaultTokenExpiration),
	}
}

func podIdentityConfig(cfg Config, pod *corev1.Pod, sa *corev1.ServiceAccount) patchConfig {
	tokenFile := PodIdentityMountPath + "/" + PodIdentityTokenPath
	if isWindows(pod) {
		tokenFile = podIdentityWindowsTokenFile
	}
	jitter := cfg.PodIdentityExpiration
	if jitter == nil {
		jitter = func() int64 {
			return podIdentityJitterMin + rand.Int64N(DefaultTokenExpiration-podIdentityJitterMin+1) //nolint:gosec // jitter spreading token lifetimes, not a secret
		}
	}
	def := int64(-1) // resolved lazily: only a default expiration is jittered
	exp := tokenExpiration(pod, sa, def)
	if exp == def {
		exp = jitter()
	}
	return patchConfig{
		regionalSTS: regionalSTS(cfg, sa),
		region:      cfg.DefaultRegion,
		credKeys:    [2]string{EnvContainerCredentialsFullURI, EnvContainerAuthorizationTokenFile},
		credValues:  [2]string{PodIdentityFullURI, tokenFile},
		volumeName:  PodIdentityVolumeName,
		mountPath:   PodIdentityMountPath,
		tokenPath:   PodIdentityTokenPath,
		audience:    PodIdentityAudience,
		expiration:  exp,
	}
}

// regionalSTS: the SA annotation, parsed with strconv.ParseBool, overrides the
// flag; an unparsable value is ignored (docs/behaviour.md#webhook-inputs).
func regionalSTS(cfg Config, sa *corev1.ServiceAccount) bool {
	if sa != nil {
		if v, ok := sa.Annotations[AnnotationSTSRegionalEndpoints]; ok {
			if b, err := strconv.ParseBool(v); err == nil {
				return b
			}
		}
	}
	return cfg.RegionalSTS
}

// tokenExpiration: pod annotation > SA annotation > def; non-integers are
// ignored and values under 600 are raised to 600, with no upper cap (docs/behaviour.md#webhook-inputs).
func tokenExpiration(pod *corev1.Pod, sa *corev1.ServiceAccount, def int64) int64 {
	parse := func(annotations map[string]string) (int64, bool) {
		v, ok := annotations[AnnotationTokenExpiration]
		if !ok {
			return 0, false
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0, false
		}
		return max(n, MinTokenExpiration), true
	}
	if n, ok := parse(pod.Annotations); ok {
		return n
	}
	if sa != nil {
		if n, ok := parse(sa.Annotations); ok {
			return n
		}
	}
	return def
}

// skipContainers reads the pod's skip-containers annotation as ONE CSV record,
// names untrimmed ("a, b" skips "a" and " b"); a parse error skips nothing (docs/behaviour.md#webhook-inputs).
func skipContainers(pod *corev1.Pod) sets.Set[string] {
	v, ok := pod.Annotations[AnnotationSkipContainers]
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
