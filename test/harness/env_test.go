package harness_test

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/kubectl-irsa/kubectl-irsa/test/harness"
)

// lookup returns the value of k in env and whether it is set (the last
// occurrence wins, as for exec).
func lookup(env []string, k string) (string, bool) {
	v, ok := "", false
	for _, kv := range env {
		if key, val, _ := strings.Cut(kv, "="); key == k {
			v, ok = val, true
		}
	}
	return v, ok
}

// machine sets what a developer's shell may hold and the plugin must not see.
func machine(t *testing.T) {
	t.Setenv("AWS_PROFILE", "prod-admin")
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIAMACHINEKEY")
	t.Setenv("AWS_ROLE_ARN", "arn:aws:iam::999999999999:role/machine")
	t.Setenv("AWS_ENDPOINT_URL_STS", "https://sts.example.com")
	t.Setenv("KUBECONFIG", "machine-kubeconfig")
	t.Setenv("KUBECACHEDIR", "machine-cache")
	t.Setenv("PATH", "machine-bin")
	t.Setenv("HARNESS_TEST_KEEP", "kept")
}

func TestEnvironWithAWS(t *testing.T) {
	machine(t)
	env := harness.PluginEnv{PluginDir: "plugin", ToolsBin: "tools", Kubeconfig: "kc", CacheDir: "cache", AWSEndpoint: "http://127.0.0.1:1"}.Environ()
	sep := string(os.PathListSeparator)
	want := map[string]string{
		"PATH":                        "plugin" + sep + "tools" + sep + "machine-bin",
		"KUBECONFIG":                  "kc",
		"KUBECACHEDIR":                "cache",
		"AWS_ENDPOINT_URL":            "http://127.0.0.1:1",
		"AWS_ACCESS_KEY_ID":           harness.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY":       harness.SecretAccessKey,
		"AWS_REGION":                  harness.DefaultRegion,
		"AWS_EC2_METADATA_DISABLED":   "true",
		"AWS_CONFIG_FILE":             os.DevNull,
		"AWS_SHARED_CREDENTIALS_FILE": os.DevNull,
		"HARNESS_TEST_KEEP":           "kept",
	}
	for k, v := range want {
		if got, ok := lookup(env, k); !ok || got != v {
			t.Errorf("%s = %q (set %v), want %q", k, got, ok, v)
		}
	}
	for _, k := range []string{"AWS_PROFILE", "AWS_ROLE_ARN", "AWS_ENDPOINT_URL_STS"} {
		if v, ok := lookup(env, k); ok {
			t.Errorf("the machine's %s=%q reached the plugin", k, v)
		}
	}
	// Each variable once: a duplicate would leave the winner to exec's rules.
	var keys []string
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		if slices.Contains(keys, k) {
			t.Errorf("%s set twice", k)
		}
		keys = append(keys, k)
	}
}

func TestEnvironWithoutAWS(t *testing.T) {
	machine(t)
	env := harness.PluginEnv{PluginDir: "plugin", ToolsBin: "tools", Kubeconfig: "kc", CacheDir: "cache", Region: "eu-west-1"}.Environ()
	for _, k := range []string{"AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION", "AWS_PROFILE"} {
		if v, ok := lookup(env, k); ok {
			t.Errorf("without an AWS endpoint %s=%q is set", k, v)
		}
	}
	if v, _ := lookup(env, "AWS_EC2_METADATA_DISABLED"); v != "true" {
		t.Errorf("AWS_EC2_METADATA_DISABLED = %q: the SDK would ask the instance metadata service for credentials", v)
	}
}

func TestSetenv(t *testing.T) {
	machine(t)
	t.Run("set", func(t *testing.T) {
		harness.PluginEnv{PluginDir: "plugin", ToolsBin: "tools", Kubeconfig: "kc", CacheDir: "cache"}.Setenv(t)
		sep := string(os.PathListSeparator)
		if got := os.Getenv("PATH"); got != "plugin"+sep+"tools"+sep+"machine-bin" {
			t.Errorf("PATH = %q", got)
		}
		if v, ok := os.LookupEnv("AWS_PROFILE"); ok {
			t.Errorf("AWS_PROFILE=%q still set", v)
		}
		if got := os.Getenv("KUBECONFIG"); got != "kc" {
			t.Errorf("KUBECONFIG = %q", got)
		}
	})
	// t.Setenv's cleanup gives the machine's values back.
	if got := os.Getenv("AWS_PROFILE"); got != "prod-admin" {
		t.Errorf("after the subtest AWS_PROFILE = %q, want it restored", got)
	}
	if got := os.Getenv("PATH"); got != "machine-bin" {
		t.Errorf("after the subtest PATH = %q, want it restored", got)
	}
}
