package pipeline_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/resource"
	"k8s.io/client-go/kubernetes"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/cloud"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/diag"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/eksauth"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/facts"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/kube"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/pipeline"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/probe"
	"github.com/kubectl-irsa/kubectl-irsa/pkg/thumbprint"
	"github.com/kubectl-irsa/kubectl-irsa/test/fakeaws"
	"github.com/kubectl-irsa/kubectl-irsa/test/fakekube"
	"github.com/kubectl-irsa/kubectl-irsa/test/testutil"
)

const (
	account  = "111122223333"
	host     = "oidc.eks.us-west-2.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"
	issuer   = "https://" + host
	provider = "arn:aws:iam::" + account + ":oidc-provider/" + host
	// secretValue is a static key written into a pod spec.
	secretValue = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
)

func trust(sub string) string {
	return fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":%q},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{%q:%q,%q:"sts.amazonaws.com"}}}]}`,
		provider, host+":sub", sub, host+":aud")
}

// live is a healthy subject (shop/app), one whose role does not exist
// (shop/gone) and one with static keys in its pod spec (shop/keys), read
// through the live sources from a fake API server and an AWS emulator.
func live(t *testing.T) (pipeline.Request, pipeline.Sources) {
	t.Helper()
	kubeSrv := fakekube.New(t,
		testutil.Namespace("shop", nil), testutil.Webhook(),
		testutil.NewSA("shop", "app").RoleARN(testutil.RoleARN).Build(),
		testutil.NewSA("shop", "gone").RoleARN("arn:aws:iam::"+account+":role/gone").Build(),
		testutil.NewSA("shop", "keys").RoleARN(testutil.RoleARN).Build(),
		testutil.NewPod("shop", "web", "app").Mutate(testutil.RoleARN, "sts.amazonaws.com").Build(),
		testutil.NewPod("shop", "old", "gone").Mutate("arn:aws:iam::"+account+":role/gone", "sts.amazonaws.com").Build(),
		testutil.NewPod("shop", "batch", "keys").Mutate(testutil.RoleARN, "sts.amazonaws.com").
			Env("app", "AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE").Env("app", "AWS_SECRET_ACCESS_KEY", secretValue).Build(),
	)
	kubeconfig := kubeSrv.Kubeconfig(t, "shop")
	flags := genericclioptions.NewConfigFlags(true)
	flags.KubeConfig = &kubeconfig
	cacheDir := t.TempDir()
	flags.CacheDir = &cacheDir
	client, err := kubernetes.NewForConfig(kubeSrv.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	aws := fakeaws.New()
	aws.SetCaller(fakeaws.Caller{Account: account, ARN: "arn:aws:iam::" + account + ":user/operator"})
	aws.AddProvider(fakeaws.Provider{ARN: provider, URL: host, ClientIDs: []string{"sts.amazonaws.com"}})
	aws.AddRole(fakeaws.Role{ARN: testutil.RoleARN, TrustPolicy: trust("system:serviceaccount:shop:app"), InlinePolicyNames: []string{"read"}})
	cfg := fakeaws.Start(t, aws)
	now := testutil.T0.Add(time.Hour)
	req := pipeline.Request{Scope: kube.Scope{Namespace: "shop"}, AWS: pipeline.AWSOptions{Issuer: issuer, Timeout: time.Minute}}
	src := pipeline.Sources{
		Kube: pipeline.LiveKube{Client: client, NewBuilder: func() *resource.Builder { return resource.NewBuilder(flags) }, Now: func() time.Time { return now }},
		AWS: pipeline.LiveAWS{Options: req.AWS, NewCollector: func(context.Context, []string) (*cloud.Collector, error) {
			return cloud.NewCollector(cfg, cloud.CollectorOptions{}), nil
		}},
		TLS: liveTLS(t),
	}
	return req, src
}

// liveTLS stands in for reading the issuer's chains: a publicly trusted one.
func liveTLS(*testing.T) pipeline.TLSInspector {
	return pipeline.InspectFunc(func(_ context.Context, iss string) (thumbprint.Report, error) {
		h := thumbprint.HostChain{Role: thumbprint.RoleJWKS, Host: host, Port: "443", Thumbprint: strings.Repeat("ab", 20), Verified: true,
			Certs: []thumbprint.CertInfo{{Subject: "CN=oidc", SHA1: strings.Repeat("ab", 20)}}}
		return thumbprint.Report{Issuer: iss, Hosts: []thumbprint.HostChain{h}, Thumbprint: h.Thumbprint}, nil
	})
}

// verdicts is "namespace/sa ID status" for every finding, in output order.
func verdicts(ds []diag.Diagnosis) []string {
	var out []string
	for _, d := range ds {
		for _, f := range d.Findings {
			out = append(out, fmt.Sprintf("%s/%s %s %s", d.Subject.Namespace, d.Subject.Name, f.ID, f.Status))
		}
	}
	return out
}

func has(t *testing.T, vs []string, want string) {
	t.Helper()
	for _, v := range vs {
		if v == want {
			return
		}
	}
	t.Errorf("no %q among\n%s", want, strings.Join(vs, "\n"))
}

// TestDiagnoseWithoutCobra runs a whole diagnosis through the pipeline:
// real client-go and resource.Builder against an API server, the real SDK
// against an AWS emulator, then the judge.
func TestDiagnoseWithoutCobra(t *testing.T) {
	req, src := live(t)
	res, err := pipeline.Diagnose(t.Context(), req, src)
	if err != nil {
		t.Fatalf("Diagnose: %v", err)
	}
	if len(res.Diagnoses) != 3 || res.Snapshot.AWS == nil || res.Snapshot.AWS.TLS == nil {
		t.Fatalf("got %d diagnoses, AWS %+v", len(res.Diagnoses), res.Snapshot.AWS)
	}
	vs := verdicts(res.Diagnoses)
	has(t, vs, "shop/app IRSA-TRUST-001 pass")
	has(t, vs, "shop/app IRSA-OIDC-003 pass")
	has(t, vs, "shop/gone IRSA-ROLE-001 fail")
	has(t, vs, "shop/keys IRSA-CRED-001 fail")
}

// TestSnapshotReplay saves the facts, reads them back and judges them with
// the snapshot's sources: the same diagnoses, message for message.
func TestSnapshotReplay(t *testing.T) {
	req, src := live(t)
	res, err := pipeline.Diagnose(t.Context(), req, src)
	if err != nil {
		t.Fatal(err)
	}
	buf := saved(t, req, res, false)
	file := buf.String()
	for _, secret := range []string{secretValue, "AKIAIOSFODNN7EXAMPLE", "managedFields\": [{\"manager\": \"kubectl-client-side-apply\""} {
		if strings.Contains(file, secret) {
			t.Errorf("the snapshot holds %q", secret)
		}
	}
	if !strings.Contains(file, `"name": "AWS_SECRET_ACCESS_KEY"`) || !strings.Contains(file, pipeline.RedactedValue) {
		t.Errorf("the snapshot lost the static key's name, or did not mark its value redacted")
	}
	replayed := replay(t, buf)
	if !reflect.DeepEqual(replayed.Diagnoses, res.Diagnoses) {
		t.Errorf("replay differs:\nlive   %v\nreplay %v", verdicts(res.Diagnoses), verdicts(replayed.Diagnoses))
	}
	// Judging the same snapshot twice gives the same answer: no run state
	// is left in it.
	if again := diag.Run(replayed.Snapshot); !reflect.DeepEqual(again, replayed.Diagnoses) {
		t.Error("a second diag.Run of the same snapshot differs")
	}
}

// TestRedactKeepsVerdicts replays a redacted snapshot: no account id,
// namespace or role name is left, and every subject keeps its verdicts.
func TestRedactKeepsVerdicts(t *testing.T) {
	req, src := live(t)
	res, err := pipeline.Diagnose(t.Context(), req, src)
	if err != nil {
		t.Fatal(err)
	}
	buf := saved(t, req, res, true)
	for _, name := range []string{account, `"shop"`, "system:serviceaccount:shop:", "role/app", "role/gone"} {
		if strings.Contains(buf.String(), name) {
			t.Errorf("the redacted snapshot still holds %q", name)
		}
	}
	replayed := replay(t, buf)
	if got, want := verdictIDs(replayed.Diagnoses), verdictIDs(res.Diagnoses); !reflect.DeepEqual(got, want) {
		t.Errorf("redacted verdicts differ:\nlive     %v\nredacted %v", want, got)
	}
	has(t, verdicts(replayed.Diagnoses), "ns-1/sa-1 IRSA-TRUST-001 pass")
}

// saved is the run's snapshot file, as --save-snapshot [--redact] writes it.
func saved(t *testing.T, req pipeline.Request, res pipeline.Result, redact bool) *bytes.Buffer {
	t.Helper()
	doc, err := pipeline.NewSnapshot(req, res.Snapshot, "test")
	if err != nil {
		t.Fatal(err)
	}
	if redact {
		if doc, err = pipeline.Redact(doc); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if err := doc.Write(&buf); err != nil {
		t.Fatal(err)
	}
	return &buf
}

// replay judges a snapshot file the way --from-snapshot does.
func replay(t *testing.T, file *bytes.Buffer) pipeline.Result {
	t.Helper()
	loaded, err := pipeline.LoadSnapshot(file)
	if err != nil {
		t.Fatal(err)
	}
	res, err := pipeline.Diagnose(t.Context(), loaded.Request, loaded.Sources())
	if err != nil {
		t.Fatalf("replay: %v", err)
	}
	return res
}

func TestLoadSnapshotRejectsOtherDocuments(t *testing.T) {
	for _, doc := range []string{`{"apiVersion":"v1","kind":"Pod"}`, `not json`, `{"apiVersion":"irsa.kubectl.io/v1alpha1","kind":"Snapshot"}`} {
		if _, err := pipeline.LoadSnapshot(strings.NewReader(doc)); err == nil {
			t.Errorf("LoadSnapshot(%s) accepted it", doc)
		}
	}
}

// A chain that cannot be read fails the thumbprint command with the
// inspector's error in the chain.
func TestThumbprintWrapsTheTLSError(t *testing.T) {
	unreachable := errors.New("dial tcp 127.0.0.1:9: connection refused")
	_, err := pipeline.Thumbprint(t.Context(), pipeline.ThumbprintRequest{AWS: pipeline.AWSOptions{Skip: true, Issuer: issuer}},
		pipeline.ThumbprintSources{TLS: pipeline.InspectFunc(func(context.Context, string) (thumbprint.Report, error) {
			return thumbprint.Report{Issuer: issuer}, unreachable
		})})
	if !errors.Is(err, unreachable) || !strings.Contains(err.Error(), "reading the TLS chain of "+issuer) {
		t.Fatalf("Thumbprint error %v: want the inspector's error wrapped", err)
	}
}

// The cluster's account comes from the kubeconfig context's cluster ARN
// when eks:DescribeCluster is not asked; IRSA-OIDC-001 compares it with the
// role's.
func TestClusterAccountFromTheContext(t *testing.T) {
	req, src := live(t)
	req.Hint = kube.ClusterHint{Account: "444455556666"}
	res, err := pipeline.Diagnose(t.Context(), req, src)
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Snapshot.AWS.ClusterAccount; got != "444455556666" {
		t.Errorf("ClusterAccount = %q, want the context's", got)
	}
}

// eksAuthStub answers AssumeRoleForPodIdentity with err, or with a session
// of role.
type eksAuthStub struct {
	role  string
	err   error
	calls *int
}

func (e eksAuthStub) AssumeRoleForPodIdentity(context.Context, string, string) (probe.PodIdentityAnswer, error) {
	*e.calls++
	if e.err != nil {
		return probe.PodIdentityAnswer{}, e.err
	}
	return probe.PodIdentityAnswer{AssumedRoleARN: "arn:aws:sts::" + account + ":assumed-role/" + e.role + "/eks-prod-web-1"}, nil
}

type mintStub struct{}

func (mintStub) MintToken(context.Context, string, string, string, int64, *probe.BoundPod) (string, error) {
	return "e30.e30.c2ln", nil // header {} . claims {} . "sig": parses, carries nothing
}

// TestPodIdentityPipeline: an associated service account without any
// annotation is a subject; its association is described, its role fetched
// once, the agent read, the probe run once; and a snapshot replays it all,
// probe included.
func TestPodIdentityPipeline(t *testing.T) {
	kubeSrv := fakekube.New(t, testutil.Namespace("shop", nil), testutil.Webhook(),
		testutil.NewSA("shop", "api").Build(),
		testutil.NewPod("shop", "web-1", "api").PodIdentityByHand("app", facts.PodIdentityAudience).Build())
	client, err := kubernetes.NewForConfig(kubeSrv.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	aws := fakeaws.New()
	aws.SetCaller(fakeaws.Caller{Account: account, ARN: "arn:aws:iam::" + account + ":user/operator"})
	aws.AddCluster(fakeaws.Cluster{Name: "prod", ARN: "arn:aws:eks:us-west-2:" + account + ":cluster/prod", Version: "1.31", PlatformVersion: "eks.4", Issuer: issuer})
	roleARN := "arn:aws:iam::" + account + ":role/api"
	aws.AddRole(fakeaws.Role{ARN: roleARN, InlinePolicyNames: []string{"read"},
		TrustPolicy: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"pods.eks.amazonaws.com"},"Action":["sts:AssumeRole","sts:TagSession"]}]}`})
	aws.AddAssociation(fakeaws.Association{ClusterName: "prod", Namespace: "shop", ServiceAccount: "api", RoleARN: roleARN})
	cfg := fakeaws.Start(t, aws)
	calls := 0
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"accepted", nil, "shop/api PODID-PROBE-001 pass"},
		{"denied", &eksauth.APIError{Code: "AccessDeniedException", Message: "User: x is not authorized to perform: eks-auth:AssumeRoleForPodIdentity"}, "shop/api PODID-PROBE-001 unknown"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			aws.ResetCalls()
			calls = 0
			req := pipeline.Request{Scope: kube.Scope{Namespace: "shop"}, Probe: true, AWS: pipeline.AWSOptions{Cluster: "prod", Timeout: time.Minute}}
			src := pipeline.Sources{
				Kube: pipeline.LiveKube{Client: client, Now: func() time.Time { return testutil.T0.Add(time.Hour) }},
				AWS: pipeline.LiveAWS{Options: req.AWS, NewCollector: func(context.Context, []string) (*cloud.Collector, error) {
					return cloud.NewCollector(cfg, cloud.CollectorOptions{}), nil
				}},
				Prober: pipeline.LiveProber{Minter: mintStub{}, NewEKSAuth: func(context.Context, string) (probe.PodIdentityAPI, error) {
					return eksAuthStub{role: "api", err: tc.err, calls: &calls}, nil
				}},
			}
			res, err := pipeline.Diagnose(t.Context(), req, src)
			if err != nil {
				t.Fatal(err)
			}
			vs := verdicts(res.Diagnoses)
			has(t, vs, tc.want)
			has(t, vs, "shop/api PODID-TRUST-001 pass")
			if calls != 1 || aws.Count("ListPodIdentityAssociations") != 1 || aws.Count("DescribePodIdentityAssociation") != 1 || aws.Count("GetRole") != 1 {
				t.Errorf("calls: EKS Auth %d, list %d, describe %d, GetRole %d; want one each", calls,
					aws.Count("ListPodIdentityAssociations"), aws.Count("DescribePodIdentityAssociation"), aws.Count("GetRole"))
			}
			if res.Snapshot.PodIdentityAgent == nil || kubeSrv.Count("get", "daemonsets") == 0 {
				t.Errorf("the agent was not read: %+v", res.Snapshot.PodIdentityAgent)
			}
			buf := saved(t, req, res, false)
			if !strings.Contains(buf.String(), "podIdentityProbes") {
				t.Errorf("the snapshot holds no Pod Identity probe")
			}
			replayed := replay(t, buf)
			if !reflect.DeepEqual(replayed.Diagnoses, res.Diagnoses) {
				t.Errorf("replay differs:\nlive   %v\nreplay %v", vs, verdicts(replayed.Diagnoses))
			}
			redacted := saved(t, req, res, true)
			for _, name := range []string{account, `"shop"`, "role/api", "cluster/prod", `"prod"`} {
				if strings.Contains(redacted.String(), name) {
					t.Errorf("the redacted snapshot still holds %q", name)
				}
			}
			if got, want := verdictIDs(replay(t, redacted).Diagnoses), verdictIDs(res.Diagnoses); !reflect.DeepEqual(got, want) {
				t.Errorf("redacted verdicts differ:\nlive     %v\nredacted %v", want, got)
			}
		})
	}
}

// verdictIDs is "ID status severity" for every finding: what redaction
// must not change.
func verdictIDs(ds []diag.Diagnosis) []string {
	var out []string
	for _, d := range ds {
		for _, f := range d.Findings {
			out = append(out, string(f.ID)+" "+string(f.Status)+" "+string(f.Severity))
		}
	}
	return out
}
