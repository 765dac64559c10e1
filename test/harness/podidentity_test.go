package harness

import (
	"encoding/json"
	"testing"

	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/kubectl-irsa/kubectl-irsa/test/fakeaws"
	"github.com/kubectl-irsa/kubectl-irsa/test/webhook"
)

// admitsPodIdentity sends a pod of shop/web through h and reports whether
// the patch gives it the Pod Identity token volume.
func admitsPodIdentity(t *testing.T, h *webhook.Handler) bool {
	t.Helper()
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "shop"},
		Spec:       corev1.PodSpec{ServiceAccountName: "web", Containers: []corev1.Container{{Name: "app", Image: "app"}}},
	}
	raw, err := json.Marshal(pod)
	if err != nil {
		t.Fatal(err)
	}
	resp := h.Admit(t.Context(), &admissionv1.AdmissionRequest{
		UID: types.UID("1"), Operation: admissionv1.Create, Namespace: "shop",
		Resource: metav1.GroupVersionResource{Version: "v1", Resource: "pods"},
		Object:   runtime.RawExtension{Raw: raw},
	})
	if !resp.Allowed {
		t.Fatalf("not allowed: %+v", resp)
	}
	var ops []webhook.PatchOperation
	if resp.Patch != nil {
		if err := json.Unmarshal(resp.Patch, &ops); err != nil {
			t.Fatal(err)
		}
	}
	return containsVolume(ops, webhook.PodIdentityVolumeName)
}

func containsVolume(ops []webhook.PatchOperation, name string) bool {
	for _, op := range ops {
		b, err := json.Marshal(op.Value)
		if err != nil {
			continue
		}
		var vols []corev1.Volume
		var one corev1.Volume
		switch {
		case json.Unmarshal(b, &vols) == nil:
		case json.Unmarshal(b, &one) == nil:
			vols = []corev1.Volume{one}
		}
		for _, v := range vols {
			if v.Name == name {
				return true
			}
		}
	}
	return false
}

// TestFollowAssociations: an association added to the AWS emulator reaches
// the webhook emulator before AddAssociation returns, for that cluster only,
// and its removal too.
func TestFollowAssociations(t *testing.T) {
	aws := fakeaws.New()
	set := FollowAssociations(t, aws, "prod")
	h := &webhook.Handler{Client: fake.NewClientset(), Config: webhook.Config{AssociationSource: set}, Logf: t.Logf}

	if admitsPodIdentity(t, h) {
		t.Fatal("Pod Identity before any association")
	}
	aws.AddAssociation(fakeaws.Association{ClusterName: "staging", Namespace: "shop", ServiceAccount: "web", RoleARN: "arn:aws:iam::123456789012:role/web"})
	if admitsPodIdentity(t, h) {
		t.Fatal("another cluster's association applied")
	}
	a := aws.AddAssociation(fakeaws.Association{ClusterName: "prod", Namespace: "shop", ServiceAccount: "web", RoleARN: "arn:aws:iam::123456789012:role/web"})
	if !admitsPodIdentity(t, h) {
		t.Fatal("pod created after the association did not get Pod Identity")
	}
	aws.DeleteAssociation(a.ID)
	if admitsPodIdentity(t, h) {
		t.Fatal("deleted association still applied")
	}

	// An existing association is picked up when the link starts.
	aws.AddAssociation(fakeaws.Association{ClusterName: "prod", Namespace: "batch", ServiceAccount: "job", RoleARN: "arn:aws:iam::123456789012:role/job"})
	all := webhook.NewAssociationSet()
	stop := LinkAssociations(aws, "", all)
	if !all.Has("batch", "job") || !all.Has("shop", "web") {
		t.Fatalf("initial set = %v", all.List())
	}
	stop()
	aws.AddAssociation(fakeaws.Association{ClusterName: "prod", Namespace: "x", ServiceAccount: "y", RoleARN: "arn:aws:iam::123456789012:role/y"})
	if all.Has("x", "y") {
		t.Error("the set followed after stop")
	}
}
