//go:build unix

package main

import (
	"testing"
	"time"
)

func TestCriticalPath(t *testing.T) {
	t.Parallel()
	counts := map[string]int{"sts:GetCallerIdentity": 1, "iam:GetRole": 300, "iam:ListAttachedRolePolicies": 299, "iam:ListRolePolicies": 299, "iam:GetOpenIDConnectProvider": 1}
	got, terms := criticalPath(counts, 8, 30*time.Millisecond)
	if want := 114 * 30 * time.Millisecond; got != want || len(terms) != 2 {
		t.Errorf("critical path %s %v, want %s: ceil(899/8) + 1 rounds", got, terms, want)
	}
	// Few calls, high concurrency: the dependent chain decides.
	if got, _ := criticalPath(map[string]int{"iam:GetRole": 2, "iam:ListAttachedRolePolicies": 2, "iam:ListRolePolicies": 2}, 64, 10*time.Millisecond); got != 30*time.Millisecond {
		t.Errorf("chain of 3: %s", got)
	}
}

func TestBenchLine(t *testing.T) {
	t.Parallel()
	for line, want := range map[string]string{
		"BenchmarkEvaluate   \t 1841739\t       651.2 ns/op\t     112 B/op\t       3 allocs/op": "BenchmarkEvaluate 651.2 112 3",
		"BenchmarkRun-2      \t      12\t  95284071 ns/op":                                      "BenchmarkRun 95284071  ",
	} {
		m := benchLine.FindStringSubmatch(line)
		if len(m) < 5 || m[1]+" "+m[2]+" "+m[3]+" "+m[4] != want {
			t.Errorf("%q parsed as %q, want %q", line, m, want)
		}
	}
	if thousands(1234567) != "1,234,567" || thousands(100) != "100" {
		t.Error(thousands(1234567), thousands(100))
	}
}
