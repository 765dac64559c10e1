package synth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"

	"github.com/kubectl-irsa/kubectl-irsa/test/webhook"
)

// Region is what the webhook injects as AWS_REGION, as on EKS.
const Region = "us-west-2"

// PopulateOptions tune Populate.
type PopulateOptions struct {
	// Workers is how many create requests are in flight; default 32.
	Workers int
	// Logf receives progress lines; nil is silent.
	Logf func(format string, args ...any)
}

// Populate creates spec's namespaces, service accounts, Deployments with
// their ReplicaSets, and pods, then registers the pod identity webhook's
// configuration. Objects that already exist are kept, so calling it again
// with more pods adds only the new ones. Pods are built already mutated
// (webhook.Mutate, the emulator's own mutation), not admitted through a
// webhook: that is the same result without an admission call per pod. The
// client should have a high QPS: Populate makes several requests per pod.
func Populate(ctx context.Context, cs kubernetes.Interface, spec Spec, o PopulateOptions) error {
	if err := spec.Validate(); err != nil {
		return err
	}
	if o.Workers <= 0 {
		o.Workers = 32
	}
	logf := o.Logf
	if logf == nil {
		logf = func(string, ...any) {}
	}
	started := time.Now()

	err := parallel(ctx, spec.Namespaces, o.Workers, nil, func(ctx context.Context, n int) error {
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: Namespace(n), Labels: map[string]string{"team": fmt.Sprintf("team-%02d", n%40)}}}
		return ignoreExists(cs.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}))
	})
	if err != nil {
		return fmt.Errorf("create namespaces: %w", err)
	}
	logf("created %d namespaces", spec.Namespaces)

	sas := make([]*corev1.ServiceAccount, spec.ServiceAccounts)
	err = parallel(ctx, spec.ServiceAccounts, o.Workers, nil, func(ctx context.Context, i int) error {
		ns, name := spec.ServiceAccount(i)
		sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns,
			Labels:      map[string]string{"app.kubernetes.io/name": name},
			Annotations: map[string]string{webhook.AnnotationRoleARN: RoleARN(spec.RoleOf(i))}}}
		sas[i] = sa
		return ignoreExists(cs.CoreV1().ServiceAccounts(ns).Create(ctx, sa, metav1.CreateOptions{}))
	})
	if err != nil {
		return fmt.Errorf("create service accounts: %w", err)
	}
	logf("created %d service accounts", spec.ServiceAccounts)

	rsUIDs := make([]types.UID, spec.ServiceAccounts)
	err = parallel(ctx, spec.ServiceAccounts, o.Workers, nil, func(ctx context.Context, i int) error {
		uid, err := ensureWorkload(ctx, cs, spec, i)
		rsUIDs[i] = uid
		return err
	})
	if err != nil {
		return fmt.Errorf("create deployments and replicasets: %w", err)
	}
	logf("created %d deployments and %d replicasets", spec.ServiceAccounts, spec.ServiceAccounts)

	// The webhook is registered after the pods: with it in the admission
	// chain every create would call an address where nothing listens.
	whs := cs.AdmissionregistrationV1().MutatingWebhookConfigurations()
	if err := whs.Delete(ctx, webhook.ConfigurationName, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("remove the webhook configuration while creating pods: %w", err)
	}
	podStart := time.Now()
	var created atomic.Int64
	report := func(done int) {
		rate := float64(done) / max(time.Since(podStart).Seconds(), 0.001)
		logf("created %d/%d pods (%.0f/s)", done, spec.Pods, rate)
	}
	err = parallel(ctx, spec.Pods, o.Workers, report, func(ctx context.Context, k int) error {
		i := spec.ServiceAccountOf(k)
		pod := spec.pod(k, sas[i], rsUIDs[i])
		got, err := cs.CoreV1().Pods(pod.Namespace).Create(ctx, pod, metav1.CreateOptions{})
		if apierrors.IsAlreadyExists(err) {
			return nil
		}
		if err != nil {
			return err
		}
		created.Add(1)
		if !spec.PodStatus {
			return nil
		}
		got.Status = podStatus(got)
		_, err = cs.CoreV1().Pods(pod.Namespace).UpdateStatus(ctx, got, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		return fmt.Errorf("create pods: %w", err)
	}
	cfg := webhook.Configuration("https://127.0.0.1:9/mutate", nil)
	if err := webhook.Register(ctx, cs, cfg); err != nil {
		return err
	}
	logf("cluster ready in %s: %d new pods", time.Since(started).Round(100*time.Millisecond), created.Load())
	return nil
}

func ignoreExists[T any](_ T, err error) error {
	if apierrors.IsAlreadyExists(err) {
		return nil
	}
	return err
}

// parallel runs fn for 0..n-1 on workers goroutines and returns the first
// error; progress, when set, is called every 1,000 items and at the end.
func parallel(ctx context.Context, n, workers int, progress func(done int), fn func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	next := make(chan int)
	var done atomic.Int64
	var wg sync.WaitGroup
	for range min(workers, max(n, 1)) {
		wg.Go(func() {
			for i := range next {
				if err := fn(ctx, i); err != nil {
					cancel(err)
					return
				}
				if d := done.Add(1); progress != nil && (d%1000 == 0 || int(d) == n) {
					progress(int(d))
				}
			}
		})
	}
feed:
	for i := range n {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return ctx.Err()
}

// template is the unmutated pod template of service account i's Deployment.
func (s Spec) template(i int) corev1.PodTemplateSpec {
	_, sa := s.ServiceAccount(i)
	labels := map[string]string{"app.kubernetes.io/name": sa, "app.kubernetes.io/part-of": "bench", "pod-template-hash": replicaSetHash}
	app := corev1.Container{
		Name:  "app",
		Image: fmt.Sprintf("%s.dkr.ecr.%s.amazonaws.com/bench/%s:1.24.%d", Account, Region, sa, i%10),
		Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080, Protocol: corev1.ProtocolTCP}, {Name: "metrics", ContainerPort: 9090, Protocol: corev1.ProtocolTCP}},
		Env: []corev1.EnvVar{
			{Name: "LOG_LEVEL", Value: "info"},
			{Name: "POD_NAME", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}},
			{Name: "POD_NAMESPACE", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.namespace"}}},
			{Name: "BUCKET", Value: fmt.Sprintf("bench-%s-data", sa)},
		},
		Resources: corev1.ResourceRequirements{
			Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("128Mi")},
			Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("256Mi")},
		},
		ReadinessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/healthz", Port: intstr.FromString("http")}}, PeriodSeconds: 10},
		LivenessProbe:  &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/livez", Port: intstr.FromString("http")}}, InitialDelaySeconds: 10},
		VolumeMounts:   []corev1.VolumeMount{{Name: "config", MountPath: "/etc/app", ReadOnly: true}},
	}
	containers := []corev1.Container{app}
	if i%3 == 0 {
		containers = append(containers, corev1.Container{
			Name: "log-router", Image: "public.ecr.aws/aws-observability/aws-for-fluent-bit:2.32.2",
			Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("50m"), corev1.ResourceMemory: resource.MustParse("64Mi")}},
		})
	}
	return corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: labels},
		Spec: corev1.PodSpec{
			ServiceAccountName: sa,
			Containers:         containers,
			Volumes: []corev1.Volume{{Name: "config", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
				LocalObjectReference: corev1.LocalObjectReference{Name: sa + "-config"}}}}},
			NodeSelector: map[string]string{"kubernetes.io/os": "linux"},
		},
	}
}

// ensureWorkload creates service account i's Deployment and ReplicaSet (or
// finds them) and returns the ReplicaSet's UID for the pods' owner references.
func ensureWorkload(ctx context.Context, cs kubernetes.Interface, s Spec, i int) (types.UID, error) {
	ns, sa := s.ServiceAccount(i)
	tmpl := s.template(i)
	replicas := int32(min((s.Pods+s.ServiceAccounts-1)/s.ServiceAccounts, math.MaxInt32)) //nolint:gosec // bounded by MaxInt32 just here
	sel := &metav1.LabelSelector{MatchLabels: map[string]string{"app.kubernetes.io/name": sa}}
	deployTmpl := *tmpl.DeepCopy()
	delete(deployTmpl.Labels, "pod-template-hash")
	d, err := cs.AppsV1().Deployments(ns).Create(ctx, &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: sa, Namespace: ns, Labels: map[string]string{"app.kubernetes.io/name": sa}},
		Spec:       appsv1.DeploymentSpec{Replicas: &replicas, Selector: sel, Template: deployTmpl},
	}, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		d, err = cs.AppsV1().Deployments(ns).Get(ctx, sa, metav1.GetOptions{})
	}
	if err != nil {
		return "", err
	}
	yes := true
	rs, err := cs.AppsV1().ReplicaSets(ns).Create(ctx, &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: s.ReplicaSetName(i), Namespace: ns, Labels: tmpl.Labels,
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "Deployment", Name: d.Name, UID: d.UID, Controller: &yes, BlockOwnerDeletion: &yes}}},
		Spec: appsv1.ReplicaSetSpec{Replicas: &replicas, Selector: sel, Template: tmpl},
	}, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		rs, err = cs.AppsV1().ReplicaSets(ns).Get(ctx, s.ReplicaSetName(i), metav1.GetOptions{})
	}
	if err != nil {
		return "", err
	}
	return rs.UID, nil
}

// pod is pod k as the API server stores it after the pod identity webhook
// mutated it: AWS_ROLE_ARN, AWS_WEB_IDENTITY_TOKEN_FILE, the region and STS
// variables, the aws-iam-token projected volume and its mounts.
func (s Spec) pod(k int, sa *corev1.ServiceAccount, rsUID types.UID) *corev1.Pod {
	i := s.ServiceAccountOf(k)
	ns, _ := s.ServiceAccount(i)
	tmpl := s.template(i)
	yes := true
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: s.PodName(k), Namespace: ns, Labels: tmpl.Labels,
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: s.ReplicaSetName(i), UID: rsUID, Controller: &yes, BlockOwnerDeletion: &yes}}},
		Spec: tmpl.Spec,
	}
	p.Spec.NodeName = fmt.Sprintf("ip-10-0-%d-%d.%s.compute.internal", k%16, 10+k%200, Region)
	mutated, _ := webhook.Mutate(webhook.Config{DefaultRegion: Region, RegionalSTS: true}, ns, p, sa)
	return mutated
}

// podStatus is a Running pod's status with every container ready.
func podStatus(p *corev1.Pod) corev1.PodStatus {
	now := metav1.NewTime(p.CreationTimestamp.Add(3 * time.Second))
	started := metav1.NewTime(p.CreationTimestamp.Add(time.Second))
	ip := fmt.Sprintf("10.0.%d.%d", len(p.Name)%200, p.UID[len(p.UID)-1]%250+2)
	st := corev1.PodStatus{
		Phase:     corev1.PodRunning,
		HostIP:    "10.0.1.10",
		HostIPs:   []corev1.HostIP{{IP: "10.0.1.10"}},
		PodIP:     ip,
		PodIPs:    []corev1.PodIP{{IP: ip}},
		StartTime: &started,
		QOSClass:  corev1.PodQOSBurstable,
	}
	for _, t := range []corev1.PodConditionType{"PodReadyToStartContainers", corev1.PodInitialized, corev1.PodReady, corev1.ContainersReady, corev1.PodScheduled} {
		st.Conditions = append(st.Conditions, corev1.PodCondition{Type: t, Status: corev1.ConditionTrue, LastTransitionTime: now})
	}
	yes := true
	for _, c := range p.Spec.Containers {
		sum := sha256.Sum256([]byte(p.Namespace + "/" + p.Name + "/" + c.Name))
		img := sha256.Sum256([]byte(c.Image))
		st.ContainerStatuses = append(st.ContainerStatuses, corev1.ContainerStatus{
			Name: c.Name, Ready: true, Started: &yes, Image: c.Image,
			ImageID:     c.Image + "@sha256:" + hex.EncodeToString(img[:]),
			ContainerID: "containerd://" + hex.EncodeToString(sum[:]),
			State:       corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: now}},
		})
	}
	return st
}
