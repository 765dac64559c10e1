package diag

import (
	"fmt"
	"sort"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/facts"
)

// Check is one entry of the catalogue.
type Check struct {
	ID       CheckID
	Severity Severity
	// Title says what must hold, e.g. "Service account exists".
	Title string
	// LooksAt names the facts the check reads.
	LooksAt string
	// Run judges one subject. It returns findings with ID and Severity left
	// empty where the defaults apply; the engine fills them in.
	Run func(s *Input, subj *facts.Subject) []Finding
}

var registry []Check

// register adds checks at init; ids must be unique. A duplicate is a
// programming error that TestCatalogue reports, so register records it
// instead of panicking.
func register(cs ...Check) {
	registry = append(registry, cs...)
}

// Catalogue returns every check, ordered by id.
func Catalogue() []Check {
	out := make([]Check, len(registry))
	copy(out, registry)
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// ValidateCatalogue reports duplicate or incomplete entries.
func ValidateCatalogue() error {
	seen := map[CheckID]bool{}
	for _, c := range registry {
		if seen[c.ID] {
			return fmt.Errorf("check id %s registered twice", c.ID)
		}
		seen[c.ID] = true
		if c.Title == "" || c.LooksAt == "" || c.Run == nil || c.Severity.Rank() == 0 {
			return fmt.Errorf("check %s is missing a title, what it looks at, a severity or a function", c.ID)
		}
	}
	return nil
}

// Lookup returns the check with the given id.
func Lookup(id CheckID) (Check, bool) {
	for _, c := range registry {
		if c.ID == id {
			return c, true
		}
	}
	return Check{}, false
}
