package plugin

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/diag"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/probe"
	"github.com/kubectl-irsa/kubectl-irsa/test/fakeaws"
	"github.com/kubectl-irsa/kubectl-irsa/test/fakekube"
	"github.com/kubectl-irsa/kubectl-irsa/test/testutil"
)

// probeWorld is a cluster whose API server signs tokens with a key that its
// HTTPS issuer publishes, an AWS side that trusts shop/app, and an STS that
// answers with stsBody.
func probeWorld(t *testing.T, stsStatus int, stsBody string) (*fakekube.Server, Deps) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	var iss *httptest.Server
	iss = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/.well-known/openid-configuration":
			_ = json.NewEncoder(w).Encode(map[string]string{"issuer": iss.URL, "jwks_uri": iss.URL + "/openid/v1/jwks"})
		case "/openid/v1/jwks":
			_ = json.NewEncoder(w).Encode(map[string]any{"keys": []map[string]string{{"kty": "RSA", "kid": "k1", "alg": "RS256",
				"n": base64.RawURLEncoding.EncodeToString(key.N.Bytes()), "e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(key.E)).Bytes())}}})
		}
	}))
	// The probe's first, publicly-trusting attempt fails by design here.
	iss.Config.ErrorLog = log.New(io.Discard, "", 0)
	iss.StartTLS()
	t.Cleanup(iss.Close)
	arn, host := providerFor(iss.URL)
	kube := fakekube.New(t, testutil.Namespace("shop", nil), testutil.Webhook(),
		testutil.NewSA("shop", "app").RoleARN(appRole).Build(),
		testutil.NewPod("shop", "web", "app").Mutate(appRole, "sts.amazonaws.com").Build())
	kube.SetIssuer(iss.URL)
	kube.SetTokenSigner(key, "k1")
	a := fakeaws.New()
	a.SetCaller(fakeaws.Caller{Account: "111122223333", ARN: "arn:aws:iam::111122223333:user/operator"})
	a.AddProvider(fakeaws.Provider{ARN: arn, URL: host, ClientIDs: []string{"sts.amazonaws.com"}})
	a.AddRole(fakeaws.Role{ARN: appRole, TrustPolicy: trustFor(arn, host, "system:serviceaccount:shop:app"), AttachedPolicyARNs: []string{"p"}})
	deps := fakeAWS(t, a)
	deps.Inspect = nil // a private-CA issuer on loopback: read it for real
	stsSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(stsStatus)
		fmt.Fprint(w, stsBody)
	}))
	t.Cleanup(stsSrv.Close)
	deps.NewProbeSTS = func(context.Context, string) (probe.STSAPI, error) {
		return sts.New(sts.Options{Region: "us-west-2", BaseEndpoint: aws.String(stsSrv.URL), Credentials: aws.AnonymousCredentials{}}), nil
	}
	return kube, deps
}

const stsOK = `<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleWithWebIdentityResult>` +
	`<AssumedRoleUser><Arn>arn:aws:sts::111122223333:assumed-role/app/kubectl-irsa-probe-1</Arn><AssumedRoleId>AROA:x</AssumedRoleId></AssumedRoleUser>` +
	`<Credentials><AccessKeyId>ASIAPROBEEXAMPLE1234</AccessKeyId><SecretAccessKey>probe-secret-must-not-leak</SecretAccessKey><SessionToken>probe-session-token</SessionToken><Expiration>2030-01-01T00:00:00Z</Expiration></Credentials>` +
	`</AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>`

const stsDenied = `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>AccessDenied</Code>` +
	`<Message>Not authorized to perform sts:AssumeRoleWithWebIdentity</Message></Error><RequestId>r</RequestId></ErrorResponse>`

func TestProbe(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		status int
		body   string
		forbid bool
		code   int
		want   []outcome
	}{
		{"STS accepts", 200, stsOK, false, ExitFindings /* the private CA's thumbprint is not in the provider */, []outcome{
			{"IRSA-PROBE-001", diag.StatusPass, "", []string{"sub=system:serviceaccount:shop:app", "aud=sts.amazonaws.com"}},
			{"IRSA-PROBE-002", diag.StatusPass, "", []string{"key id=ok: kid k1", "chain not publicly trusted"}},
			{"IRSA-PROBE-003", diag.StatusPass, "", []string{"assumed role=arn:aws:sts::111122223333:assumed-role/app/kubectl-irsa-probe-1"}}}},
		{"STS denies what the offline evaluation allows", 403, stsDenied, false, ExitFindings, []outcome{
			{"IRSA-PROBE-003", diag.StatusFail, diag.SeverityError, []string{"STS refused the token: AccessDenied", "the offline evaluation allows it", "likely cause="}}}},
		{"no RBAC for serviceaccounts/token", 200, stsOK, true, ExitFindings, []outcome{
			{"IRSA-PROBE-001", diag.StatusUnknown, "", []string{"resources [serviceaccounts/token], verbs [create]"}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			kube, deps := probeWorld(t, tc.status, tc.body)
			if tc.forbid {
				kube.Forbid("create", "serviceaccounts/token", "shop")
			}
			r := runAWS(t, kube, deps, "diagnose", "pod/web", "--probe", "-o", "json", "--show-passed")
			if r.code != tc.code {
				t.Errorf("exit %d, want %d: %v", r.code, tc.code, failing(decode(t, r)))
			}
			assertOutcomes(t, r, tc.want)
			for _, tok := range kube.Minted() {
				if strings.Contains(r.stdout+r.stderr, tok) || strings.Contains(r.stdout, strings.Split(tok, ".")[2]) {
					t.Fatal("the minted token reached the output")
				}
			}
			for _, secret := range []string{"ASIAPROBEEXAMPLE1234", "probe-secret-must-not-leak", "probe-session-token"} {
				if strings.Contains(r.stdout+r.stderr, secret) {
					t.Fatalf("STS credentials reached the output: %s", secret)
				}
			}
			if !tc.forbid && len(kube.Minted()) != 1 {
				t.Errorf("minted %d tokens, want 1", len(kube.Minted()))
			}
		})
	}
	if r := runAWS(t, fakekube.New(t), Deps{}, "diagnose", "--probe", "--skip-aws"); r.code != ExitError || !strings.Contains(r.stderr, "--probe calls STS") {
		t.Errorf("--probe --skip-aws: exit %d %s", r.code, r.stderr)
	}
}
