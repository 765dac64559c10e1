package plugin

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/kubectl/pkg/util/templates"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/explain"
)

// KindExplanationList is what `explain -o json|yaml` prints.
const KindExplanationList = "ExplanationList"

// ExplanationList is the machine-readable result of `kubectl irsa explain`.
type ExplanationList struct {
	APIVersion string                `json:"apiVersion"`
	Kind       string                `json:"kind"`
	Items      []explain.Explanation `json:"items"`
}

// maxExplainInput bounds what is read from stdin: a log excerpt, not a disk.
const maxExplainInput = 4 << 20

var explainLong = templates.LongDesc(`
	Explain an IRSA error message copied from a log.

	Paste the error as an argument or pipe a log into it. It recognises the
	STS, SDK (Go v1 and v2, boto3/botocore, the AWS CLI, Java v2, JS v3),
	Pod Identity agent, webhook and kubelet forms of the error, extracts the
	facts it carries (issuer, role ARN, times), ranks the likely causes and
	prints the kubectl irsa commands and check ids that decide between them.
	Credentials and tokens in the input are never printed: keys are
	redacted, a token is shown only as its decoded claims.`)

var explainExample = templates.Examples(`
	# One error message
	kubectl irsa explain "InvalidIdentityToken: Incorrect token audience"

	# A whole log: every distinct error, once
	kubectl logs deploy/my-app -n shop | kubectl irsa explain`)

// ExplainOptions holds an `explain` run.
type ExplainOptions struct {
	Output outputFlag
	// text is the error message or log, from the arguments or stdin.
	text string
	genericiooptions.IOStreams
}

func newCmdExplain(streams genericiooptions.IOStreams) *cobra.Command {
	o := &ExplainOptions{Output: newOutputFlag("json", "yaml"), IOStreams: streams}
	cmd := &cobra.Command{
		Use:     `explain ["ERROR TEXT"] [-o json|yaml]`,
		Short:   "Explain an IRSA error message: its likely causes and what decides between them",
		Long:    explainLong,
		Example: explainExample,
		RunE: func(_ *cobra.Command, args []string) error {
			if err := o.Validate(); err != nil {
				return &ExitCodeError{Code: ExitError, Err: err}
			}
			if err := o.Complete(args); err != nil {
				return &ExitCodeError{Code: ExitError, Err: err}
			}
			return o.Run()
		},
	}
	o.Output.AddFlag(cmd.Flags())
	return cmd
}

// Validate checks flag values.
func (o *ExplainOptions) Validate() error { return o.Output.Validate() }

// Complete reads the text to explain.
func (o *ExplainOptions) Complete(args []string) error {
	text, err := explainInput(o.In, args)
	o.text = text
	return err
}

// Run explains every distinct error in the text, or says what is unknown.
func (o *ExplainOptions) Run() error {
	items := explain.ExplainAll(o.text)
	if len(items) == 0 {
		e, _ := explain.Explain(o.text)
		items = []explain.Explanation{e}
	}
	switch o.Output.Output {
	case "json":
		return printJSON(o.Out, ExplanationList{APIVersion: APIVersion, Kind: KindExplanationList, Items: items})
	case "yaml":
		return printYAML(o.Out, ExplanationList{APIVersion: APIVersion, Kind: KindExplanationList, Items: items})
	}
	return printExplanations(o.Out, items)
}

// explainInput takes the arguments, else standard input when it is not a
// terminal (a pipe or a file).
func explainInput(in io.Reader, args []string) (string, error) {
	if len(args) > 0 {
		return strings.Join(args, " "), nil
	}
	if f, ok := in.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		return "", errors.New(`give the error text as an argument, or pipe a log into kubectl irsa explain`)
	}
	if in == nil {
		return "", errors.New("no input")
	}
	b, err := io.ReadAll(io.LimitReader(in, maxExplainInput))
	if err != nil {
		return "", fmt.Errorf("reading standard input: %w", err)
	}
	if strings.TrimSpace(string(b)) == "" {
		return "", errors.New(`no error text: give it as an argument, or pipe a log into kubectl irsa explain`)
	}
	return string(b), nil
}

func printExplanations(w io.Writer, items []explain.Explanation) error {
	var b strings.Builder
	for i, e := range items {
		if i > 0 {
			b.WriteString("\n---\n\n")
		}
		fmt.Fprintf(&b, "%s\n", escapeTerminal(e.Title))
		if e.Code != "" || e.Message != "" {
			fmt.Fprintf(&b, "Error:    %s\n", escapeTerminal(strings.TrimPrefix(e.Code+": "+e.Message, ": ")))
		}
		fmt.Fprintf(&b, "Seen as:  %s (%s)\n", e.Wrapper, e.ID)
		if facts := e.SortedFacts(); len(facts) > 0 {
			b.WriteString("Facts:\n")
			for _, f := range facts {
				fmt.Fprintf(&b, "  %-18s %s\n", f.Key, escapeTerminal(f.Value))
			}
		}
		b.WriteString("Likely causes, most likely first:\n")
		for n, c := range e.Causes {
			ids := ""
			if len(c.CheckIDs) > 0 {
				ids = "  [" + strings.Join(c.CheckIDs, ", ") + "]"
			}
			fmt.Fprintf(&b, "  %d. %s%s\n", n+1, escapeTerminal(c.Summary), ids)
			if c.Detail != "" {
				fmt.Fprintf(&b, "     %s\n", escapeTerminal(c.Detail))
			}
		}
		if len(e.Next) > 0 {
			b.WriteString("Next:\n")
			for _, n := range e.Next {
				fmt.Fprintf(&b, "  %s\n", escapeTerminal(n))
			}
		}
		for _, n := range e.Notes {
			fmt.Fprintf(&b, "Note: %s\n", escapeTerminal(n))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
