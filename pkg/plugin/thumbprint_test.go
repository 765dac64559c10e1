package plugin

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/diag"
	"github.com/kubectl-irsa/kubectl-irsa/test/fakeaws"
	"github.com/kubectl-irsa/kubectl-irsa/test/fakekube"
	"github.com/kubectl-irsa/kubectl-irsa/test/testutil"
)

// privateIssuer serves OIDC discovery and JWKS over TLS on loopback with a
// certificate no public root signs: the case where the thumbprint matters.
func privateIssuer(t *testing.T) (issuer, thumb string) {
	t.Helper()
	var srv *httptest.Server
	srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/.well-known/openid-configuration":
			_ = json.NewEncoder(w).Encode(map[string]string{"issuer": srv.URL, "jwks_uri": srv.URL + "/keys"})
		case "/keys":
			_, _ = w.Write([]byte(`{"keys":[]}`))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	sum := sha1.Sum(srv.Certificate().Raw)
	return srv.URL, hex.EncodeToString(sum[:])
}

// realTLS is fakeAWS without the TLS stub: the chain is really read.
func realTLS(t *testing.T, a *fakeaws.Server) Deps {
	d := fakeAWS(t, a)
	d.Inspect = nil
	return d
}

func providerFor(issuer string) (arn, host string) {
	host = strings.TrimPrefix(issuer, "https://")
	return "arn:aws:iam::111122223333:oidc-provider/" + host, host
}

func TestThumbprintVerdicts(t *testing.T) {
	t.Parallel()
	issuer, thumb := privateIssuer(t)
	arn, host := providerFor(issuer)
	stale := "0123456789abcdef0123456789abcdef01234567"
	tests := []struct {
		name     string
		provider *fakeaws.Provider
		code     int
		contains []string
	}{
		{"match", &fakeaws.Provider{ARN: arn, URL: host, ClientIDs: []string{"sts.amazonaws.com"}, Thumbprints: []string{strings.ToUpper(thumb)}}, ExitOK,
			[]string{"Thumbprint:  " + thumb, "(thumbprint)", "Verdict:     Match (info)", "Verified:    127.0.0.1:"}},
		{"private CA mismatch breaks authentication", &fakeaws.Provider{ARN: arn, URL: host, ClientIDs: []string{"sts.amazonaws.com"}, Thumbprints: []string{stale}}, ExitFindings,
			[]string{"Verdict:     MismatchBreaks (error)", "Fix:         aws iam update-open-id-connect-provider-thumbprint --open-id-connect-provider-arn " + arn + " --thumbprint-list " + thumb + " " + stale}},
		{"provider missing", nil, ExitFindings, []string{"does not exist", "Verdict:     ProviderMissing (error)", "aws iam create-open-id-connect-provider --url " + issuer}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a := fakeaws.New()
			a.SetCaller(fakeaws.Caller{Account: "111122223333", ARN: "arn:aws:iam::111122223333:user/operator"})
			if tc.provider != nil {
				a.AddProvider(*tc.provider)
			}
			r := runAWS(t, fakekube.New(t), realTLS(t, a), "thumbprint", "--issuer", issuer)
			if r.code != tc.code {
				t.Errorf("exit %d, want %d; stderr %s", r.code, tc.code, r.stderr)
			}
			for _, c := range tc.contains {
				if !strings.Contains(r.stdout, c) {
					t.Errorf("output lacks %q:\n%s", c, r.stdout)
				}
			}
		})
	}
}

func TestThumbprintJSONAndSkipAWS(t *testing.T) {
	t.Parallel()
	issuer, thumb := privateIssuer(t)
	r := runAWS(t, fakekube.New(t), realTLS(t, fakeaws.New()), "thumbprint", "--issuer", issuer, "--skip-aws", "-o", "json")
	if r.code != ExitOK {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	var res ThumbprintResult
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
		t.Fatal(err)
	}
	if res.Kind != KindThumbprintReport || res.APIVersion != APIVersion || res.TLS.Thumbprint != thumb || res.Provider != nil || res.IssuerSource != "--issuer" {
		t.Errorf("unexpected result: %+v", res)
	}
	if len(res.TLS.Hosts) != 1 || res.TLS.Hosts[0].Verified {
		t.Errorf("hosts: %+v", res.TLS.Hosts)
	}
}

func TestThumbprintIssuerFromAPIServer(t *testing.T) {
	t.Parallel()
	issuer, _ := privateIssuer(t)
	kube := fakekube.New(t, testutil.Namespace("shop", nil))
	kube.SetIssuer(issuer)
	r := runAWS(t, kube, realTLS(t, fakeaws.New()), "thumbprint", "--skip-aws")
	if r.code != ExitOK || !strings.Contains(r.stdout, "(from the API server's /.well-known/openid-configuration)") {
		t.Errorf("exit %d, stdout %s, stderr %s", r.code, r.stdout, r.stderr)
	}
}

func TestThumbprintUnreachable(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	start := time.Now()
	r := runAWS(t, fakekube.New(t), realTLS(t, fakeaws.New()), "thumbprint", "--issuer", "https://"+addr, "--skip-aws", "--tls-timeout", "2s")
	if r.code != ExitError || !strings.Contains(r.stderr, "connection refused") || strings.Count(r.stderr, "\n") != 1 {
		t.Errorf("exit %d, stderr %q", r.code, r.stderr)
	}
	if time.Since(start) > 5*time.Second {
		t.Errorf("took %v: an unreachable host must fail fast", time.Since(start))
	}
}

func TestThumbprintUpdate(t *testing.T) {
	t.Parallel()
	issuer, thumb, arn, old, setup := staleProviderWorld(t)
	list := func(a *fakeaws.Server) []string {
		p, _ := a.Provider(arn)
		return p.Thumbprints
	}

	// --yes: the list is replaced, the new thumbprint first, the old kept.
	a := setup()
	r := runAWS(t, fakekube.New(t), realTLS(t, a), "thumbprint", "--issuer", issuer, "--update", "--yes")
	if r.code != ExitOK || !strings.Contains(r.stderr, "current list: "+old) || !strings.Contains(r.stderr, "new list:     "+thumb+" "+old) {
		t.Errorf("exit %d, stderr %s", r.code, r.stderr)
	}
	if got := list(a); !reflect.DeepEqual(got, []string{thumb, old}) {
		t.Errorf("list after update %v", got)
	}
	if a.Count("UpdateOpenIDConnectProviderThumbprint") != 1 {
		t.Error("update not called exactly once")
	}

	// No terminal and no --yes: refused, nothing changed.
	a = setup()
	r = runAWS(t, fakekube.New(t), realTLS(t, a), "thumbprint", "--issuer", issuer, "--update")
	if r.code != ExitError || !strings.Contains(r.stderr, "not a terminal; pass --yes") || !reflect.DeepEqual(list(a), []string{old}) {
		t.Errorf("without confirmation: exit %d, stderr %s, list %v", r.code, r.stderr, list(a))
	}

	// Answered "n": refused; answered "y": done.
	for answer, want := range map[bool][]string{false: {old}, true: {thumb, old}} {
		a = setup()
		d := realTLS(t, a)
		d.Confirm = func(string) (bool, error) { return answer, nil }
		r = runAWS(t, fakekube.New(t), d, "thumbprint", "--issuer", issuer, "--update")
		if got := list(a); !reflect.DeepEqual(got, want) {
			t.Errorf("answer %v: list %v, want %v (stderr %s)", answer, got, want, r.stderr)
		}
	}
}

// TestDiagnoseReadsTheIssuerChain: diagnose judges the thumbprint with the
// same code, so both commands give the same verdict.
func TestDiagnoseReadsTheIssuerChain(t *testing.T) {
	t.Parallel()
	issuer, thumb := privateIssuer(t)
	arn, host := providerFor(issuer)
	kube := fakekube.New(t, testutil.Namespace("shop", nil), testutil.Webhook(),
		testutil.NewSA("shop", "app").RoleARN(appRole).Build(),
		testutil.NewPod("shop", "web", "app").Mutate(appRole, "sts.amazonaws.com").Build())
	a := fakeaws.New()
	a.SetCaller(fakeaws.Caller{Account: "111122223333", ARN: "arn:aws:iam::111122223333:user/operator"})
	a.AddProvider(fakeaws.Provider{ARN: arn, URL: host, ClientIDs: []string{"sts.amazonaws.com"}, Thumbprints: []string{"0123456789abcdef0123456789abcdef01234567"}})
	a.AddRole(fakeaws.Role{ARN: appRole, TrustPolicy: trustFor(arn, host, "system:serviceaccount:shop:app"), AttachedPolicyARNs: []string{"p"}})
	r := runAWS(t, kube, realTLS(t, a), "diagnose", "--issuer", issuer, "-o", "json")
	if r.code != ExitFindings {
		t.Errorf("exit %d, want 2", r.code)
	}
	assertOutcomes(t, r, []outcome{{"IRSA-OIDC-003", diag.StatusFail, diag.SeverityError, []string{"verdict=MismatchBreaks", "served thumbprint=" + thumb, "update-open-id-connect-provider-thumbprint"}}})
}

// The --aws-timeout clock covers AWS calls only: a user who takes longer
// than it to answer still gets the update. Ctrl-C at the prompt (the
// context ends) aborts at once, exit 1, nothing changed.
func TestThumbprintUpdatePrompt(t *testing.T) {
	t.Parallel()
	issuer, thumb, arn, old, setup := staleProviderWorld(t)
	slow := setup()
	d := realTLS(t, slow)
	d.Confirm = func(string) (bool, error) { time.Sleep(700 * time.Millisecond); return true, nil }
	r := runAWS(t, fakekube.New(t), d, "thumbprint", "--issuer", issuer, "--update", "--aws-timeout", "300ms")
	if p, _ := slow.Provider(arn); r.code != ExitOK || !reflect.DeepEqual(p.Thumbprints, []string{thumb, old}) {
		t.Errorf("slow answer: exit %d, list %v, stderr %s", r.code, p.Thumbprints, r.stderr)
	}

	interrupted := setup()
	d = realTLS(t, interrupted)
	asked := make(chan struct{})
	d.Confirm = func(string) (bool, error) { close(asked); select {} }
	ctx, cancel := context.WithCancel(t.Context())
	go func() { <-asked; cancel() }()
	streams, _, _, errOut := genericiooptionsTestStreams()
	start := time.Now()
	code := execute(ctx, streams, []string{"--kubeconfig", fakekube.New(t).Kubeconfig(t, "shop"), "thumbprint", "--issuer", issuer, "--update"}, d)
	if code != ExitError || !strings.Contains(errOut.String(), "interrupted; nothing changed") || time.Since(start) > 5*time.Second {
		t.Errorf("Ctrl-C at the prompt: exit %d after %s, stderr %s", code, time.Since(start), errOut.String())
	}
	if n := interrupted.Count("UpdateOpenIDConnectProviderThumbprint"); n != 0 {
		t.Errorf("interrupted, yet %d update calls", n)
	}
}

// staleProviderWorld is a private issuer and, from setup, a fresh AWS fake
// whose provider for it lists only the stale thumbprint old.
func staleProviderWorld(t *testing.T) (issuer, thumb, arn, old string, setup func() *fakeaws.Server) {
	t.Helper()
	issuer, thumb = privateIssuer(t)
	arn, host := providerFor(issuer)
	old = "0123456789abcdef0123456789abcdef01234567"
	return issuer, thumb, arn, old, func() *fakeaws.Server {
		a := fakeaws.New()
		a.SetCaller(fakeaws.Caller{Account: "111122223333", ARN: "arn:aws:iam::111122223333:user/operator"})
		a.AddProvider(fakeaws.Provider{ARN: arn, URL: host, ClientIDs: []string{"sts.amazonaws.com"}, Thumbprints: []string{old}})
		return a
	}
}
