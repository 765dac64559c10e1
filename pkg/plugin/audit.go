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
	"k8s.io/client-go/kubernetes"
	"k8s.io/kubectl/pkg/util/templates"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/diag"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/kube"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/pipeline"
)

var auditLong = templates.LongDesc(`
	Audit who can assume which IAM role through this cluster's OIDC
	provider, and the hygiene of the roles' trust policies.

	For every role in scope it summarises the subjects each trust statement
	admits (one service account, a namespace, a wildcard, the whole cluster,
	any token of the provider, any provider), finds the service accounts of
	the cluster that can really assume the role (confirmed with the same IAM
	evaluator as diagnose: StringNotLike exclusions, Deny statements, ? and
	* wildcards) and marks each intended (annotated with the role, or
	associated with it through EKS Pod Identity) or unintended. It also
	reports statements for providers that no longer exist, trust policies
	near the size quota, duplicate and stale statements, and annotated roles
	their own service account cannot assume.

	--roles annotated (the default) audits the roles the service accounts in
	scope name; --roles all audits every role of the credentials' account
	whose trust policy names this cluster's provider, with one paged
	iam:ListRoles pass.

	Exit codes: 0 nothing failed at or above --fail-on; 1 the tool could not
	run (usage, kubeconfig, cluster unreachable, issuer unknown); 2 findings
	at or above --fail-on (use --fail-on=warning to fail on unintended reach).`)

var auditExample = templates.Examples(`
	# Who can assume the roles named in this namespace
	kubectl irsa audit -n shop

	# Every role of the account that trusts this cluster, across all namespaces
	kubectl irsa audit -A --roles all

	# Fail CI when any service account can assume a role it does not name
	kubectl irsa audit -A --fail-on=warning

	# Draw the map
	kubectl irsa audit -A -o dot | dot -Tsvg > audit.svg`)

// AuditOptions holds an audit run. Complete fills the request and sources
// from flags; tests set them directly.
type AuditOptions struct {
	configFlags *genericclioptions.ConfigFlags
	deps        Deps

	Scope      kube.Scope
	Output     outputFlag
	NoHeaders  bool
	FailOn     string
	AWS        AWSFlags
	Roles      string
	PathPrefix string

	request pipeline.AuditRequest
	sources pipeline.AuditSources

	Terminal func(w io.Writer) (width int, ok bool)
	clock    func() time.Time

	genericiooptions.IOStreams
}

func newCmdAudit(configFlags *genericclioptions.ConfigFlags, streams genericiooptions.IOStreams, deps Deps) *cobra.Command {
	o := &AuditOptions{configFlags: configFlags, deps: deps, IOStreams: streams, FailOn: string(diag.SeverityError),
		Output: newOutputFlag("wide", "json", "yaml", "dot"), Roles: pipeline.AuditRolesAnnotated, Terminal: deps.Terminal, clock: deps.clock}
	cmd := &cobra.Command{
		Use:                   "audit [-n NAMESPACE | -A] [--roles annotated|all] [--path-prefix PREFIX] [-o wide|json|yaml|dot]",
		DisableFlagsInUseLine: true,
		Short:                 "Audit which service accounts can assume which roles, and trust-policy hygiene",
		Long:                  auditLong,
		Example:               auditExample,
		Args:                  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.Validate(); err != nil {
				return &ExitCodeError{Code: ExitError, Err: err}
			}
			if err := o.Complete(); err != nil {
				return &ExitCodeError{Code: ExitError, Err: err}
			}
			return o.Run(cmd.Context())
		},
	}
	f := cmd.Flags()
	f.BoolVarP(&o.Scope.AllNamespaces, "all-namespaces", "A", false, "Audit the service accounts of all namespaces")
	o.Output.AddFlag(f)
	f.BoolVar(&o.NoHeaders, "no-headers", false, "Don't print headers in table output")
	f.StringVar(&o.FailOn, "fail-on", o.FailOn, "Exit 2 when a finding fails at or above this severity: error, warning, info or none")
	f.StringVar(&o.Roles, "roles", o.Roles, "Which roles to audit: annotated (named by the service accounts in scope) or all (every role of the account that trusts this cluster)")
	f.StringVar(&o.PathPrefix, "path-prefix", "", "With --roles all: only the roles under this IAM path, e.g. /eks/")
	o.AWS.AddFlags(f)
	// The audit is about AWS: there is nothing to audit without it.
	_ = f.MarkHidden("skip-aws")
	return cmd
}

// Validate checks flag values before anything is read.
func (o *AuditOptions) Validate() error {
	if err := o.Output.Validate(); err != nil {
		return err
	}
	if o.Roles != pipeline.AuditRolesAnnotated && o.Roles != pipeline.AuditRolesAll {
		return fmt.Errorf("--roles=%q: use annotated or all", o.Roles)
	}
	if o.PathPrefix != "" && o.Roles != pipeline.AuditRolesAll {
		return fmt.Errorf("--path-prefix applies to --roles all")
	}
	if o.PathPrefix != "" && (o.PathPrefix[0] != '/' || o.PathPrefix[len(o.PathPrefix)-1] != '/') {
		return fmt.Errorf("--path-prefix=%q: an IAM path starts and ends with /", o.PathPrefix)
	}
	if o.AWS.Skip {
		return fmt.Errorf("audit reads IAM: drop --skip-aws")
	}
	if err := o.AWS.Validate(); err != nil {
		return err
	}
	if _, ok := diag.ParseSeverity(o.FailOn); !ok {
		return fmt.Errorf("--fail-on=%q: use error, warning, info or none", o.FailOn)
	}
	return nil
}

// Complete turns the flags into the pipeline's request and sources.
func (o *AuditOptions) Complete() error {
	o.request = pipeline.AuditRequest{Scope: o.Scope, AWS: o.AWS.options(), Roles: o.Roles, PathPrefix: o.PathPrefix}
	if o.configFlags == nil {
		return nil
	}
	kc, err := kubeContextOf(o.configFlags)
	if err != nil {
		return err
	}
	o.request.Scope.Namespace, o.request.Hint = kc.namespace, kc.hint
	o.sources = o.deps.auditSources(o.request, kc.client)
	return nil
}

// auditSources is the composition root of a live audit.
func (d Deps) auditSources(req pipeline.AuditRequest, client kubernetes.Interface) pipeline.AuditSources {
	return pipeline.AuditSources{
		Kube: pipeline.LiveKube{Client: client},
		AWS:  pipeline.LiveAWS{Options: req.AWS, Hint: req.Hint, UserAgent: Version().Version, NewCollector: d.NewAWSCollector},
	}
}

// Run audits, prints, and turns the findings into the exit code. Progress
// is drawn on stderr while it collects; a summary line follows the result.
func (o *AuditOptions) Run(ctx context.Context) error {
	clock := o.clock
	if clock == nil {
		clock = time.Now
	}
	start := clock()
	p := newProgressOn(o.ErrOut, o.Terminal, o.clock)
	p.noPods = true
	defer p.done()
	src := o.sources
	src.Progress = p
	res, err := pipeline.Audit(ctx, o.request, src)
	p.done()
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return &ExitCodeError{Code: ExitError, Err: errors.New("interrupted")}
		}
		return &ExitCodeError{Code: ExitError, Err: err}
	}
	if err := printAudit(o.Out, res.Report, o.Output.Output, o.NoHeaders); err != nil {
		return &ExitCodeError{Code: ExitError, Err: fmt.Errorf("writing output: %w", err)}
	}
	fmt.Fprintln(o.ErrOut, auditSummary(res.Report, clock().Sub(start)))
	threshold, _ := diag.ParseSeverity(o.FailOn)
	if diag.Failing([]diag.Diagnosis{{Findings: allAuditFindings(res.Report)}}, threshold) {
		return &ExitCodeError{Code: ExitFindings}
	}
	return nil
}
