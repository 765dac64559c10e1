package plugin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	utilduration "k8s.io/apimachinery/pkg/util/duration"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/cli-runtime/pkg/printers"
	"k8s.io/kubectl/pkg/util/templates"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/activity"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/cloud"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/facts"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/pipeline"
)

// KindEventSummaryList is what `kubectl irsa events -o json|yaml` prints.
const KindEventSummaryList = "EventSummaryList"

var eventsLong = templates.LongDesc(`
	Show the token exchanges CloudTrail recorded for the cluster's service
	accounts: per service account and role, the calls that succeeded and
	failed, the error codes AWS returned, the SDKs that made them, and when
	they were first and last seen.

	IRSA exchanges (sts:AssumeRoleWithWebIdentity) are read in the pods'
	regions and in us-east-1, where the global STS endpoint logs; Pod
	Identity exchanges (eks-auth:AssumeRoleForPodIdentity) in the cluster's
	region. CloudTrail keeps them in the account that owns the role, and
	delivers them typically 5 to 15 minutes after the call. LookupEvents is
	limited to 2 requests a second per account and region, so a wide window
	takes a while; --cloudtrail-max-events bounds it.

	The same facts, judged, are what diagnose --cloudtrail reports.

	Exit codes: 0 CloudTrail was read; 1 the tool could not run, or no
	lookup could be read.`)

var eventsExample = templates.Examples(`
	# The last hour of token exchanges of the namespace's service accounts
	kubectl irsa events -n shop

	# One deployment's service account over a day
	kubectl irsa events deploy/my-app -n shop --since 24h

	# Every namespace, as JSON for a script
	kubectl irsa events -A --since 6h -o json`)

// EventSummaryList is the versioned object of -o json|yaml.
type EventSummaryList struct {
	APIVersion string              `json:"apiVersion"`
	Kind       string              `json:"kind"`
	Since      time.Time           `json:"since"`
	Until      time.Time           `json:"until"`
	Account    string              `json:"account,omitempty"`
	Lookups    []facts.TrailLookup `json:"lookups"`
	Malformed  int                 `json:"malformed,omitempty"`
	Items      []activity.Row      `json:"items"`
}

// EventsOptions are the events command's: diagnose's resolution and AWS
// options with CloudTrail on, and its own printer.
type EventsOptions struct {
	diagnose *DiagnoseOptions
	Output   outputFlag
	// NoHeaders drops the table's header line.
	NoHeaders bool
}

func newCmdEvents(configFlags *genericclioptions.ConfigFlags, streams genericiooptions.IOStreams, deps Deps) *cobra.Command {
	d := &DiagnoseOptions{configFlags: configFlags, deps: deps, IOStreams: streams, FailOn: "none", Print: newPrintOptions(),
		Trail: newTrailFlags(), Terminal: deps.Terminal, clock: deps.clock}
	d.Trail.Enabled = true
	o := &EventsOptions{diagnose: d, Output: newOutputFlag("wide", "json", "yaml")}
	cmd := &cobra.Command{
		Use:                   "events [(TYPE/NAME | TYPE NAME ...)] [-l SELECTOR] [-A] [--since DURATION] [-o wide|json|yaml]",
		DisableFlagsInUseLine: true,
		Short:                 "Show the recent token exchanges CloudTrail recorded per service account and role",
		Long:                  eventsLong,
		Example:               eventsExample,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.Validate(); err != nil {
				return &ExitCodeError{Code: ExitError, Err: err}
			}
			if err := d.Complete(args); err != nil {
				return &ExitCodeError{Code: ExitError, Err: err}
			}
			return o.Run(cmd.Context())
		},
	}
	f := cmd.Flags()
	f.BoolVarP(&d.Scope.AllNamespaces, "all-namespaces", "A", false, "Show every namespace")
	f.StringVarP(&d.Scope.Selector, "selector", "l", "", "Label selector; without a TYPE it selects pods")
	o.Output.AddFlag(f)
	f.BoolVar(&o.NoHeaders, "no-headers", false, "Don't print headers in table output")
	d.AWS.AddFlags(f)
	d.Trail.AddFlags(f, false)
	return cmd
}

// Validate checks the flags before anything is read.
func (o *EventsOptions) Validate() error {
	if err := o.Output.Validate(); err != nil {
		return err
	}
	if o.diagnose.AWS.Skip {
		return errors.New("events reads CloudTrail: drop --skip-aws")
	}
	if err := o.diagnose.AWS.Validate(); err != nil {
		return err
	}
	return o.diagnose.Trail.Validate()
}

// Run reads the facts through the diagnosis pipeline (the same reads as
// diagnose --cloudtrail) and prints the summary of what CloudTrail holds.
func (o *EventsOptions) Run(ctx context.Context) error {
	d := o.diagnose
	p := d.newProgress()
	defer p.done()
	src := d.sources
	src.Progress = p
	req := d.request
	req.DropPassed = true
	res, err := pipeline.Diagnose(ctx, req, src)
	p.done()
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return &ExitCodeError{Code: ExitError, Err: errors.New("interrupted")}
		}
		return &ExitCodeError{Code: ExitError, Err: err}
	}
	if len(res.Snapshot.Subjects) == 0 {
		where := "namespace " + req.Scope.Namespace
		if req.Scope.AllNamespaces {
			where = "any namespace"
		}
		fmt.Fprintf(d.ErrOut, "No IRSA or Pod Identity service accounts found in %s.\n", where)
		return nil
	}
	t := res.Snapshot.CloudTrail
	if t == nil || t.Unavailable != "" {
		why := "no AWS facts"
		if t != nil {
			why = t.Unavailable
		}
		return &ExitCodeError{Code: ExitError, Err: fmt.Errorf("CloudTrail was not read: %s", why)}
	}
	rows := activity.Rows(t, expectedRows(res))
	list := EventSummaryList{APIVersion: APIVersion, Kind: KindEventSummaryList, Since: t.Since, Until: t.Until, Account: t.Account,
		Lookups: t.Lookups, Malformed: t.Malformed, Items: rows}
	if list.Lookups == nil {
		list.Lookups = []facts.TrailLookup{}
	}
	switch o.Output.Output {
	case "json":
		err = printJSON(d.Out, list)
	case "yaml":
		err = printYAML(d.Out, list)
	default:
		err = printEventTable(d.Out, rows, o.Output.Output == "wide", o.NoHeaders, req.Scope.AllNamespaces, t.Until)
	}
	if err != nil {
		return &ExitCodeError{Code: ExitError, Err: fmt.Errorf("writing output: %w", err)}
	}
	failed := 0
	for _, l := range t.Lookups {
		if l.Err != nil {
			failed++
			fmt.Fprintf(d.ErrOut, "Warning: %s %s EventName=%s: %s\n", cloud.OpLookupEvents, l.Region, l.EventName, l.Err.Message)
		}
	}
	fmt.Fprintln(d.ErrOut, trailSummary(t))
	if failed > 0 && failed == len(t.Lookups) {
		return &ExitCodeError{Code: ExitError, Err: fmt.Errorf("no CloudTrail lookup could be read (needs %s)", cloud.OpLookupEvents)}
	}
	return nil
}

// expectedRows are the subjects' own rows, shown with no calls when
// CloudTrail has none: a running pod that never asked is a fact too.
func expectedRows(res pipeline.Result) []activity.Row {
	var out []activity.Row
	for _, subj := range res.Snapshot.Subjects {
		if role, ok := facts.IntendedRoleARN(subj); ok {
			out = append(out, activity.Row{Namespace: subj.Namespace, ServiceAccount: subj.ServiceAccountName, Mechanism: activity.MechanismIRSA, Role: role})
		}
		if aws := res.Snapshot.AWS; aws != nil {
			for _, a := range aws.PodIdentity.For(subj.Namespace, subj.ServiceAccountName) {
				out = append(out, activity.Row{Namespace: subj.Namespace, ServiceAccount: subj.ServiceAccountName, Mechanism: activity.MechanismPodIdentity, Role: a.RoleARN})
			}
		}
	}
	return out
}

func printEventTable(w io.Writer, rows []activity.Row, wide, noHeaders, allNamespaces bool, now time.Time) error {
	tw := printers.GetNewTabWriter(w)
	if !noHeaders {
		var cols []string
		if allNamespaces {
			cols = append(cols, "NAMESPACE")
		}
		cols = append(cols, "SERVICEACCOUNT", "MECHANISM", "ROLE", "OK", "FAILED", "ERRORS", "SDKS", "LAST SEEN")
		if wide {
			cols = append(cols, "FIRST SEEN", "REGIONS", "LAST ERROR")
		}
		if _, err := fmt.Fprintln(tw, strings.Join(cols, "\t")); err != nil {
			return err
		}
	}
	for _, r := range rows {
		var cells []string
		if allNamespaces {
			cells = append(cells, cell(r.Namespace))
		}
		sa := r.ServiceAccount
		if sa == "" {
			sa = "(not named)"
		}
		cells = append(cells, cell(sa), r.Mechanism, cell(r.Role), strconv.Itoa(r.Succeeded), strconv.Itoa(r.Failed),
			cell(errorCodes(r.Errors)), cell(sdkList(r.SDKs)), age(r.LastSeen, now))
		if wide {
			last := ""
			if len(r.Errors) > 0 {
				last = r.Errors[0].Code + ": " + r.Errors[0].Message
			}
			cells = append(cells, age(r.FirstSeen, now), cell(strings.Join(r.Regions, ",")), cell(last))
		}
		if _, err := fmt.Fprintln(tw, strings.Join(cells, "\t")); err != nil {
			return err
		}
	}
	return tw.Flush()
}

func errorCodes(es []activity.Error) string {
	parts := make([]string, 0, len(es))
	for _, e := range es {
		parts = append(parts, e.Code+"×"+strconv.Itoa(e.Count))
	}
	return strings.Join(parts, ",")
}

func sdkList(ss []activity.SDK) string {
	parts := make([]string, 0, len(ss))
	for _, s := range ss {
		if !s.Known {
			parts = append(parts, "unknown")
			continue
		}
		parts = append(parts, s.Name+" "+s.Version)
	}
	return strings.Join(parts, ",")
}

// age prints a time the way kubectl's AGE and LAST SEEN columns do ("5m",
// "3h"), or <none> for a row with no call.
func age(t, now time.Time) string {
	if t.IsZero() {
		return "<none>"
	}
	return utilduration.HumanDuration(now.Sub(t))
}

// trailSummary is the stderr line after the table: what was read, so an
// empty table is never mistaken for "nothing happened".
func trailSummary(t *facts.TrailFacts) string {
	pages, events := 0, 0
	var regions []string
	truncated := false
	for _, l := range t.Lookups {
		pages += l.Pages
		events += l.Events
		truncated = truncated || l.Truncated
		if !slices.Contains(regions, l.Region) {
			regions = append(regions, l.Region)
		}
	}
	s := fmt.Sprintf("Read CloudTrail of account %s in %s for %s to %s: %d pages, %d events, %d of this cluster in scope",
		t.Account, strings.Join(regions, ", "), t.Since.Format(time.RFC3339), t.Until.Format(time.RFC3339), pages, events, len(t.Events))
	if t.Malformed > 0 {
		s += fmt.Sprintf(", %d unreadable skipped", t.Malformed)
	}
	if truncated {
		s += "; stopped at --cloudtrail-max-events, older events were not read"
	}
	return s + ". Events appear typically 5 to 15 minutes after the call."
}
