package facts

import (
	"strings"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
)

// Snapshot is everything the checks may look at, gathered before judging.
type Snapshot struct {
	// Now is the clock the checks use; the collector sets it once.
	Now time.Time `json:"now,omitempty"`
	// Subjects are the service accounts being diagnosed, in output order.
	Subjects []*Subject `json:"subjects,omitempty"`
	// Webhooks are the cluster's MutatingWebhookConfigurations.
	Webhooks WebhookFacts `json:"webhooks,omitempty"`
	// Namespaces holds the namespaces of the subjects (for namespaceSelector);
	// a namespace missing from the map could not be read.
	Namespaces map[string]*corev1.Namespace `json:"namespaces,omitempty"`
	// NamespaceErrs records namespaces that could not be read.
	NamespaceErrs map[string]*ReadError `json:"namespaceErrors,omitempty"`
	// AWS holds the AWS facts; nil when the AWS half was skipped.
	AWS *AWSFacts `json:"aws,omitempty"`

	// WebhookConfigMap is what was read of the webhook's pod-identity-webhook
	// ConfigMap; nil when it was not looked for.
	WebhookConfigMap *WebhookConfigMap `json:"webhookConfigMap,omitempty"`
	// RoleServiceAccounts are the service accounts of the listed namespaces
	// that carry a role-arn annotation, namespace → name → role ARN, so a
	// finding on an unannotated one can name the one that was meant.
	RoleServiceAccounts map[string]map[string]string `json:"roleServiceAccounts,omitempty"`
	// Probes holds --probe results by "namespace/serviceaccount"; nil
	// when no probe was asked for.
	Probes map[string]*ProbeFacts `json:"probes,omitempty"`
	// PodIdentityProbes holds the Pod Identity half of --probe (EKS Auth
	// AssumeRoleForPodIdentity) by "namespace/serviceaccount".
	PodIdentityProbes map[string]*PodIdentityProbe `json:"podIdentityProbes,omitempty"`
	// CloudTrail is what was read of CloudTrail; nil when it was not
	// asked for (diagnose without --cloudtrail).
	CloudTrail *TrailFacts `json:"cloudTrail,omitempty"`
	// PodIdentityAgent is the eks-pod-identity-agent DaemonSet; nil when
	// it was not looked for (no subject uses or is meant to use Pod Identity).
	PodIdentityAgent *PodIdentityAgent `json:"podIdentityAgent,omitempty"`
}

// WebhookFacts is the result of listing MutatingWebhookConfigurations.
type WebhookFacts struct {
	Configs []admissionregistrationv1.MutatingWebhookConfiguration `json:"configs,omitempty"`
	// Err is set when the list failed (typically RBAC); the checks that need it
	// report `unknown` instead of guessing.
	Err *ReadError `json:"error,omitempty"`
}

// ReadError records a Kubernetes read that failed.
type ReadError struct {
	// Verb and Resource are the RBAC rule that was missing, e.g. "list" "mutatingwebhookconfigurations".
	Verb      string `json:"verb"`
	Resource  string `json:"resource"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name,omitempty"`
	Forbidden bool   `json:"forbidden"`
	Message   string `json:"message"`
}

// Subject is one service account under diagnosis with the pods that use it.
type Subject struct {
	Namespace          string `json:"namespace"`
	ServiceAccountName string `json:"serviceAccountName"`
	// ServiceAccount is nil when it does not exist (ServiceAccountErr nil) or
	// could not be read (ServiceAccountErr set).
	ServiceAccount    *corev1.ServiceAccount `json:"serviceAccount,omitempty"`
	ServiceAccountErr *ReadError             `json:"serviceAccountError,omitempty"`
	// WebhookConfig is the entry of the webhook's ConfigMap that gives this
	// service account a role (used only when it has no role-arn
	// annotation, as the webhook does); nil when none does.
	WebhookConfig *WebhookConfigEntry `json:"webhookConfig,omitempty"`
	// Workloads are the workloads the user named that use this service account.
	Workloads []Workload `json:"workloads,omitempty"`
	// Pods are the live pods that run as this service account and were in scope.
	Pods []PodFacts `json:"pods,omitempty"`
}

// Key is "namespace/serviceaccount", the key of Snapshot.Probes.
func (s *Subject) Key() string { return s.Namespace + "/" + s.ServiceAccountName }

// Workload is a controller (Deployment, StatefulSet, …) the user named.
type Workload struct {
	Kind string `json:"kind"`
	Name string `json:"name"`
	// TemplateServiceAccount is the service account its pod template names
	// ("default" when the template names none).
	TemplateServiceAccount string `json:"templateServiceAccount,omitempty"`
	// Pods lists the names of its live pods (found through owner references),
	// whatever service account they run as.
	Pods []PodRef `json:"pods,omitempty"`
}

// PodRef is a pod name with the service account it runs as.
type PodRef struct {
	Name           string `json:"name"`
	ServiceAccount string `json:"serviceAccount,omitempty"`
}

// PodFacts is a live pod with what the collector learned around it.
type PodFacts struct {
	Pod *corev1.Pod `json:"pod,omitempty"`
	// Owner is the pod's top-level controller (e.g. Deployment/x found through
	// its ReplicaSet); empty Kind for a bare pod.
	Owner Owner `json:"owner,omitempty"`
	// EnvSources are the Secrets and ConfigMaps its containers use through
	// envFrom, keyed by "Secret/name" or "ConfigMap/name".
	EnvSources map[string]EnvSource `json:"envSources,omitempty"`
}

// Owner is a pod's top-level controller.
type Owner struct {
	Kind string `json:"kind"`
	Name string `json:"name"`
}

// EnvSource is the key set of a Secret or ConfigMap used with envFrom. Only
// key names are kept: values never leave the collector.
type EnvSource struct {
	Kind string   `json:"kind"`
	Name string   `json:"name"`
	Keys []string `json:"keys,omitempty"`
	// Missing is true when the object does not exist.
	Missing bool       `json:"missing,omitempty"`
	Err     *ReadError `json:"error,omitempty"`
}

// WebhookConfigMapName is the ConfigMap a webhook run with
// --watch-config-map reads roles from (docs/behaviour.md#webhook-inputs).
const WebhookConfigMapName = "pod-identity-webhook"

// WebhookConfigMap is the outcome of looking for the webhook's ConfigMap.
type WebhookConfigMap struct {
	// Namespace is where it was found; "" when none exists.
	Namespace string `json:"namespace,omitempty"`
	// Entries is its data["config"], by "namespace/serviceaccount" ("*" for
	// every namespace).
	Entries map[string]WebhookConfigEntry `json:"entries,omitempty"`
	// ParseError says why data["config"] is not the webhook's JSON.
	ParseError string `json:"parseError,omitempty"`
	// Err is set when it could not be looked for (typically RBAC).
	Err *ReadError `json:"error,omitempty"`
}

// WebhookConfigEntry is one service account's entry of the ConfigMap, in
// the webhook's own shape.
type WebhookConfigEntry struct {
	// Key is the entry's key, e.g. "shop/app" or "*/app".
	Key             string `json:"key,omitempty"`
	RoleARN         string `json:"roleARN,omitempty"`
	Audience        string `json:"audience,omitempty"`
	UseRegionalSTS  bool   `json:"useRegionalSTS,omitempty"`
	TokenExpiration int64  `json:"tokenExpiration,omitempty"`
}

// Lookup finds the entry the webhook would use for namespace/name: the
// namespace's own, else the "*" one.
func (m *WebhookConfigMap) Lookup(namespace, name string) (WebhookConfigEntry, bool) {
	if m == nil {
		return WebhookConfigEntry{}, false
	}
	for _, key := range []string{namespace + "/" + name, "*/" + name} {
		if e, ok := m.Entries[key]; ok && strings.TrimSpace(e.RoleARN) != "" {
			e.Key = key
			return e, true
		}
	}
	return WebhookConfigEntry{}, false
}
