package kube_test

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/diag"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/facts"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/kube"
	"github.com/kubectl-irsa/kubectl-irsa/test/fakekube"
	"github.com/kubectl-irsa/kubectl-irsa/test/testutil"
)

// heavy adds what a real API server's pod carries and no check reads:
// status, probes, resources, ports, tolerations, other volumes, the
// last-applied annotation and managedFields.
func heavy(p *corev1.Pod) *corev1.Pod {
	now := metav1.NewTime(testutil.T0)
	if p.Annotations == nil {
		p.Annotations = map[string]string{}
	}
	p.Annotations[kube.AnnotationLastApplied] = `{"apiVersion":"v1","kind":"Pod"}`
	p.ManagedFields = []metav1.ManagedFieldsEntry{{Manager: "kubectl", Operation: metav1.ManagedFieldsOperationUpdate, Time: &now,
		FieldsType: "FieldsV1", FieldsV1: &metav1.FieldsV1{Raw: []byte(`{"f:spec":{}}`)}}}
	p.ResourceVersion, p.Generation, p.Finalizers = "12345", 1, []string{"example.com/keep"}
	p.Spec.Tolerations = []corev1.Toleration{{Key: "node.kubernetes.io/not-ready", Operator: corev1.TolerationOpExists}}
	p.Spec.Volumes = append(p.Spec.Volumes, corev1.Volume{Name: "config", VolumeSource: corev1.VolumeSource{
		ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "config"}}}})
	// What the ServiceAccount admission plugin adds to every pod.
	exp := int64(3607)
	api := "kube-api-access-" + p.Name[:min(5, len(p.Name))]
	p.Spec.Volumes = append(p.Spec.Volumes, corev1.Volume{Name: api, VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{
		Sources: []corev1.VolumeProjection{{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{ExpirationSeconds: &exp, Path: "token"}},
			{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "kube-root-ca.crt"}}}}}}})
	for i := range p.Spec.InitContainers {
		c := &p.Spec.InitContainers[i]
		c.VolumeMounts = append(c.VolumeMounts, corev1.VolumeMount{Name: api, MountPath: facts.KubernetesDefaultTokenDir, ReadOnly: true})
	}
	for i := range p.Spec.Containers {
		c := &p.Spec.Containers[i]
		c.VolumeMounts = append(c.VolumeMounts, corev1.VolumeMount{Name: api, MountPath: facts.KubernetesDefaultTokenDir, ReadOnly: true})
		c.Command, c.Args = []string{"/app"}, []string{"--serve"}
		c.Ports = []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}}
		c.Resources.Requests = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m")}
		c.ReadinessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"true"}}}}
	}
	p.Status = corev1.PodStatus{Phase: corev1.PodRunning, PodIP: "10.0.0.1", StartTime: &now,
		Conditions:        []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: now}},
		ContainerStatuses: []corev1.ContainerStatus{{Name: "app", Ready: true, Image: "example/app:1", ContainerID: "containerd://abc"}}}
	return p
}

// strippedWorld is one subject per pod, each pod a case some check reads
// a different part of.
func strippedWorld() []*facts.Subject {
	const role = testutil.RoleARN
	written := testutil.T0.Add(2 * time.Hour)
	pods := []*corev1.Pod{
		testutil.NewPod("shop", "mutated", "app").Mutate(role, "sts.amazonaws.com").OwnedBy("ReplicaSet", "web-rs").Build(),
		testutil.NewPod("shop", "stale", "app").Mutate(role, "sts.amazonaws.com").Build(),
		testutil.NewPod("shop", "sidecar", "app").InitContainer("proxy", true).InitContainer("init", false).Mutate(role, "sts.amazonaws.com").
			Container("logs").Annotate(facts.AnnotationSkipContainers, "logs, proxy").Build(),
		testutil.NewPod("shop", "nonroot", "app").Mutate(role, "sts.amazonaws.com").TokenVolumeMode(0o600).RunAs("app", 1000).Build(),
		testutil.NewPod("shop", "fsgroup", "app").Mutate(role, "other-audience").TokenVolumeMode(0o640).RunAs("", 1000).FSGroup(2000).Build(),
		testutil.NewPod("shop", "windows", "app").Mutate(role, "sts.amazonaws.com").NodeSelector("kubernetes.io/os", "windows").Build(),
		testutil.NewPod("shop", "unmutated", "app").Label(facts.LabelSkipWebhook, "true").CreatedAt(testutil.T0).Build(),
		testutil.NewPod("shop", "handmade", "app").Env("app", "AWS_ROLE_ARN", role).Env("app", "AWS_WEB_IDENTITY_TOKEN_FILE",
			"/var/run/secrets/kubernetes.io/serviceaccount/token").Env("app", "HTTP_PROXY", "http://proxy:3128").
			EnvFromSecret("app", "creds", "").Annotate(facts.AnnotationTokenExpiration, "3600").Build(),
		testutil.NewPod("shop", "podidentity", "app").Env("app", facts.EnvContainerCredentialsFull, "http://169.254.170.23/v1/credentials").
			Env("app", facts.EnvContainerAuthTokenFile, "/var/run/secrets/pods.eks.amazonaws.com/serviceaccount/eks-pod-identity-token").
			Env("app", "NO_PROXY", "169.254.170.23").Build(),
	}
	// The API server's token mounted again elsewhere, and named: the check
	// follows the env to that volume, which must stay.
	other := testutil.NewPod("shop", "apitoken", "app").Env("app", "AWS_ROLE_ARN", role).
		Env("app", "AWS_WEB_IDENTITY_TOKEN_FILE", "/var/run/api/token").Build()
	// A Secret volume named like the webhook's, and AWS keys mounted at ~/.aws.
	secrets := testutil.NewPod("shop", "secrets", "app").Mount("app", facts.TokenVolumeName, facts.TokenMountPath).
		Mount("app", "aws-creds", "/root/.aws").Build()
	secrets.Spec.Volumes = append(secrets.Spec.Volumes,
		corev1.Volume{Name: facts.TokenVolumeName, VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "token"}}},
		corev1.Volume{Name: "aws-creds", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "aws-creds"}}})
	pods = append(pods, other, secrets)
	pods[1].Spec.Containers[0].Env[3].Value = strings.Replace(role, "app", "old", 1)
	pods[8].Spec.HostNetwork, pods[8].Spec.NodeName, pods[8].Spec.SchedulerName = true, "ip-10-0-1-1", "fargate-scheduler"
	var out []*facts.Subject
	for _, p := range pods {
		heavy(p)
		if p.Name == "apitoken" {
			api := p.Spec.Volumes[len(p.Spec.Volumes)-1].Name
			p.Spec.Containers[0].VolumeMounts = append(p.Spec.Containers[0].VolumeMounts, corev1.VolumeMount{Name: api, MountPath: "/var/run/api"})
		}
		sa := testutil.NewSA("shop", "app").RoleARN(role).Annotate(facts.AnnotationTokenExpiration, "7200").
			AnnotationWrittenAt(facts.AnnotationRoleARN, written).CreatedAt(testutil.T0).Build()
		out = append(out, &facts.Subject{Namespace: "shop", ServiceAccountName: "app", ServiceAccount: sa,
			Pods: []facts.PodFacts{{Pod: p, Owner: facts.Owner{Kind: "Deployment", Name: "web"},
				EnvSources: map[string]facts.EnvSource{"Secret/creds": {Kind: "Secret", Name: "creds", Keys: []string{"AWS_ACCESS_KEY_ID"}}}}}})
	}
	return out
}

// TestStripKeepsVerdicts is the guard of strip.go's allowlists: every
// check judges a stripped pod and service account exactly as the whole
// objects, message and evidence alike. A check that reads a field the
// strip drops fails here.
func TestStripKeepsVerdicts(t *testing.T) {
	t.Parallel()
	whole := strippedWorld()
	stripped := strippedWorld()
	for _, s := range stripped {
		kube.StripServiceAccount(s.ServiceAccount)
		for _, pf := range s.Pods {
			kube.StripPod(pf.Pod)
		}
	}
	want, got := diag.Run(snapOf(whole)), diag.Run(snapOf(stripped))
	if len(want) == 0 {
		t.Fatal("no diagnosis")
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("stripped objects are judged differently:\nwhole    %+v\nstripped %+v", want, got)
	}
	p := stripped[0].Pods[0].Pod
	if p.ManagedFields != nil || p.Status.Conditions != nil || p.Spec.Containers[0].Ports != nil || p.Spec.Tolerations != nil ||
		p.Annotations[kube.AnnotationLastApplied] != "" || p.Status.Phase != corev1.PodRunning {
		t.Errorf("not stripped: %+v", p)
	}
	if mf := stripped[0].ServiceAccount.ManagedFields; len(mf) != 1 || !strings.Contains(string(mf[0].FieldsV1.Raw), facts.AnnotationRoleARN) {
		t.Errorf("the role-arn annotation's time is gone: %+v", mf)
	}
	for _, s := range stripped {
		p := s.Pods[0].Pod
		var names []string
		for _, v := range p.Spec.Volumes {
			names = append(names, v.Name)
		}
		keepsAPI := p.Name == "apitoken" || p.Name == "handmade" // their env names a file in it
		if got := strings.Contains(strings.Join(names, " "), "kube-api-access"); got != keepsAPI {
			t.Errorf("pod %s keeps volumes %v: the API server's token only where an env names a file in it", p.Name, names)
		}
	}
	// Stripping twice (the LIST, then the snapshot) changes nothing more.
	again := p.DeepCopy()
	kube.StripPod(again)
	if !reflect.DeepEqual(again, p) {
		t.Errorf("StripPod is not idempotent:\n%+v\n%+v", p, again)
	}
}

func snapOf(subjects []*facts.Subject) *facts.Snapshot {
	return &facts.Snapshot{Now: testutil.T0.Add(3 * time.Hour), Subjects: subjects,
		Webhooks: facts.WebhookFacts{Configs: []admissionregistrationv1.MutatingWebhookConfiguration{*testutil.Webhook()}}}
}

// TestCollectStripsListedObjects: what Collect returns is already
// stripped, page by page, so a run never holds whole pods.
func TestCollectStripsListedObjects(t *testing.T) {
	t.Parallel()
	objs := []runtime.Object{testutil.Namespace("shop", nil),
		testutil.NewSA("shop", "app").RoleARN(testutil.RoleARN).AnnotationWrittenAt(facts.AnnotationRoleARN, testutil.T0).Build(),
		heavy(testutil.NewPod("shop", "web", "app").Mutate(testutil.RoleARN, "sts.amazonaws.com").Build()),
		heavy(testutil.NewPod("shop", "web2", "app").Mutate(testutil.RoleARN, "sts.amazonaws.com").Build())}
	srv := fakekube.New(t, objs...)
	cs, err := kubernetes.NewForConfig(srv.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	snap, err := (&kube.Collector{Client: cs}).Collect(context.Background(), kube.Scope{Namespace: "shop"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.Subjects) != 1 || len(snap.Subjects[0].Pods) != 2 {
		t.Fatalf("subjects %+v", snap.Subjects)
	}
	p := snap.Subjects[0].Pods[0].Pod
	if p.Status.Conditions != nil || p.Spec.Containers[0].ReadinessProbe != nil || p.ResourceVersion != "" {
		t.Errorf("the listed pod is whole: %+v", p)
	}
	if _, tok := facts.TokenVolume(p); tok == nil {
		t.Error("the stripped pod lost its token volume")
	}
	// Two pods of one template share what they have in common: the env
	// and the webhook's volume are held once.
	q := snap.Subjects[0].Pods[1].Pod
	if &p.Spec.Containers[0].Env[0] != &q.Spec.Containers[0].Env[0] || &p.Spec.Volumes[0] != &q.Spec.Volumes[0] || p.Name == q.Name {
		t.Error("pods of one template do not share their env and volumes")
	}
}
