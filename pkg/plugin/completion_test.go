package plugin

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/kubectl-irsa/kubectl-irsa/test/fakekube"
)

// completion is what cobra's hidden __complete command answers: one candidate
// per line, then ":DIRECTIVE".
type completion struct {
	candidates []string
	directive  cobra.ShellCompDirective
	stderr     string
}

// complete asks the plugin for completions of words against srv, as the
// kubectl_complete-irsa shim does; the last word is the one being completed.
func complete(t *testing.T, kubeconfig string, words ...string) completion {
	t.Helper()
	// The connection flags go right after the subcommand, where they cannot
	// take the place of another flag's value.
	args := []string{"__complete", words[0], "--kubeconfig", kubeconfig, "--cache-dir", t.TempDir()}
	args = append(args, words[1:]...)
	streams, _, out, errOut := genericiooptions.NewTestIOStreams()
	if code := execute(context.Background(), streams, args, Deps{}); code != ExitOK {
		t.Fatalf("__complete %q exited %d: %s", words, code, errOut)
	}
	var c completion
	c.stderr = errOut.String()
	for line := range strings.SplitSeq(strings.TrimRight(out.String(), "\n"), "\n") {
		if d, ok := strings.CutPrefix(line, ":"); ok {
			var n int
			for _, r := range d {
				n = n*10 + int(r-'0')
			}
			c.directive = cobra.ShellCompDirective(n)
			continue
		}
		// A candidate may carry a description after a tab.
		name, _, _ := strings.Cut(line, "\t")
		c.candidates = append(c.candidates, name)
	}
	return c
}

func assertCandidates(t *testing.T, c completion, want ...string) {
	t.Helper()
	if !slices.Equal(c.candidates, want) {
		t.Errorf("candidates = %q, want %q\nstderr: %s", c.candidates, want, c.stderr)
	}
}

func TestCompleteDiagnoseTypes(t *testing.T) {
	srv := fakekube.New(t, world()...)
	kc := srv.Kubeconfig(t, "shop")

	c := complete(t, kc, "diagnose", "")
	assertCandidates(t, c, "pod/", "sa/", "deploy/", "sts/", "ds/", "rs/", "job/", "cronjob/")
	if c.directive != cobra.ShellCompDirectiveNoFileComp|cobra.ShellCompDirectiveNoSpace {
		t.Errorf("directive = %d: a type needs no space after its slash and no file names", c.directive)
	}
	assertCandidates(t, complete(t, kc, "diagnose", "s"), "sa/", "sts/")
	assertCandidates(t, complete(t, kc, "diagnose", "pod/web-1", "c"), "cronjob/")
	// A bare type takes no names of other types, and no API call is needed.
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("completing types made %d API requests, want none", n)
	}
}

func TestCompleteDiagnoseNames(t *testing.T) {
	srv := fakekube.New(t, world()...)
	kc := srv.Kubeconfig(t, "shop")

	for _, tc := range []struct {
		words []string
		want  []string
	}{
		{[]string{"diagnose", "pod/"}, []string{"pod/agent-node1", "pod/db-0", "pod/report-1-x7k2p", "pod/stray", "pod/web-1", "pod/web-2", "pod/web-old"}},
		{[]string{"diagnose", "pod/web-"}, []string{"pod/web-1", "pod/web-2", "pod/web-old"}},
		{[]string{"diagnose", "pod/web-1", "pod/web-"}, []string{"pod/web-2", "pod/web-old"}},
		{[]string{"diagnose", "sa/"}, []string{"sa/app", "sa/default", "sa/legacy", "sa/plain"}},
		{[]string{"diagnose", "deploy/"}, []string{"deploy/web"}},
		{[]string{"diagnose", "sts/"}, []string{"sts/db"}},
		{[]string{"diagnose", "ds/"}, []string{"ds/agent"}},
		{[]string{"diagnose", "job/"}, []string{"job/report-1"}},
		{[]string{"diagnose", "cronjob/"}, []string{"cronjob/report"}},
		{[]string{"diagnose", "statefulsets.apps/"}, []string{"statefulsets.apps/db"}},
		// -n picks the namespace, -A every namespace.
		{[]string{"diagnose", "-n", "billing", "sa/"}, []string{"sa/invoices"}},
		{[]string{"diagnose", "-A", "sa/"}, []string{"sa/app", "sa/default", "sa/invoices", "sa/legacy", "sa/plain"}},
		// TYPE NAME...: further words are names of that type.
		{[]string{"diagnose", "pod", "web-"}, []string{"web-1", "web-2", "web-old"}},
		{[]string{"diagnose", "pod", "web-1", "web-"}, []string{"web-2", "web-old"}},
		{[]string{"diagnose", "pod", "sa/"}, nil},
		// A type diagnose does not follow has nothing to offer.
		{[]string{"diagnose", "secret/"}, nil},
	} {
		t.Run(strings.Join(tc.words, " "), func(t *testing.T) {
			c := complete(t, kc, tc.words...)
			assertCandidates(t, c, tc.want...)
			if c.directive != cobra.ShellCompDirectiveNoFileComp {
				t.Errorf("directive = %d, want NoFileComp", c.directive)
			}
		})
	}
}

func TestCompleteFlags(t *testing.T) {
	srv := fakekube.New(t, world()...)
	kc := srv.Kubeconfig(t, "shop")

	assertCandidates(t, complete(t, kc, "diagnose", "-n", ""), "billing", "default", "shop")
	assertCandidates(t, complete(t, kc, "diagnose", "--namespace", "s"), "shop")
	assertCandidates(t, complete(t, kc, "thumbprint", "--namespace", "b"), "billing")
	assertCandidates(t, complete(t, kc, "diagnose", "-o", ""), "wide", "json", "yaml")
	assertCandidates(t, complete(t, kc, "diagnose", "--output", "j"), "json")
	assertCandidates(t, complete(t, kc, "diagnose", "--fail-on", ""), "error", "warning", "info", "none")
	assertCandidates(t, complete(t, kc, "thumbprint", "--fail-on", "w"), "warning")
	assertCandidates(t, complete(t, kc, "checks", "-o", ""), "wide", "json", "yaml", "markdown")
	assertCandidates(t, complete(t, kc, "completion", ""), "bash", "zsh", "fish", "powershell")

	// Contexts come from the kubeconfig, sorted.
	multi := filepath.Join(t.TempDir(), "kubeconfig")
	cfg := `apiVersion: v1
kind: Config
clusters:
- name: fake
  cluster: {server: "` + srv.URL + `"}
users:
- name: tester
  user: {token: not-a-real-token}
contexts:
- name: prod-eu
  context: {cluster: fake, user: tester}
- name: dev
  context: {cluster: fake, user: tester}
- name: prod-us
  context: {cluster: fake, user: tester}
current-context: dev
`
	if err := os.WriteFile(multi, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	assertCandidates(t, complete(t, multi, "diagnose", "--context", ""), "dev", "prod-eu", "prod-us")
	assertCandidates(t, complete(t, multi, "diagnose", "--context", "prod"), "prod-eu", "prod-us")
}

// TestCompleteUnreachable: a shell must get its prompt back with nothing
// offered, not an error or a hang, when the cluster does not answer.
func TestCompleteUnreachable(t *testing.T) {
	srv := fakekube.New(t)
	kc := srv.Kubeconfig(t, "shop")
	srv.Close()
	start := time.Now()
	assertCandidates(t, complete(t, kc, "diagnose", "pod/"))
	assertCandidates(t, complete(t, kc, "diagnose", "-n", ""))
	if d := time.Since(start); d > 2*completionTimeout {
		t.Errorf("completion against a closed server took %v", d)
	}
}

// TestFixedValuesMatchUsage keeps the completion table and the flags' own
// help in step: every offered value is named in the usage text.
func TestFixedValuesMatchUsage(t *testing.T) {
	root := NewCmdIRSA(genericiooptions.NewTestIOStreamsDiscard())
	for name, flags := range fixedValues {
		sub, _, err := root.Find([]string{name})
		if err != nil || sub.Name() != name {
			t.Errorf("no subcommand %q: %v", name, err)
			continue
		}
		for flag, values := range flags {
			f := sub.Flags().Lookup(flag)
			if f == nil {
				t.Errorf("%s has no --%s", name, flag)
				continue
			}
			for _, v := range values {
				if !strings.Contains(f.Usage, v) {
					t.Errorf("%s --%s completes %q, which its usage %q does not name", name, flag, v, f.Usage)
				}
			}
		}
	}
	diagnose, _, _ := root.Find([]string{"diagnose"})
	if diagnose.ValidArgsFunction == nil {
		t.Error("diagnose has no argument completion: newCmdCompletion must be added after it in root.go")
	}
}

func TestCompletionScripts(t *testing.T) {
	for shell, marker := range map[string]string{
		"bash":       "__start_kubectl-irsa",
		"zsh":        "#compdef kubectl-irsa",
		"fish":       "complete -c kubectl-irsa",
		"powershell": "Register-ArgumentCompleter -CommandName 'kubectl-irsa'",
	} {
		t.Run(shell, func(t *testing.T) {
			r := runArgs(t, "completion", shell)
			if r.code != ExitOK || !strings.Contains(r.stdout, marker) {
				t.Fatalf("completion %s: exit %d, stdout lacks %q\n%s%s", shell, r.code, marker, r.stdout, r.stderr)
			}
		})
	}
	if r := runArgs(t, "completion", "tcsh"); r.code != ExitError || !strings.Contains(r.stderr, `invalid argument "tcsh"`) {
		t.Errorf("completion tcsh: exit %d, stderr %q", r.code, r.stderr)
	}
	if r := runArgs(t, "completion", "--help"); !strings.Contains(r.stdout, "kubectl_complete-irsa") {
		t.Errorf("completion --help does not explain the kubectl_complete-irsa shim:\n%s", r.stdout)
	}
	// The root's help still says `kubectl irsa` after a script was generated.
	if r := runArgs(t, "--help"); !strings.Contains(r.stdout, "kubectl irsa [command]") {
		t.Errorf("root help lost its display name:\n%s", r.stdout)
	}
}
