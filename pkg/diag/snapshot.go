package diag

import (
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
)

// Snapshot is everything the checks may look at, gathered before judging.
type Snapshot struct {
	// Now is the clock the checks use; the collector sets it once.
	Now time.Time
	// Subjects are the service accounts being diagnosed, in output order.
	Subjects []*Subject
	// Webhooks are the cluster's MutatingWebhookConfigurations.
	Webhooks WebhookFacts
	// Namespaces holds the namespaces of the subjects (for namespaceSelector);
	// a namespace missing from the map could not be read.
	Namespaces map[string]*corev1.Namespace
	// NamespaceErrs records namespaces that could not be read.
	NamespaceErrs map[string]*ReadError
	// AWS holds the AWS facts; nil when the AWS half was skipped.
	AWS *AWSFacts

	// Probes holds --probe results by "namespace/serviceaccount"; nil
	// when no probe was asked for.
	Probes map[string]*ProbeFacts

	// memo caches work several checks share within one Run.
	memo *runMemo
}

// WebhookFacts is the result of listing MutatingWebhookConfigurations.
type WebhookFacts struct {
	Configs []admissionregistrationv1.MutatingWebhookConfiguration
	// Err is set when the list failed (typically RBAC); the checks that need it
	// report `unknown` instead of guessing.
	Err *ReadError
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
	Namespace          string
	ServiceAccountName string
	// ServiceAccount is nil when it does not exist (ServiceAccountErr nil) or
	// could not be read (ServiceAccountErr set).
	ServiceAccount    *corev1.ServiceAccount
	ServiceAccountErr *ReadError
	// Workloads are the workloads the user named that use this service account.
	Workloads []Workload
	// Pods are the live pods that run as this service account and were in scope.
	Pods []PodFacts
}

// Ref is the subject's object reference.
func (s *Subject) Ref() ObjectRef {
	return ObjectRef{Kind: "ServiceAccount", Namespace: s.Namespace, Name: s.ServiceAccountName}
}

// Workload is a controller (Deployment, StatefulSet, …) the user named.
type Workload struct {
	Kind string
	Name string
	// TemplateServiceAccount is the service account its pod template names
	// ("default" when the template names none).
	TemplateServiceAccount string
	// Pods lists the names of its live pods (found through owner references),
	// whatever service account they run as.
	Pods []PodRef
}

// PodRef is a pod name with the service account it runs as.
type PodRef struct {
	Name           string
	ServiceAccount string
}

// PodFacts is a live pod with what the collector learned around it.
type PodFacts struct {
	Pod *corev1.Pod
	// Owner is the pod's top-level controller (e.g. Deployment/x found through
	// its ReplicaSet); empty Kind for a bare pod.
	Owner Owner
	// EnvSources are the Secrets and ConfigMaps its containers use through
	// envFrom, keyed by "Secret/name" or "ConfigMap/name".
	EnvSources map[string]EnvSource
}

// Owner is a pod's top-level controller.
type Owner struct {
	Kind string
	Name string
}

// EnvSource is the key set of a Secret or ConfigMap used with envFrom. Only
// key names are kept: values never leave the collector.
type EnvSource struct {
	Kind string
	Name string
	Keys []string
	// Missing is true when the object does not exist.
	Missing bool
	Err     *ReadError
}
