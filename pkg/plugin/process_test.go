package plugin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"testing"

	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/klog/v2"
)

// processArgsEnv carries the arguments of a plugin run in a child process.
const processArgsEnv = "KUBECTL_IRSA_TEST_PROCESS_ARGS"

// TestMain lets a test run the plugin as a process of its own, exactly as
// main does, when processArgsEnv is set: klog and client-go write to the
// process's real stderr, which only a child process shows whole.
func TestMain(m *testing.M) {
	if raw, ok := os.LookupEnv(processArgsEnv); ok {
		var args []string
		if err := json.Unmarshal([]byte(raw), &args); err != nil {
			os.Exit(99)
		}
		code := Execute(context.Background(), genericiooptions.IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}, args)
		klog.Flush()
		os.Exit(code)
	}
	os.Exit(m.Run())
}

// runProcess runs `kubectl-irsa ARGS` as a child process (this test binary,
// see TestMain) and returns its exit code, stdout and the whole of stderr.
func runProcess(t *testing.T, args ...string) result {
	t.Helper()
	raw, err := json.Marshal(args)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), processArgsEnv+"="+string(raw))
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err = cmd.Run()
	var exit *exec.ExitError
	code := 0
	switch {
	case errors.As(err, &exit):
		code = exit.ExitCode()
	case err != nil:
		t.Fatalf("running the plugin process: %v", err)
	}
	return result{code: code, stdout: out.String(), stderr: errb.String()}
}
