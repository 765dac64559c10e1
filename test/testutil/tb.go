package testutil

import (
	"fmt"
	"runtime"
	"sync"
	"testing"
)

// fatalTB is a testing.TB whose Fatal, Fatalf and FailNow record the failure
// and end the calling goroutine, as the real ones do, without failing the
// test it wraps. Error and Errorf are recorded too and do not stop it.
type fatalTB struct {
	testing.TB
	mu     sync.Mutex
	msgs   []string
	failed bool
}

func (f *fatalTB) Helper() {}

func (f *fatalTB) record(msg string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failed = true
	if msg != "" {
		f.msgs = append(f.msgs, msg)
	}
}

func (f *fatalTB) Errorf(format string, args ...any) { f.record(fmt.Sprintf(format, args...)) }
func (f *fatalTB) Error(args ...any)                 { f.record(fmt.Sprint(args...)) }
func (f *fatalTB) Fail()                             { f.record("") }
func (f *fatalTB) FailNow()                          { f.record(""); runtime.Goexit() }
func (f *fatalTB) Fatalf(format string, args ...any) {
	f.record(fmt.Sprintf(format, args...))
	runtime.Goexit()
}
func (f *fatalTB) Fatal(args ...any) { f.record(fmt.Sprint(args...)); runtime.Goexit() }

func (f *fatalTB) Failed() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.failed
}

// Failures runs body with a testing.TB that records failures instead of
// reporting them to t, so a test can show that a test helper rejects what
// it must. It returns the failure messages, whether body failed, and whether
// it ran to its end (false after Fatal, Fatalf or FailNow). Logging and
// everything else go to t.
func Failures(t testing.TB, body func(tb testing.TB)) (msgs []string, failed, finished bool) {
	t.Helper()
	tb := &fatalTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		body(tb)
		finished = true
	}()
	<-done
	tb.mu.Lock()
	defer tb.mu.Unlock()
	return tb.msgs, tb.failed, finished
}
