// Package synth builds the synthetic cluster of issue 8 on a real API server
// and the matching AWS state in the emulator: pods spread over service
// accounts in namespaces, service accounts sharing IAM roles, and pod specs as
// the pod identity webhook leaves them. The benchmark (test/bench) and the
// call-count end-to-end test (test/e2e) share it, so what the test asserts at
// a small size is what the benchmark measures at a large one.
//
// The layout is a pure function of the Spec: service account i lives in
// namespace i mod Namespaces and uses role i mod Roles; pod k belongs to
// service account k mod ServiceAccounts. Growing Spec.Pods therefore adds
// pods to the same service accounts, roles and namespaces.
package synth

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Account is the AWS account of the cluster, the roles and the caller.
const Account = "111122223333"

// Audience is the token audience of every service account.
const Audience = "sts.amazonaws.com"

// Spec is the size of a synthetic cluster.
type Spec struct {
	Pods            int
	Namespaces      int
	ServiceAccounts int
	Roles           int
	// Broken adds the few mistakes a real cluster has: every 50th service
	// account is missing from its role's trust policy, and the last role
	// does not exist in IAM. Neither changes which calls are made.
	Broken bool
	// PodStatus writes a Running status on every pod (one more request per
	// pod while building), so pods have the size they have on a real cluster.
	PodStatus bool
}

// Default is issue 8's cluster.
var Default = Spec{Pods: 5000, Namespaces: 200, ServiceAccounts: 1000, Roles: 300, Broken: true, PodStatus: true}

// Validate rejects sizes the layout cannot honour.
func (s Spec) Validate() error {
	switch {
	case s.Pods < 0:
		return fmt.Errorf("pods must not be negative")
	case s.Namespaces < 1, s.ServiceAccounts < 1, s.Roles < 1:
		return fmt.Errorf("namespaces, service accounts and roles must be at least 1")
	case s.ServiceAccounts < s.Namespaces:
		return fmt.Errorf("%d service accounts cannot fill %d namespaces", s.ServiceAccounts, s.Namespaces)
	case s.ServiceAccounts < s.Roles:
		return fmt.Errorf("%d roles for %d service accounts: some roles would be unused", s.Roles, s.ServiceAccounts)
	}
	return nil
}

// Namespace is the name of namespace n.
func Namespace(n int) string { return fmt.Sprintf("bench-%03d", n) }

// ServiceAccount is the namespace and name of service account i.
func (s Spec) ServiceAccount(i int) (namespace, name string) {
	return Namespace(i % s.Namespaces), fmt.Sprintf("app-%04d", i)
}

// RoleName is the IAM role name of role j.
func RoleName(j int) string { return fmt.Sprintf("bench-role-%03d", j) }

// RoleARN is the ARN of role j.
func RoleARN(j int) string { return "arn:aws:iam::" + Account + ":role/" + RoleName(j) }

// RoleOf is the role index service account i uses.
func (s Spec) RoleOf(i int) int { return i % s.Roles }

// ServiceAccountOf is the service account index pod k runs as.
func (s Spec) ServiceAccountOf(k int) int { return k % s.ServiceAccounts }

// PodName is pod k's name: its service account's Deployment, ReplicaSet
// hash and a replica index, as a Deployment names them.
func (s Spec) PodName(k int) string {
	_, sa := s.ServiceAccount(s.ServiceAccountOf(k))
	return fmt.Sprintf("%s-%s-%05d", sa, replicaSetHash, k/s.ServiceAccounts)
}

const replicaSetHash = "6d9f7c5b8"

// ReplicaSetName is the ReplicaSet of service account i's Deployment.
func (s Spec) ReplicaSetName(i int) string {
	_, sa := s.ServiceAccount(i)
	return sa + "-" + replicaSetHash
}

// trusted reports whether role j's trust policy names service account i.
func (s Spec) trusted(i int) bool { return !s.Broken || i%50 != 49 }

// RoleExists reports whether role j exists in IAM.
func (s Spec) RoleExists(j int) bool { return !s.Broken || j != s.Roles-1 }

// ExistingRoles is how many roles IAM holds.
func (s Spec) ExistingRoles() int {
	n := 0
	for j := range s.Roles {
		if s.RoleExists(j) {
			n++
		}
	}
	return n
}

// TrustPolicy is role j's trust policy for an issuer host (127.0.0.1:PORT):
// what eksctl writes, with every service account that uses the role listed
// in the sub condition.
func (s Spec) TrustPolicy(j int, issuerHost string) string {
	var subs []string
	for i := j; i < s.ServiceAccounts; i += s.Roles {
		if s.trusted(i) {
			ns, name := s.ServiceAccount(i)
			subs = append(subs, "system:serviceaccount:"+ns+":"+name)
		}
	}
	if len(subs) == 0 {
		subs = []string{"system:serviceaccount:nobody:nobody"}
	}
	doc := map[string]any{
		"Version": "2012-10-17",
		"Statement": []map[string]any{{
			"Effect":    "Allow",
			"Principal": map[string]string{"Federated": ProviderARN(issuerHost)},
			"Action":    "sts:AssumeRoleWithWebIdentity",
			"Condition": map[string]any{"StringEquals": map[string]any{
				issuerHost + ":sub": subs,
				issuerHost + ":aud": Audience,
			}},
		}},
	}
	b, _ := json.Marshal(doc) // maps of strings always marshal
	return string(b)
}

// ProviderARN is the IAM OIDC provider of the issuer host in Account.
func ProviderARN(issuerHost string) string {
	return "arn:aws:iam::" + Account + ":oidc-provider/" + strings.TrimPrefix(issuerHost, "https://")
}
