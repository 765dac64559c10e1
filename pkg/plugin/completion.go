package plugin

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/dynamic"
	"k8s.io/kubectl/pkg/util/templates"
)

var completionLong = templates.LongDesc(`
	Print a shell completion script for bash, zsh, fish or PowerShell.

	For "kubectl irsa TAB", kubectl 1.26 and newer run an executable named
	kubectl_complete-irsa from your PATH. krew installs only kubectl-irsa, so
	put that shim on your PATH yourself, once (a clone has it at the
	repository root), and load kubectl's own completion (see kubectl
	completion --help):

	    printf '#!/usr/bin/env sh\nexec kubectl irsa __complete "$@"\n' > ~/.local/bin/kubectl_complete-irsa
	    chmod +x ~/.local/bin/kubectl_complete-irsa

	For "kubectl-irsa TAB", when you run the binary by its own name, load the
	script this command prints:

	    # bash, for example in ~/.bashrc
	    source <(kubectl irsa completion bash)
	    # zsh
	    kubectl irsa completion zsh > "${fpath[1]}/_kubectl-irsa"
	    # fish
	    kubectl irsa completion fish > ~/.config/fish/completions/kubectl-irsa.fish
	    # PowerShell
	    kubectl irsa completion powershell | Out-String | Invoke-Expression`)

// completionBinary is the name the generated scripts complete: the scripts
// run `<name> __complete`, and the plugin's own executable is kubectl-irsa
// (the root command is named irsa so that help reads `kubectl irsa`).
const completionBinary = "kubectl-irsa"

// newCmdCompletion builds `kubectl irsa completion` and registers the dynamic
// completions (resource names, namespaces, contexts, fixed flag values) on
// root's subcommands. It must be added after them, as root.go does.
func newCmdCompletion(root *cobra.Command, configFlags *genericclioptions.ConfigFlags, streams genericiooptions.IOStreams) *cobra.Command {
	registerCompletions(root, configFlags)
	return &cobra.Command{
		Use:                   "completion bash|zsh|fish|powershell",
		DisableFlagsInUseLine: true,
		Short:                 "Print a shell completion script (and how to install it)",
		Long:                  completionLong,
		ValidArgs:             []string{"bash", "zsh", "fish", "powershell"},
		Args:                  cobra.MatchAll(cobra.ExactArgs(1), cobra.OnlyValidArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			// The scripts are named after the root command: generate them for
			// the executable's name, then put the display name back.
			r := cmd.Root()
			use := r.Use
			r.Use = completionBinary
			defer func() { r.Use = use }()
			var err error
			switch args[0] {
			case "bash":
				err = r.GenBashCompletionV2(streams.Out, true)
			case "zsh":
				err = r.GenZshCompletion(streams.Out)
			case "fish":
				err = r.GenFishCompletion(streams.Out, true)
			case "powershell":
				err = r.GenPowerShellCompletionWithDesc(streams.Out)
			}
			if err != nil {
				return &ExitCodeError{Code: ExitError, Err: fmt.Errorf("writing the %s completion script: %w", args[0], err)}
			}
			return nil
		},
	}
}

// diagnoseTypes are the resource types diagnose follows, as users type them
// (kubectl's short names), offered for a bare word.
var diagnoseTypes = []string{"pod", "sa", "deploy", "sts", "ds", "rs", "job", "cronjob"}

// typeGVR maps every spelling of those types to its resource. A fixed table
// instead of discovery: completion must answer within a keypress, and a type
// diagnose does not follow has no names worth offering.
var typeGVR = func() map[string]schema.GroupVersionResource {
	core := func(r string) schema.GroupVersionResource {
		return schema.GroupVersionResource{Version: "v1", Resource: r}
	}
	apps := func(r string) schema.GroupVersionResource {
		return schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: r}
	}
	batch := func(r string) schema.GroupVersionResource {
		return schema.GroupVersionResource{Group: "batch", Version: "v1", Resource: r}
	}
	m := map[string]schema.GroupVersionResource{}
	for _, t := range []struct {
		gvr   schema.GroupVersionResource
		names []string
	}{
		{core("pods"), []string{"pod", "pods", "po"}},
		{core("serviceaccounts"), []string{"sa", "serviceaccount", "serviceaccounts"}},
		{core("replicationcontrollers"), []string{"rc", "replicationcontroller", "replicationcontrollers"}},
		{apps("deployments"), []string{"deploy", "deployment", "deployments", "deployment.apps", "deployments.apps"}},
		{apps("statefulsets"), []string{"sts", "statefulset", "statefulsets", "statefulset.apps", "statefulsets.apps"}},
		{apps("daemonsets"), []string{"ds", "daemonset", "daemonsets", "daemonset.apps", "daemonsets.apps"}},
		{apps("replicasets"), []string{"rs", "replicaset", "replicasets", "replicaset.apps", "replicasets.apps"}},
		{batch("jobs"), []string{"job", "jobs", "job.batch", "jobs.batch"}},
		{batch("cronjobs"), []string{"cronjob", "cronjobs", "cj", "cronjob.batch", "cronjobs.batch"}},
	} {
		for _, n := range t.names {
			m[n] = t.gvr
		}
	}
	return m
}()

// fixedValues are the values of enumerated flags, per subcommand. A test
// checks each against the flag's usage text, so the two cannot drift apart.
var fixedValues = map[string]map[string][]string{
	"diagnose":   {"output": {"wide", "json", "yaml"}, "fail-on": {"error", "warning", "info", "none"}},
	"thumbprint": {"output": {"json", "yaml"}, "fail-on": {"error", "warning", "info", "none"}},
	"explain":    {"output": {"json", "yaml"}},
	"checks":     {"output": {"wide", "json", "yaml", "markdown"}},
	"version":    {"output": {"json"}},
}

// completionTimeout bounds each API call a completion makes unless
// --request-timeout says otherwise: a shell waiting on an unreachable cluster
// must give the prompt back.
const completionTimeout = 5 * time.Second

// registerCompletions wires dynamic completion into root's subcommands
// without touching the files that build them.
func registerCompletions(root *cobra.Command, configFlags *genericclioptions.ConfigFlags) {
	c := &completer{configFlags: configFlags}
	// Registration fails only for a flag that does not exist or is already
	// registered; either means the command changed, and completing less is
	// better than failing the command line, so errors are ignored.
	_ = root.RegisterFlagCompletionFunc("namespace", c.namespaces)
	_ = root.RegisterFlagCompletionFunc("context", c.contexts)
	for _, sub := range root.Commands() {
		for flag, values := range fixedValues[sub.Name()] {
			if sub.Flags().Lookup(flag) != nil {
				_ = sub.RegisterFlagCompletionFunc(flag, fixed(values))
			}
		}
		if sub.Name() == "diagnose" && sub.ValidArgsFunction == nil {
			sub.ValidArgsFunction = c.diagnoseArgs
		}
	}
}

// fixed completes one of values. Unlike cobra.FixedCompletions it filters by
// what was typed, as every other completer here does, so that the answer is
// the same whichever shell asks.
func fixed(values []string) cobra.CompletionFunc {
	return func(_ *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		var out []cobra.Completion
		for _, v := range values {
			if strings.HasPrefix(v, toComplete) {
				out = append(out, v)
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}

type completer struct {
	configFlags *genericclioptions.ConfigFlags
}

// diagnoseArgs completes diagnose's subjects the ways kubectl spells them:
// TYPE/NAME (a bare word completes to "TYPE/", then names) and TYPE NAME...
func (c *completer) diagnoseArgs(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	if typ, prefix, ok := strings.Cut(toComplete, "/"); ok {
		// TYPE/NAME never mixes with the TYPE NAME form.
		if len(args) > 0 && !strings.Contains(args[0], "/") {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		var out []cobra.Completion
		for _, n := range c.names(cmd, typ, prefix) {
			if s := typ + "/" + n; !slices.Contains(args, s) {
				out = append(out, s)
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
	if len(args) > 0 && !strings.Contains(args[0], "/") {
		// TYPE NAME...: every further word is a name of args[0].
		var out []cobra.Completion
		for _, n := range c.names(cmd, args[0], toComplete) {
			if !slices.Contains(args[1:], n) {
				out = append(out, n)
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
	var out []cobra.Completion
	for _, t := range diagnoseTypes {
		if strings.HasPrefix(t, toComplete) {
			out = append(out, t+"/")
		}
	}
	// No space after "pod/": the next TAB completes the name.
	return out, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveNoSpace
}

// names lists the names of typ starting with prefix in the namespace of -n or
// the context (every namespace with -A), sorted and without duplicates.
func (c *completer) names(cmd *cobra.Command, typ, prefix string) []string {
	gvr, ok := typeGVR[strings.ToLower(typ)]
	if !ok {
		return nil
	}
	ns, _, err := c.configFlags.ToRawKubeConfigLoader().Namespace()
	if err != nil {
		cobra.CompDebugln("reading kubeconfig: "+err.Error(), false)
		return nil
	}
	if all, err := cmd.Flags().GetBool("all-namespaces"); err == nil && all {
		ns = metav1.NamespaceAll
	}
	return c.list(cmd, gvr, ns, prefix)
}

func (c *completer) namespaces(cmd *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	return c.list(cmd, schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}, metav1.NamespaceAll, toComplete), cobra.ShellCompDirectiveNoFileComp
}

func (c *completer) contexts(_ *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	raw, err := c.configFlags.ToRawKubeConfigLoader().RawConfig()
	if err != nil {
		cobra.CompDebugln("reading kubeconfig: "+err.Error(), false)
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	var out []cobra.Completion
	for name := range raw.Contexts {
		if strings.HasPrefix(name, toComplete) {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out, cobra.ShellCompDirectiveNoFileComp
}

// list returns the names of a resource starting with prefix, page by page so
// a large namespace is complete without one huge response.
func (c *completer) list(cmd *cobra.Command, gvr schema.GroupVersionResource, ns, prefix string) []string {
	cfg, err := c.configFlags.ToRESTConfig()
	if err != nil {
		cobra.CompDebugln("reading kubeconfig: "+err.Error(), false)
		return nil
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = completionTimeout
	}
	client, err := dynamic.NewForConfig(cfg)
	if err != nil {
		cobra.CompDebugln("creating the client: "+err.Error(), false)
		return nil
	}
	ctx := cmd.Context()
	if ctx == nil {
		// cobra hands __complete's target command no context of its own.
		ctx = context.Background()
	}
	ri := client.Resource(gvr).Namespace(ns)
	var out []string
	opts := metav1.ListOptions{Limit: 500}
	for {
		l, err := ri.List(ctx, opts)
		if err != nil {
			cobra.CompDebugln(fmt.Sprintf("listing %s: %v", gvr.Resource, err), false)
			break
		}
		for _, item := range l.Items {
			if n := item.GetName(); strings.HasPrefix(n, prefix) {
				out = append(out, n)
			}
		}
		if opts.Continue = l.GetContinue(); opts.Continue == "" {
			break
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}
