package cloud_test

import (
	"testing"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/cloud"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/facts"
	"github.com/kubectl-irsa/kubectl-irsa/test/fakeaws"
)

const (
	piCluster = "prod"
	piRole    = "arn:aws:iam::123456789012:role/pod-identity/app"
	piTarget  = "arn:aws:iam::444455556666:role/data-reader"
)

// podIdentityWorld holds one cluster with associations in two namespaces,
// one of them cross-account.
func podIdentityWorld(t *testing.T) (*fakeaws.Server, *cloud.Collector) {
	t.Helper()
	fake, c := newEnv(t, 0)
	fake.AddCluster(fakeaws.Cluster{Name: piCluster, ARN: "arn:aws:eks:us-west-2:123456789012:cluster/" + piCluster, Version: "1.31", PlatformVersion: "eks.4"})
	for _, a := range []fakeaws.Association{
		{ClusterName: piCluster, Namespace: "shop", ServiceAccount: "api", RoleARN: piRole},
		{ClusterName: piCluster, Namespace: "shop", ServiceAccount: "worker", RoleARN: piRole},
		{ClusterName: piCluster, Namespace: "shop", ServiceAccount: "reports", RoleARN: piRole, TargetRoleARN: piTarget, DisableSessionTags: true},
		{ClusterName: piCluster, Namespace: "batch", ServiceAccount: "export", RoleARN: piRole},
	} {
		fake.AddAssociation(a)
	}
	fake.AddRole(fakeaws.Role{ARN: piRole, TrustPolicy: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"pods.eks.amazonaws.com"},"Action":["sts:AssumeRole","sts:TagSession"]}]}`})
	return fake, c
}

// TestListAssociationsPagesPerNamespace: one paged pass per namespace in
// scope (the fake's pages are two associations long), or one for the whole
// cluster; the summaries carry no role.
func TestListAssociationsPagesPerNamespace(t *testing.T) {
	fake, c := podIdentityWorld(t)
	fake.SetPageSize(2)

	shop := c.ListAssociations(ctxT(t), piCluster, []string{"shop"})
	if shop.ListErr != nil || len(shop.Associations) != 3 || !shop.Covers("shop") || shop.Covers("batch") {
		t.Fatalf("shop: %+v", shop)
	}
	if got := shop.Keys(); len(got) != 3 || got[0] != "shop/api" || got[2] != "shop/worker" {
		t.Errorf("keys %v", got)
	}
	if n := fake.Count("ListPodIdentityAssociations"); n != 2 {
		t.Errorf("pages for 3 associations at 2 a page: %d calls, want 2", n)
	}
	if a := shop.Associations[0]; a.RoleARN != "" || a.Described || a.ID == "" || a.ARN == "" {
		t.Errorf("summary %+v: want an id and ARN and no role", a)
	}

	fake.ResetCalls()
	all := c.ListAssociations(ctxT(t), piCluster, nil)
	if len(all.Associations) != 4 || !all.Covers("anything") || all.Associations[0].Namespace != "batch" {
		t.Fatalf("cluster: %+v", all)
	}
	if n := fake.Count("ListPodIdentityAssociations"); n != 2 {
		t.Errorf("pages for 4 associations at 2 a page: %d calls, want 2", n)
	}
}

// TestDescribeAssociationsOnlyInScope: only the associations of subjects are
// described, each once, and Gather fetches their roles (target role
// included) with the IRSA ones.
func TestDescribeAssociationsOnlyInScope(t *testing.T) {
	fake, c := podIdentityWorld(t)
	listed := c.ListAssociations(ctxT(t), piCluster, []string{"shop"})
	fake.ResetCalls()

	out := c.Gather(ctxT(t), cloud.GatherInput{ClusterName: piCluster, PodIdentity: listed, InScope: map[string]bool{"shop/api": true, "shop/reports": true}})

	if n := fake.Count("DescribePodIdentityAssociation"); n != 2 {
		t.Errorf("describe calls %d, want 2 (the subjects' associations only)", n)
	}
	got := map[string]facts.PodIdentityAssociation{}
	for _, a := range out.PodIdentity.Associations {
		got[a.Key()] = a
	}
	if a := got["shop/api"]; !a.Described || a.RoleARN != piRole || a.CreatedAt.IsZero() || a.DescribeErr != nil {
		t.Errorf("shop/api: %+v", a)
	}
	if a := got["shop/reports"]; a.TargetRoleARN != piTarget || a.ExternalID == "" || !a.DisableSessionTags {
		t.Errorf("shop/reports: %+v", a)
	}
	if a := got["shop/worker"]; a.Described {
		t.Errorf("shop/worker is out of scope but was described: %+v", a)
	}
	if listed.Associations[0].Described {
		t.Error("DescribeAssociations changed its input")
	}
	if r := out.Roles[piRole]; !r.Found {
		t.Errorf("association role not fetched: %+v", r)
	}
	if _, ok := out.Roles[piTarget]; !ok {
		t.Error("target role not looked up")
	}
	if n := fake.Count("GetRole"); n != 2 {
		t.Errorf("GetRole calls %d, want 2 (role and target, each once)", n)
	}
	if n := fake.Count("GetOpenIDConnectProvider"); n != 0 {
		t.Errorf("Pod Identity needs no OIDC provider, got %d lookups", n)
	}
}

// TestAssociationsDeniedOrThrottled: a refused list is a fact that names
// the permission; a refused describe is kept on the association.
func TestAssociationsDeniedOrThrottled(t *testing.T) {
	fake, c := podIdentityWorld(t)
	fake.Fail(cloud.OpListPodIdentityAssociations, "", "AccessDeniedException", "", 0)
	denied := c.ListAssociations(ctxT(t), piCluster, []string{"shop"})
	if denied.ListErr == nil || denied.ListErr.Code != facts.ErrAccessDenied || denied.ListErr.Op != cloud.OpListPodIdentityAssociations || denied.Covers("shop") {
		t.Fatalf("denied list: %+v", denied)
	}

	fake.ClearFaults()
	listed := c.ListAssociations(ctxT(t), piCluster, []string{"shop"})
	fake.Throttle(cloud.OpDescribePodIdentityAssociation, 100)
	out := c.DescribeAssociations(ctxT(t), listed, map[string]bool{"shop/api": true})
	for _, a := range out.Associations {
		if a.Key() == "shop/api" && (a.DescribeErr == nil || a.DescribeErr.Code != facts.ErrThrottled || a.Described) {
			t.Errorf("throttled describe: %+v", a)
		}
	}
}

// TestListAssociationsUnknownCluster: EKS's ResourceNotFoundException for the
// cluster is kept as NotFound.
func TestListAssociationsUnknownCluster(t *testing.T) {
	_, c := podIdentityWorld(t)
	got := c.ListAssociations(ctxT(t), "gone", nil)
	if got.ListErr == nil || got.ListErr.Code != facts.ErrNotFound {
		t.Fatalf("unknown cluster: %+v", got)
	}
}
