//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"k8s.io/client-go/kubernetes"

	"github.com/kubectl-irsa/kubectl-irsa/test/bench/synth"
	"github.com/kubectl-irsa/kubectl-irsa/test/e2e/controlplane"
	"github.com/kubectl-irsa/kubectl-irsa/test/fakeaws"
	"github.com/kubectl-irsa/kubectl-irsa/test/harness"
)

// TestScaleCallCounts is issue 8's guard, on the synthetic cluster of `make
// bench` at two small sizes: the same 20 service accounts in 4 namespaces
// sharing 8 roles, with 40 pods and then 200. `kubectl irsa diagnose -A`
// must make exactly the same Kubernetes requests (counted by the API
// server's audit log) and the same AWS calls (the emulator's log) at both
// sizes: every kind listed once, no GET per pod, one GetRole per distinct
// role. A request or call per pod would differ by 160.
func TestScaleCallCounts(t *testing.T) {
	ctx := t.Context()
	pluginDir := buildPlugin(ctx, t)
	flags, auditPath, err := synth.AuditFlags(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	cp := controlplane.MustStart(ctx, t, controlplane.Options{ExtraAPIServerFlags: flags})
	cfg := cp.RESTConfig()
	cfg.QPS, cfg.Burst, cfg.UserAgent = 1000, 2000, synth.BenchUserAgent
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	issuer, err := url.Parse(cp.Issuer)
	if err != nil {
		t.Fatal(err)
	}
	fake := fakeaws.New()
	spec := synth.Spec{Namespaces: 4, ServiceAccounts: 20, Roles: 8, Broken: true}
	synth.ConfigureAWS(fake, spec, issuer.Host, "")
	env := harness.PluginEnv{PluginDir: pluginDir, ToolsBin: cp.BinDir, Kubeconfig: cp.Kubeconfig, CacheDir: t.TempDir(),
		AWSEndpoint: fakeaws.Serve(t, fake), Region: synth.Region}.Environ()
	audit := &synth.AuditLog{Path: auditPath}

	type counts struct {
		k8s synth.Requests
		aws map[string]int
	}
	measure := func(pods int) counts {
		t.Helper()
		spec.Pods = pods
		if err := synth.Populate(ctx, cs, spec, synth.PopulateOptions{Workers: 8}); err != nil {
			t.Fatal(err)
		}
		if err := audit.Skip(ctx, cs); err != nil {
			t.Fatal(err)
		}
		fake.ResetCalls()
		out, err := os.Create(filepath.Join(t.TempDir(), "stdout"))
		if err != nil {
			t.Fatal(err)
		}
		defer out.Close()
		res, err := synth.Run(ctx, env, out, filepath.Join(cp.BinDir, "kubectl"), "irsa", "diagnose", "-A", "-o", "json")
		if err != nil {
			t.Fatal(err)
		}
		if res.ExitCode != 2 { // the synthetic cluster's few mistakes are errors
			t.Fatalf("%d pods: exit %d, want 2\n%s", pods, res.ExitCode, res.Stderr)
		}
		events, err := audit.Take(ctx, cs)
		if err != nil {
			t.Fatal(err)
		}
		assertDiagnosed(t, out.Name(), spec)
		c := counts{k8s: synth.Summarize(events), aws: map[string]int{}}
		for _, call := range fake.Calls() {
			c.aws[call.Service+":"+call.Op]++
		}
		t.Logf("%d pods: Kubernetes %v; AWS %v; stderr %s", pods, c.k8s.ByKey, c.aws, strings.TrimSpace(res.Stderr))
		return c
	}
	small, large := measure(40), measure(200)

	if !reflect.DeepEqual(small.k8s.ByKey, large.k8s.ByKey) {
		t.Errorf("Kubernetes requests grow with the pods:\n 40 pods: %v\n200 pods: %v", small.k8s.ByKey, large.k8s.ByKey)
	}
	for k, n := range large.k8s.ByKey {
		verb, resource, _ := strings.Cut(k, " ")
		switch {
		case verb == "list" && n-large.k8s.PagesByKey[k] != 1:
			t.Errorf("%s: %d first pages, want the kind listed once", k, n-large.k8s.PagesByKey[k])
		case verb != "list" && (resource == "pods" || resource == "serviceaccounts" || resource == "namespaces" || resource == "replicasets"):
			t.Errorf("%s: %d requests, want none (objects come from one LIST per kind)", k, n)
		}
	}
	for _, kind := range []string{"pods", "serviceaccounts", "replicasets", "jobs", "namespaces", "mutatingwebhookconfigurations"} {
		if large.k8s.ByKey["list "+kind] == 0 {
			t.Errorf("list %s missing from %v: is the audit log counting the plugin?", kind, large.k8s.ByKey)
		}
	}

	if !reflect.DeepEqual(small.aws, large.aws) {
		t.Errorf("AWS calls grow with the pods:\n 40 pods: %v\n200 pods: %v", small.aws, large.aws)
	}
	want := map[string]int{
		"iam:GetRole":                  spec.Roles, // one per distinct role, the missing one included
		"iam:ListAttachedRolePolicies": spec.ExistingRoles(), "iam:ListRolePolicies": spec.ExistingRoles(),
		"sts:GetCallerIdentity": 1, "iam:GetOpenIDConnectProvider": 1,
	}
	if !reflect.DeepEqual(large.aws, want) {
		t.Errorf("AWS calls %v, want %v", large.aws, want)
	}
}

// assertDiagnosed checks the run saw every service account and pod, so that
// equal counts cannot come from a run that read nothing.
func assertDiagnosed(t *testing.T, path string, spec synth.Spec) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var list struct {
		Items []struct {
			Pods []string `json:"pods"`
		} `json:"items"`
	}
	if err := json.Unmarshal(b, &list); err != nil {
		t.Fatalf("stdout is not JSON: %v", err)
	}
	pods := 0
	for _, it := range list.Items {
		pods += len(it.Pods)
	}
	if got, want := fmt.Sprint(len(list.Items), " ", pods), fmt.Sprint(spec.ServiceAccounts, " ", spec.Pods); got != want {
		t.Fatalf("diagnosed %s service accounts and pods, want %s", got, want)
	}
}
