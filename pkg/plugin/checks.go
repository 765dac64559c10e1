package plugin

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/cli-runtime/pkg/printers"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/audit"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/diag"
)

// CheckInfo is one catalogue entry as printed.
type CheckInfo struct {
	ID       diag.CheckID  `json:"id"`
	Severity diag.Severity `json:"severity"`
	Title    string        `json:"title"`
	LooksAt  string        `json:"looksAt"`
}

// CheckList is what `checks -o json|yaml` prints.
type CheckList struct {
	APIVersion string      `json:"apiVersion"`
	Kind       string      `json:"kind"`
	Items      []CheckInfo `json:"items"`
}

func catalogue() CheckList {
	l := CheckList{APIVersion: APIVersion, Kind: KindCheckList}
	for _, c := range diag.Catalogue() {
		l.Items = append(l.Items, CheckInfo{ID: c.ID, Severity: c.Severity, Title: c.Title, LooksAt: c.LooksAt})
	}
	for _, c := range audit.Catalogue() {
		l.Items = append(l.Items, CheckInfo{ID: c.ID, Severity: c.Severity, Title: c.Title, LooksAt: c.LooksAt})
	}
	sort.SliceStable(l.Items, func(i, j int) bool { return l.Items[i].ID < l.Items[j].ID })
	return l
}

// WriteCatalogueMarkdown renders docs/checks.md; a test fails when the file drifts.
func WriteCatalogueMarkdown(w io.Writer) error {
	var b strings.Builder
	b.WriteString("# Check catalogue\n\nGenerated from the code by `kubectl irsa checks -o markdown`; do not edit by hand.\n\n")
	b.WriteString("| ID | Default severity | Must hold | Looks at |\n|---|---|---|---|\n")
	for _, c := range catalogue().Items {
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", c.ID, c.Severity, c.Title, strings.ReplaceAll(c.LooksAt, "|", "\\|"))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// ChecksOptions holds a `checks` run.
type ChecksOptions struct {
	Output    outputFlag
	NoHeaders bool
	genericiooptions.IOStreams
}

func newCmdChecks(streams genericiooptions.IOStreams) *cobra.Command {
	o := &ChecksOptions{Output: newOutputFlag("wide", "json", "yaml", "markdown"), IOStreams: streams}
	cmd := &cobra.Command{
		Use:   "checks",
		Short: "List every check with its id, default severity and what it looks at",
		Args:  cobra.NoArgs,
		RunE: func(_ *cobra.Command, _ []string) error {
			if err := o.Validate(); err != nil {
				return &ExitCodeError{Code: ExitError, Err: err}
			}
			return o.Run()
		},
	}
	o.Output.AddFlag(cmd.Flags())
	cmd.Flags().BoolVar(&o.NoHeaders, "no-headers", false, "Don't print headers")
	return cmd
}

// Validate checks flag values.
func (o *ChecksOptions) Validate() error { return o.Output.Validate() }

// Run prints the catalogue.
func (o *ChecksOptions) Run() error {
	l := catalogue()
	switch o.Output.Output {
	case "json":
		return printJSON(o.Out, l)
	case "yaml":
		return printYAML(o.Out, l)
	case "markdown":
		return WriteCatalogueMarkdown(o.Out)
	}
	wide := o.Output.Output == "wide"
	tw := printers.GetNewTabWriter(o.Out)
	if !o.NoHeaders {
		h := "ID\tSEVERITY\tTITLE"
		if wide {
			h += "\tLOOKS-AT"
		}
		fmt.Fprintln(tw, h)
	}
	for _, c := range l.Items {
		row := fmt.Sprintf("%s\t%s\t%s", c.ID, c.Severity, c.Title)
		if wide {
			row += "\t" + c.LooksAt
		}
		fmt.Fprintln(tw, row)
	}
	return tw.Flush()
}
