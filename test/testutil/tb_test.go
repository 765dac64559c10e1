package testutil_test

import (
	"reflect"
	"testing"

	"github.com/kubectl-irsa/kubectl-irsa/test/testutil"
)

func TestFailures(t *testing.T) {
	msgs, failed, finished := testutil.Failures(t, func(tb testing.TB) {
		tb.Errorf("first %d", 1)
		tb.Fatalf("second %s", "two")
		tb.Error("never reached")
	})
	if !reflect.DeepEqual(msgs, []string{"first 1", "second two"}) || !failed || finished {
		t.Errorf("Failures = %q, failed %v, finished %v; want both messages, failed, not finished", msgs, failed, finished)
	}
	msgs, failed, finished = testutil.Failures(t, func(tb testing.TB) { tb.Logf("fine") })
	if len(msgs) != 0 || failed || !finished {
		t.Errorf("a passing body: Failures = %q, failed %v, finished %v", msgs, failed, finished)
	}
}
