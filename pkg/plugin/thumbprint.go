package plugin

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/cli-runtime/pkg/printers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/kubectl/pkg/util/templates"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/awsarn"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/cloud"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/diag"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/facts"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/kube"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/pipeline"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/thumbprint"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/tlsinspect"
)

// KindThumbprintReport is what `thumbprint -o json|yaml` prints.
const KindThumbprintReport = "ThumbprintReport"

// ThumbprintResult is the machine-readable result of `kubectl irsa thumbprint`.
type ThumbprintResult struct {
	APIVersion   string                `json:"apiVersion"`
	Kind         string                `json:"kind"`
	Issuer       string                `json:"issuer"`
	IssuerSource string                `json:"issuerSource"`
	TLS          thumbprint.Report     `json:"tls"`
	Provider     *ProviderInfo         `json:"provider,omitempty"`
	Judgement    *thumbprint.Judgement `json:"judgement,omitempty"`
	// Fix is the exact command that makes the provider's list right.
	Fix string `json:"fix,omitempty"`
}

// ProviderInfo is the IAM OIDC provider compared with the served chain.
type ProviderInfo = pipeline.ProviderInfo

var thumbprintLong = templates.LongDesc(`
	Compute the OIDC provider thumbprint of the cluster's issuer, compare it
	with the IAM OIDC provider, and say whether it matters.

	It fetches ISSUER/.well-known/openid-configuration, follows jwks_uri, opens
	TLS to the jwks_uri host (and to the issuer host when it differs) and hashes
	the last certificate each server sends (SHA-1 over DER), exactly what AWS,
	eksctl and Terraform compute. Since 2023-2024 STS ignores the thumbprint for
	issuers whose chain is publicly trusted (every EKS issuer), so a stale entry
	there is informational; for a private CA it is what breaks authentication.

	With --update it replaces the provider's list (keeping the entries that are
	still well-formed, at most 5) after showing the old and new lists and asking
	for confirmation, or with --yes.

	Exit codes: 0 nothing at or above --fail-on; 1 the tool could not run (no
	issuer, host unreachable); 2 a verdict at or above --fail-on.`)

var thumbprintExample = templates.Examples(`
	# The issuer of the current kubeconfig context's EKS cluster
	kubectl irsa thumbprint

	# Any issuer, as JSON
	kubectl irsa thumbprint --issuer https://oidc.eks.us-west-2.amazonaws.com/id/EXAMPLE -o json

	# Fix the provider's thumbprint list (asks first)
	kubectl irsa thumbprint --cluster prod --region eu-west-1 --update`)

// ThumbprintOptions holds a thumbprint run.
type ThumbprintOptions struct {
	configFlags *genericclioptions.ConfigFlags
	deps        Deps

	AWS         AWSFlags
	ProviderARN string
	Output      outputFlag
	WarnDays    int
	TLSTimeout  time.Duration
	Update      bool
	Yes         bool
	FailOn      string

	// request and sources are what Complete made of the flags.
	request pipeline.ThumbprintRequest
	sources pipeline.ThumbprintSources

	genericiooptions.IOStreams
}

func newCmdThumbprint(configFlags *genericclioptions.ConfigFlags, streams genericiooptions.IOStreams, deps Deps) *cobra.Command {
	o := &ThumbprintOptions{configFlags: configFlags, deps: deps, IOStreams: streams, FailOn: string(diag.SeverityError), Output: newOutputFlag("json", "yaml")}
	cmd := &cobra.Command{
		Use:     "thumbprint [--issuer URL | --cluster NAME] [--update [--yes]] [-o json|yaml]",
		Short:   "Compute, compare and fix the OIDC provider thumbprint",
		Long:    thumbprintLong,
		Example: thumbprintExample,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.Validate(); err != nil {
				return &ExitCodeError{Code: ExitError, Err: err}
			}
			o.Complete()
			return o.Run(cmd.Context())
		},
	}
	f := cmd.Flags()
	o.AWS.AddFlags(f)
	f.StringVar(&o.ProviderARN, "provider-arn", "", "IAM OIDC provider to compare (default: the issuer's provider in the caller's account)")
	o.Output.AddFlag(f)
	f.IntVar(&o.WarnDays, "warn-days", 30, "Warn about certificates that expire within this many days")
	f.DurationVar(&o.TLSTimeout, "tls-timeout", 10*time.Second, "Time limit for each HTTPS request and TLS handshake")
	f.BoolVar(&o.Update, "update", false, "Replace the provider's thumbprint list (asks for confirmation)")
	f.BoolVar(&o.Yes, "yes", false, "Do not ask for confirmation with --update")
	f.StringVar(&o.FailOn, "fail-on", o.FailOn, "Exit 2 when the verdict is at or above this severity: error, warning, info or none")
	return cmd
}

// Validate checks flag values.
func (o *ThumbprintOptions) Validate() error {
	if err := o.Output.Validate(); err != nil {
		return err
	}
	if _, ok := diag.ParseSeverity(o.FailOn); !ok {
		return fmt.Errorf("--fail-on=%q: use error, warning, info or none", o.FailOn)
	}
	if o.AWS.Issuer != "" {
		if _, err := awsarn.ParseIssuer(o.AWS.Issuer); err != nil {
			return fmt.Errorf("--issuer: %w", err)
		}
	}
	if o.Update && o.AWS.Skip {
		return errors.New("--update needs AWS: drop --skip-aws")
	}
	return nil
}

// Complete reads what the kubeconfig offers. A run with --issuer needs no
// cluster at all, so a kubeconfig that cannot be read is not fatal here: the
// error is the answer of the API-server discovery source, and it is shown if
// no other source names the issuer.
func (o *ThumbprintOptions) Complete() {
	o.request = pipeline.ThumbprintRequest{AWS: o.AWS.options(), ProviderARN: o.ProviderARN}
	o.sources = pipeline.ThumbprintSources{TLS: o.deps.tls(tlsinspect.Options{Timeout: o.TLSTimeout, WarnDays: o.WarnDays})}
	o.sources.NewCollector = o.deps.NewAWSCollector
	if o.sources.NewCollector == nil {
		o.sources.NewCollector = func(ctx context.Context, arns []string) (*cloud.Collector, error) {
			return pipeline.NewAWSCollector(ctx, o.request.AWS, o.request.Hint, Version().Version, arns)
		}
	}
	if o.configFlags == nil {
		return
	}
	if raw, err := o.configFlags.ToRawKubeConfigLoader().RawConfig(); err == nil {
		ctxName := ""
		if o.configFlags.Context != nil {
			ctxName = *o.configFlags.Context
		}
		o.request.Hint = kube.HintFromKubeconfig(raw, ctxName)
	}
	cfg, err := o.configFlags.ToRESTConfig()
	if err != nil {
		o.sources.Kube = unreadableKubeconfig{fmt.Errorf("reading kubeconfig: %w", err)}
		return
	}
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		o.sources.Kube = unreadableKubeconfig{fmt.Errorf("creating the Kubernetes client: %w", err)}
		return
	}
	o.sources.Kube = pipeline.LiveKube{Client: client}
}

// unreadableKubeconfig answers issuer discovery with why there is no cluster.
type unreadableKubeconfig struct{ err error }

func (u unreadableKubeconfig) Collect(context.Context, kube.Scope, pipeline.Progress) (*facts.Snapshot, error) {
	return nil, u.err
}

func (u unreadableKubeconfig) DiscoverIssuer(context.Context) (string, error) { return "", u.err }

// Run asks the pipeline for the verdict, prints it and, with --update,
// replaces the list once the user agrees.
func (o *ThumbprintOptions) Run(ctx context.Context) error {
	run, err := pipeline.Thumbprint(ctx, o.request, o.sources)
	if err != nil {
		return &ExitCodeError{Code: ExitError, Err: err}
	}
	res := ThumbprintResult{APIVersion: APIVersion, Kind: KindThumbprintReport, Issuer: run.Issuer.URL, IssuerSource: run.Issuer.Source, TLS: run.TLS, Provider: run.Provider}
	if run.Verdict != nil {
		res.Judgement, res.Fix = &run.Verdict.Judgement, run.Verdict.Fix
	}
	if err := o.print(res); err != nil {
		return &ExitCodeError{Code: ExitError, Err: fmt.Errorf("writing output: %w", err)}
	}
	if o.Update {
		if err := o.update(ctx, run); err != nil {
			return &ExitCodeError{Code: ExitError, Err: err}
		}
		return nil
	}
	threshold, _ := diag.ParseSeverity(o.FailOn)
	if res.Judgement != nil && threshold.Rank() > 0 && diag.Severity(res.Judgement.Severity).Rank() >= threshold.Rank() && res.Judgement.Verdict != thumbprint.Match {
		return &ExitCodeError{Code: ExitFindings}
	}
	return nil
}

func (o *ThumbprintOptions) print(res ThumbprintResult) error {
	switch o.Output.Output {
	case "json":
		return printJSON(o.Out, res)
	case "yaml":
		return printYAML(o.Out, res)
	}
	w := o.Out
	fmt.Fprintf(w, "Issuer:      %s (from %s)\n", cell(res.Issuer), res.IssuerSource)
	fmt.Fprintf(w, "JWKS URI:    %s\n", cell(res.TLS.Discovery.JWKSURI))
	fmt.Fprintln(w)
	tw := printers.GetNewTabWriter(w)
	fmt.Fprintln(tw, "HOST\tROLE\tDEPTH\tSUBJECT\tISSUER\tNOT-AFTER\tSHA1")
	for _, h := range res.TLS.Hosts {
		for i, cert := range h.Certs {
			sha := cert.SHA1
			if i == len(h.Certs)-1 {
				sha += " (thumbprint)"
			}
			fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\t%s\n", cell(h.Addr()), h.Role, cert.Depth, cell(cert.Subject), cell(cert.Issuer), cert.NotAfter.UTC().Format(time.RFC3339), sha)
		}
		if len(h.Certs) == 0 {
			fmt.Fprintf(tw, "%s\t%s\t-\t<unreachable: %s>\t\t\t\n", cell(h.Addr()), h.Role, cell(h.Error))
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	for _, h := range res.TLS.Hosts {
		trust := "yes, publicly trusted chain"
		if !h.Verified {
			trust = "no: " + cell(h.VerifyError)
		}
		fmt.Fprintf(w, "Verified:    %s: %s\n", cell(h.Addr()), trust)
	}
	fmt.Fprintf(w, "Thumbprint:  %s\n", res.TLS.Thumbprint)
	for _, warn := range res.TLS.Warnings {
		fmt.Fprintf(w, "Warning:     %s\n", cell(warn))
	}
	if p := res.Provider; p != nil {
		switch {
		case p.Error != "":
			fmt.Fprintf(w, "Provider:    could not be read: %s\n", cell(p.Error))
		case !p.Found:
			fmt.Fprintf(w, "Provider:    %s does not exist\n", p.ARN)
		default:
			fmt.Fprintf(w, "Provider:    %s (thumbprints: %s)\n", p.ARN, strings.Join(p.Thumbprints, ", "))
		}
	}
	if j := res.Judgement; j != nil {
		fmt.Fprintf(w, "Verdict:     %s (%s): %s\n", j.Verdict, j.Severity, cell(j.Message))
	}
	if res.Fix != "" {
		fmt.Fprintf(w, "Fix:         %s\n", res.Fix)
	}
	return nil
}

// update replaces the provider's list after showing it and asking. Without a
// terminal it refuses unless --yes was given: a change to IAM is never a
// surprise.
func (o *ThumbprintOptions) update(ctx context.Context, run *pipeline.ThumbprintResult) error {
	list, err := run.UpdatedThumbprints()
	if errors.Is(err, pipeline.ErrNothingToUpdate) {
		fmt.Fprintln(o.ErrOut, "The provider's thumbprint list needs no change.")
		return nil
	}
	if err != nil {
		return fmt.Errorf("--update: %w", err)
	}
	fmt.Fprintf(o.ErrOut, "Provider %s\n  current list: %s\n  new list:     %s\n", run.Provider.ARN, strings.Join(run.Provider.Thumbprints, " "), strings.Join(list, " "))
	if !o.Yes {
		confirm := o.deps.Confirm
		if confirm == nil {
			confirm = o.terminalConfirm
		}
		ok, err := confirmOrInterrupt(ctx, confirm, "Replace the thumbprint list? [y/N] ")
		if err != nil {
			return err
		}
		if !ok {
			return errors.New("--update: not confirmed; nothing changed")
		}
	}
	if err := run.Update(ctx, list); err != nil {
		return err
	}
	fmt.Fprintln(o.ErrOut, "Thumbprint list updated.")
	return nil
}

// confirmOrInterrupt asks, and gives up at once when ctx ends (Ctrl-C):
// a blocked read of the terminal must not hold the interrupt until Enter.
func confirmOrInterrupt(ctx context.Context, confirm func(string) (bool, error), question string) (bool, error) {
	type answer struct {
		ok  bool
		err error
	}
	answers := make(chan answer, 1)
	go func() {
		ok, err := confirm(question)
		answers <- answer{ok, err}
	}()
	select {
	case a := <-answers:
		return a.ok, a.err
	case <-ctx.Done():
		return false, errors.New("--update: interrupted; nothing changed")
	}
}

func (o *ThumbprintOptions) terminalConfirm(question string) (bool, error) {
	f, ok := o.In.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return false, errors.New("--update: standard input is not a terminal; pass --yes to confirm non-interactively")
	}
	return askYes(o.In, o.ErrOut, question)
}

func askYes(in io.Reader, out io.Writer, question string) (bool, error) {
	fmt.Fprint(out, question)
	line, err := bufio.NewReader(in).ReadString('\n')
	if err != nil && line == "" {
		return false, fmt.Errorf("reading the answer: %w", err)
	}
	answer := strings.ToLower(strings.TrimSpace(line))
	return answer == "y" || answer == "yes", nil
}
