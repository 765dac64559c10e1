package synth

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func TestLayout(t *testing.T) {
	t.Parallel()
	if err := Default.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []Spec{{Pods: 1, Namespaces: 5, ServiceAccounts: 4, Roles: 1}, {Pods: 1, Namespaces: 1, ServiceAccounts: 4, Roles: 5}, {Namespaces: 0, ServiceAccounts: 1, Roles: 1}} {
		if bad.Validate() == nil {
			t.Errorf("%+v: no error", bad)
		}
	}
	s := Default
	if ns, name := s.ServiceAccount(1234 % s.ServiceAccounts); ns != "bench-034" || name != "app-0234" {
		t.Errorf("service account 234 = %s/%s", ns, name)
	}
	if s.RoleOf(634) != 34 || RoleARN(34) != "arn:aws:iam::111122223333:role/bench-role-034" {
		t.Errorf("role of 634 = %d (%s)", s.RoleOf(634), RoleARN(s.RoleOf(634)))
	}
	if got := s.PodName(4234); got != "app-0234-6d9f7c5b8-00004" {
		t.Errorf("pod 4234 = %s", got)
	}
	if s.ExistingRoles() != 299 || s.RoleExists(299) {
		t.Errorf("broken cluster: %d roles exist, role 299 exists %v", s.ExistingRoles(), s.RoleExists(299))
	}
}

// TestTrustPolicy: a role trusts exactly the service accounts that use it,
// but the deliberately broken every 50th.
func TestTrustPolicy(t *testing.T) {
	t.Parallel()
	s := Spec{Namespaces: 2, ServiceAccounts: 100, Roles: 50, Broken: true}
	var doc struct {
		Statement []struct {
			Principal struct{ Federated string }
			Condition map[string]map[string]json.RawMessage
		}
	}
	if err := json.Unmarshal([]byte(s.TrustPolicy(49, "127.0.0.1:6443")), &doc); err != nil {
		t.Fatal(err)
	}
	st := doc.Statement[0]
	if st.Principal.Federated != "arn:aws:iam::111122223333:oidc-provider/127.0.0.1:6443" {
		t.Errorf("principal %s", st.Principal.Federated)
	}
	var subs []string
	if err := json.Unmarshal(st.Condition["StringEquals"]["127.0.0.1:6443:sub"], &subs); err != nil {
		t.Fatal(err)
	}
	// Role 49 is used by service accounts 49 and 99, both left out.
	if want := []string{"system:serviceaccount:nobody:nobody"}; !reflect.DeepEqual(subs, want) {
		t.Errorf("role 49 trusts %v, want %v", subs, want)
	}
	if err := json.Unmarshal([]byte(s.TrustPolicy(3, "127.0.0.1:6443")), &doc); err != nil {
		t.Fatal(err)
	}
	subs = nil
	_ = json.Unmarshal(doc.Statement[0].Condition["StringEquals"]["127.0.0.1:6443:sub"], &subs)
	if want := []string{"system:serviceaccount:bench-001:app-0003", "system:serviceaccount:bench-001:app-0053"}; !reflect.DeepEqual(subs, want) {
		t.Errorf("role 3 trusts %v, want %v", subs, want)
	}
}

func TestParseAndSummarizeAudit(t *testing.T) {
	t.Parallel()
	lines := []string{
		`{"stage":"ResponseComplete","verb":"list","requestURI":"/api/v1/pods?limit=500","userAgent":"kubectl-irsa/v0.0.0 (linux/amd64) kubernetes/$Format","objectRef":{"resource":"pods","apiVersion":"v1"}}`,
		`{"stage":"ResponseComplete","verb":"list","requestURI":"/api/v1/pods?continue=abc&limit=500","userAgent":"kubectl-irsa/v0.0.0","objectRef":{"resource":"pods"}}`,
		`{"stage":"ResponseStarted","verb":"watch","requestURI":"/api/v1/pods?watch=1","userAgent":"kubectl-irsa/v0.0.0","objectRef":{"resource":"pods"}}`,
		`{"stage":"ResponseComplete","verb":"get","requestURI":"/.well-known/openid-configuration","userAgent":"Go-http-client/1.1"}`,
		`{"stage":"ResponseComplete","verb":"create","requestURI":"/api/v1/namespaces/a/serviceaccounts/b/token","userAgent":"kubectl/v1.37.2","objectRef":{"resource":"serviceaccounts","subresource":"token"}}`,
		`{"stage":"ResponseComplete","verb":"create","requestURI":"/api/v1/namespaces/a/pods","userAgent":"` + BenchUserAgent + `","objectRef":{"resource":"pods"}}`,
		`{"stage":"ResponseComplete","verb":"get","requestURI":"/api/v1/namespaces/default/configmaps/m1","userAgent":"` + BenchUserAgent + `","objectRef":{"resource":"configmaps","name":"m1"}}`,
	}
	events, found, err := ParseAudit([]byte(strings.Join(lines, "\n")+"\n"), "m1")
	if err != nil || !found {
		t.Fatalf("found marker %v, err %v", found, err)
	}
	r := Summarize(events)
	want := map[string]int{"list pods": 2, "get /.well-known/openid-configuration": 1, "create serviceaccounts/token": 1}
	if !reflect.DeepEqual(r.ByKey, want) || r.Total != 4 || r.Pages != 1 || r.PagesByKey["list pods"] != 1 || r.Verb("list") != 2 {
		t.Errorf("summary %+v", r)
	}
	if agents := map[string]int{"kubectl-irsa": 2, "Go-http-client": 1, "kubectl": 1}; !reflect.DeepEqual(r.ByAgent, agents) {
		t.Errorf("agents %v, want %v", r.ByAgent, agents)
	}
	if _, _, err := ParseAudit([]byte("{not json\n"), ""); err == nil {
		t.Error("garbage parsed")
	}
}
