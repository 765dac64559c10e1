package explain_test

import (
	"testing"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/diag"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/explain"
)

// The check ids explain points users at must be the catalogue's, with the
// catalogue's titles: a renamed or removed check would send users nowhere.
func TestCheckIDsMatchTheCatalogue(t *testing.T) {
	titles := explain.CheckTitles()
	for id, title := range titles {
		c, ok := diag.Lookup(diag.CheckID(id))
		if !ok {
			t.Errorf("%s is not in the check catalogue", id)
			continue
		}
		if c.Title != title {
			t.Errorf("%s title %q, catalogue says %q", id, title, c.Title)
		}
	}
	for _, c := range diag.Catalogue() {
		if _, ok := titles[string(c.ID)]; !ok {
			t.Errorf("catalogue check %s (%s) is unknown to explain", c.ID, c.Title)
		}
	}
}
