//go:build unix

package main

import (
	"context"
	"crypto/sha1" //nolint:gosec // the IAM OIDC thumbprint is SHA-1 by AWS's definition; shortHash needs no strength
	"errors"
	"flag"
	"fmt"
	"log"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"

	"github.com/kubectl-irsa/kubectl-irsa/test/e2e/controlplane"
	"github.com/kubectl-irsa/kubectl-irsa/test/e2e/pki"
	"github.com/kubectl-irsa/kubectl-irsa/test/harness"
	"github.com/kubectl-irsa/kubectl-irsa/test/webhook"
)

// containerCredentialsFile is the webhook's container-credentials file in
// DIR: on EKS the control plane writes it as Pod Identity associations come
// and go; here whoever runs the cluster does (hack/demo.sh).
const containerCredentialsFile = "container-credentials.json"

// containerCredentialsPoll is how often the webhook looks at that file:
// quicker than the real webhook's second, so that the demo waits less.
const containerCredentialsPoll = 200 * time.Millisecond

// cluster runs etcd + kube-apiserver (test/e2e/controlplane), the pod
// identity webhook emulator following DIR/container-credentials.json, and a
// minimal stand-in for the workload controllers, writes DIR/env for a shell
// to source, and runs until signalled.
func cluster(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("cluster", flag.ContinueOnError)
	dir := fs.String("dir", "", "directory for the env file and the webhook's "+containerCredentialsFile)
	region := fs.String("aws-default-region", "us-west-2", "the webhook's --aws-default-region")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dir == "" {
		return errors.New("--dir is required")
	}
	cp, err := controlplane.Start(ctx, nil, controlplane.Options{Logf: log.Printf})
	if err != nil {
		return fmt.Errorf("start control plane: %w", err)
	}
	defer func() {
		if err := cp.Stop(); err != nil {
			log.Printf("stop control plane: %v", err)
		}
	}()
	cs, err := cp.Clientset()
	if err != nil {
		return err
	}

	// What EKS runs: a default region, regional STS endpoints and the Pod
	// Identity associations of --watch-container-credentials-config.
	credsConfig := filepath.Join(*dir, containerCredentialsFile)
	associations := webhook.NewAssociationSet()
	if err := webhook.WatchContainerCredentialsConfig(ctx, credsConfig, associations, containerCredentialsPoll, log.Printf); err != nil {
		return err
	}
	srv, err := harness.StartWebhook(ctx, cs, harness.WebhookOptions{
		Config:       webhook.Config{DefaultRegion: *region, RegionalSTS: true, AssociationSource: associations},
		ReadyTimeout: 30 * time.Second})
	if err != nil {
		return err
	}
	defer srv.Close()

	u, err := url.Parse(cp.Issuer)
	if err != nil {
		return fmt.Errorf("issuer %q: %w", cp.Issuer, err)
	}
	thumb, err := pki.LastCertSHA1(ctx, u.Host)
	if err != nil {
		return err
	}
	env := fmt.Sprintf("export KUBECONFIG=%q\nexport ISSUER=%q\nexport ISSUER_HOST=%q\nexport ISSUER_THUMBPRINT=%q\nexport CONTAINER_CREDENTIALS_CONFIG=%q\n",
		cp.Kubeconfig, cp.Issuer, u.Host, thumb, credsConfig)
	envFile := filepath.Join(*dir, "env")
	if err := os.WriteFile(envFile+".tmp", []byte(env), 0o600); err != nil {
		return fmt.Errorf("write env: %w", err)
	}
	if err := os.Rename(envFile+".tmp", envFile); err != nil {
		return fmt.Errorf("write env: %w", err)
	}
	log.Printf("cluster ready: API server and issuer %s, pod identity webhook %s", cp.Issuer, srv.URL)

	err = runWorkloadController(ctx, cs)
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// runWorkloadController stands in for kube-controller-manager, which this
// cluster does not run (docs/e2e.md): each Deployment gets one ReplicaSet and
// its replicas as pods, each CronJob one Job with one pod, all linked by
// owner references so that the plugin can walk from a pod to its workload.
// Pods are created through the API server, so the webhook mutates them as it
// would on a real cluster.
func runWorkloadController(ctx context.Context, cs kubernetes.Interface) error {
	done := map[types.UID]bool{}
	tick := time.NewTicker(300 * time.Millisecond)
	defer tick.Stop()
	for {
		if err := reconcile(ctx, cs, done); err != nil && ctx.Err() == nil {
			log.Printf("workload controller: %v", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

func reconcile(ctx context.Context, cs kubernetes.Interface, done map[types.UID]bool) error {
	yes := true
	deps, err := cs.AppsV1().Deployments("").List(ctx, metav1.ListOptions{})
	if err != nil {
		return fmt.Errorf("list deployments: %w", err)
	}
	for _, d := range deps.Items {
		if done[d.UID] {
			continue
		}
		rsName := d.Name + "-" + shortHash(string(d.UID))
		rs, err := cs.AppsV1().ReplicaSets(d.Namespace).Create(ctx, &appsv1.ReplicaSet{
			ObjectMeta: metav1.ObjectMeta{Name: rsName, Namespace: d.Namespace, Labels: d.Spec.Template.Labels,
				OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "Deployment", Name: d.Name, UID: d.UID, Controller: &yes}}},
			Spec: appsv1.ReplicaSetSpec{Replicas: d.Spec.Replicas, Selector: d.Spec.Selector, Template: d.Spec.Template},
		}, metav1.CreateOptions{})
		if err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("create replicaset %s/%s: %w", d.Namespace, rsName, err)
		}
		if err == nil {
			n := int32(1)
			if d.Spec.Replicas != nil {
				n = *d.Spec.Replicas
			}
			for i := range n {
				name := fmt.Sprintf("%s-%s", rsName, shortHash(fmt.Sprintf("%s/%d", rs.UID, i)))
				if err := createPod(ctx, cs, d.Namespace, name, d.Spec.Template, "apps/v1", "ReplicaSet", rs.Name, rs.UID); err != nil {
					return err
				}
			}
		}
		done[d.UID] = true
	}

	cjs, err := cs.BatchV1().CronJobs("").List(ctx, metav1.ListOptions{})
	if err != nil {
		return fmt.Errorf("list cronjobs: %w", err)
	}
	for _, cj := range cjs.Items {
		if done[cj.UID] {
			continue
		}
		jobName := cj.Name + "-29000000"
		job, err := cs.BatchV1().Jobs(cj.Namespace).Create(ctx, &batchv1.Job{
			ObjectMeta: metav1.ObjectMeta{Name: jobName, Namespace: cj.Namespace,
				OwnerReferences: []metav1.OwnerReference{{APIVersion: "batch/v1", Kind: "CronJob", Name: cj.Name, UID: cj.UID, Controller: &yes}}},
			Spec: cj.Spec.JobTemplate.Spec,
		}, metav1.CreateOptions{})
		if err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("create job %s/%s: %w", cj.Namespace, jobName, err)
		}
		if err == nil {
			if err := createPod(ctx, cs, cj.Namespace, jobName+"-"+shortHash(string(job.UID)), job.Spec.Template, "batch/v1", "Job", job.Name, job.UID); err != nil {
				return err
			}
		}
		done[cj.UID] = true
	}
	return nil
}

func createPod(ctx context.Context, cs kubernetes.Interface, ns, name string, tmpl corev1.PodTemplateSpec, apiVersion, kind, owner string, uid types.UID) error {
	yes := true
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: tmpl.Labels, Annotations: tmpl.Annotations,
			OwnerReferences: []metav1.OwnerReference{{APIVersion: apiVersion, Kind: kind, Name: owner, UID: uid, Controller: &yes}}},
		Spec: *tmpl.Spec.DeepCopy(),
	}
	if _, err := cs.CoreV1().Pods(ns).Create(ctx, pod, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create pod %s/%s: %w", ns, name, err)
	}
	return nil
}

// shortHash gives the 5-character suffixes Kubernetes controllers use.
func shortHash(s string) string {
	sum := sha1.Sum([]byte(s)) //nolint:gosec // a name suffix, not a security boundary
	const alphabet = "bcdfghjklmnpqrstvwxz2456789"
	var b strings.Builder
	for _, c := range sum[:5] {
		b.WriteByte(alphabet[int(c)%len(alphabet)])
	}
	return b.String()
}
