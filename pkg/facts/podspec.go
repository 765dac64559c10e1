package facts

import (
	"encoding/csv"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/sets"
)

// The pod identity webhook's names and defaults (docs/behaviour.md#pod-identity-webhook, #exact-strings).
const (
	AnnotationPrefix            = "eks.amazonaws.com"
	AnnotationRoleARN           = AnnotationPrefix + "/role-arn"
	AnnotationAudience          = AnnotationPrefix + "/audience"
	AnnotationRegionalSTS       = AnnotationPrefix + "/sts-regional-endpoints"
	AnnotationTokenExpiration   = AnnotationPrefix + "/token-expiration"
	AnnotationSkipContainers    = AnnotationPrefix + "/skip-containers"
	LabelSkipWebhook            = AnnotationPrefix + "/skip-pod-identity-webhook"
	DefaultAudience             = "sts.amazonaws.com"
	TokenVolumeName             = "aws-iam-token"
	TokenMountPath              = "/var/run/secrets/eks.amazonaws.com/serviceaccount"
	TokenPath                   = TokenMountPath + "/token"
	WindowsTokenPath            = `C:\var\run\secrets\eks.amazonaws.com\serviceaccount\token`
	DefaultTokenExpiration      = int64(86400)
	MinTokenExpiration          = int64(600)
	KubernetesDefaultTokenDir   = "/var/run/secrets/kubernetes.io/serviceaccount"
	PodIdentityVolumeName       = "eks-pod-identity-token"
	EnvRoleARN                  = "AWS_ROLE_ARN"
	EnvTokenFile                = "AWS_WEB_IDENTITY_TOKEN_FILE"
	EnvRegion                   = "AWS_REGION"
	EnvDefaultRegion            = "AWS_DEFAULT_REGION"
	EnvRegionalSTS              = "AWS_STS_REGIONAL_ENDPOINTS"
	EnvContainerCredentialsFull = "AWS_CONTAINER_CREDENTIALS_FULL_URI"
	EnvContainerAuthTokenFile   = "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"
)

// Container is one container of a pod with where it sits.
type Container struct {
	corev1.Container
	// Init is true for init containers (native sidecars included).
	Init bool
}

// Containers lists init containers then containers, the two lists the
// webhook mutates (docs/behaviour.md#init-and-ephemeral-containers: ephemeral containers are not touched).
func Containers(pod *corev1.Pod) []Container {
	out := make([]Container, 0, len(pod.Spec.InitContainers)+len(pod.Spec.Containers))
	for _, c := range pod.Spec.InitContainers {
		out = append(out, Container{Container: c, Init: true})
	}
	for _, c := range pod.Spec.Containers {
		out = append(out, Container{Container: c})
	}
	return out
}

// EnvValue returns a container env var: its literal value, whether it is set
// at all (value or valueFrom), and whether it comes from valueFrom.
func EnvValue(c corev1.Container, name string) (value string, set, fromRef bool) {
	for _, e := range c.Env {
		if e.Name == name {
			return e.Value, true, e.ValueFrom != nil
		}
	}
	return "", false, false
}

func HasEnv(c corev1.Container, name string) bool {
	_, ok, _ := EnvValue(c, name)
	return ok
}

// SkipContainers parses the skip-containers annotation exactly as the webhook
// does: one CSV record, names not trimmed, a parse error skips nothing
// (docs/behaviour.md#webhook-inputs).
func SkipContainers(pod *corev1.Pod) (names sets.Set[string], present bool, err error) {
	v, ok := pod.Annotations[AnnotationSkipContainers]
	if !ok {
		return sets.New[string](), false, nil
	}
	r := csv.NewReader(strings.NewReader(v))
	record, err := r.Read()
	if err != nil {
		return sets.New[string](), true, err
	}
	return sets.New(record...), true, nil
}

// EarlyExit reports whether the webhook leaves a container untouched because
// its own env already has a web-identity key, a region key and
// AWS_STS_REGIONAL_ENDPOINTS (docs/behaviour.md#injected-environment, fixture rawPodHasAll).
func EarlyExit(c corev1.Container) bool {
	webIdentity := HasEnv(c, EnvRoleARN) || HasEnv(c, EnvTokenFile)
	region := HasEnv(c, EnvRegion) || HasEnv(c, EnvDefaultRegion)
	return webIdentity && region && HasEnv(c, EnvRegionalSTS)
}

// IsWindows mirrors the webhook: only nodeSelector counts, never nodeAffinity
// (docs/behaviour.md#windows-pods).
func IsWindows(pod *corev1.Pod) bool {
	return pod.Spec.NodeSelector["kubernetes.io/os"] == "windows" || pod.Spec.NodeSelector["beta.kubernetes.io/os"] == "windows"
}

// TokenVolume returns the pod's aws-iam-token projected service-account token
// source, if any.
func TokenVolume(pod *corev1.Pod) (*corev1.Volume, *corev1.ServiceAccountTokenProjection) {
	return projectedTokenVolume(pod, TokenVolumeName)
}

// projectedTokenVolume returns the pod's projected volume called name and
// its service-account token source, if any.
func projectedTokenVolume(pod *corev1.Pod, name string) (*corev1.Volume, *corev1.ServiceAccountTokenProjection) {
	for i := range pod.Spec.Volumes {
		v := &pod.Spec.Volumes[i]
		if v.Name != name || v.Projected == nil {
			continue
		}
		for _, src := range v.Projected.Sources {
			if src.ServiceAccountToken != nil {
				return v, src.ServiceAccountToken
			}
		}
		return v, nil
	}
	return nil, nil
}

// MountOf returns the container's mount of the named volume.
func MountOf(c corev1.Container, volume string) (corev1.VolumeMount, bool) {
	for _, m := range c.VolumeMounts {
		if m.Name == volume {
			return m, true
		}
	}
	return corev1.VolumeMount{}, false
}

// RoleARNAnnotation returns the service account's role-arn annotation.
func RoleARNAnnotation(sa *corev1.ServiceAccount) (string, bool) {
	if sa == nil {
		return "", false
	}
	v, ok := sa.Annotations[AnnotationRoleARN]
	return v, ok
}

// RoleARNOf is the role-arn annotation's value, or "".
func RoleARNOf(sa *corev1.ServiceAccount) string {
	v, _ := RoleARNAnnotation(sa)
	return v
}

// ParseTokenExpiration parses a token-expiration annotation like the webhook:
// an integer, raised to 600 when lower; anything else is ignored.
func ParseTokenExpiration(v string) (seconds int64, ok bool) {
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, false
	}
	if n < MinTokenExpiration {
		n = MinTokenExpiration
	}
	return n, true
}

// AnnotationWrittenAt finds when the role-arn annotation was last written,
// from the managedFields entry that owns it. The time is that manager's last
// write, which is at or after the annotation's; it is the best the API offers.
func AnnotationWrittenAt(sa *corev1.ServiceAccount, key string) (t time.Time, manager string, ok bool) {
	if sa == nil {
		return time.Time{}, "", false
	}
	needle := `"f:` + key + `"`
	for _, mf := range sa.ManagedFields {
		if mf.FieldsV1 == nil || mf.Time == nil {
			continue
		}
		if strings.Contains(string(mf.FieldsV1.Raw), needle) && mf.Time.After(t) {
			t, manager, ok = mf.Time.Time, mf.Manager, true
		}
	}
	return t, manager, ok
}

// IntendedRoleARN reports whether the subject's service account asks for
// IRSA: a role-arn annotation that is not blank, else an entry of the
// webhook's ConfigMap (docs/behaviour.md#webhook-inputs).
func IntendedRoleARN(subj *Subject) (string, bool) {
	_, v, ok := SubjectRoleAnnotation(subj)
	if ok && strings.TrimSpace(v) != "" {
		return v, true
	}
	// As the webhook: the ConfigMap's role only for a service account
	// without an annotation of its own.
	if e := subj.WebhookConfig; e != nil && strings.TrimSpace(e.RoleARN) != "" && subj.ServiceAccount != nil {
		return e.RoleARN, true
	}
	return "", false
}

// TokenAudience is the audience the subject's pods present: the projected
// volume's audience of the first mutated pod, else what the webhook would use.
// A missing service account means the webhook's default.
func TokenAudience(subj *Subject) (aud, source string) {
	for _, pf := range subj.Pods {
		if _, tok := TokenVolume(pf.Pod); tok != nil && tok.Audience != "" {
			return tok.Audience, "pod/" + pf.Pod.Name + " volume " + TokenVolumeName
		}
	}
	if subj.ServiceAccount != nil {
		key := AnnotationPrefixOf(subj) + "/audience"
		if v, ok := subj.ServiceAccount.Annotations[key]; ok && v != "" {
			return v, "serviceaccount annotation " + key
		}
	}
	if e := subj.WebhookConfig; e != nil && e.Audience != "" {
		if _, annotated := RoleARNAnnotation(subj.ServiceAccount); !annotated {
			return e.Audience, "ConfigMap " + WebhookConfigMapName + " entry " + e.Key
		}
	}
	return DefaultAudience, "webhook default"
}

// AnnotationPrefixOf is the annotation prefix the webhook evidently runs
// with for this subject: the default, unless the service account has no
// default role-arn annotation but a PREFIX/role-arn one whose value its pods
// carry as AWS_ROLE_ARN, which only a webhook run with
// --annotation-prefix=PREFIX puts there (docs/behaviour.md#webhook-inputs).
func AnnotationPrefixOf(subj *Subject) string {
	sa := subj.ServiceAccount
	if sa == nil {
		return AnnotationPrefix
	}
	if _, ok := sa.Annotations[AnnotationRoleARN]; ok {
		return AnnotationPrefix
	}
	for key, value := range sa.Annotations {
		prefix, ok := strings.CutSuffix(key, "/role-arn")
		if !ok || prefix == AnnotationPrefix || strings.TrimSpace(value) == "" {
			continue
		}
		for _, pf := range subj.Pods {
			for _, c := range Containers(pf.Pod) {
				if v, set, _ := EnvValue(c.Container, EnvRoleARN); set && v == value {
					return prefix
				}
			}
		}
	}
	return AnnotationPrefix
}

// SubjectRoleAnnotation is the subject's role-arn annotation under the
// prefix the webhook runs with: its key, its value, and whether it is set.
func SubjectRoleAnnotation(subj *Subject) (key, value string, ok bool) {
	key = AnnotationPrefixOf(subj) + "/role-arn"
	if subj.ServiceAccount == nil {
		return key, "", false
	}
	value, ok = subj.ServiceAccount.Annotations[key]
	return key, value, ok
}
