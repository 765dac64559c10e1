// Command kubectl-irsa is the kubectl plugin `kubectl irsa`.
package main

import (
	"context"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/klog/v2"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/plugin"
)

// gcPercent is the garbage collector's target unless GOGC is set: a run
// holds every pod in scope until it is judged
// (docs/design.md#what-a-run-keeps), and Go's default (100) lets the heap
// grow to twice what is held before it collects; 50 keeps the peak within
// half again, for more collector CPU.
const gcPercent = 50

func main() {
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(gcPercent)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := plugin.Execute(ctx, genericiooptions.IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}, os.Args[1:])
	stop()
	klog.Flush()
	os.Exit(code)
}
