package explain

import "github.com/kubectl-irsa/kubectl-irsa/pkg/diag"

// checkTitles returns the catalogue's titles (pkg/diag is pure, so explain
// reads them from the one source instead of keeping a copy that drifts).
func checkTitles() map[string]string {
	out := map[string]string{}
	for _, c := range diag.Catalogue() {
		out[string(c.ID)] = c.Title
	}
	return out
}
