package cloud_test

import (
	"errors"
	"testing"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/facts"
	"github.com/kubectl-irsa/kubectl-irsa/test/fakeaws"
)

// A failed update keeps the classified AWS error in its chain, so callers
// can tell AccessDenied from the rest.
func TestUpdateThumbprintsWrapsTheCallError(t *testing.T) {
	fake, c := newEnv(t, 0)
	fake.AddProvider(fakeaws.Provider{ARN: provARN, URL: provURL})
	fake.Fail("UpdateOpenIDConnectProviderThumbprint", provARN, "AccessDenied", "not allowed", 0)
	err := c.UpdateThumbprints(ctxT(t), provARN, []string{"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"})
	var ce *facts.CallError
	if !errors.As(err, &ce) || ce.Code != facts.ErrAccessDenied || ce.Op != "iam:UpdateOpenIDConnectProviderThumbprint" {
		t.Fatalf("UpdateThumbprints error %v (%T), want a wrapped AccessDenied CallError", err, err)
	}
}
