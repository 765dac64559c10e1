// Package harness is what the end-to-end suite (test/e2e), the benchmark
// (test/bench) and the demo's cluster (test/awsemu) share around a control
// plane: the environment kubectl and the plugin run with, the plugin's build,
// and the pod identity webhook emulator in the API server's admission chain.
// Each of them used to spell these out; one copy keeps them from drifting
// apart (a variable one forgets to clear lets the machine's own AWS
// configuration into a run).
package harness

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// DefaultRegion is AWS_REGION when PluginEnv.Region is empty: the region
// the test webhook injects and the AWS emulator's clusters live in.
const DefaultRegion = "us-west-2"

// Dummy static keys the plugin signs its AWS requests with: the emulator
// checks that a request is signed, never the signature.
const (
	AccessKeyID     = "AKIDEXAMPLE"
	SecretAccessKey = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
)

// PluginEnv is the environment `kubectl irsa` runs with against a test
// cluster. kubectl execs the plugin with its own environment, so this is
// also the plugin's.
type PluginEnv struct {
	// PluginDir holds kubectl-irsa (see BuildPlugin); it comes first on
	// PATH, so kubectl's plugin lookup finds this build and no other.
	PluginDir string
	// ToolsBin holds the control plane's kubectl; it comes second on PATH,
	// so the machine's own kubectl (if any) plays no part.
	ToolsBin string
	// Kubeconfig is KUBECONFIG.
	Kubeconfig string
	// CacheDir is KUBECACHEDIR, a discovery cache of the run's own.
	CacheDir string
	// AWSEndpoint is AWS_ENDPOINT_URL, the AWS emulator's URL, reached with
	// the dummy keys. Empty means no AWS at all: no endpoint and no keys, so
	// the SDK finds no credentials and sends nothing anywhere.
	AWSEndpoint string
	// Region is AWS_REGION (default DefaultRegion); only set with AWSEndpoint.
	Region string
}

// isolated reports whether this process's variable k is left out of the
// plugin's environment: every AWS_ variable (keys, profiles, endpoints, role
// and token files) and what Vars sets in their place.
func isolated(k string) bool {
	return strings.HasPrefix(k, "AWS_") || k == "KUBECONFIG" || k == "PATH" || k == "KUBECACHEDIR"
}

// Vars are the variables that point kubectl and the plugin at the test
// cluster and the AWS emulator, and keep the machine's AWS configuration
// (shared files, the instance metadata service) out of the run.
func (e PluginEnv) Vars() []string {
	sep := string(os.PathListSeparator)
	vars := []string{
		"PATH=" + e.PluginDir + sep + e.ToolsBin + sep + os.Getenv("PATH"),
		"KUBECONFIG=" + e.Kubeconfig,
		"KUBECACHEDIR=" + e.CacheDir,
	}
	if e.AWSEndpoint != "" {
		region := e.Region
		if region == "" {
			region = DefaultRegion
		}
		vars = append(vars,
			"AWS_ENDPOINT_URL="+e.AWSEndpoint,
			"AWS_ACCESS_KEY_ID="+AccessKeyID,
			"AWS_SECRET_ACCESS_KEY="+SecretAccessKey,
			"AWS_REGION="+region,
		)
	}
	return append(vars,
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_CONFIG_FILE="+os.DevNull,
		"AWS_SHARED_CREDENTIALS_FILE="+os.DevNull,
	)
}

// Environ is a child process's environment: this process's, minus its AWS
// and Kubernetes configuration, plus Vars.
func (e PluginEnv) Environ() []string {
	var env []string
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); !isolated(k) {
			env = append(env, kv)
		}
	}
	return append(env, e.Vars()...)
}

// Setenv makes this process's environment Environ for the rest of tb, for
// children started by code that passes on os.Environ (such as
// controlplane.Kubectl); tb.Setenv restores it afterwards, and, like it,
// Setenv cannot be used in parallel tests.
func (e PluginEnv) Setenv(tb testing.TB) {
	tb.Helper()
	vars := e.Vars() // before PATH is cleared: it extends this process's
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); isolated(k) {
			tb.Setenv(k, "") // restored at cleanup
			if err := os.Unsetenv(k); err != nil {
				tb.Fatalf("unset %s: %v", k, err)
			}
		}
	}
	for _, kv := range vars {
		k, v, _ := strings.Cut(kv, "=")
		tb.Setenv(k, v)
	}
}

// BuildPlugin builds ./cmd/kubectl-irsa of the module at root into
// dir/kubectl-irsa, the name kubectl's plugin lookup wants.
func BuildPlugin(ctx context.Context, root, dir string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-o", filepath.Join(dir, "kubectl-irsa"), "./cmd/kubectl-irsa") //nolint:gosec // the test harness builds the module it runs in, into its own temp dir
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build ./cmd/kubectl-irsa: %w\n%s", err, out)
	}
	return nil
}
