package harness

import (
	"testing"

	"github.com/kubectl-irsa/kubectl-irsa/test/fakeaws"
	"github.com/kubectl-irsa/kubectl-irsa/test/webhook"
)

// LinkAssociations keeps set equal to the Pod Identity associations the AWS
// emulator holds for cluster ("" for every cluster) until stop is called, as
// EKS keeps the webhook's container-credentials file in step with the
// association API. The set is updated before AddAssociation or
// DeleteAssociation returns, so a pod created after the call is admitted
// with the new set; pods created before keep the mutation they got, as on
// EKS, where an association made after its pod takes effect only for new pods
// (docs/behaviour.md#pod-identity-flow).
func LinkAssociations(fake *fakeaws.Server, cluster string, set *webhook.AssociationSet) (stop func()) {
	return fake.OnAssociationsChanged(func(all []fakeaws.Association) {
		var as []webhook.Association
		for _, a := range all {
			if cluster == "" || a.ClusterName == cluster {
				as = append(as, webhook.Association{Namespace: a.Namespace, ServiceAccount: a.ServiceAccount})
			}
		}
		set.Set(as)
	})
}

// FollowAssociations is LinkAssociations for a test: it returns a new set
// following fake's associations of cluster until tb's cleanup; put it in
// WebhookOptions.Config.AssociationSource.
func FollowAssociations(tb testing.TB, fake *fakeaws.Server, cluster string) *webhook.AssociationSet {
	tb.Helper()
	set := webhook.NewAssociationSet()
	tb.Cleanup(LinkAssociations(fake, cluster, set))
	return set
}
