//go:build unix

package synth

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Result is one measured command.
type Result struct {
	Wall time.Duration
	// MaxRSS is the peak resident set of the process in bytes, measured
	// only through a Runner's PeakRSS helper (0 without it). kubectl execs a
	// plugin in place (same process), so for `kubectl irsa` it is the larger
	// of kubectl's and the plugin's peaks.
	MaxRSS   int64
	ExitCode int
	Stderr   string
}

// Runner runs measured commands.
type Runner struct {
	// PeakRSS is the peakrss helper (test/bench/peakrss) that starts each
	// command and measures its peak memory. Empty: the command is this
	// process's child and its memory is not measured, as its ru_maxrss would
	// include this process's own peak.
	PeakRSS string
	// Dir holds the helper's answer while a command runs.
	Dir string
}

// Run runs a command with the zero Runner: wall time and exit code, no
// memory.
func Run(ctx context.Context, env []string, stdout *os.File, name string, args ...string) (Result, error) {
	return Runner{}.Run(ctx, env, stdout, name, args...)
}

// Run runs a command to completion and measures its wall time and peak
// memory. Exit codes are returned, not treated as errors. stdout goes to the
// given file, or to /dev/null when it is nil; either way the child writes to
// a file, never through a pipe the parent must drain.
func (r Runner) Run(ctx context.Context, env []string, stdout *os.File, name string, args ...string) (Result, error) {
	command := strings.Join(append([]string{name}, args...), " ")
	var rssFile string
	if r.PeakRSS != "" {
		rssFile = filepath.Join(r.Dir, "peakrss")
		if err := os.Remove(rssFile); err != nil && !errors.Is(err, os.ErrNotExist) {
			return Result{}, err
		}
		args = append([]string{"-o", rssFile, "--", name}, args...)
		name = r.PeakRSS
	}
	cmd := exec.CommandContext(ctx, name, args...)
	// A cancelled run interrupts the command (through the helper, which
	// passes the signal on) instead of killing the helper alone.
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 10 * time.Second
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
	res := Result{Wall: time.Since(start), Stderr: errb.String()}
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit):
		res.ExitCode = exit.ExitCode()
	default:
		return res, fmt.Errorf("run %s: %w", command, err)
	}
	if rssFile == "" {
		return res, nil
	}
	b, err := os.ReadFile(rssFile) // written only once the command ended
	if err != nil {
		return res, fmt.Errorf("the peak memory of %s: %w\n%s", command, err, res.Stderr)
	}
	if res.MaxRSS, err = strconv.ParseInt(string(b), 10, 64); err != nil {
		return res, fmt.Errorf("the peak memory of %s: %w", command, err)
	}
	return res, nil
}
