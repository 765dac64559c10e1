//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kubectl-irsa/kubectl-irsa/test/fakeaws"
)

// thumbprintReport mirrors the parts of `thumbprint -o json` the suite checks.
type thumbprintReport struct {
	Kind     string `json:"kind"`
	Issuer   string `json:"issuer"`
	Provider *struct {
		ARN         string   `json:"arn"`
		Found       bool     `json:"found"`
		Thumbprints []string `json:"thumbprints"`
	} `json:"provider"`
	Judgement *struct {
		Verdict  string `json:"verdict"`
		Severity string `json:"severity"`
	} `json:"judgement"`
	TLS struct {
		Thumbprint string `json:"thumbprint"`
	} `json:"tls"`
	Fix string `json:"fix"`
}

// testThumbprint drives `kubectl irsa thumbprint` against the control
// plane's real issuer, whose CA is private: there the thumbprint is what STS
// trusts, so a stale one breaks every pod.
func testThumbprint(t *testing.T, s *suite) {
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	w := s.newWorld(ctx, t, "e2e-thumbprint", nil)
	w.healthy(acctA, "app", "app")
	arn := w.providerARN(acctA)

	run := func(step string, wantCode int, wantVerdict string, args ...string) thumbprintReport {
		t.Helper()
		out, stderr, code := w.irsa(append([]string{"thumbprint", "-o", "json"}, args...)...)
		var rep thumbprintReport
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatalf("%s: output is not JSON: %v\n%s\nstderr: %s", step, err, out, stderr)
		}
		if code != wantCode || rep.Judgement == nil || rep.Judgement.Verdict != wantVerdict {
			t.Errorf("%s: exit %d verdict %+v, want exit %d verdict %s\n%s\nstderr: %s", step, code, rep.Judgement, wantCode, wantVerdict, out, stderr)
		}
		if rep.Kind != "ThumbprintReport" || rep.Issuer != s.issuer || rep.TLS.Thumbprint != s.thumbprint {
			t.Errorf("%s: kind %q issuer %q thumbprint %q, want ThumbprintReport %s %s", step, rep.Kind, rep.Issuer, rep.TLS.Thumbprint, s.issuer, s.thumbprint)
		}
		return rep
	}

	rep := run("matching provider", 0, "Match")
	if rep.Provider == nil || rep.Provider.ARN != arn || !rep.Provider.Found {
		t.Errorf("provider %+v, want %s found", rep.Provider, arn)
	}

	stale := strings.Repeat("0123456789", 4)
	w.aws.AddProvider(fakeaws.Provider{ARN: arn, URL: w.issuerHost, ClientIDs: []string{stsAud}, Thumbprints: []string{stale}})
	rep = run("stale provider", 2, "MismatchBreaks")
	if !strings.Contains(rep.Fix, "update-open-id-connect-provider-thumbprint") || !strings.Contains(rep.Fix, s.thumbprint) {
		t.Errorf("fix %q does not name the update command and the served thumbprint", rep.Fix)
	}
	if n := w.aws.Count("iam:UpdateOpenIDConnectProviderThumbprint"); n != 0 {
		t.Errorf("a read-only run updated the provider %d times", n)
	}

	// --update --yes applies the fix through IAM; the next run matches.
	out, stderr, code := w.irsa("thumbprint", "--update", "--yes")
	if code != 0 {
		t.Errorf("thumbprint --update --yes: exit %d\n%s\n%s", code, out, stderr)
	}
	p, ok := w.aws.Provider(arn)
	if !ok || !slices.Contains(p.Thumbprints, s.thumbprint) {
		t.Errorf("after --update the provider's thumbprints are %v, want %s among them", p.Thumbprints, s.thumbprint)
	}
	if n := w.aws.Count("iam:UpdateOpenIDConnectProviderThumbprint"); n != 1 {
		t.Errorf("%d UpdateOpenIDConnectProviderThumbprint calls, want 1", n)
	}
	run("after --update", 0, "Match")
}
