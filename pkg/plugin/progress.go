package plugin

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"golang.org/x/term"
	"k8s.io/klog/v2"
)

// terminalWidth is the default of Deps.Terminal: whether w is a terminal and
// how many columns it has (0 when it cannot tell).
func terminalWidth(w io.Writer) (int, bool) {
	f, ok := w.(interface{ Fd() uintptr })
	if !ok {
		return 0, false
	}
	fd := int(f.Fd())
	if !term.IsTerminal(fd) {
		return 0, false
	}
	width, _, err := term.GetSize(fd)
	if err != nil {
		return 0, true
	}
	return width, true
}

// statusLine is one line of progress redrawn in place with a carriage return
// and blanked before anything else is printed. It only ever exists for a
// terminal; a nil *statusLine draws nothing, so callers need no checks.
type statusLine struct {
	mu    sync.Mutex
	w     io.Writer
	width int           // lines are cut to width-1 columns so they never wrap
	every time.Duration // at most one redraw per interval
	now   func() time.Time
	last  time.Time
	drawn int // columns drawn, to blank what a shorter line leaves behind
}

// newStatusLine returns nil unless w is a terminal. The first redraw waits
// one interval, so a run that ends quickly never flashes a line.
func newStatusLine(w io.Writer, width int, isTerminal bool, now func() time.Time) *statusLine {
	if !isTerminal {
		return nil
	}
	if width <= 1 {
		width = 80
	}
	if now == nil {
		now = time.Now
	}
	return &statusLine{w: w, width: width, every: 100 * time.Millisecond, now: now, last: now()}
}

// set shows msg unless the line was redrawn less than an interval ago.
func (s *statusLine) set(msg string) {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.now()
	if t.Sub(s.last) < s.every {
		return
	}
	s.last = t
	msg = cutColumns(msg, s.width-1)
	n := utf8.RuneCountInString(msg)
	fmt.Fprintf(s.w, "\r%s%s", msg, strings.Repeat(" ", max(s.drawn-n, 0)))
	s.drawn = n
}

// clear blanks the line and puts the cursor back at its start.
func (s *statusLine) clear() {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.drawn > 0 {
		fmt.Fprintf(s.w, "\r%s\r", strings.Repeat(" ", s.drawn))
		s.drawn = 0
	}
}

func cutColumns(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:max(n-1, 0)]) + "…"
}

// progress follows a diagnose run, from the collectors' callbacks, and shows
// it on the status line: "collecting: 5000 pods, 1000 service accounts; AWS
// 120/300 roles, 365 calls", then "judging 1000 service accounts".
type progress struct {
	line *statusLine

	mu         sync.Mutex
	counts     map[string]map[string]int // resource → namespace → listed so far
	rolesTotal int
	rolesDone  int
	awsCalls   int
	phase      string
	// noPods leaves the pod count out, for a command that lists no pods
	// (audit).
	noPods bool
}

// newProgress draws only when stderr is a terminal and -v is off (klog
// writes to stderr too, and a redrawn line would garble its output).
func (o *DiagnoseOptions) newProgress() *progress {
	return newProgressOn(o.ErrOut, o.Terminal, o.clock)
}

// newProgressOn is the progress of any command that writes to errOut;
// terminal and clock nil ask the operating system.
func newProgressOn(errOut io.Writer, terminal func(io.Writer) (int, bool), clock func() time.Time) *progress {
	if terminal == nil {
		terminal = terminalWidth
	}
	width, ok := terminal(errOut)
	if klog.V(1).Enabled() {
		ok = false
	}
	return &progress{line: newStatusLine(errOut, width, ok, clock), counts: map[string]map[string]int{}}
}

// listedResources are shown in this order, with these names; the workloads
// only until the AWS half starts, so the line fits 80 columns.
var listedResources = []struct {
	resource, name string
	always         bool
}{
	{"pods", "pods", true}, {"serviceaccounts", "service accounts", true}, {"replicasets", "replicasets", false}, {"jobs", "jobs", false},
}

// Listed is told after each LIST page.
func (p *progress) Listed(resource, namespace string, n int) {
	p.mu.Lock()
	if p.counts[resource] == nil {
		p.counts[resource] = map[string]int{}
	}
	p.counts[resource][namespace] = n
	msg := p.messageLocked()
	p.mu.Unlock()
	p.line.set(msg)
}

// AWSStarted announces how many roles the AWS half will read.
func (p *progress) AWSStarted(roles int) {
	p.mu.Lock()
	p.rolesTotal = roles
	msg := p.messageLocked()
	p.mu.Unlock()
	p.line.set(msg)
}

// AWSCalled is told after each AWS call.
func (p *progress) AWSCalled(string) {
	p.mu.Lock()
	p.awsCalls++
	msg := p.messageLocked()
	p.mu.Unlock()
	p.line.set(msg)
}

// RoleDone is told when a role's facts are complete.
func (p *progress) RoleDone(string) {
	p.mu.Lock()
	p.rolesDone++
	msg := p.messageLocked()
	p.mu.Unlock()
	p.line.set(msg)
}

// Phase replaces the collection counts with what happens now.
func (p *progress) Phase(phase string) {
	p.mu.Lock()
	p.phase = phase
	p.mu.Unlock()
	p.line.set(phase)
}

func (p *progress) done() { p.line.clear() }

func (p *progress) messageLocked() string {
	if p.phase != "" {
		return p.phase
	}
	var parts []string
	for _, r := range listedResources {
		total := 0
		for _, n := range p.counts[r.resource] {
			total += n
		}
		if (r.resource == "pods" && !p.noPods) || (total > 0 && (r.always || p.rolesTotal == 0)) {
			parts = append(parts, fmt.Sprintf("%d %s", total, r.name))
		}
	}
	msg := "collecting: " + strings.Join(parts, ", ")
	if p.rolesTotal > 0 {
		msg += fmt.Sprintf("; AWS %d/%d roles, %d calls", p.rolesDone, p.rolesTotal, p.awsCalls)
	}
	return msg
}
