package plugin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/cli-runtime/pkg/resource"
	"k8s.io/kubectl/pkg/util/templates"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/cloud"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/diag"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/facts"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/kube"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/pipeline"
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
	kubectl irsa diagnose -l app=my-app -o json --fail-on=error

	# What AWS answered the service account's pods in the last 6 hours
	kubectl irsa diagnose deploy/my-app -n shop --cloudtrail --since 6h

	# Save what the tool saw for a bug report, then judge it again offline
	kubectl irsa diagnose deploy/my-app -n shop --save-snapshot snap.json --redact
	kubectl irsa diagnose --from-snapshot snap.json`)

// DiagnoseOptions holds everything a diagnosis run needs. Complete fills the
// request and the sources from flags; tests set them directly.
type DiagnoseOptions struct {
	configFlags *genericclioptions.ConfigFlags
	deps        Deps

	Scope  kube.Scope
	Print  printOptions
	FailOn string
	AWS    AWSFlags
	// Probe asks for a live token and STS call per subject (--probe).
	Probe bool
	// Trail reads CloudTrail (--cloudtrail, --since).
	Trail trailFlags
	// SaveSnapshot writes every collected fact to this file; FromSnapshot
	// judges such a file with no cluster and no AWS; Redact replaces account
	// ids, names and namespaces in the saved file.
	SaveSnapshot string
	FromSnapshot string
	Redact       bool

	// request and sources are what Complete made of the flags.
	request pipeline.Request
	sources pipeline.Sources

	// Terminal says whether stderr is a terminal (progress is drawn only
	// then) and its width; nil asks the operating system.
	Terminal func(w io.Writer) (width int, ok bool)
	// clock paces the progress line and times the run; nil means time.Now.
	clock func() time.Time

	genericiooptions.IOStreams
}

func newCmdDiagnose(configFlags *genericclioptions.ConfigFlags, streams genericiooptions.IOStreams, deps Deps) *cobra.Command {
	o := &DiagnoseOptions{configFlags: configFlags, deps: deps, IOStreams: streams, FailOn: string(diag.SeverityError), Print: newPrintOptions(),
		Trail: newTrailFlags(), Terminal: deps.Terminal, clock: deps.clock}
	cmd := &cobra.Command{
		Use:                   "diagnose [(TYPE/NAME | TYPE NAME ...)] [-l SELECTOR] [-A] [-o wide|json|yaml]",
		DisableFlagsInUseLine: true,
		Short:                 "Diagnose IRSA for pods, service accounts and workloads",
		Long:                  diagnoseLong,
		Example:               diagnoseExample,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.Validate(args); err != nil {
				return &ExitCodeError{Code: ExitError, Err: err}
			}
			if err := o.Complete(args); err != nil {
				return &ExitCodeError{Code: ExitError, Err: err}
			}
			return o.Run(cmd.Context())
		},
	}
	f := cmd.Flags()
	f.BoolVarP(&o.Scope.AllNamespaces, "all-namespaces", "A", false, "Diagnose across all namespaces")
	f.StringVarP(&o.Scope.Selector, "selector", "l", "", "Label selector; without a TYPE it selects pods")
	o.Print.AddFlags(f)
	f.BoolVar(&o.Print.ShowPassed, "show-passed", false, "Also show checks that passed")
	f.StringVar(&o.FailOn, "fail-on", o.FailOn, "Exit 2 when a finding fails at or above this severity: error, warning, info or none")
	o.AWS.AddFlags(f)
	f.BoolVar(&o.Probe, "probe", false, "Also mint a 10-minute token per service account, verify it like STS and call sts:AssumeRoleWithWebIdentity (credentials are discarded; needs create on serviceaccounts/token)")
	o.Trail.AddFlags(f, true)
	f.StringVar(&o.SaveSnapshot, "save-snapshot", "", "Also write every fact the run collected to this file, for a bug report (no Secret values, tokens or credentials)")
	f.StringVar(&o.FromSnapshot, "from-snapshot", "", "Judge a file written by --save-snapshot, with no cluster and no AWS")
	f.BoolVar(&o.Redact, "redact", false, "With --save-snapshot: replace account ids, role and provider names, namespaces and service account names consistently")
	return cmd
}

// Validate checks flag values before anything is read.
func (o *DiagnoseOptions) Validate(args []string) error {
	if err := o.Print.Validate(); err != nil {
		return err
	}
	if o.FromSnapshot != "" && (len(args) > 0 || o.Scope.Selector != "" || o.Scope.AllNamespaces || o.Probe || o.SaveSnapshot != "" || o.Trail.Enabled) {
		return fmt.Errorf("--from-snapshot judges the saved scope: drop the arguments, -l, -A, --probe, --cloudtrail and --save-snapshot")
	}
	if err := o.Trail.Validate(); err != nil {
		return err
	}
	if o.Trail.Enabled && o.AWS.Skip {
		return fmt.Errorf("--cloudtrail reads AWS: drop --skip-aws")
	}
	if o.Redact && o.SaveSnapshot == "" {
		return fmt.Errorf("--redact applies to --save-snapshot")
	}
	if o.Probe && o.AWS.Skip {
		return fmt.Errorf("--probe calls STS: drop --skip-aws")
	}
	if err := o.AWS.Validate(); err != nil {
		return err
	}
	if _, ok := diag.ParseSeverity(o.FailOn); !ok {
		return fmt.Errorf("--fail-on=%q: use error, warning, info or none", o.FailOn)
	}
	return nil
}

// Complete turns the flags into the pipeline's request and sources: a saved
// snapshot, or the kubeconfig's cluster and the AWS configuration chain.
func (o *DiagnoseOptions) Complete(args []string) error {
	if o.FromSnapshot != "" {
		doc, err := readSnapshot(o.FromSnapshot)
		if err != nil {
			return err
		}
		o.request, o.sources = doc.Request, doc.Sources()
		return nil
	}
	o.Scope.Args = args
	o.request = pipeline.Request{Scope: o.Scope, AWS: o.AWS.options(), Probe: o.Probe, CloudTrail: o.Trail.request()}
	if o.configFlags == nil {
		return nil
	}
	kc, err := kubeContextOf(o.configFlags)
	if err != nil {
		return err
	}
	o.request.Scope.Namespace, o.request.Hint = kc.namespace, kc.hint
	client := kc.client
	o.sources = o.deps.liveSources(o.request, client, func() *resource.Builder { return resource.NewBuilder(o.configFlags) })
	return nil
}

// Run hands the request to the pipeline and renders its result. While it
// collects, a progress line is redrawn on stderr when stderr is a terminal;
// it is blanked before anything is printed. The run ends with a one-line
// summary on stderr, so stdout carries only the result.
func (o *DiagnoseOptions) Run(ctx context.Context) error {
	clock := o.clock
	if clock == nil {
		clock = time.Now
	}
	start := clock()
	p := o.newProgress()
	defer p.done()
	src := o.sources
	src.Progress = p
	req := o.request
	// Passes are counted, not kept, unless they are shown: the summary
	// still counts them (docs/design.md#what-a-run-keeps).
	req.DropPassed = !o.Print.ShowPassed
	res, err := pipeline.Diagnose(ctx, req, src)
	p.done()
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return &ExitCodeError{Code: ExitError, Err: errors.New("interrupted")}
		}
		return &ExitCodeError{Code: ExitError, Err: err}
	}
	if o.SaveSnapshot != "" {
		if err := o.save(o.request, res); err != nil {
			return &ExitCodeError{Code: ExitError, Err: err}
		}
	}
	o.Print.AllNamespaces = o.request.Scope.AllNamespaces
	if len(res.Snapshot.Subjects) == 0 {
		where := "namespace " + o.request.Scope.Namespace
		if o.request.Scope.AllNamespaces {
			where = "any namespace"
		}
		fmt.Fprintf(o.ErrOut, "No IRSA service accounts found in %s.\n", where)
		if o.Print.Output == "json" || o.Print.Output == "yaml" {
			return printDiagnoses(o.Out, nil, o.Print)
		}
		return nil
	}
	ds := res.Diagnoses
	if err := printDiagnoses(o.Out, ds, o.Print); err != nil {
		return &ExitCodeError{Code: ExitError, Err: fmt.Errorf("writing output: %w", err)}
	}
	fmt.Fprintln(o.ErrOut, summary(ds, res.Passed, clock().Sub(start)))
	if note := roleListingNote(res.Snapshot.AWS); note != "" {
		fmt.Fprintln(o.ErrOut, note)
	}
	if o.FromSnapshot == "" && o.SaveSnapshot == "" && diag.Failing(ds, diag.SeverityError) {
		fmt.Fprintln(o.ErrOut, snapshotHint)
	}
	threshold, _ := diag.ParseSeverity(o.FailOn)
	if diag.Failing(ds, threshold) {
		return &ExitCodeError{Code: ExitFindings}
	}
	return nil
}

// roleListingNote says, once per run, that the account-wide role listing
// failed and every role was read with its own calls instead: the
// findings are the same, only slower to get (docs/design.md#aws-calls).
func roleListingNote(aws *facts.AWSFacts) string {
	if aws == nil || aws.RoleListing == nil || aws.RoleListing.Err == nil {
		return ""
	}
	e := aws.RoleListing.Err
	what := e.Op + " failed (" + string(e.Code) + ")"
	if e.Code == facts.ErrAccessDenied {
		what = e.Op + " was denied"
	}
	return "Note: " + what + ", so each role was read with its own calls (" + cloud.OpGetRole + ", " + cloud.OpListAttachedRolePolicies +
		", " + cloud.OpListRolePolicies + "): the same findings, in more calls. Allowing " + cloud.OpListRoles + " and " +
		cloud.OpGetAccountAuthorizationDetails + " reads many roles in a few pages."
}

// snapshotHint follows a run with an error finding on stderr.
const snapshotHint = "If a verdict looks wrong, attach what the tool saw to your bug report: add --save-snapshot irsa-snapshot.json --redact (no Secret values, tokens or credentials are saved)."

// save writes the run's facts for --save-snapshot.
func (o *DiagnoseOptions) save(req pipeline.Request, res pipeline.Result) error {
	doc, err := pipeline.NewSnapshot(req, res.Snapshot, Version().Version)
	if err != nil {
		return err
	}
	if o.Redact {
		if doc, err = pipeline.Redact(doc); err != nil {
			return err
		}
	}
	f, err := os.OpenFile(o.SaveSnapshot, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("--save-snapshot: %w", err)
	}
	if err := doc.Write(f); err != nil {
		_ = f.Close()
		return fmt.Errorf("--save-snapshot: writing %s: %w", o.SaveSnapshot, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("--save-snapshot: %w", err)
	}
	fmt.Fprintf(o.ErrOut, "Snapshot written to %s.\n", o.SaveSnapshot)
	return nil
}

func readSnapshot(path string) (*pipeline.Snapshot, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("--from-snapshot: %w", err)
	}
	defer func() { _ = f.Close() }()
	doc, err := pipeline.LoadSnapshot(f)
	if err != nil {
		return nil, fmt.Errorf("--from-snapshot %s: %w", path, err)
	}
	return doc, nil
}
