package plugin

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"k8s.io/cli-runtime/pkg/printers"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/audit"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/awsarn"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/diag"
)

// KindAuditList is the kind of `audit -o json|yaml`.
const KindAuditList = "AuditList"

// AuditList is what `audit -o json|yaml` prints: one item per role, and
// the findings about the account.
type AuditList struct {
	APIVersion string             `json:"apiVersion"`
	Kind       string             `json:"kind"`
	Issuer     string             `json:"issuer"`
	Items      []audit.RoleReport `json:"items"`
	Findings   []diag.Finding     `json:"findings"`
}

func printAudit(w io.Writer, rep audit.Report, output string, noHeaders bool) error {
	switch output {
	case "json":
		return printJSON(w, AuditList{APIVersion: APIVersion, Kind: KindAuditList, Issuer: rep.Issuer, Items: rep.Items, Findings: rep.Findings})
	case "yaml":
		return printYAML(w, AuditList{APIVersion: APIVersion, Kind: KindAuditList, Issuer: rep.Issuer, Items: rep.Items, Findings: rep.Findings})
	case "dot":
		_, err := io.WriteString(w, auditDot(rep))
		return err
	}
	return printAuditTable(w, rep, output == "wide", noHeaders)
}

// allAuditFindings are the roles' findings, then the account's.
func allAuditFindings(rep audit.Report) []diag.Finding {
	var out []diag.Finding
	for _, it := range rep.Items {
		out = append(out, it.Findings...)
	}
	return append(out, rep.Findings...)
}

// printAuditTable prints one row per role, then the findings.
func printAuditTable(w io.Writer, rep audit.Report, wide, noHeaders bool) error {
	tw := printers.GetNewTabWriter(w)
	if !noHeaders {
		h := "ROLE\tADMITS\tINTENDED\tUNINTENDED\tRISK"
		if wide {
			h += "\tSTATEMENTS"
		}
		fmt.Fprintln(tw, h)
	}
	for _, it := range rep.Items {
		var intended, unintended []string
		for _, sa := range it.ServiceAccounts {
			name := sa.Namespace + "/" + sa.Name
			if sa.Via == audit.ViaPodIdentity {
				name += " (pod identity)"
			}
			if sa.Intended {
				intended = append(intended, name)
			} else {
				unintended = append(unintended, name)
			}
		}
		row := []string{cell(it.Role), cell(shortList(it.Admits, 3)), cell(shortList(intended, 3)), cell(shortList(unintended, 3)), cell(riskOf(it))}
		if wide {
			row = append(row, cell(statementsText(it.Statements)))
		}
		fmt.Fprintln(tw, strings.Join(row, "\t"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fs := allAuditFindings(rep)
	if len(fs) == 0 {
		return nil
	}
	fmt.Fprintln(w)
	tw = printers.GetNewTabWriter(w)
	if !noHeaders {
		h := "OBJECT\tCHECK\tSEVERITY\tSTATUS\tMESSAGE"
		if wide {
			h += "\tEVIDENCE\tREMEDIATION"
		}
		fmt.Fprintln(tw, h)
	}
	for _, f := range fs {
		row := []string{cell(f.Object.String()), string(f.ID), string(f.Severity), string(f.Status), cell(f.Message)}
		if wide {
			row = append(row, cell(evidenceText(f.Evidence)), cell(f.Remediation))
		}
		fmt.Fprintln(tw, strings.Join(row, "\t"))
	}
	return tw.Flush()
}

// riskOf names the IRSA-TRUST-002 kinds of a role, most severe first.
func riskOf(it audit.RoleReport) string {
	var kinds []string
	seen := map[string]bool{}
	for _, f := range it.Findings {
		if f.ID != audit.CheckRisk {
			continue
		}
		for _, e := range f.Evidence {
			if e.Key == "kind" && !seen[e.Value] {
				seen[e.Value] = true
				kinds = append(kinds, e.Value)
			}
		}
	}
	return strings.Join(kinds, ", ")
}

// statementsText is -o wide's STATEMENTS cell: each statement's index,
// effect, what it admits and how many service accounts.
func statementsText(ss []audit.StatementSummary) string {
	parts := make([]string, 0, len(ss))
	for _, s := range ss {
		pats := make([]string, 0, len(s.Admits))
		for _, p := range s.Admits {
			pats = append(pats, p.String())
		}
		txt := "#" + strconv.Itoa(s.Index) + " " + s.Effect
		switch {
		case len(s.DeadProviders) > 0:
			txt += " dead provider " + strings.Join(s.DeadProviders, " ")
		case !s.ThisProvider:
			txt += " other principal"
		case s.Effect == "Allow":
			txt += " " + strings.Join(pats, "|") + " (" + strconv.Itoa(s.Admitted) + " SA)"
		}
		parts = append(parts, txt)
	}
	return strings.Join(parts, "; ")
}

// shortList names up to n items and counts the rest.
func shortList(items []string, n int) string {
	if len(items) <= n {
		return strings.Join(items, ", ")
	}
	return strings.Join(items[:n], ", ") + fmt.Sprintf(" (+%d)", len(items)-n)
}

// auditSummary is the line written to stderr after an audit.
func auditSummary(rep audit.Report, elapsed time.Duration) string {
	counts := map[string]int{}
	unintended := 0
	for _, it := range rep.Items {
		for _, sa := range it.ServiceAccounts {
			if !sa.Intended {
				unintended++
			}
		}
	}
	for _, f := range allAuditFindings(rep) {
		switch f.Status {
		case diag.StatusFail:
			counts[string(f.Severity)]++
		case diag.StatusUnknown:
			counts["unknown"]++
		}
	}
	return fmt.Sprintf("audited %d roles against %d service accounts in %s: %d unintended (service account, role) pairs, %d errors, %d warnings, %d info findings, %d unknown",
		rep.Stats.Roles, rep.Stats.ServiceAccounts, duration(elapsed), unintended, counts["error"], counts["warning"], counts["info"], counts["unknown"])
}

// auditDot is a Graphviz graph: service accounts → the roles they can
// assume (unintended edges red and dashed, Pod Identity edges blue), and
// the dead providers a role still trusts, grey. The order is the report's,
// so the text is deterministic.
func auditDot(rep audit.Report) string {
	var b strings.Builder
	b.WriteString("digraph irsa_audit {\n")
	b.WriteString("  rankdir=LR;\n  node [fontname=\"Helvetica\", fontsize=11];\n  edge [fontname=\"Helvetica\", fontsize=9];\n")
	sas := map[string]bool{}
	for _, it := range rep.Items {
		for _, sa := range it.ServiceAccounts {
			sas[sa.Namespace+"/"+sa.Name] = true
		}
	}
	names := make([]string, 0, len(sas))
	for k := range sas {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(&b, "  %s [shape=box, label=%s];\n", dotID("sa:"+n), dotID(n))
	}
	dead := map[string]bool{}
	for _, it := range rep.Items {
		label := it.Role
		if r, err := awsarn.ParseRoleARN(it.Role); err == nil {
			label = r.Name
		}
		attrs := ""
		if riskOf(it) != "" {
			attrs = ", color=\"#b00020\""
		}
		fmt.Fprintf(&b, "  %s [shape=ellipse, label=%s, tooltip=%s%s];\n", dotID("role:"+it.Role), dotID(label), dotID(it.Role), attrs)
		for _, s := range it.Statements {
			for _, p := range s.DeadProviders {
				if !dead[p] {
					dead[p] = true
					host, _ := awsarn.ProviderURLFromARN(p)
					fmt.Fprintf(&b, "  %s [shape=hexagon, style=dashed, color=grey, fontcolor=grey, label=%s];\n", dotID("provider:"+p), dotID("dead provider\n"+host))
				}
			}
		}
	}
	for _, it := range rep.Items {
		for _, sa := range it.ServiceAccounts {
			attrs := "color=black"
			switch {
			case !sa.Intended:
				attrs = "color=red, style=dashed, fontcolor=red, label=\"unintended\""
			case sa.Via == audit.ViaPodIdentity:
				attrs = "color=blue, label=\"pod identity\""
			}
			fmt.Fprintf(&b, "  %s -> %s [%s];\n", dotID("sa:"+sa.Namespace+"/"+sa.Name), dotID("role:"+it.Role), attrs)
		}
		seen := map[string]bool{}
		for _, s := range it.Statements {
			for _, p := range s.DeadProviders {
				if !seen[p] {
					seen[p] = true
					fmt.Fprintf(&b, "  %s -> %s [color=grey, style=dashed, fontcolor=grey, label=%s];\n",
						dotID("provider:"+p), dotID("role:"+it.Role), dotID("statement "+strconv.Itoa(s.Index)))
				}
			}
		}
	}
	b.WriteString("}\n")
	return b.String()
}

// dotID quotes s as a Graphviz string: control characters made visible
// (cluster-provided names reach a terminal through dot's input too), quotes
// and backslashes escaped, a newline as dot's \n.
func dotID(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		l = escapeTerminal(l)
		l = strings.ReplaceAll(l, `\`, `\\`)
		lines[i] = strings.ReplaceAll(l, `"`, `\"`)
	}
	return `"` + strings.Join(lines, `\n`) + `"`
}
