package plugin

import (
	"reflect"
	"strings"
	"testing"

	"github.com/kubectl-irsa/kubectl-irsa/test/fakekube"
	"github.com/kubectl-irsa/kubectl-irsa/test/testutil"
)

// TestVerboseRunLogsNoBody: at -v=10 client-go logs every request and
// response body (k8s.io/client-go/rest/request.go, logBody), and a pod's spec
// can hold static keys. The plugin, run as a process, must keep the entries
// and blank the bodies, whatever read them (here resource.Builder's GET and
// the collector's LIST of the pod).
func TestVerboseRunLogsNoBody(t *testing.T) {
	t.Parallel()
	const secretKey = "unit-verbose-literal-secret-key"
	srv := fakekube.New(t, testutil.Namespace("shop", nil), testutil.NewSA("shop", "app").RoleARN(testutil.RoleARN).Build(),
		testutil.NewPod("shop", "web", "app").Mutate(testutil.RoleARN, "sts.amazonaws.com").
			Env("app", "AWS_ACCESS_KEY_ID", "AKIAUNITVERBOSEKEYID").Env("app", "AWS_SECRET_ACCESS_KEY", secretKey).Build())
	r := runProcess(t, "--kubeconfig", srv.Kubeconfig(t, "shop"), "--cache-dir", t.TempDir(), "diagnose", "pod/web", "--skip-aws", "-o", "json", "-v=10")
	if r.code != ExitFindings || !strings.Contains(r.stdout, `"IRSA-CRED-001"`) {
		t.Errorf("exit %d, want %d with IRSA-CRED-001; stdout:\n%s", r.code, ExitFindings, r.stdout)
	}
	if !strings.Contains(r.stderr, `"Response Body" body="`+omittedBody+`"`) || !strings.Contains(r.stderr, "/api/v1/namespaces/shop/pods") {
		t.Errorf("the -v=10 log shows no blanked response body of the pod reads:\n%.3000s", r.stderr)
	}
	for _, s := range []string{secretKey, "AKIAUNITVERBOSEKEYID"} {
		if strings.Contains(r.stderr, s) || strings.Contains(r.stdout, s) {
			t.Errorf("the output holds the pod's static key %.6q…", s)
		}
	}
}

// TestBodyFilter: only the body of client-go's body entries is blanked; an
// empty body stays empty and every other entry passes untouched.
func TestBodyFilter(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		msg      string
		kv, want []any
	}{
		{"Response Body", []any{"body", `{"data":{"k":"dmFsdWU="}}`}, []any{"body", omittedBody}},
		{"Request Body", []any{"logger", "x", "body", "00000000  6b 38 73 00"}, []any{"logger", "x", "body", omittedBody}},
		{"Request Body", []any{"body", ""}, []any{"body", ""}},
		{"Request", []any{"verb", "GET", "body", "not a body entry"}, []any{"verb", "GET", "body", "not a body entry"}},
	} {
		kv := append([]any(nil), c.kv...)
		msg, got := bodyFilter{}.FilterS(c.msg, kv)
		if msg != c.msg || !reflect.DeepEqual(got, c.want) || !reflect.DeepEqual(kv, c.kv) {
			t.Errorf("FilterS(%q, %q) = %q, %q; want %q, the input unchanged", c.msg, c.kv, msg, got, c.want)
		}
	}
}
