//go:build unix

// Command peakrss runs a command and writes the peak resident set size of
// that command alone, in bytes, to the file named by -o. It exits with the
// command's exit code.
//
// The bench cannot read a child's peak from its own wait: Go starts a child
// with vfork, which shares the parent's address space until the exec, and
// Linux counts that address space's high-water mark into the child's
// ru_maxrss when the exec replaces it (kernel/exit.c, fs/exec.c
// setmax_mm_hiwater_rss). A child of the bench would report at least the
// bench's own peak. This small process is the parent instead: what it
// passes on is its own few megabytes.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"strconv"
	"syscall"
)

func main() {
	os.Exit(run())
}

func run() int {
	out := flag.String("o", "", "file to write the command's peak resident set size to, in bytes")
	flag.Parse()
	args := flag.Args()
	if *out == "" || len(args) == 0 {
		fmt.Fprintln(os.Stderr, "usage: peakrss -o FILE -- COMMAND [ARG...]")
		return 2
	}
	cmd := exec.Command(args[0], args[1:]...) //nolint:gosec // runs the command the bench asks for, by design
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(os.Stderr, "peakrss: %v\n", err)
		return 127
	}
	go func() {
		for s := range signals {
			_ = cmd.Process.Signal(s) // the bench's cancel reaches the command
		}
	}()
	err := cmd.Wait()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		fmt.Fprintf(os.Stderr, "peakrss: %v\n", err)
		return 127
	}
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		fmt.Fprintln(os.Stderr, "peakrss: no resource usage for the command")
		return 127
	}
	maxRSS := int64(ru.Maxrss) //nolint:unconvert // int32 on 32-bit Linux
	if runtime.GOOS != "darwin" {
		maxRSS *= 1024 // kilobytes everywhere but macOS
	}
	if err := os.WriteFile(*out, []byte(strconv.FormatInt(maxRSS, 10)), 0o600); err != nil {
		fmt.Fprintf(os.Stderr, "peakrss: %v\n", err)
		return 127
	}
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal()) // as a shell reports it
	}
	return cmd.ProcessState.ExitCode()
}
