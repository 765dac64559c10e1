package plugin

import (
	"fmt"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/runtime"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/cloud"
	"github.com/kubectl-irsa/kubectl-irsa/test/fakeaws"
	"github.com/kubectl-irsa/kubectl-irsa/test/fakekube"
	"github.com/kubectl-irsa/kubectl-irsa/test/testutil"
)

// manyRoles is ListingThreshold service accounts in shop, each with its own
// role and a mutated pod, and the AWS side that trusts them all.
func manyRoles(t *testing.T) (*fakekube.Server, *fakeaws.Server) {
	t.Helper()
	objs := []runtime.Object{testutil.Namespace("shop", nil), testutil.Webhook()}
	a := awsWorld()
	for i := range cloud.ListingThreshold {
		sa := fmt.Sprintf("app-%02d", i)
		role := fmt.Sprintf("arn:aws:iam::%s:role/r%02d", worldAccount, i)
		objs = append(objs, testutil.NewSA("shop", sa).RoleARN(role).Build(),
			testutil.NewPod("shop", sa+"-1", sa).Mutate(role, "sts.amazonaws.com").Build())
		a.AddRole(fakeaws.Role{ARN: role, TrustPolicy: trustFor(worldProvider, worldHost, "system:serviceaccount:shop:"+sa)})
	}
	srv := fakekube.New(t, objs...)
	srv.SetIssuer(worldIssuer)
	return srv, a
}

// TestDiagnoseRoleListingNote: with many roles the listings read them and
// the run says nothing about it; when iam:ListRoles is denied the roles are
// read one by one, the findings are the same, and the summary says so
// once (not as a finding per role).
func TestDiagnoseRoleListingNote(t *testing.T) {
	t.Parallel()
	kube, a := manyRoles(t)
	listed := runAWS(t, kube, fakeAWS(t, a), "diagnose", "-o", "json", "--fail-on", "none")
	if listed.code != ExitOK || strings.Contains(listed.stderr, "Note:") {
		t.Fatalf("exit %d, stderr %s", listed.code, listed.stderr)
	}
	if a.Count("ListRoles") != 1 || a.Count("GetAccountAuthorizationDetails") != 1 || a.Count("GetRole") != 0 {
		t.Errorf("calls %+v, want the two listings and no GetRole", a.Calls())
	}

	kube, a = manyRoles(t)
	a.Fail("iam:ListRoles", "", "AccessDenied", "", 0)
	denied := runAWS(t, kube, fakeAWS(t, a), "diagnose", "-o", "json", "--fail-on", "none")
	if denied.code != ExitOK {
		t.Fatalf("exit %d: %s", denied.code, denied.stderr)
	}
	if n := strings.Count(denied.stderr, "Note: iam:ListRoles was denied, so each role was read with its own calls"); n != 1 {
		t.Errorf("the note appears %d times, want once:\n%s", n, denied.stderr)
	}
	if a.Count("GetRole") != cloud.ListingThreshold || strings.Contains(denied.stdout, "ListRoles") {
		t.Errorf("GetRole %d, or a finding names the listing:\n%s", a.Count("GetRole"), denied.stdout)
	}
	if denied.stdout != listed.stdout {
		t.Errorf("the findings differ between the listings and the per-role calls:\nlisted %s\ndenied %s", listed.stdout, denied.stdout)
	}
}
