// Package testutil builds the Kubernetes objects tests need, so that no test
// spells out a pod literal: pods, service accounts, workloads and the pod
// identity webhook's configuration, with a helper that mutates a pod the way
// the webhook would (docs/behaviour.md#pod-identity-webhook).
package testutil

import (
	"fmt"
	"maps"
	"slices"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// T0 is the reference time of test scenarios.
var T0 = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)

// RoleARN is a valid role ARN used across tests.
const RoleARN = "arn:aws:iam::111122223333:role/app"

func uid(kind, ns, name string) types.UID {
	return types.UID(fmt.Sprintf("%s-%s-%s", kind, ns, name))
}

// SA builds a ServiceAccount.
type SA struct{ sa *corev1.ServiceAccount }

// NewSA starts a service account created at T0.
func NewSA(ns, name string) *SA {
	return &SA{sa: &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name,
		UID: uid("sa", ns, name), CreationTimestamp: metav1.NewTime(T0)}}}
}

// Annotate sets an annotation.
func (b *SA) Annotate(k, v string) *SA {
	if b.sa.Annotations == nil {
		b.sa.Annotations = map[string]string{}
	}
	b.sa.Annotations[k] = v
	return b
}

// RoleARN sets eks.amazonaws.com/role-arn, written by manager "kubectl" at T0.
func (b *SA) RoleARN(arn string) *SA {
	return b.Annotate("eks.amazonaws.com/role-arn", arn).AnnotationWrittenAt("eks.amazonaws.com/role-arn", T0)
}

// AnnotationWrittenAt records in managedFields that key was written at t.
func (b *SA) AnnotationWrittenAt(key string, t time.Time) *SA {
	raw := fmt.Sprintf(`{"f:metadata":{"f:annotations":{".":{},"f:%s":{}}}}`, key)
	mt := metav1.NewTime(t)
	b.sa.ManagedFields = []metav1.ManagedFieldsEntry{{Manager: "kubectl-annotate", Operation: metav1.ManagedFieldsOperationUpdate,
		APIVersion: "v1", Time: &mt, FieldsType: "FieldsV1", FieldsV1: &metav1.FieldsV1{Raw: []byte(raw)}}}
	return b
}

// Label sets a label.
func (b *SA) Label(k, v string) *SA {
	if b.sa.Labels == nil {
		b.sa.Labels = map[string]string{}
	}
	b.sa.Labels[k] = v
	return b
}

// CreatedAt sets the creation time.
func (b *SA) CreatedAt(t time.Time) *SA { b.sa.CreationTimestamp = metav1.NewTime(t); return b }

// Build returns the object.
func (b *SA) Build() *corev1.ServiceAccount { return b.sa.DeepCopy() }

// Pod builds a Pod.
type Pod struct{ pod *corev1.Pod }

// NewPod starts a pod with one container "app", running as service account
// sa, created at T0+1h.
func NewPod(ns, name, sa string) *Pod {
	return &Pod{pod: &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, UID: uid("pod", ns, name), CreationTimestamp: metav1.NewTime(T0.Add(time.Hour)),
			Labels: map[string]string{"app": name}},
		Spec: corev1.PodSpec{ServiceAccountName: sa, Containers: []corev1.Container{{Name: "app", Image: "example/app:1"}}},
	}}
}

// PodOf starts a pod of rs's template (labels and spec), owned by rs as its
// controller (with rs's UID, so a ReplicaSet read back from an API server
// gives its pods a real owner reference), created at T0+1h.
func PodOf(rs *appsv1.ReplicaSet, name string) *Pod {
	yes := true
	return &Pod{pod: &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: rs.Namespace, Name: name, UID: uid("pod", rs.Namespace, name),
			CreationTimestamp: metav1.NewTime(T0.Add(time.Hour)), Labels: maps.Clone(rs.Spec.Template.Labels),
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: rs.Name, UID: rs.UID, Controller: &yes}}},
		Spec: *rs.Spec.Template.Spec.DeepCopy(),
	}}
}

// CreatedAt sets the creation time.
func (b *Pod) CreatedAt(t time.Time) *Pod { b.pod.CreationTimestamp = metav1.NewTime(t); return b }

// ServiceAccount sets the service account the pod runs as.
func (b *Pod) ServiceAccount(name string) *Pod { b.pod.Spec.ServiceAccountName = name; return b }

// Label sets a label.
func (b *Pod) Label(k, v string) *Pod {
	if b.pod.Labels == nil {
		b.pod.Labels = map[string]string{}
	}
	b.pod.Labels[k] = v
	return b
}

// Annotate sets an annotation.
func (b *Pod) Annotate(k, v string) *Pod {
	if b.pod.Annotations == nil {
		b.pod.Annotations = map[string]string{}
	}
	b.pod.Annotations[k] = v
	return b
}

// Container adds a container.
func (b *Pod) Container(name string) *Pod {
	b.pod.Spec.Containers = append(b.pod.Spec.Containers, corev1.Container{Name: name, Image: "example/" + name})
	return b
}

// InitContainer adds an init container; sidecar makes it a native sidecar.
func (b *Pod) InitContainer(name string, sidecar bool) *Pod {
	c := corev1.Container{Name: name, Image: "example/" + name}
	if sidecar {
		always := corev1.ContainerRestartPolicyAlways
		c.RestartPolicy = &always
	}
	b.pod.Spec.InitContainers = append(b.pod.Spec.InitContainers, c)
	return b
}

func (b *Pod) container(name string) *corev1.Container {
	for i := range b.pod.Spec.InitContainers {
		if b.pod.Spec.InitContainers[i].Name == name {
			return &b.pod.Spec.InitContainers[i]
		}
	}
	for i := range b.pod.Spec.Containers {
		if b.pod.Spec.Containers[i].Name == name {
			return &b.pod.Spec.Containers[i]
		}
	}
	panic("testutil: no container " + name) // a typo in a test
}

// Env sets a literal env var on a container (replacing an existing one).
func (b *Pod) Env(container, k, v string) *Pod {
	c := b.container(container)
	for i := range c.Env {
		if c.Env[i].Name == k {
			c.Env[i].Value = v
			return b
		}
	}
	c.Env = append(c.Env, corev1.EnvVar{Name: k, Value: v})
	return b
}

// EnvFromSecret adds an envFrom Secret source to a container.
func (b *Pod) EnvFromSecret(container, secret, prefix string) *Pod {
	c := b.container(container)
	c.EnvFrom = append(c.EnvFrom, corev1.EnvFromSource{Prefix: prefix, SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: secret}}})
	return b
}

// EnvFromConfigMap adds an envFrom ConfigMap source to a container.
func (b *Pod) EnvFromConfigMap(container, cm string) *Pod {
	c := b.container(container)
	c.EnvFrom = append(c.EnvFrom, corev1.EnvFromSource{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: cm}}})
	return b
}

// Mount adds a volume mount to a container.
func (b *Pod) Mount(container, volume, path string) *Pod {
	c := b.container(container)
	c.VolumeMounts = append(c.VolumeMounts, corev1.VolumeMount{Name: volume, MountPath: path, ReadOnly: true})
	return b
}

// RunAs sets the container's runAsUser; nil container name means pod level.
func (b *Pod) RunAs(container string, uid int64) *Pod {
	if container == "" {
		if b.pod.Spec.SecurityContext == nil {
			b.pod.Spec.SecurityContext = &corev1.PodSecurityContext{}
		}
		b.pod.Spec.SecurityContext.RunAsUser = &uid
		return b
	}
	c := b.container(container)
	if c.SecurityContext == nil {
		c.SecurityContext = &corev1.SecurityContext{}
	}
	c.SecurityContext.RunAsUser = &uid
	return b
}

// FSGroup sets the pod's fsGroup.
func (b *Pod) FSGroup(gid int64) *Pod {
	if b.pod.Spec.SecurityContext == nil {
		b.pod.Spec.SecurityContext = &corev1.PodSecurityContext{}
	}
	b.pod.Spec.SecurityContext.FSGroup = &gid
	return b
}

// NodeSelector sets a node selector entry.
func (b *Pod) NodeSelector(k, v string) *Pod {
	if b.pod.Spec.NodeSelector == nil {
		b.pod.Spec.NodeSelector = map[string]string{}
	}
	b.pod.Spec.NodeSelector[k] = v
	return b
}

// HostNetwork runs the pod on its node's network.
func (b *Pod) HostNetwork() *Pod { b.pod.Spec.HostNetwork = true; return b }

// SchedulerName sets spec.schedulerName (EKS Fargate pods name
// fargate-scheduler).
func (b *Pod) SchedulerName(name string) *Pod { b.pod.Spec.SchedulerName = name; return b }

// OwnedBy adds a controller owner reference.
func (b *Pod) OwnedBy(kind, name string) *Pod {
	b.pod.OwnerReferences = append(b.pod.OwnerReferences, ControllerRef(kind, b.pod.Namespace, name))
	return b
}

// ControllerRef is the controller owner reference to kind/name in ns.
func ControllerRef(kind, ns, name string) metav1.OwnerReference {
	yes := true
	apiVersion := "apps/v1"
	switch kind {
	case "Job", "CronJob":
		apiVersion = "batch/v1"
	case "ReplicationController":
		apiVersion = "v1"
	}
	return metav1.OwnerReference{APIVersion: apiVersion, Kind: kind, Name: name, UID: uid(kind, ns, name), Controller: &yes}
}

// TokenVolume adds the aws-iam-token projected volume the webhook adds (a
// service account token for audience, valid 86400 s, at path "token"), and
// nothing else: no mount, no env, as a chart that brings its own volume does.
func (b *Pod) TokenVolume(audience string) *Pod {
	exp := int64(86400)
	b.pod.Spec.Volumes = append(b.pod.Spec.Volumes, corev1.Volume{Name: "aws-iam-token", VolumeSource: corev1.VolumeSource{
		Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{
			Audience: audience, ExpirationSeconds: &exp, Path: "token"}}}}}})
	return b
}

// PodIdentityByHand gives container the Pod Identity variables and an
// eks-pod-identity-token volume for audience mounted where the webhook
// mounts it, as a hand-written manifest (or a webhook) would.
func (b *Pod) PodIdentityByHand(container, audience string) *Pod {
	exp := int64(86400)
	b.pod.Spec.Volumes = append(b.pod.Spec.Volumes, corev1.Volume{Name: "eks-pod-identity-token", VolumeSource: corev1.VolumeSource{
		Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{
			Audience: audience, ExpirationSeconds: &exp, Path: "eks-pod-identity-token"}}}}}})
	dir := "/var/run/secrets/pods.eks.amazonaws.com/serviceaccount"
	return b.Env(container, "AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://169.254.170.23/v1/credentials").
		Env(container, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", dir+"/eks-pod-identity-token").
		Mount(container, "eks-pod-identity-token", dir)
}

// TokenVolumeMode sets defaultMode on the aws-iam-token projected volume.
func (b *Pod) TokenVolumeMode(mode int32) *Pod {
	for i := range b.pod.Spec.Volumes {
		if b.pod.Spec.Volumes[i].Name == "aws-iam-token" {
			b.pod.Spec.Volumes[i].Projected.DefaultMode = &mode
		}
	}
	return b
}

// webhookEnv are the variables Mutate injects.
var webhookEnv = []string{"AWS_STS_REGIONAL_ENDPOINTS", "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE"}

// Mutate applies what the pod identity webhook would inject for roleARN and
// audience (docs/behaviour.md#injected-environment, #token-volume-and-mount): regional STS, region, role and token env
// in every init and regular container, the aws-iam-token volume and mounts.
// The webhook mutates a pod once, at admission, so Mutate first undoes an
// earlier Mutate: applied twice, the pod is mutated once, for the last
// arguments, in every container it has by then.
func (b *Pod) Mutate(roleARN, audience string) *Pod {
	b.unmutate()
	b.TokenVolume(audience)
	mutate := func(c *corev1.Container) {
		c.Env = append(c.Env,
			corev1.EnvVar{Name: "AWS_STS_REGIONAL_ENDPOINTS", Value: "regional"},
			corev1.EnvVar{Name: "AWS_DEFAULT_REGION", Value: "us-west-2"},
			corev1.EnvVar{Name: "AWS_REGION", Value: "us-west-2"},
			corev1.EnvVar{Name: "AWS_ROLE_ARN", Value: roleARN},
			corev1.EnvVar{Name: "AWS_WEB_IDENTITY_TOKEN_FILE", Value: "/var/run/secrets/eks.amazonaws.com/serviceaccount/token"})
		c.VolumeMounts = append(c.VolumeMounts, corev1.VolumeMount{Name: "aws-iam-token", MountPath: "/var/run/secrets/eks.amazonaws.com/serviceaccount", ReadOnly: true})
	}
	for i := range b.pod.Spec.InitContainers {
		mutate(&b.pod.Spec.InitContainers[i])
	}
	for i := range b.pod.Spec.Containers {
		mutate(&b.pod.Spec.Containers[i])
	}
	return b
}

// unmutate removes what Mutate adds.
func (b *Pod) unmutate() {
	vols := b.pod.Spec.Volumes[:0]
	for _, v := range b.pod.Spec.Volumes {
		if v.Name != "aws-iam-token" {
			vols = append(vols, v)
		}
	}
	b.pod.Spec.Volumes = vols
	clean := func(c *corev1.Container) {
		env := c.Env[:0]
		for _, e := range c.Env {
			if !slices.Contains(webhookEnv, e.Name) {
				env = append(env, e)
			}
		}
		c.Env = env
		mounts := c.VolumeMounts[:0]
		for _, m := range c.VolumeMounts {
			if m.Name != "aws-iam-token" {
				mounts = append(mounts, m)
			}
		}
		c.VolumeMounts = mounts
	}
	for i := range b.pod.Spec.InitContainers {
		clean(&b.pod.Spec.InitContainers[i])
	}
	for i := range b.pod.Spec.Containers {
		clean(&b.pod.Spec.Containers[i])
	}
}

// RemoveEnv deletes an env var from a container.
func (b *Pod) RemoveEnv(container, k string) *Pod {
	c := b.container(container)
	out := c.Env[:0]
	for _, e := range c.Env {
		if e.Name != k {
			out = append(out, e)
		}
	}
	c.Env = out
	return b
}

// Build returns the object.
func (b *Pod) Build() *corev1.Pod { return b.pod.DeepCopy() }

// Deployment returns a deployment whose template runs as sa, and a ReplicaSet
// it owns; pods join it with OwnedBy("ReplicaSet", name+"-rs"), or are built
// from it with PodOf. The template has the named containers (default: one,
// "app", as NewPod).
func Deployment(ns, name, sa string, containers ...string) (*appsv1.Deployment, *appsv1.ReplicaSet) {
	cs := []corev1.Container{{Name: "app", Image: "example/app:1"}}
	if len(containers) > 0 {
		cs = make([]corev1.Container, 0, len(containers))
		for _, c := range containers {
			cs = append(cs, corev1.Container{Name: c, Image: "example/" + c})
		}
	}
	tmpl := corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": name}},
		Spec: corev1.PodSpec{ServiceAccountName: sa, Containers: cs}}
	d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, UID: uid("Deployment", ns, name), CreationTimestamp: metav1.NewTime(T0)},
		Spec: appsv1.DeploymentSpec{Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}}, Template: tmpl}}
	rs := &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name + "-rs", UID: uid("ReplicaSet", ns, name+"-rs"),
		OwnerReferences: []metav1.OwnerReference{ControllerRef("Deployment", ns, name)}},
		Spec: appsv1.ReplicaSetSpec{Selector: d.Spec.Selector, Template: tmpl}}
	return d, rs
}

// StatefulSet returns a statefulset whose template runs as sa.
func StatefulSet(ns, name, sa string) *appsv1.StatefulSet {
	return &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, UID: uid("StatefulSet", ns, name)},
		Spec: appsv1.StatefulSetSpec{Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": name}},
				Spec: corev1.PodSpec{ServiceAccountName: sa, Containers: []corev1.Container{{Name: "app", Image: "example/app:1"}}}}}}
}

// CronJob returns a cronjob whose template runs as sa, and a Job it owns;
// pods join it with OwnedBy("Job", name+"-1").
func CronJob(ns, name, sa string) (*batchv1.CronJob, *batchv1.Job) {
	spec := corev1.PodSpec{ServiceAccountName: sa, RestartPolicy: corev1.RestartPolicyNever, Containers: []corev1.Container{{Name: "app", Image: "example/app:1"}}}
	cj := &batchv1.CronJob{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, UID: uid("CronJob", ns, name)},
		Spec: batchv1.CronJobSpec{Schedule: "*/5 * * * *", JobTemplate: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{Template: corev1.PodTemplateSpec{Spec: spec}}}}}
	job := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name + "-1", UID: uid("Job", ns, name+"-1"),
		OwnerReferences: []metav1.OwnerReference{ControllerRef("CronJob", ns, name)}},
		Spec: batchv1.JobSpec{Template: corev1.PodTemplateSpec{Spec: spec}}}
	return cj, job
}

// Namespace returns a namespace with labels.
func Namespace(name string, labels map[string]string) *corev1.Namespace {
	return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}
}

// Secret returns a secret with the given keys (values are placeholders).
func Secret(ns, name string, keys ...string) *corev1.Secret {
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Data: map[string][]byte{}}
	for _, k := range keys {
		s.Data[k] = []byte("placeholder")
	}
	return s
}

// Webhook returns the EKS pod identity webhook configuration (docs/behaviour.md#webhook-admission).
func Webhook() *admissionregistrationv1.MutatingWebhookConfiguration {
	ignore := admissionregistrationv1.Ignore
	none := admissionregistrationv1.SideEffectClassNone
	return &admissionregistrationv1.MutatingWebhookConfiguration{ObjectMeta: metav1.ObjectMeta{Name: "pod-identity-webhook"},
		Webhooks: []admissionregistrationv1.MutatingWebhook{{
			Name:                    "iam-for-pods.amazonaws.com",
			FailurePolicy:           &ignore,
			SideEffects:             &none,
			AdmissionReviewVersions: []string{"v1beta1"},
			ObjectSelector: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{
				Key: "eks.amazonaws.com/skip-pod-identity-webhook", Operator: metav1.LabelSelectorOpDoesNotExist}}},
			Rules: []admissionregistrationv1.RuleWithOperations{{Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create},
				Rule: admissionregistrationv1.Rule{APIGroups: []string{""}, APIVersions: []string{"v1"}, Resources: []string{"pods"}}}},
		}}}
}

// Unmount removes a container's mount of a volume.
func (b *Pod) Unmount(container, volume string) *Pod {
	c := b.container(container)
	out := c.VolumeMounts[:0]
	for _, m := range c.VolumeMounts {
		if m.Name != volume {
			out = append(out, m)
		}
	}
	c.VolumeMounts = out
	return b
}

// DaemonSet returns a daemonset whose template runs as sa.
func DaemonSet(ns, name, sa string) *appsv1.DaemonSet {
	return &appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, UID: uid("DaemonSet", ns, name)},
		Spec: appsv1.DaemonSetSpec{Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": name}},
				Spec: corev1.PodSpec{ServiceAccountName: sa, Containers: []corev1.Container{{Name: "app", Image: "example/app:1"}}}}}}
}
