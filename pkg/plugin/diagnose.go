package plugin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/cli-runtime/pkg/resource"
	"k8s.io/client-go/kubernetes"
	"k8s.io/kubectl/pkg/util/templates"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/awsarn"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/cloud"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/diag"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/kube"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/probe"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/thumbprint"
)

var diagnoseLong = templates.LongDesc(`
	Diagnose IAM Roles for Service Accounts (IRSA) for pods, service accounts
	and workloads.

	For every service account in scope it walks the chain the pod identity
	webhook and the AWS SDKs walk: the service account and its
	eks.amazonaws.com annotations, what the webhook injected into each
	container (env, projected token, mount), credentials that shadow IRSA, the
	region, and the webhook's own configuration. Each finding names the
	broken link, shows its evidence and prints a fix you can paste.

	With no argument it diagnoses every service account in the namespace that
	has a role-arn annotation or is used by a pod carrying AWS_ROLE_ARN.

	Exit codes: 0 nothing failed at or above --fail-on; 1 the tool could not
	run (usage, kubeconfig, cluster unreachable, a required read forbidden);
	2 findings at or above --fail-on.`)

var diagnoseExample = templates.Examples(`
	# Diagnose one pod
	kubectl irsa diagnose pod/my-app-7d4b9c-x2k8p -n shop

	# Diagnose a deployment: its pod template's service account and its live pods
	kubectl irsa diagnose deploy/my-app -n shop

	# Every IRSA service account in every namespace, with evidence and fixes
	kubectl irsa diagnose -A -o wide

	# Pods selected by label, as JSON, failing CI only on errors
	kubectl irsa diagnose -l app=my-app -o json --fail-on=error`)

// DiagnoseOptions holds everything a diagnosis run needs. Complete fills the
// clients from flags; tests set them directly.
type DiagnoseOptions struct {
	configFlags *genericclioptions.ConfigFlags

	Scope  kube.Scope
	Print  printOptions
	FailOn string
	AWS    AWSFlags

	// hint is what the kubeconfig context says about its EKS cluster.
	hint kube.ClusterHint
	// NewAWSCollector builds the AWS collector; nil means from the AWS
	// configuration chain. Tests point it at a fake.
	NewAWSCollector func(ctx context.Context, roleARNs []string) (*cloud.Collector, error)
	// Probe asks for a live token and STS call per subject (--probe).
	Probe bool
	// NewProbeSTS builds the STS client the probe calls; tests replace it.
	NewProbeSTS func(ctx context.Context, region string) (probe.STSAPI, error)
	// Inspect reads the issuer's TLS chains (pkg/thumbprint); tests replace it.
	Inspect func(ctx context.Context, issuer string) (thumbprint.Report, error)

	NewBuilder func() *resource.Builder
	Client     kubernetes.Interface
	Now        func() time.Time
	// Terminal says whether stderr is a terminal (progress is drawn only
	// then) and its width; nil asks the operating system.
	Terminal func(w io.Writer) (width int, ok bool)
	// clock paces the progress line and times the run; nil means time.Now.
	clock func() time.Time

	genericiooptions.IOStreams
}

func newCmdDiagnose(configFlags *genericclioptions.ConfigFlags, streams genericiooptions.IOStreams, deps Deps) *cobra.Command {
	o := &DiagnoseOptions{configFlags: configFlags, IOStreams: streams, FailOn: string(diag.SeverityError), NewAWSCollector: deps.NewAWSCollector, Inspect: deps.inspect(), NewProbeSTS: deps.NewProbeSTS,
		Terminal: deps.Terminal, clock: deps.clock}
	cmd := &cobra.Command{
		Use:                   "diagnose [(TYPE/NAME | TYPE NAME ...)] [-l SELECTOR] [-A] [-o wide|json|yaml]",
		DisableFlagsInUseLine: true,
		Short:                 "Diagnose IRSA for pods, service accounts and workloads",
		Long:                  diagnoseLong,
		Example:               diagnoseExample,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.Complete(args); err != nil {
				return &ExitCodeError{Code: ExitError, Err: err}
			}
			if err := o.Validate(); err != nil {
				return &ExitCodeError{Code: ExitError, Err: err}
			}
			return o.Run(cmd.Context())
		},
	}
	f := cmd.Flags()
	f.BoolVarP(&o.Scope.AllNamespaces, "all-namespaces", "A", false, "Diagnose across all namespaces")
	f.StringVarP(&o.Scope.Selector, "selector", "l", "", "Label selector; without a TYPE it selects pods")
	f.StringVarP(&o.Print.Output, "output", "o", "", "Output format: wide, json or yaml")
	f.BoolVar(&o.Print.NoHeaders, "no-headers", false, "Don't print headers in table output")
	f.BoolVar(&o.Print.ShowPassed, "show-passed", false, "Also show checks that passed")
	f.StringVar(&o.FailOn, "fail-on", o.FailOn, "Exit 2 when a finding fails at or above this severity: error, warning, info or none")
	o.AWS.AddFlags(f)
	f.BoolVar(&o.Probe, "probe", false, "Also mint a 10-minute token per service account, verify it like STS and call sts:AssumeRoleWithWebIdentity (credentials are discarded; needs create on serviceaccounts/token)")
	return cmd
}

// Complete resolves the namespace and builds the clients from kubeconfig.
func (o *DiagnoseOptions) Complete(args []string) error {
	o.Scope.Args = args
	if o.configFlags == nil {
		return nil
	}
	ns, _, err := o.configFlags.ToRawKubeConfigLoader().Namespace()
	if err != nil {
		return fmt.Errorf("reading kubeconfig: %w", err)
	}
	o.Scope.Namespace = ns
	if raw, err := o.configFlags.ToRawKubeConfigLoader().RawConfig(); err == nil {
		contextName := ""
		if o.configFlags.Context != nil {
			contextName = *o.configFlags.Context
		}
		o.hint = kube.HintFromKubeconfig(raw, contextName)
	}
	cfg, err := o.configFlags.ToRESTConfig()
	if err != nil {
		return fmt.Errorf("reading kubeconfig: %w", err)
	}
	if o.Client, err = kubernetes.NewForConfig(cfg); err != nil {
		return fmt.Errorf("creating the Kubernetes client: %w", err)
	}
	o.NewBuilder = func() *resource.Builder { return resource.NewBuilder(o.configFlags) }
	return nil
}

// Validate checks flag values.
func (o *DiagnoseOptions) Validate() error {
	if !validOutput(o.Print.Output) {
		return fmt.Errorf("unknown output format %q: use wide, json or yaml", o.Print.Output)
	}
	if o.Probe && o.AWS.Skip {
		return fmt.Errorf("--probe calls STS: drop --skip-aws")
	}
	if o.AWS.Concurrency < 1 {
		return fmt.Errorf("--aws-concurrency must be at least 1")
	}
	if o.AWS.Issuer != "" {
		if _, err := awsarn.ParseIssuer(o.AWS.Issuer); err != nil {
			return fmt.Errorf("--issuer: %w", err)
		}
	}
	if _, ok := diag.ParseSeverity(o.FailOn); !ok {
		return fmt.Errorf("--fail-on=%q: use error, warning, info or none", o.FailOn)
	}
	return nil
}

// Run resolves, collects, judges and renders; the order never goes back.
// While it collects, a progress line is redrawn on stderr when stderr is a
// terminal; it is blanked before anything is printed. The run ends with a
// one-line summary on stderr, so stdout carries only the result.
func (o *DiagnoseOptions) Run(ctx context.Context) error {
	clock := o.clock
	if clock == nil {
		clock = time.Now
	}
	start := clock()
	targets, err := kube.Resolve(o.NewBuilder, o.Scope)
	if err != nil {
		return &ExitCodeError{Code: ExitError, Err: err}
	}
	p := o.newProgress()
	defer p.done()
	collector := &kube.Collector{Client: o.Client, Now: o.Now, Progress: p.listed}
	snap, err := collector.Collect(ctx, o.Scope, targets)
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return &ExitCodeError{Code: ExitError, Err: errors.New("interrupted")}
		}
		return &ExitCodeError{Code: ExitError, Err: err}
	}
	o.Print.AllNamespaces = o.Scope.AllNamespaces
	if len(snap.Subjects) == 0 {
		p.done()
		where := "namespace " + o.Scope.Namespace
		if o.Scope.AllNamespaces {
			where = "any namespace"
		}
		fmt.Fprintf(o.ErrOut, "No IRSA service accounts found in %s.\n", where)
		if o.Print.Output == "json" || o.Print.Output == "yaml" {
			return printDiagnoses(o.Out, nil, o.Print)
		}
		return nil
	}
	if !o.AWS.Skip {
		snap.AWS = o.gatherAWS(ctx, snap, p)
	}
	if o.Probe {
		p.setPhase(fmt.Sprintf("probing %d service accounts with sts:AssumeRoleWithWebIdentity", len(snap.Subjects)))
		o.runProbes(ctx, snap)
	}
	p.setPhase(fmt.Sprintf("judging %d service accounts", len(snap.Subjects)))
	ds := diag.Run(snap)
	p.done()
	if err := printDiagnoses(o.Out, ds, o.Print); err != nil {
		return &ExitCodeError{Code: ExitError, Err: fmt.Errorf("writing output: %w", err)}
	}
	fmt.Fprintln(o.ErrOut, summary(ds, clock().Sub(start)))
	threshold, _ := diag.ParseSeverity(o.FailOn)
	if diag.Failing(ds, threshold) {
		return &ExitCodeError{Code: ExitFindings}
	}
	return nil
}
