package plugin

import (
	"bytes"
	"encoding/json"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/diag"
	"github.com/kubectl-irsa/kubectl-irsa/test/fakekube"
	"github.com/kubectl-irsa/kubectl-irsa/test/testutil"
)

func TestGoldenOutput(t *testing.T) {
	t.Parallel()
	srv := newWorld(t)
	tests := []struct {
		file string
		args []string
	}{
		{"diagnose-table.txt", []string{"diagnose"}},
		{"diagnose-all-namespaces.txt", []string{"diagnose", "-A"}},
		{"diagnose-wide.txt", []string{"diagnose", "sts/db", "cronjob/report", "-o", "wide"}},
		{"diagnose-no-headers.txt", []string{"diagnose", "--no-headers"}},
		{"diagnose-show-passed.txt", []string{"diagnose", "pod/web-1", "--show-passed"}},
		{"diagnose.json", []string{"diagnose", "sts/db", "-o", "json"}},
		{"diagnose.yaml", []string{"diagnose", "sts/db", "-o", "yaml"}},
		{"checks.txt", []string{"checks"}},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			t.Parallel()
			r := run(t, srv, tc.args...)
			if r.code == ExitError {
				t.Fatalf("exit 1: %s", r.stderr)
			}
			golden(t, tc.file, r.stdout)
		})
	}
}

func TestSummaryGoesToStderr(t *testing.T) {
	t.Parallel()
	srv := newWorld(t)
	r := run(t, srv, "diagnose", "-o", "json")
	// The duration is the one part that varies. The rest, counts included,
	// is the golden file's, so that adding a check means running
	// go test ./pkg/plugin -update and reviewing the diff, not editing here.
	stderr := elapsed.ReplaceAllString(r.stderr, " in Xs: ")
	golden(t, "diagnose-summary.txt", stderr)
	// -o json prints passed findings only with --show-passed, which does not
	// change the summary.
	all := run(t, srv, "diagnose", "-o", "json", "--show-passed")
	if got := elapsed.ReplaceAllString(all.stderr, " in Xs: "); got != stderr {
		t.Errorf("--show-passed changed stderr to %q", got)
	}
	assertSummaryCounts(t, stderr, decode(t, all))
	if !json.Valid([]byte(r.stdout)) {
		t.Error("stdout is not pure JSON")
	}
	empty := run(t, srv, "diagnose", "-n", "default")
	if empty.code != ExitOK || empty.stdout != "" || empty.stderr != "No IRSA service accounts found in namespace default.\n" {
		t.Errorf("empty namespace: %+v", empty)
	}
}

// elapsed is the summary's duration, the one part of it that varies.
var elapsed = regexp.MustCompile(` in [0-9.]+s: `)

// summaryCounts are the finding counts of diagnose's summary line.
var summaryCounts = regexp.MustCompile(`: (\d+) errors?, (\d+) warnings?, (\d+) info findings?, (\d+) unknown, (\d+) passed\n`)

// assertSummaryCounts checks that the summary on stderr counts the findings
// printed on stdout, so that a golden file rewritten by -update cannot pin
// a miscount.
func assertSummaryCounts(t *testing.T, stderr string, l DiagnosisList) {
	t.Helper()
	m := summaryCounts.FindStringSubmatch(stderr)
	if m == nil {
		t.Fatalf("no finding counts in the summary %q", stderr)
	}
	var want [5]int // errors, warnings, info, unknown, passed
	for _, d := range l.Items {
		for _, f := range d.Findings {
			switch {
			case f.Status == diag.StatusPass:
				want[4]++
			case f.Status == diag.StatusUnknown:
				want[3]++
			case f.Severity == diag.SeverityError:
				want[0]++
			case f.Severity == diag.SeverityWarning:
				want[1]++
			case f.Severity == diag.SeverityInfo:
				want[2]++
			}
		}
	}
	for i, name := range []string{"errors", "warnings", "info findings", "unknown", "passed"} {
		if got, _ := strconv.Atoi(m[i+1]); got != want[i] {
			t.Errorf("summary says %d %s, stdout holds %d: %q", got, name, want[i], stderr)
		}
	}
	if want[4] == 0 {
		t.Error("no passed finding on stdout: the scenario judges nothing")
	}
}

func TestClusterTextIsEscaped(t *testing.T) {
	t.Parallel()
	srv := fakekube.New(t,
		testutil.NewSA("shop", "evil").Annotate("eks.amazonaws.com/role-arn", "arn:aws:iam::1\x1b[2J\x1b]0;pwned\a:role/x").Build(),
		testutil.NewPod("shop", "p", "evil").Build(), testutil.Webhook(), testutil.Namespace("shop", nil))
	r := run(t, srv, "diagnose", "-o", "wide")
	if strings.ContainsRune(r.stdout, '\x1b') || strings.ContainsRune(r.stdout, '\a') {
		t.Fatalf("raw escape sequence reached the terminal: %q", r.stdout)
	}
	if !strings.Contains(r.stdout, "^[[2J^[]0;pwned^G") {
		t.Errorf("escaped form missing from %q", r.stdout)
	}
}

func TestChecksDocIsGenerated(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	if err := WriteCatalogueMarkdown(&b); err != nil {
		t.Fatal(err)
	}
	path := "../../docs/checks.md"
	if *update {
		if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	have, err := os.ReadFile(path)
	if err != nil || !bytes.Equal(have, b.Bytes()) {
		t.Fatalf("docs/checks.md drifted from the code: run go test ./pkg/plugin -update (err %v)", err)
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	// The file equals the generator's output; now check the generator
	// against the registry itself: one well-formed row per check, in id
	// order, with its severity and title, and a pipe in LooksAt escaped.
	var rows []string
	for _, line := range strings.Split(string(have), "\n") {
		if strings.HasPrefix(line, "| `") {
			rows = append(rows, line)
		}
	}
	// The catalogue is diagnose's registry plus the audit's checks.
	checks := catalogue().Items
	if len(rows) != len(checks) {
		t.Fatalf("docs/checks.md has %d check rows, the registry %d checks", len(rows), len(checks))
	}
	for i, c := range checks {
		cells := strings.Split(strings.ReplaceAll(rows[i], `\|`, "¦"), " | ")
		if len(cells) != 4 || cells[0] != "| `"+string(c.ID)+"`" || cells[1] != string(c.Severity) || cells[2] != c.Title {
			t.Errorf("row %d of docs/checks.md is %q, want %s, %s, %q in four columns", i+1, rows[i], c.ID, c.Severity, c.Title)
		}
	}
	if !bytes.Contains(readme, []byte("docs/checks.md")) {
		t.Error("README does not point at docs/checks.md")
	}
}

func TestVersion(t *testing.T) {
	t.Parallel()
	r := runArgs(t, "version")
	if r.code != ExitOK || !strings.HasPrefix(r.stdout, "kubectl-irsa dev (development build)\n") {
		t.Errorf("version: %+v", r)
	}
	j := runArgs(t, "version", "-o", "json")
	var v VersionInfo
	if err := json.Unmarshal([]byte(j.stdout), &v); err != nil || v.Version != "dev" || v.GoVersion == "" {
		t.Errorf("version -o json: %q %v", j.stdout, err)
	}
	if bad := runArgs(t, "version", "-o", "xml"); bad.code != ExitError {
		t.Errorf("version -o xml exit %d", bad.code)
	}
}
