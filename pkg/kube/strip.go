package kube

import (
	"encoding/json"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/facts"
)

// The strip functions keep of each listed object what the checks read, and
// drop the rest as each LIST page arrives, as client-go's informer
// TransformFunc does: a run holds every pod of the scope until the judge
// has run, and whole pods (status, probes, resources, managedFields) made
// its memory grow by tens of kilobytes per pod. The snapshot
// (pipeline.NewSnapshot) applies the same functions, so a saved file holds
// exactly what the live run judged (docs/design.md#what-a-run-keeps). They
// are allowlists: a check that starts reading a field of a pod, a container
// or a service account must keep it here, and TestStripKeepsVerdicts fails
// until it does.

// AnnotationLastApplied is kubectl's copy of the whole applied object, env
// values and all; no check reads it.
const AnnotationLastApplied = "kubectl.kubernetes.io/last-applied-configuration"

// StripPod keeps the pod's identity, labels, annotations, owners and
// times; of its spec the service account, the node and scheduler, the host
// network, the security context's user and group, the volumes' names and
// projected sources, and the containers and init containers (StripContainer);
// of its status the phase. Ephemeral containers are dropped: the webhook
// never mutates them (docs/behaviour.md#init-and-ephemeral-containers).
func StripPod(p *corev1.Pod) {
	old := &p.Spec
	spec := corev1.PodSpec{
		Volumes:                      stripVolumes(old.Volumes),
		InitContainers:               stripContainers(old.InitContainers),
		Containers:                   stripContainers(old.Containers),
		ServiceAccountName:           old.ServiceAccountName,
		DeprecatedServiceAccount:     old.DeprecatedServiceAccount,
		AutomountServiceAccountToken: old.AutomountServiceAccountToken,
		NodeName:                     old.NodeName,
		NodeSelector:                 old.NodeSelector,
		HostNetwork:                  old.HostNetwork,
		SchedulerName:                old.SchedulerName,
		OS:                           old.OS,
	}
	if sc := old.SecurityContext; sc != nil {
		spec.SecurityContext = &corev1.PodSecurityContext{RunAsUser: sc.RunAsUser, RunAsGroup: sc.RunAsGroup,
			RunAsNonRoot: sc.RunAsNonRoot, FSGroup: sc.FSGroup, SupplementalGroups: sc.SupplementalGroups}
	}
	*p = corev1.Pod{TypeMeta: p.TypeMeta, ObjectMeta: stripObjectMeta(&p.ObjectMeta), Spec: spec,
		Status: corev1.PodStatus{Phase: p.Status.Phase}}
}

// StripContainer keeps a container's name, image, env (every variable:
// the IRSA, Pod Identity, region and proxy checks read them), envFrom,
// volume mounts, restart policy (a native sidecar) and the security
// context's user and group; commands, ports, probes and resources go.
func StripContainer(c *corev1.Container) {
	out := corev1.Container{Name: c.Name, Image: c.Image, Env: c.Env, EnvFrom: c.EnvFrom, VolumeMounts: c.VolumeMounts,
		RestartPolicy: c.RestartPolicy}
	if sc := c.SecurityContext; sc != nil {
		out.SecurityContext = &corev1.SecurityContext{RunAsUser: sc.RunAsUser, RunAsGroup: sc.RunAsGroup, RunAsNonRoot: sc.RunAsNonRoot}
	}
	*c = out
}

func stripContainers(cs []corev1.Container) []corev1.Container {
	if cs == nil {
		return nil
	}
	out := make([]corev1.Container, len(cs))
	for i := range cs {
		out[i] = cs[i]
		StripContainer(&out[i])
	}
	return out
}

// stripVolumes keeps every volume's name (a mount names it) and, of
// projected volumes, the service-account-token sources and the mode: the
// token checks follow mounts to them. Other sources (Secrets, ConfigMaps,
// host paths) are dropped with their names.
func stripVolumes(vs []corev1.Volume) []corev1.Volume {
	if vs == nil {
		return nil
	}
	out := make([]corev1.Volume, len(vs))
	for i, v := range vs {
		out[i] = corev1.Volume{Name: v.Name}
		if v.Projected == nil {
			continue
		}
		p := &corev1.ProjectedVolumeSource{DefaultMode: v.Projected.DefaultMode}
		for _, src := range v.Projected.Sources {
			if src.ServiceAccountToken != nil {
				p.Sources = append(p.Sources, corev1.VolumeProjection{ServiceAccountToken: src.ServiceAccountToken})
			}
		}
		out[i].Projected = p
	}
	return out
}

// StripServiceAccount keeps the service account's metadata (StripMeta with
// the annotation times) and automountServiceAccountToken; its Secrets and
// image pull secrets go.
func StripServiceAccount(sa *corev1.ServiceAccount) {
	meta := stripObjectMeta(&sa.ObjectMeta)
	meta.ManagedFields = annotationTimes(sa.ManagedFields, meta.Annotations)
	*sa = corev1.ServiceAccount{TypeMeta: sa.TypeMeta, ObjectMeta: meta, AutomountServiceAccountToken: sa.AutomountServiceAccountToken}
}

// StripMeta drops an object's managedFields and its last-applied
// annotation, in place; the rest of the object stays (namespaces and
// webhook configurations: few, and read whole).
func StripMeta(m *metav1.ObjectMeta) {
	*m = stripObjectMeta(m)
}

// stripObjectMeta keeps name, namespace, uid, labels, annotations (but the
// last-applied copy), owner references and the creation and deletion times.
func stripObjectMeta(m *metav1.ObjectMeta) metav1.ObjectMeta {
	delete(m.Annotations, AnnotationLastApplied)
	return metav1.ObjectMeta{Name: m.Name, Namespace: m.Namespace, UID: m.UID, Labels: m.Labels, Annotations: m.Annotations,
		OwnerReferences: m.OwnerReferences, CreationTimestamp: m.CreationTimestamp, DeletionTimestamp: m.DeletionTimestamp}
}

// annotationTimes keeps, of a service account's managedFields, which
// manager last wrote each eks.amazonaws.com annotation and when: the
// only part a check reads (facts.AnnotationWrittenAt; IRSA-POD-001 and
// IRSA-POD-002 compare it with pod creation times).
func annotationTimes(mfs []metav1.ManagedFieldsEntry, annotations map[string]string) []metav1.ManagedFieldsEntry {
	var kept []metav1.ManagedFieldsEntry
	for _, mf := range mfs {
		if mf.FieldsV1 == nil || mf.Time == nil {
			continue
		}
		owned := map[string]any{}
		for key := range annotations {
			if strings.HasPrefix(key, facts.AnnotationPrefix+"/") && strings.Contains(string(mf.FieldsV1.Raw), `"f:`+key+`"`) {
				owned["f:"+key] = map[string]any{}
			}
		}
		if len(owned) == 0 {
			continue
		}
		raw, err := json.Marshal(map[string]any{"f:metadata": map[string]any{"f:annotations": owned}})
		if err != nil {
			continue
		}
		kept = append(kept, metav1.ManagedFieldsEntry{Manager: mf.Manager, Operation: mf.Operation, Time: mf.Time,
			FieldsType: "FieldsV1", FieldsV1: &metav1.FieldsV1{Raw: raw}})
	}
	return kept
}
