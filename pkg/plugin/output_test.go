package plugin

import (
	"strings"
	"testing"

	"github.com/kubectl-irsa/kubectl-irsa/test/fakekube"
)

// Every command validates -o with the one outputFlag, before it reads
// anything, and names the formats it does print.
func TestEveryCommandRejectsUnknownOutput(t *testing.T) {
	t.Parallel()
	srv := fakekube.New(t)
	for cmd, want := range map[string]string{
		"diagnose":   `unknown output format "xml": use wide, json or yaml`,
		"thumbprint": `unknown output format "xml": use json or yaml`,
		"checks":     `unknown output format "xml": use wide, json, yaml or markdown`,
		"explain":    `unknown output format "xml": use json or yaml`,
		"version":    `unknown output format "xml": use json`,
	} {
		r := run(t, srv, cmd, "-o", "xml")
		if r.code != ExitError || !strings.Contains(r.stderr, "error: "+want+"\n") || r.stdout != "" {
			t.Errorf("%s -o xml: exit %d, stdout %q, stderr %q; want exit 1 and %q", cmd, r.code, r.stdout, r.stderr, want)
		}
	}
}
