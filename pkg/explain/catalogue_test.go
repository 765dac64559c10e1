package explain_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/diag"
)

// Every check id explain's rules point users at must exist in the catalogue:
// a renamed or removed check would send users nowhere.
func TestCheckIDsExistInTheCatalogue(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	idRE := regexp.MustCompile(`(?:IRSA|PODID)-[A-Z]+-\d{3}|CREDS-\d{3}`)
	seen := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range idRE.FindAllString(string(src), -1) {
			seen++
			if _, ok := diag.Lookup(diag.CheckID(id)); !ok {
				t.Errorf("%s mentions %s, which is not in the check catalogue", f, id)
			}
		}
	}
	if seen < 20 {
		t.Fatalf("found only %d check ids in the rules; the scan is broken", seen)
	}
}
