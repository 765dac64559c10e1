package kube

import (
	"encoding/json"
	"path"
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
// network, the security context's user and group, the projected volumes a
// check can reach (stripVolumes), and the containers and init containers
// (stripContainer); of its status the phase and the node's address (the
// CloudTrail checks match a Pod Identity refusal to it). Ephemeral containers are
// dropped: the webhook never mutates them
// (docs/behaviour.md#init-and-ephemeral-containers).
func StripPod(p *corev1.Pod) { stripPod(p, nil) }

// stripPod is StripPod sharing, through in (when not nil), the parts that
// are equal to those of a pod stripped before.
func stripPod(p *corev1.Pod, in *interner) {
	old := &p.Spec
	volumes := stripVolumes(old)
	spec := corev1.PodSpec{
		Volumes:                      in.volumes(volumes),
		InitContainers:               in.containers(stripContainers(old.InitContainers, volumes, in)),
		Containers:                   in.containers(stripContainers(old.Containers, volumes, in)),
		ServiceAccountName:           in.str(old.ServiceAccountName),
		DeprecatedServiceAccount:     in.str(old.DeprecatedServiceAccount),
		AutomountServiceAccountToken: old.AutomountServiceAccountToken,
		NodeName:                     in.str(old.NodeName),
		NodeSelector:                 in.labels(old.NodeSelector),
		HostNetwork:                  old.HostNetwork,
		SchedulerName:                in.str(old.SchedulerName),
		OS:                           old.OS,
	}
	if sc := old.SecurityContext; sc != nil {
		spec.SecurityContext = &corev1.PodSecurityContext{RunAsUser: sc.RunAsUser, RunAsGroup: sc.RunAsGroup,
			RunAsNonRoot: sc.RunAsNonRoot, FSGroup: sc.FSGroup, SupplementalGroups: sc.SupplementalGroups}
	}
	meta := stripObjectMeta(&p.ObjectMeta)
	meta.Namespace, meta.Labels, meta.Annotations = in.str(meta.Namespace), in.labels(meta.Labels), in.labels(meta.Annotations)
	meta.OwnerReferences = in.owners(meta.OwnerReferences)
	*p = corev1.Pod{TypeMeta: p.TypeMeta, ObjectMeta: meta, Spec: spec, Status: corev1.PodStatus{Phase: corev1.PodPhase(in.str(string(p.Status.Phase))), HostIP: in.str(p.Status.HostIP)}}
}

// stripContainer keeps a container's name, image, env (every variable:
// the IRSA, Pod Identity, region and proxy checks read them), envFrom, the
// volume mounts a check reads (keepMount), restart policy (a native
// sidecar) and the security context's user and group; commands, ports,
// probes and resources go.
func stripContainer(c *corev1.Container, volumes []corev1.Volume) corev1.Container {
	out := corev1.Container{Name: c.Name, Image: c.Image, Env: c.Env, EnvFrom: c.EnvFrom, RestartPolicy: c.RestartPolicy}
	for _, m := range c.VolumeMounts {
		if keepMount(m, volumes) {
			out.VolumeMounts = append(out.VolumeMounts, m)
		}
	}
	if sc := c.SecurityContext; sc != nil {
		out.SecurityContext = &corev1.SecurityContext{RunAsUser: sc.RunAsUser, RunAsGroup: sc.RunAsGroup, RunAsNonRoot: sc.RunAsNonRoot}
	}
	return out
}

// keepMount keeps the mounts checks read: of the webhook's volumes (looked
// up by name, whatever the volume is), of the volumes kept, and of AWS
// shared files (~/.aws, where a mounted credentials file sits). The mount
// of a dropped kube-api-access-xxxxx volume goes with it: its random name
// was what made every pod's containers differ from their siblings'.
func keepMount(m corev1.VolumeMount, volumes []corev1.Volume) bool {
	if m.Name == facts.TokenVolumeName || m.Name == facts.PodIdentityVolumeName || strings.Contains(m.MountPath, ".aws") {
		return true
	}
	for _, v := range volumes {
		if v.Name == m.Name {
			return true
		}
	}
	return false
}

func stripContainers(cs []corev1.Container, volumes []corev1.Volume, in *interner) []corev1.Container {
	if cs == nil {
		return nil
	}
	out := make([]corev1.Container, len(cs))
	for i := range cs {
		c := stripContainer(&cs[i], volumes)
		c.Name, c.Image = in.str(c.Name), in.str(c.Image)
		c.Env, c.EnvFrom, c.VolumeMounts = in.env(c.Env), in.envFrom(c.EnvFrom), in.mounts(c.VolumeMounts)
		out[i] = c
	}
	return out
}

// stripVolumes keeps the projected volumes a check can reach, with their
// service-account-token sources and mode: the webhook's two, which checks
// look up by name (facts.TokenVolume), and any other whose mount in some
// container holds a file that container's env names (the token checks
// follow AWS_WEB_IDENTITY_TOKEN_FILE through mounts to the volume that
// provides it). The API server's kube-api-access-xxxxx volume is then
// dropped from nearly every pod, and with it the one part of a pod's
// volumes that differs from its siblings'. Volumes that are not projected
// provide no token and are dropped; their mounts stay (a check reads
// mounts of ~/.aws).
func stripVolumes(spec *corev1.PodSpec) []corev1.Volume {
	var out []corev1.Volume
	for i := range spec.Volumes {
		v := &spec.Volumes[i]
		if v.Projected == nil {
			continue
		}
		p := &corev1.ProjectedVolumeSource{DefaultMode: v.Projected.DefaultMode}
		for _, src := range v.Projected.Sources {
			if src.ServiceAccountToken != nil {
				p.Sources = append(p.Sources, corev1.VolumeProjection{ServiceAccountToken: src.ServiceAccountToken})
			}
		}
		webhooks := v.Name == facts.TokenVolumeName || v.Name == facts.PodIdentityVolumeName
		if !webhooks && (len(p.Sources) == 0 || !namesFileIn(spec, v.Name)) {
			continue
		}
		if out == nil {
			out = make([]corev1.Volume, 0, len(spec.Volumes)-i)
		}
		out = append(out, corev1.Volume{Name: v.Name, VolumeSource: corev1.VolumeSource{Projected: p}})
	}
	return out
}

// namesFileIn reports whether a container that mounts the volume has a
// literal env value naming its mount path or a path below it.
func namesFileIn(spec *corev1.PodSpec, volume string) bool {
	for _, cs := range [][]corev1.Container{spec.InitContainers, spec.Containers} {
		for _, c := range cs {
			for _, m := range c.VolumeMounts {
				if m.Name != volume || m.MountPath == "" {
					continue
				}
				dir := path.Clean(m.MountPath)
				for _, e := range c.Env {
					if f := path.Clean(e.Value); e.Value != "" && (f == dir || strings.HasPrefix(f, dir+"/") || dir == "/") {
						return true
					}
				}
			}
		}
	}
	return false
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
