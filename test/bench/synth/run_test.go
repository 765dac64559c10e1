//go:build unix

package synth_test

import (
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/kubectl-irsa/kubectl-irsa/test/bench/synth"
)

// TestPeakRSSIsTheCommands: a command started by this process reports at
// least this process's peak as its own (the vfork'd child execs from this
// address space); through the peakrss helper it reports its own few
// megabytes. The test holds 256 MB so that the two cannot be confused.
func TestPeakRSSIsTheCommands(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the inherited high-water mark is Linux's accounting")
	}
	helper := filepath.Join(t.TempDir(), "peakrss")
	build := exec.CommandContext(t.Context(), "go", "build", "-o", helper, "../peakrss")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build peakrss: %v\n%s", err, out)
	}
	held := make([]byte, 256<<20)
	for i := range held {
		held[i] = byte(i)
	}
	const mb = 1 << 20

	direct, err := synth.Run(t.Context(), nil, nil, "/bin/sh", "-c", "exit 3")
	if err != nil {
		t.Fatal(err)
	}
	if direct.MaxRSS < 256*mb || direct.ExitCode != 3 {
		t.Errorf("a direct child: MaxRSS %d MB, exit %d; want this process's 256 MB or more, exit 3", direct.MaxRSS/mb, direct.ExitCode)
	}

	r := synth.Runner{PeakRSS: helper, Dir: t.TempDir()}
	through, err := r.Run(t.Context(), nil, nil, "/bin/sh", "-c", "exit 3")
	if err != nil {
		t.Fatal(err)
	}
	if through.MaxRSS <= 0 || through.MaxRSS > 32*mb || through.ExitCode != 3 {
		t.Errorf("through peakrss: MaxRSS %d MB, exit %d; want the shell's own few MB, exit 3", through.MaxRSS/mb, through.ExitCode)
	}
	runtime.KeepAlive(held)
}
