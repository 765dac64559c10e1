package plugin

import (
	"bytes"
	"encoding/json"
	"io"
	"strings"
	"sync"
	"testing"
	"time"
)

// stepClock advances by step on every reading, so every progress event is
// an interval after the previous one.
func stepClock(step time.Duration) func() time.Time {
	var mu sync.Mutex
	t := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		t = t.Add(step)
		return t
	}
}

func TestStatusLine(t *testing.T) {
	t.Parallel()
	var off bytes.Buffer
	none := newStatusLine(&off, 80, false, nil)
	none.set("collecting: 5 pods")
	none.clear()
	if none != nil || off.Len() != 0 {
		t.Fatalf("not a terminal: wrote %q", off.String())
	}

	var b bytes.Buffer
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s := newStatusLine(&b, 20, true, func() time.Time { return now })
	s.set("too soon")
	if b.Len() != 0 {
		t.Fatalf("drew %q before the first interval", b.String())
	}
	steps := []struct {
		msg, want string
	}{
		{"collecting: 500 pods", "\rcollecting: 500 po…"}, // cut to width-1 columns: never wraps
		{"judging", "\rjudging            "},              // blanks what the longer line left
		{"AWS 1/2", "\rAWS 1/2"},
	}
	for _, st := range steps {
		now = now.Add(time.Second)
		b.Reset()
		s.set(st.msg)
		if b.String() != st.want {
			t.Errorf("set(%q) wrote %q, want %q", st.msg, b.String(), st.want)
		}
	}
	b.Reset()
	s.set("throttled") // same instant: skipped
	s.clear()
	s.clear()
	if want := "\r       \r"; b.String() != want {
		t.Errorf("clear wrote %q, want %q", b.String(), want)
	}
}

// TestDiagnoseProgressOnlyOnTerminal: on a terminal stderr shows a progress
// line, blanked before the summary; otherwise stderr has the summary alone.
// stdout is the same pure JSON either way.
func TestDiagnoseProgressOnlyOnTerminal(t *testing.T) {
	t.Parallel()
	srv := newWorld(t)
	for _, terminal := range []bool{false, true} {
		deps := fakeAWS(t, awsWorld())
		var asked []io.Writer
		var mu sync.Mutex
		deps.Terminal = func(w io.Writer) (int, bool) {
			mu.Lock()
			defer mu.Unlock()
			asked = append(asked, w)
			return 120, terminal
		}
		deps.clock = stepClock(time.Second)
		r := runAWS(t, srv, deps, "diagnose", "-A", "-o", "json", "--fail-on", "none")
		if r.code != ExitOK {
			t.Fatalf("terminal=%v: exit %d: %s", terminal, r.code, r.stderr)
		}
		if !json.Valid([]byte(r.stdout)) || strings.ContainsAny(r.stdout, "\r") {
			t.Errorf("terminal=%v: stdout is not pure JSON: %q", terminal, r.stdout)
		}
		if len(asked) != 1 {
			t.Errorf("terminal=%v: asked about %d streams, want stderr once", terminal, len(asked))
		}
		progress, summaryLine, _ := strings.Cut(r.stderr, "diagnosed ")
		if !strings.HasPrefix(summaryLine, "5 pods and 3 service accounts in 2 namespaces (2 roles) in ") || !strings.HasSuffix(summaryLine, "\n"+snapshotHint+"\n") || strings.Count(summaryLine, "\n") != 2 {
			t.Errorf("terminal=%v: summary %q", terminal, summaryLine)
		}
		if !terminal {
			if progress != "" {
				t.Errorf("not a terminal, yet stderr has %q before the summary", progress)
			}
			continue
		}
		for _, want := range []string{"\rcollecting: 8 pods", "\rcollecting: 8 pods, 5 service accounts, 1 replicasets, 1 jobs\r", "\rcollecting: 8 pods, 5 service accounts; AWS 0/2 roles, 0 calls", "; AWS 2/2 roles, ", "\rjudging 3 service accounts"} {
			if !strings.Contains(progress, want) {
				t.Errorf("progress %q lacks %q", progress, want)
			}
		}
		// The line is blanked and the cursor back at its start when the
		// summary begins.
		last := progress[strings.LastIndex(progress[:len(progress)-1], "\r"):]
		if strings.Trim(last, "\r ") != "" || !strings.HasSuffix(progress, "\r") {
			t.Errorf("progress not cleared before the summary: ends %q", last)
		}
	}
}
