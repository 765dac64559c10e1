package testutil_test

import (
	"reflect"
	"testing"

	"github.com/kubectl-irsa/kubectl-irsa/test/testutil"
)

// The builders the end-to-end suite creates through a real API server.

func TestPodOf(t *testing.T) {
	_, rs := testutil.Deployment("shop", "web", "app", "app", "sidecar")
	rs.UID = "uid-from-the-api-server"
	p := testutil.PodOf(rs, "web-rs-1").ServiceAccount("old").Build()
	ref := p.OwnerReferences
	if len(ref) != 1 || ref[0].Kind != "ReplicaSet" || ref[0].Name != "web-rs" || ref[0].UID != "uid-from-the-api-server" || ref[0].Controller == nil || !*ref[0].Controller {
		t.Errorf("owner references %+v, want rs as controller under its UID", ref)
	}
	if p.Namespace != "shop" || p.Labels["app"] != "web" || p.Spec.ServiceAccountName != "old" {
		t.Errorf("pod %s/%s labels %v sa %q", p.Namespace, p.Name, p.Labels, p.Spec.ServiceAccountName)
	}
	if len(p.Spec.Containers) != 2 || p.Spec.Containers[0].Name != "app" || p.Spec.Containers[1].Name != "sidecar" {
		t.Errorf("containers %+v, want the template's app and sidecar", p.Spec.Containers)
	}
	// The pod's spec is a copy: editing it leaves the template alone.
	if rs.Spec.Template.Spec.ServiceAccountName != "app" {
		t.Errorf("PodOf changed the template's service account to %q", rs.Spec.Template.Spec.ServiceAccountName)
	}
	p.Labels["x"] = "y"
	if _, ok := rs.Spec.Template.Labels["x"]; ok {
		t.Error("the pod shares its labels map with the template")
	}
}

func TestTokenVolume(t *testing.T) {
	p := testutil.NewPod("shop", "web", "app").TokenVolume("sts.amazonaws.com").TokenVolumeMode(0o600).Build()
	if len(p.Spec.Volumes) != 1 || p.Spec.Volumes[0].Name != "aws-iam-token" {
		t.Fatalf("volumes %+v", p.Spec.Volumes)
	}
	pr := p.Spec.Volumes[0].Projected
	tok := pr.Sources[0].ServiceAccountToken
	if tok.Audience != "sts.amazonaws.com" || tok.Path != "token" || *tok.ExpirationSeconds != 86400 || pr.DefaultMode == nil || *pr.DefaultMode != 0o600 {
		t.Errorf("projection %+v mode %v", tok, pr.DefaultMode)
	}
	if c := p.Spec.Containers[0]; len(c.Env) != 0 || len(c.VolumeMounts) != 0 {
		t.Errorf("TokenVolume touched the container: %+v", c)
	}
}

func TestSALabel(t *testing.T) {
	sa := testutil.NewSA("shop", "app").Label("app.kubernetes.io/name", "app").Annotate("k", "v").Build()
	if sa.Labels["app.kubernetes.io/name"] != "app" || sa.Annotations["k"] != "v" || len(sa.ManagedFields) != 0 {
		t.Errorf("service account %+v", sa.ObjectMeta)
	}
}

// Mutating twice is mutating once: the webhook admits a pod once.
func TestMutateTwiceIsOnce(t *testing.T) {
	once := testutil.NewPod("shop", "web", "app").InitContainer("init", false).Mutate(testutil.RoleARN, "sts.amazonaws.com").Build()
	twice := testutil.NewPod("shop", "web", "app").Mutate("arn:aws:iam::111122223333:role/old", "other").InitContainer("init", false).Mutate(testutil.RoleARN, "sts.amazonaws.com").Build()
	if !reflect.DeepEqual(once.Spec, twice.Spec) {
		t.Fatalf("mutated twice:\n%+v\nonce:\n%+v", twice.Spec, once.Spec)
	}
	if n := len(twice.Spec.Volumes); n != 1 {
		t.Errorf("%d volumes, want the one aws-iam-token", n)
	}
	for _, c := range append(twice.Spec.InitContainers, twice.Spec.Containers...) {
		if len(c.Env) != 5 || len(c.VolumeMounts) != 1 {
			t.Errorf("container %s: %d env vars and %d mounts, want 5 and 1", c.Name, len(c.Env), len(c.VolumeMounts))
		}
	}
}
