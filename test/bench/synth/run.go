//go:build unix

package synth

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"syscall"
	"time"
)

// Result is one measured command.
type Result struct {
	Wall time.Duration
	// MaxRSS is the peak resident set of the process in bytes. kubectl
	// execs a plugin in place (same process), so for `kubectl irsa` it is
	// the larger of kubectl's and the plugin's peaks.
	MaxRSS   int64
	ExitCode int
	Stderr   string
}

// Run runs a command to completion and measures its wall time and peak
// memory. Exit codes are returned, not treated as errors. stdout goes to the
// given file, or to /dev/null when it is nil; either way the child writes to
// a file, never through a pipe the parent must drain.
func Run(ctx context.Context, env []string, stdout *os.File, name string, args ...string) (Result, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = env
	if stdout == nil {
		null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
		if err != nil {
			return Result{}, err
		}
		defer null.Close()
		stdout = null
	}
	var errb bytes.Buffer
	cmd.Stdout = stdout
	cmd.Stderr = &errb
	start := time.Now()
	err := cmd.Run()
	r := Result{Wall: time.Since(start), Stderr: errb.String()}
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit):
		r.ExitCode = exit.ExitCode()
	default:
		return r, fmt.Errorf("run %s %s: %w", name, strings.Join(args, " "), err)
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		r.MaxRSS = ru.Maxrss
		if runtime.GOOS != "darwin" {
			r.MaxRSS *= 1024 // kilobytes everywhere but macOS
		}
	}
	return r, nil
}
