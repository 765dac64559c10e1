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

// scaleWorld is the synthetic cluster of `make bench` on its own control
// plane and AWS emulator, with a measure that fills it to a number of pods
// and runs `kubectl irsa diagnose -A -o json` once.
type scaleWorld struct {
	spec    synth.Spec
	fake    *fakeaws.Server
	measure func(pods int) scaleCounts
}

// scaleCounts is what one run cost: the Kubernetes requests (the API
// server's audit log), the AWS calls (the emulator's log) and its stderr.
type scaleCounts struct {
	k8s    synth.Requests
	aws    map[string]int
	stderr string
}

func newScaleWorld(t *testing.T, pluginDir string, spec synth.Spec) *scaleWorld {
	t.Helper()
	ctx := t.Context()
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
	w := &scaleWorld{spec: spec, fake: fakeaws.New()}
	synth.ConfigureAWS(w.fake, spec, issuer.Host, "")
	env := harness.PluginEnv{PluginDir: pluginDir, ToolsBin: cp.BinDir, Kubeconfig: cp.Kubeconfig, CacheDir: t.TempDir(),
		AWSEndpoint: fakeaws.Serve(t, w.fake), Region: synth.Region}.Environ()
	audit := &synth.AuditLog{Path: auditPath}
	w.measure = func(pods int) scaleCounts {
		t.Helper()
		w.spec.Pods = pods
		if err := synth.Populate(ctx, cs, w.spec, synth.PopulateOptions{Workers: 8}); err != nil {
			t.Fatal(err)
		}
		if err := audit.Skip(ctx, cs); err != nil {
			t.Fatal(err)
		}
		w.fake.ResetCalls()
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
		assertDiagnosed(t, out.Name(), w.spec)
		c := scaleCounts{k8s: synth.Summarize(events), aws: map[string]int{}, stderr: res.Stderr}
		for _, call := range w.fake.Calls() {
			c.aws[call.Service+":"+call.Op]++
		}
		t.Logf("%d roles, %d pods: Kubernetes %v; AWS %v; stderr %s", w.spec.Roles, pods, c.k8s.ByKey, c.aws, strings.TrimSpace(res.Stderr))
		return c
	}
	return w
}

// TestScaleCallCounts is issue 8's guard, on the synthetic cluster of `make
// bench` at two small sizes: the same 20 service accounts in 4 namespaces
// sharing 8 roles, with 40 pods and then 200. `kubectl irsa diagnose -A`
// must make exactly the same Kubernetes requests (counted by the API
// server's audit log) and the same AWS calls (the emulator's log) at both
// sizes: every kind listed once, no GET per pod, one GetRole per distinct
// role. A request or call per pod would differ by 160.
//
// Issue 18 adds the role listings: with 30 and with 90 roles (more than
// cloud.ListingThreshold), the AWS calls are the same, the listings' pages
// and a GetRole for the one missing role, so they follow pages, not roles;
// with iam:ListRoles denied the roles are read one by one, and the run
// says so once.
func TestScaleCallCounts(t *testing.T) {
	pluginDir := buildPlugin(t.Context(), t)

	t.Run("per role", func(t *testing.T) {
		w := newScaleWorld(t, pluginDir, synth.Spec{Namespaces: 4, ServiceAccounts: 20, Roles: 8, Broken: true})
		small, large := w.measure(40), w.measure(200)
		assertKubeConstant(t, small, large)
		if !reflect.DeepEqual(small.aws, large.aws) {
			t.Errorf("AWS calls grow with the pods:\n 40 pods: %v\n200 pods: %v", small.aws, large.aws)
		}
		want := map[string]int{
			"iam:GetRole":                  w.spec.Roles, // one per distinct role, the missing one included
			"iam:ListAttachedRolePolicies": w.spec.ExistingRoles(), "iam:ListRolePolicies": w.spec.ExistingRoles(),
			"sts:GetCallerIdentity": 1, "iam:GetOpenIDConnectProvider": 1,
		}
		if !reflect.DeepEqual(large.aws, want) {
			t.Errorf("AWS calls %v, want %v", large.aws, want)
		}
	})

	t.Run("listings", func(t *testing.T) {
		// One page of each listing (the emulator answers up to 100 roles a
		// page) and GetRole for the missing role alone, at either size.
		want := map[string]int{"sts:GetCallerIdentity": 1, "iam:ListRoles": 1, "iam:GetAccountAuthorizationDetails": 1,
			"iam:GetRole": 1, "iam:GetOpenIDConnectProvider": 1}
		few := newScaleWorld(t, pluginDir, synth.Spec{Namespaces: 4, ServiceAccounts: 60, Roles: 30, Broken: true})
		small, large := few.measure(60), few.measure(180)
		assertKubeConstant(t, small, large)
		many := newScaleWorld(t, pluginDir, synth.Spec{Namespaces: 4, ServiceAccounts: 90, Roles: 90, Broken: true})
		more := many.measure(90)
		for _, c := range []scaleCounts{small, large, more} {
			if !reflect.DeepEqual(c.aws, want) {
				t.Errorf("AWS calls %v, want %v", c.aws, want)
			}
			if strings.Contains(c.stderr, "Note:") {
				t.Errorf("a note on a run whose listings worked: %s", c.stderr)
			}
		}

		few.fake.Fail("iam:ListRoles", "", "AccessDenied", "", 0)
		denied := few.measure(180)
		if n := denied.aws["iam:GetRole"]; n != few.spec.Roles || denied.aws["iam:ListAttachedRolePolicies"] != few.spec.ExistingRoles() ||
			denied.aws["iam:ListRoles"] != 1 || denied.aws["iam:GetAccountAuthorizationDetails"] > 1 {
			t.Errorf("with iam:ListRoles denied: AWS calls %v, want one GetRole and its listings per role", denied.aws)
		}
		if strings.Contains(denied.stderr, "WARN") {
			t.Errorf("the stopped listing made the SDK warn:\n%s", denied.stderr)
		}
		if n := strings.Count(denied.stderr, "Note: iam:ListRoles was denied"); n != 1 {
			t.Errorf("the fallback is said %d times, want once:\n%s", n, denied.stderr)
		}
	})
}

// assertKubeConstant: the same Kubernetes requests at both sizes, every
// kind listed once, nothing read per object.
func assertKubeConstant(t *testing.T, small, large scaleCounts) {
	t.Helper()
	if !reflect.DeepEqual(small.k8s.ByKey, large.k8s.ByKey) {
		t.Errorf("Kubernetes requests grow with the pods:\n small: %v\n large: %v", small.k8s.ByKey, large.k8s.ByKey)
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
