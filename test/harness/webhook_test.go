package harness

import (
	"reflect"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/kubectl-irsa/kubectl-irsa/test/webhook"
)

func TestPutWebhookConfigMapRoles(t *testing.T) {
	ctx := t.Context()
	client := fake.NewClientset()
	a := webhook.Entry{RoleARN: "arn:aws:iam::111122223333:role/a", Audience: "sts.amazonaws.com"}
	b := webhook.Entry{RoleARN: "arn:aws:iam::111122223333:role/b", UseRegionalSTS: true, TokenExpiration: 3600}
	b2 := webhook.Entry{RoleARN: "arn:aws:iam::111122223333:role/b2"}
	steps := []struct {
		put  webhook.ConfigMapRoles
		want webhook.ConfigMapRoles
	}{
		{webhook.ConfigMapRoles{"shop/a": a}, webhook.ConfigMapRoles{"shop/a": a}},
		{webhook.ConfigMapRoles{"*/b": b}, webhook.ConfigMapRoles{"shop/a": a, "*/b": b}},
		{webhook.ConfigMapRoles{"*/b": b2}, webhook.ConfigMapRoles{"shop/a": a, "*/b": b2}},
	}
	for i, s := range steps {
		if err := PutWebhookConfigMapRoles(ctx, client, "kube-system", s.put); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		cm, err := client.CoreV1().ConfigMaps("kube-system").Get(ctx, webhook.ConfigMapName, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		// Read back as the webhook reads it, with no default expiration, so
		// that what was written is seen as written.
		got, _, err := webhook.ParseConfigMapRoles(cm.Data[webhook.ConfigMapKey], 0)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, s.want) {
			t.Errorf("step %d: roles = %+v, want %+v", i, got, s.want)
		}
	}
}
