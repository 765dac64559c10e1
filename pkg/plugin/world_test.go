package plugin

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/diag"
	"github.com/kubectl-irsa/kubectl-irsa/test/fakekube"
	"github.com/kubectl-irsa/kubectl-irsa/test/testutil"
)

var update = flag.Bool("update", false, "rewrite golden files")

// world is a small realistic cluster: a healthy deployment, a statefulset
// whose pod predates its annotation, a cronjob whose job pod gets static keys
// from a Secret, a pod without IRSA, and a second namespace.
func world() []runtime.Object {
	objs := []runtime.Object{
		testutil.Namespace("shop", map[string]string{"team": "shop"}),
		testutil.Namespace("billing", nil),
		testutil.Namespace("default", nil),
		testutil.Webhook(),
		testutil.NewSA("shop", "app").RoleARN(testutil.RoleARN).Build(),
		testutil.NewSA("shop", "legacy").RoleARN("arn:aws:iam::111122223333:role/team/legacy").AnnotationWrittenAt("eks.amazonaws.com/role-arn", testutil.T0.Add(3*time.Hour)).Build(),
		testutil.NewSA("shop", "plain").Build(),
		testutil.NewSA("shop", "default").Build(),
		testutil.NewSA("billing", "invoices").Annotate("eks.amazon.com/role-arn", "arn:aws:iam::444455556666:role/invoices").Build(),
		testutil.Secret("shop", "aws-creds", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"),
	}
	d, rs := testutil.Deployment("shop", "web", "app")
	objs = append(objs, d, rs,
		testutil.NewPod("shop", "web-1", "app").OwnedBy("ReplicaSet", "web-rs").Mutate(testutil.RoleARN, "sts.amazonaws.com").Build(),
		testutil.NewPod("shop", "web-2", "app").OwnedBy("ReplicaSet", "web-rs").Mutate(testutil.RoleARN, "sts.amazonaws.com").Build(),
		testutil.NewPod("shop", "web-old", "default").OwnedBy("ReplicaSet", "web-rs").Label("app", "web").Build(),
		testutil.StatefulSet("shop", "db", "legacy"),
		testutil.NewPod("shop", "db-0", "legacy").OwnedBy("StatefulSet", "db").Build(),
	)
	cj, job := testutil.CronJob("shop", "report", "app")
	objs = append(objs, cj, job,
		testutil.NewPod("shop", "report-1-x7k2p", "app").OwnedBy("Job", "report-1").EnvFromSecret("app", "aws-creds", "").Mutate(testutil.RoleARN, "sts.amazonaws.com").Build(),
		testutil.NewPod("shop", "stray", "plain").Build(),
		testutil.DaemonSet("shop", "agent", "plain"),
		testutil.NewPod("shop", "agent-node1", "plain").OwnedBy("DaemonSet", "agent").Build(),
		testutil.NewPod("billing", "invoices-0", "invoices").Build(),
	)
	return objs
}

type result struct {
	code           int
	stdout, stderr string
}

// run executes the plugin's command line against a fake API server and the
// healthy AWS side of the world.
func run(t *testing.T, srv *fakekube.Server, args ...string) result {
	t.Helper()
	return runAWS(t, srv, fakeAWS(t, awsWorld()), args...)
}

func genericiooptionsTestStreams() (genericiooptions.IOStreams, *bytes.Buffer, *bytes.Buffer, *bytes.Buffer) {
	return genericiooptions.NewTestIOStreams()
}

func decode(t *testing.T, r result) DiagnosisList {
	t.Helper()
	var l DiagnosisList
	if err := json.Unmarshal([]byte(r.stdout), &l); err != nil {
		t.Fatalf("stdout is not a DiagnosisList: %v\n%s\nstderr: %s", err, r.stdout, r.stderr)
	}
	return l
}

// failing lists "id object" of failing findings.
func failing(l DiagnosisList) []string {
	var out []string
	for _, d := range l.Items {
		for _, f := range d.Findings {
			if f.Status == diag.StatusFail {
				out = append(out, string(f.ID)+" "+f.Object.String())
			}
		}
	}
	return out
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	p := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(p, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("reading golden file (run go test ./pkg/plugin -update): %v", err)
	}
	if !bytes.Equal(want, []byte(got)) {
		t.Errorf("%s differs from the golden file (run go test ./pkg/plugin -update and review the diff):\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

// runArgs executes the command line with exactly these arguments.
func runArgs(t *testing.T, args ...string) result {
	t.Helper()
	streams, _, out, errOut := genericiooptions.NewTestIOStreams()
	code := Execute(context.Background(), streams, args)
	return result{code: code, stdout: out.String(), stderr: errOut.String()}
}
