package plugin

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/kubectl-irsa/kubectl-irsa/test/fakekube"
)

func TestResolveArgumentForms(t *testing.T) {
	t.Parallel()
	srv := newWorld(t)
	tests := []struct {
		args []string
		// subjects maps "ns/sa" to its pods.
		subjects map[string][]string
	}{
		{[]string{"pod/web-1"}, map[string][]string{"shop/app": {"web-1"}}},
		{[]string{"po/web-1"}, map[string][]string{"shop/app": {"web-1"}}},
		{[]string{"pod", "web-1", "db-0"}, map[string][]string{"shop/app": {"web-1"}, "shop/legacy": {"db-0"}}},
		{[]string{"pods/web-1", "sa/legacy"}, map[string][]string{"shop/app": {"web-1"}, "shop/legacy": {"db-0"}}},
		{[]string{"sa/app"}, map[string][]string{"shop/app": {"report-1-x7k2p", "web-1", "web-2"}}},
		{[]string{"serviceaccount", "plain"}, map[string][]string{"shop/plain": {"agent-node1", "stray"}}},
		{[]string{"ds/agent"}, map[string][]string{"shop/plain": {"agent-node1"}}},
		{[]string{"daemonset", "agent"}, map[string][]string{"shop/plain": {"agent-node1"}}},
		{[]string{"deploy/web"}, map[string][]string{"shop/app": {"web-1", "web-2"}, "shop/default": {"web-old"}}},
		{[]string{"deployment", "web"}, map[string][]string{"shop/app": {"web-1", "web-2"}, "shop/default": {"web-old"}}},
		{[]string{"rs/web-rs"}, map[string][]string{"shop/app": {"web-1", "web-2"}, "shop/default": {"web-old"}}},
		{[]string{"sts/db"}, map[string][]string{"shop/legacy": {"db-0"}}},
		{[]string{"cronjob/report"}, map[string][]string{"shop/app": {"report-1-x7k2p"}}},
		{[]string{"job/report-1"}, map[string][]string{"shop/app": {"report-1-x7k2p"}}},
		{[]string{"-l", "app=web"}, map[string][]string{"shop/default": {"web-old"}}},
		{[]string{"-l", "app in (web-1,db-0)"}, map[string][]string{"shop/app": {"web-1"}, "shop/legacy": {"db-0"}}},
		{[]string{"pods", "-l", "app=stray"}, map[string][]string{"shop/plain": {"stray"}}},
		{[]string{"-n", "billing", "pod/invoices-0"}, map[string][]string{"billing/invoices": {"invoices-0"}}},
		// No argument: discovery of annotated service accounts (a misspelt
		// annotation counts) and of service accounts whose pods carry AWS_ROLE_ARN.
		{nil, map[string][]string{"shop/app": {"report-1-x7k2p", "web-1", "web-2"}, "shop/legacy": {"db-0"}}},
		{[]string{"-A"}, map[string][]string{"billing/invoices": {"invoices-0"}, "shop/app": {"report-1-x7k2p", "web-1", "web-2"}, "shop/legacy": {"db-0"}}},
		{[]string{"-A", "sa"}, map[string][]string{"billing/invoices": {"invoices-0"}, "shop/app": {"report-1-x7k2p", "web-1", "web-2"}, "shop/default": {"web-old"}, "shop/legacy": {"db-0"}, "shop/plain": {"agent-node1", "stray"}}},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			t.Parallel()
			r := run(t, srv, append([]string{"diagnose", "-o", "json", "--fail-on", "none"}, tc.args...)...)
			if r.code != ExitOK {
				t.Fatalf("exit %d, stderr: %s", r.code, r.stderr)
			}
			got := map[string][]string{}
			for _, d := range decode(t, r).Items {
				pods := append([]string{}, d.Pods...)
				sort.Strings(pods)
				got[d.Subject.Namespace+"/"+d.Subject.Name] = pods
			}
			for k, v := range got {
				if len(v) == 0 {
					got[k] = nil
				}
			}
			if !reflect.DeepEqual(got, tc.subjects) {
				t.Errorf("subjects %v, want %v", got, tc.subjects)
			}
		})
	}
}

func TestDiagnoseFindingsAndExitCodes(t *testing.T) {
	t.Parallel()
	srv := newWorld(t)
	tests := []struct {
		args    []string
		code    int
		failing []string
	}{
		{[]string{"pod/web-1"}, ExitOK, nil},
		{[]string{"sts/db"}, ExitFindings, []string{"IRSA-POD-001 pod/db-0[app]"}},
		// web-old comes from an older template and runs as "default", which has
		// no role: a real failure, and the stale-pod warning says why.
		{[]string{"deploy/web"}, ExitFindings, []string{"IRSA-POD-003 pod/web-old", "IRSA-SA-002 serviceaccount/default"}},
		{[]string{"deploy/web", "--fail-on", "none"}, ExitOK, []string{"IRSA-POD-003 pod/web-old", "IRSA-SA-002 serviceaccount/default"}},
		{[]string{"sa/app", "--fail-on", "warning"}, ExitFindings, []string{"IRSA-CRED-001 pod/report-1-x7k2p[app]"}},
		{[]string{"pod/web-1", "--fail-on", "info"}, ExitOK, nil},
		{[]string{"cronjob/report"}, ExitFindings, []string{"IRSA-CRED-001 pod/report-1-x7k2p[app]"}},
		{[]string{"cronjob/report", "--fail-on", "none"}, ExitOK, []string{"IRSA-CRED-001 pod/report-1-x7k2p[app]"}},
		{[]string{"-n", "billing"}, ExitFindings, []string{"IRSA-SA-002 serviceaccount/invoices", "IRSA-SA-003 serviceaccount/invoices"}},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			t.Parallel()
			r := run(t, srv, append([]string{"diagnose", "-o", "json"}, tc.args...)...)
			if r.code != tc.code {
				t.Fatalf("exit %d, want %d; stderr: %s", r.code, tc.code, r.stderr)
			}
			if got := failing(decode(t, r)); !reflect.DeepEqual(got, tc.failing) {
				t.Errorf("failing findings %v, want %v", got, tc.failing)
			}
		})
	}
}

func TestDiagnoseBadInput(t *testing.T) {
	t.Parallel()
	srv := newWorld(t)
	tests := []struct {
		args   []string
		stderr string
	}{
		{[]string{"diagnose", "pod/nope"}, `pods "nope" not found`},
		{[]string{"diagnose", "frobnicate/x"}, `the server doesn't have a resource type "frobnicate"`},
		{[]string{"diagnose", "ns/shop"}, `cannot diagnose namespaces "shop"`},
		{[]string{"diagnose", "secret/aws-creds"}, "cannot diagnose secrets \"aws-creds\""},
		{[]string{"diagnose", "-l", "app=nothing"}, "no resources found"},
		{[]string{"diagnose", "-o", "xml"}, `unknown output format "xml"`},
		{[]string{"diagnose", "-n", "nowhere"}, `namespace "nowhere" not found`},
		{[]string{"diagnose", "--fail-on", "sometimes"}, `--fail-on="sometimes"`},
		{[]string{"diagnose", "--context", "missing"}, `context was not found for specified context: missing`},
		{[]string{"diagnose", "--bogus"}, "unknown flag: --bogus"},
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			t.Parallel()
			r := run(t, srv, tc.args...)
			if r.code != ExitError {
				t.Fatalf("exit %d, want 1; stderr: %s", r.code, r.stderr)
			}
			if !strings.Contains(r.stderr, tc.stderr) {
				t.Errorf("stderr %q does not contain %q", r.stderr, tc.stderr)
			}
			if strings.Count(strings.TrimSpace(r.stderr), "\n") > 1 || strings.Contains(r.stderr, "goroutine") {
				t.Errorf("stderr is not a one-line error: %q", r.stderr)
			}
			if r.stdout != "" {
				t.Errorf("stdout not empty on error: %q", r.stdout)
			}
		})
	}
}

func TestDiagnoseForbiddenReads(t *testing.T) {
	t.Parallel()
	srv := newWorld(t)
	srv.Forbid("list", "mutatingwebhookconfigurations", "")
	srv.Forbid("get", "secrets", "shop")
	r := run(t, srv, "diagnose", "cronjob/report", "-o", "json", "--fail-on", "none")
	if r.code != ExitOK {
		t.Fatalf("optional reads forbidden must not abort: exit %d, %s", r.code, r.stderr)
	}
	var unknowns []string
	for _, d := range decode(t, r).Items {
		for _, f := range d.Findings {
			if f.Status == "unknown" {
				unknowns = append(unknowns, string(f.ID)+" "+f.Message)
			}
		}
	}
	want := []string{
		`IRSA-CRED-001 Could not read Secret/aws-creds used through envFrom: secrets is forbidden: User "tester" cannot get resource "secrets" in API group "" in the namespace "shop"`,
		`IRSA-WEBHOOK-001 Could not list mutating webhook configurations: mutatingwebhookconfigurations is forbidden: User "tester" cannot list resource "mutatingwebhookconfigurations" in API group "admissionregistration.k8s.io"`,
	}
	if !reflect.DeepEqual(unknowns, want) {
		t.Errorf("unknown findings:\n%s\nwant:\n%s", strings.Join(unknowns, "\n"), strings.Join(want, "\n"))
	}

	required := fakekube.New(t, world()...)
	required.Forbid("list", "pods", "shop")
	r = run(t, required, "diagnose", "sa/app")
	if r.code != ExitError || !strings.Contains(r.stderr, "listing pods in namespace shop is forbidden: diagnose needs list on pods") {
		t.Errorf("forbidden pod list: exit %d, stderr %q", r.code, r.stderr)
	}
}

func TestDiagnoseUnreachableServer(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there any more: connection refused
	kubeconfig := filepath.Join(t.TempDir(), "config")
	cfg := fmt.Sprintf("apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: 'http://%s'}}]\ncontexts: [{name: c, context: {cluster: c, namespace: shop}}]\ncurrent-context: c\n", addr)
	if err := os.WriteFile(kubeconfig, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	flags := []string{"--kubeconfig", kubeconfig, "--cache-dir", t.TempDir(), "--request-timeout", "5s"}
	r := runArgs(t, append(flags, "diagnose")...)
	if r.code != ExitError || !strings.Contains(r.stderr, "connection refused") {
		t.Errorf("exit %d, stderr %q", r.code, r.stderr)
	}

	// As a process, where klog writes too: below -v the user reads the one
	// error line, not client-go's discovery cache reporting each failed
	// attempt first; with -v those reports come back.
	const discoveryReport = "Couldn't get current server API group list"
	for _, args := range [][]string{{"diagnose"}, {"diagnose", "pod/web"}, {"diagnose", "deploy/web", "sa/app"}} {
		r := runProcess(t, append(flags, args...)...)
		lines := strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n")
		if r.code != ExitError || len(lines) != 1 || !strings.HasPrefix(lines[0], "error: ") || !strings.Contains(lines[0], "connection refused") {
			t.Errorf("%s at -v=0: exit %d, %d lines on stderr, want exit 1 and one error line:\n%s", strings.Join(args, " "), r.code, len(lines), r.stderr)
		}
	}
	r = runProcess(t, append(flags, "diagnose", "pod/web", "-v=1")...)
	// As client-go wrote them: from the discovery cache's file and line.
	if lines := strings.Count(r.stderr, "\n"); r.code != ExitError || lines < 2 || !strings.Contains(r.stderr, "memcache.go:") || !strings.Contains(r.stderr, discoveryReport) {
		t.Errorf("diagnose pod/web at -v=1: exit %d, %d lines on stderr, want exit 1 and memcache.go's %q reports:\n%s", r.code, lines, discoveryReport, r.stderr)
	}
}

func TestDiagnoseListsEachKindOnce(t *testing.T) {
	t.Parallel()
	srv := newWorld(t)
	r := run(t, srv, "diagnose", "-A", "-o", "json", "--fail-on", "none")
	if r.code != ExitOK {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	for _, res := range []string{"pods", "serviceaccounts", "replicasets", "jobs", "mutatingwebhookconfigurations", "namespaces"} {
		if n := srv.Count("list", res); n != 1 {
			t.Errorf("list %s: %d requests, want exactly 1", res, n)
		}
	}
	for _, res := range []string{"pods", "serviceaccounts", "namespaces"} {
		if n := srv.Count("get", res); n != 0 {
			t.Errorf("get %s: %d requests, want none (no GET per object)", res, n)
		}
	}
	if n := srv.Count("get", "secrets"); n != 1 {
		t.Errorf("get secrets: %d, want 1 (one distinct envFrom Secret)", n)
	}
}
