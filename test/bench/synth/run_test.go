//go:build unix

package synth_test

import (
	"os/exec"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"

	"github.com/kubectl-irsa/kubectl-irsa/test/bench/synth"
)

// TestPeakRSSIsTheCommands: a command started by this process reports at
// least this process's peak as its own (the vfork'd child execs from this
// address space), so Run measures memory only through the peakrss helper,
// where the command reports its own few megabytes. The test holds 256 MB so
// that the two cannot be confused.
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

	// Why the helper: a child of this process reports this process's peak.
	direct := exec.CommandContext(t.Context(), "/bin/sh", "-c", "exit 3")
	if err := direct.Run(); direct.ProcessState == nil {
		t.Fatal(err)
	}
	if ru, ok := direct.ProcessState.SysUsage().(*syscall.Rusage); !ok || ru.Maxrss*1024 < 256*mb {
		t.Errorf("a direct child's ru_maxrss is below this process's 256 MB: the helper may no longer be needed")
	}
	if plain, err := synth.Run(t.Context(), nil, nil, "/bin/sh", "-c", "exit 3"); err != nil || plain.MaxRSS != 0 || plain.ExitCode != 3 {
		t.Errorf("without the helper: MaxRSS %d, exit %d, %v; want 0 (not measured), exit 3", plain.MaxRSS, plain.ExitCode, err)
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
