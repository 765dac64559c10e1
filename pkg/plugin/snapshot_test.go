package plugin

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kubectl-irsa/kubectl-irsa/test/fakekube"
)

// TestSnapshotFlags saves the world's diagnosis, replays it through the
// command line with a kubeconfig that points nowhere, and checks the flags'
// bad uses.
func TestSnapshotFlags(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "snap.json")
	live := run(t, newWorld(t), "diagnose", "-A", "-o", "json", "--save-snapshot", file)
	if live.code != ExitFindings || !strings.Contains(live.stderr, "Snapshot written to "+file) || strings.Contains(live.stderr, snapshotHint) {
		t.Fatalf("live run: exit %d, stderr %q", live.code, live.stderr)
	}
	if info, err := os.Stat(file); err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("snapshot file: %v %v, want mode 0600", info, err)
	}
	// An API server that answers nothing: replay must not need one.
	empty := fakekube.New(t)
	replay := run(t, empty, "diagnose", "--from-snapshot", file, "-o", "json")
	if replay.code != live.code || replay.stdout != live.stdout {
		t.Errorf("replay: exit %d (live %d), same stdout: %v\n%s", replay.code, live.code, replay.stdout == live.stdout, replay.stderr)
	}
	if n := len(empty.Requests()); n != 0 {
		t.Errorf("replay made %d API requests, want none", n)
	}
	garbage := filepath.Join(t.TempDir(), "pod.json")
	if err := os.WriteFile(garbage, []byte(`{"apiVersion":"v1","kind":"Pod"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--redact"}, "--redact applies to --save-snapshot"},
		{[]string{"--from-snapshot", file, "pod/web"}, "--from-snapshot judges the saved scope"},
		{[]string{"--from-snapshot", file, "--probe"}, "--from-snapshot judges the saved scope"},
		{[]string{"--from-snapshot", filepath.Join(t.TempDir(), "missing.json")}, "--from-snapshot: open"},
		{[]string{"--from-snapshot", garbage}, `not a kubectl-irsa snapshot: apiVersion "v1" kind "Pod"`},
	} {
		r := run(t, empty, append([]string{"diagnose"}, tc.args...)...)
		if r.code != ExitError || !strings.Contains(r.stderr, tc.want) || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
			t.Errorf("diagnose %v: exit %d, stderr %q; want exit 1 and one line with %q", tc.args, r.code, r.stderr, tc.want)
		}
	}
}
