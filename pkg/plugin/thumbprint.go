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

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
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
type ProviderInfo struct {
	ARN         string   `json:"arn"`
	Found       bool     `json:"found"`
	Thumbprints []string `json:"thumbprints,omitempty"`
	Error       string   `json:"error,omitempty"`
}

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
	Output      string
	WarnDays    int
	TLSTimeout  time.Duration
	Update      bool
	Yes         bool
	FailOn      string

	genericiooptions.IOStreams
}

func newCmdThumbprint(configFlags *genericclioptions.ConfigFlags, streams genericiooptions.IOStreams, deps Deps) *cobra.Command {
	o := &ThumbprintOptions{configFlags: configFlags, deps: deps, IOStreams: streams, FailOn: string(diag.SeverityError)}
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
			return o.Run(cmd.Context())
		},
	}
	f := cmd.Flags()
	o.AWS.AddFlags(f)
	f.StringVar(&o.ProviderARN, "provider-arn", "", "IAM OIDC provider to compare (default: the issuer's provider in the caller's account)")
	f.StringVarP(&o.Output, "output", "o", "", "Output format: json or yaml")
	f.IntVar(&o.WarnDays, "warn-days", 30, "Warn about certificates that expire within this many days")
	f.DurationVar(&o.TLSTimeout, "tls-timeout", 10*time.Second, "Time limit for each HTTPS request and TLS handshake")
	f.BoolVar(&o.Update, "update", false, "Replace the provider's thumbprint list (asks for confirmation)")
	f.BoolVar(&o.Yes, "yes", false, "Do not ask for confirmation with --update")
	f.StringVar(&o.FailOn, "fail-on", o.FailOn, "Exit 2 when the verdict is at or above this severity: error, warning, info or none")
	return cmd
}

// Validate checks flag values.
func (o *ThumbprintOptions) Validate() error {
	if o.Output != "" && o.Output != "json" && o.Output != "yaml" {
		return fmt.Errorf("unknown output format %q: use json or yaml", o.Output)
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

// judgeProvider compares the served chain with the provider's thumbprints
// with the verdict function diagnose uses; nothing when the provider could
// not be read.
func judgeProvider(res *ThumbprintResult) {
	if res.Provider.Error != "" {
		return
	}
	v := thumbprint.JudgeProvider(res.TLS, res.Provider.ARN, res.Provider.Found, res.Provider.Thumbprints, facts.DefaultAudience)
	res.Judgement, res.Fix = &v.Judgement, v.Fix
}

// Run resolves the issuer, reads the chains, compares and optionally updates.
func (o *ThumbprintOptions) Run(ctx context.Context) error {
	hint, client := o.kubeContext()
	in := cloud.GatherInput{Issuer: o.AWS.Issuer, ClusterName: o.AWS.Cluster, ClusterSource: "--cluster"}
	if in.ClusterName == "" {
		in.ClusterName, in.ClusterSource = hint.Name, hint.Source
	}
	if client != nil {
		in.DiscoverIssuer = func(ctx context.Context) (string, error) {
			return kube.DiscoverIssuer(ctx, client.Discovery().RESTClient())
		}
	}
	awsCtx, cancel := context.WithTimeout(ctx, o.AWS.Timeout)
	defer cancel()
	var c *cloud.Collector
	var issuer facts.IssuerFacts
	if !o.AWS.Skip {
		var err error
		if c, err = o.collector(awsCtx, hint); err != nil {
			return &ExitCodeError{Code: ExitError, Err: err}
		}
		issuer, _ = c.Issuer(awsCtx, in)
	} else {
		issuer = (&cloud.Collector{}).ResolveIssuerWithoutAWS(awsCtx, in)
	}
	if issuer.URL == "" {
		return &ExitCodeError{Code: ExitError, Err: fmt.Errorf("cannot determine the cluster's OIDC issuer (%s): pass --issuer", strings.Join(issuer.Tried, "; "))}
	}
	report, err := o.inspect(ctx, issuer.URL)
	if err != nil && len(report.Hosts) == 0 {
		return &ExitCodeError{Code: ExitError, Err: fmt.Errorf("reading the TLS chain of %s: %s", issuer.URL, oneLine(err))}
	}
	res := ThumbprintResult{APIVersion: APIVersion, Kind: KindThumbprintReport, Issuer: issuer.URL, IssuerSource: issuer.Source, TLS: report}
	if c != nil {
		res.Provider = o.provider(awsCtx, c, issuer.URL)
		judgeProvider(&res)
	}
	if err := o.print(res); err != nil {
		return &ExitCodeError{Code: ExitError, Err: fmt.Errorf("writing output: %w", err)}
	}
	if o.Update {
		if err := o.update(awsCtx, c, res); err != nil {
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

// kubeContext reads what the kubeconfig offers; a thumbprint run with
// --issuer needs no cluster at all, so errors here are not fatal.
func (o *ThumbprintOptions) kubeContext() (kube.ClusterHint, kubernetes.Interface) {
	if o.configFlags == nil {
		return kube.ClusterHint{}, nil
	}
	var hint kube.ClusterHint
	if raw, err := o.configFlags.ToRawKubeConfigLoader().RawConfig(); err == nil {
		ctxName := ""
		if o.configFlags.Context != nil {
			ctxName = *o.configFlags.Context
		}
		hint = kube.HintFromKubeconfig(raw, ctxName)
	}
	cfg, err := o.configFlags.ToRESTConfig()
	if err != nil {
		return hint, nil
	}
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return hint, nil
	}
	return hint, client
}

func (o *ThumbprintOptions) collector(ctx context.Context, hint kube.ClusterHint) (*cloud.Collector, error) {
	var arns []string
	if o.ProviderARN != "" {
		arns = append(arns, o.ProviderARN)
	}
	if o.deps.NewAWSCollector != nil {
		return o.deps.NewAWSCollector(ctx, arns)
	}
	return pipeline.NewAWSCollector(ctx, o.AWS.options(), hint, Version().Version, arns)
}

func (o *ThumbprintOptions) inspect(ctx context.Context, issuer string) (thumbprint.Report, error) {
	return o.deps.tls(tlsinspect.Options{Timeout: o.TLSTimeout, WarnDays: o.WarnDays}).Inspect(ctx, issuer)
}

// provider finds the IAM OIDC provider to compare: --provider-arn, else the
// issuer's provider in the caller's account and partition.
func (o *ThumbprintOptions) provider(ctx context.Context, c *cloud.Collector, issuer string) *ProviderInfo {
	arn := o.ProviderARN
	if arn == "" {
		caller := c.Caller(ctx)
		if caller.Err != nil {
			return &ProviderInfo{Error: caller.Err.Op + " failed: " + caller.Err.Message}
		}
		partition := "aws"
		if a, err := awsarn.Parse(caller.ARN); err == nil {
			partition = a.Partition
		}
		is, _ := awsarn.ParseIssuer(issuer)
		arn = awsarn.ProviderARN(partition, caller.Account, is.HostPath)
	}
	p := c.Provider(ctx, arn)
	info := &ProviderInfo{ARN: arn, Found: p.Found, Thumbprints: p.Thumbprints}
	if p.Err != nil && p.Err.Code != facts.ErrNotFound {
		info.Error = p.Err.Op + " failed (" + string(p.Err.Code) + "): " + p.Err.Message
	}
	return info
}

func (o *ThumbprintOptions) print(res ThumbprintResult) error {
	switch o.Output {
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
func (o *ThumbprintOptions) update(ctx context.Context, c *cloud.Collector, res ThumbprintResult) error {
	if res.Provider == nil || !res.Provider.Found || res.Judgement == nil {
		return errors.New("--update: there is no provider to update (see the verdict)")
	}
	if len(res.Judgement.Required) == 0 {
		fmt.Fprintln(o.ErrOut, "The provider's thumbprint list needs no change.")
		return nil
	}
	list, err := thumbprint.UpdatedList(res.Provider.Thumbprints, res.Judgement.Required, thumbprint.ValidEntry)
	if err != nil {
		return fmt.Errorf("--update: %w", err)
	}
	fmt.Fprintf(o.ErrOut, "Provider %s\n  current list: %s\n  new list:     %s\n", res.Provider.ARN, strings.Join(res.Provider.Thumbprints, " "), strings.Join(list, " "))
	if !o.Yes {
		confirm := o.deps.Confirm
		if confirm == nil {
			confirm = o.terminalConfirm
		}
		ok, err := confirm("Replace the thumbprint list? [y/N] ")
		if err != nil {
			return err
		}
		if !ok {
			return errors.New("--update: not confirmed; nothing changed")
		}
	}
	if _, err := c.IAM.UpdateOpenIDConnectProviderThumbprint(ctx, &iam.UpdateOpenIDConnectProviderThumbprintInput{
		OpenIDConnectProviderArn: aws.String(res.Provider.ARN), ThumbprintList: list}); err != nil {
		e := cloud.Classify("iam:UpdateOpenIDConnectProviderThumbprint", res.Provider.ARN, err)
		return fmt.Errorf("updating the thumbprint list: %s", e.Error())
	}
	fmt.Fprintln(o.ErrOut, "Thumbprint list updated.")
	return nil
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
