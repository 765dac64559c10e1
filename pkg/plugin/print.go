package plugin

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"k8s.io/cli-runtime/pkg/printers"
	"sigs.k8s.io/yaml"

	"github.com/spf13/pflag"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/diag"
)

// APIVersion and kinds of the machine-readable output. The shape is a public
// contract: fields are only ever added.
const (
	APIVersion        = "kubectl-irsa.io/v1alpha1"
	KindDiagnosisList = "DiagnosisList"
	KindCheckList     = "CheckList"
)

// DiagnosisList is what -o json|yaml prints.
type DiagnosisList struct {
	APIVersion string           `json:"apiVersion"`
	Kind       string           `json:"kind"`
	Items      []diag.Diagnosis `json:"items"`
}

// outputFlag is the -o flag every command shares: the formats it accepts
// are the command's, the flag, its help and its validation are written once.
type outputFlag struct {
	Output string
	// formats are the accepted values besides the default table ("").
	formats []string
}

func newOutputFlag(formats ...string) outputFlag { return outputFlag{formats: formats} }

// AddFlag registers -o/--output.
func (f *outputFlag) AddFlag(fs *pflag.FlagSet) {
	fs.StringVarP(&f.Output, "output", "o", f.Output, "Output format: "+orList(f.formats))
}

// Validate rejects a format the command does not print.
func (f outputFlag) Validate() error {
	if f.Output == "" || slices.Contains(f.formats, f.Output) {
		return nil
	}
	return fmt.Errorf("unknown output format %q: use %s", f.Output, orList(f.formats))
}

// orList renders "a, b or c".
func orList(items []string) string {
	if len(items) < 2 {
		return strings.Join(items, "")
	}
	return strings.Join(items[:len(items)-1], ", ") + " or " + items[len(items)-1]
}

// printOptions says how to render diagnoses.
type printOptions struct {
	outputFlag
	NoHeaders     bool
	ShowPassed    bool
	AllNamespaces bool
}

func newPrintOptions() printOptions {
	return printOptions{outputFlag: newOutputFlag("wide", "json", "yaml")}
}

// AddFlags registers -o and --no-headers.
func (o *printOptions) AddFlags(fs *pflag.FlagSet) {
	o.AddFlag(fs)
	fs.BoolVar(&o.NoHeaders, "no-headers", false, "Don't print headers in table output")
}

// visible drops passes unless asked for, but for notices (which credentials
// a Pod Identity subject's containers get); machine output keeps what the
// table shows so the two never disagree.
func visible(ds []diag.Diagnosis, showPassed bool) []diag.Diagnosis {
	out := make([]diag.Diagnosis, 0, len(ds))
	for _, d := range ds {
		c := d
		c.Findings = []diag.Finding{}
		for _, f := range d.Findings {
			if f.Status != diag.StatusPass || f.Notice || showPassed {
				c.Findings = append(c.Findings, f)
			}
		}
		out = append(out, c)
	}
	return out
}

func printDiagnoses(w io.Writer, ds []diag.Diagnosis, o printOptions) error {
	ds = visible(ds, o.ShowPassed)
	switch o.Output {
	case "json":
		return printJSON(w, DiagnosisList{APIVersion: APIVersion, Kind: KindDiagnosisList, Items: ds})
	case "yaml":
		return printYAML(w, DiagnosisList{APIVersion: APIVersion, Kind: KindDiagnosisList, Items: ds})
	}
	return printTable(w, ds, o)
}

func printJSON(w io.Writer, v any) error {
	b, err := json.MarshalIndent(v, "", "    ")
	if err != nil {
		return fmt.Errorf("encoding json: %w", err)
	}
	_, err = fmt.Fprintln(w, string(b))
	return err
}

func printYAML(w io.Writer, v any) error {
	b, err := yaml.Marshal(v)
	if err != nil {
		return fmt.Errorf("encoding yaml: %w", err)
	}
	_, err = w.Write(b)
	return err
}

// cell makes cluster-provided text safe for a terminal and for one tab cell.
func cell(s string) string {
	if s == "" {
		return "<none>"
	}
	return escapeTerminal(s)
}

// escapeTerminal renders every control character visibly (caret notation for
// C0 and DEL, \u escapes for C1), so annotations and names from the cluster
// cannot move the cursor, retitle the window or ring the bell. It is stricter
// than printers.EscapeTerminal, which lets BEL and C1 controls through.
func escapeTerminal(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\t' || r == '\n' || r == '\r':
			b.WriteByte(' ')
		case r < 0x20:
			b.WriteByte('^')
			b.WriteRune(r + '@')
		case r == 0x7f:
			b.WriteString("^?")
		case r >= 0x80 && r < 0xa0:
			fmt.Fprintf(&b, "\\u%04x", r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// evidenceText is a finding's evidence on one line; a multi-line value (an
// indented policy document) is folded onto it.
func evidenceText(evs []diag.Evidence) string {
	parts := make([]string, 0, len(evs))
	for _, e := range evs {
		v := e.Value
		if strings.Contains(v, "\n") {
			v = strings.Join(strings.Fields(v), " ")
		}
		parts = append(parts, e.Key+"="+v)
	}
	return strings.Join(parts, "; ")
}

func printTable(w io.Writer, ds []diag.Diagnosis, o printOptions) error {
	tw := printers.GetNewTabWriter(w)
	wide := o.Output == "wide"
	if !o.NoHeaders {
		var cols []string
		if o.AllNamespaces {
			cols = append(cols, "NAMESPACE")
		}
		cols = append(cols, "SERVICEACCOUNT", "OBJECT", "CHECK", "SEVERITY", "STATUS", "MESSAGE")
		if wide {
			cols = append(cols, "EVIDENCE", "REMEDIATION")
		}
		if _, err := fmt.Fprintln(tw, strings.Join(cols, "\t")); err != nil {
			return err
		}
	}
	shared := sharedFindings(ds)
	printed := map[string]bool{}
	for _, d := range ds {
		for _, f := range d.Findings {
			key := findingKey(f)
			if printed[key] {
				continue
			}
			printed[key] = true
			name, msg := d.Subject.Name, f.Message
			if n := shared[key]; n > 1 {
				name = fmt.Sprintf("%s (+%d)", d.Subject.Name, n-1)
				msg = fmt.Sprintf("%s (%d service accounts)", f.Message, n)
			}
			var cells []string
			if o.AllNamespaces {
				cells = append(cells, cell(d.Subject.Namespace))
			}
			cells = append(cells, cell(name), cell(f.Object.String()), string(f.ID), string(f.Severity), string(f.Status), cell(msg))
			if wide {
				cells = append(cells, cell(evidenceText(f.Evidence)), cell(f.Remediation))
			}
			if _, err := fmt.Fprintln(tw, strings.Join(cells, "\t")); err != nil {
				return err
			}
		}
	}
	return tw.Flush()
}

// sharedFindings counts, per finding, the service accounts that have the
// very same finding: one fact many subjects share (the issuer, the OIDC
// provider and its thumbprints, the webhook registration). The table prints
// it once, on the first subject's row, saying how many it affects;
// -o json|yaml keeps it on every subject, for scripts.
func sharedFindings(ds []diag.Diagnosis) map[string]int {
	n := map[string]int{}
	for _, d := range ds {
		seen := map[string]bool{}
		for _, f := range d.Findings {
			if k := findingKey(f); !seen[k] {
				seen[k] = true
				n[k]++
			}
		}
	}
	return n
}

// findingKey is everything a table row says but the service account.
func findingKey(f diag.Finding) string {
	return strings.Join([]string{string(f.ID), f.Object.String(), string(f.Status), string(f.Severity), f.Message, evidenceText(f.Evidence), f.Remediation}, "\x00")
}

// summary is the one line written to stderr after a diagnosis; dropped
// are the passed findings the pipeline counted without keeping them.
func summary(ds []diag.Diagnosis, dropped int, elapsed time.Duration) string {
	counts := map[string]int{"passed": dropped}
	pods := 0
	namespaces, roles := map[string]bool{}, map[string]bool{}
	for _, d := range ds {
		pods += len(d.Pods)
		namespaces[d.Subject.Namespace] = true
		if d.RoleARN != "" {
			roles[d.RoleARN] = true
		}
		for _, f := range d.Findings {
			switch f.Status {
			case diag.StatusFail:
				counts[string(f.Severity)]++
			case diag.StatusUnknown:
				counts["unknown"]++
			case diag.StatusPass:
				counts["passed"]++
			}
		}
	}
	plural := func(n int, word string) string {
		if n == 1 {
			return fmt.Sprintf("%d %s", n, word)
		}
		return fmt.Sprintf("%d %ss", n, word)
	}
	return fmt.Sprintf("diagnosed %s and %s in %s (%s) in %s: %s, %s, %s, %d unknown, %d passed",
		plural(pods, "pod"), plural(len(ds), "service account"), plural(len(namespaces), "namespace"), plural(len(roles), "role"), duration(elapsed),
		plural(counts["error"], "error"), plural(counts["warning"], "warning"), plural(counts["info"], "info finding"),
		counts["unknown"], counts["passed"])
}

// duration is short and steady: tenths of a second under a minute.
func duration(d time.Duration) string {
	if d < time.Minute {
		return fmt.Sprintf("%.1fs", d.Seconds())
	}
	return d.Round(time.Second).String()
}
