package diag_test

import (
	"testing"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/diag"
)

func TestCatalogue(t *testing.T) {
	t.Parallel()
	if err := diag.ValidateCatalogue(); err != nil {
		t.Fatal(err)
	}
	if n := len(diag.Catalogue()); n < 22 {
		t.Fatalf("catalogue has %d checks, want at least 22", n)
	}
}
