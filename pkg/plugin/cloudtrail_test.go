package plugin

import (
	"context"
	"strings"
	"testing"
)

// TestCloudTrailFlagsAreValidated: a window CloudTrail cannot answer, or a
// CloudTrail flag without --cloudtrail, is a usage error (exit 1) in one
// line, before anything is read.
func TestCloudTrailFlagsAreValidated(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"diagnose", "--cloudtrail", "--since", "0s"}, "error: --since must be a positive duration such as 1h or 30m, got 0s"},
		{[]string{"diagnose", "--cloudtrail", "--since", "-1h"}, "error: --since must be a positive duration such as 1h or 30m, got -1h0m0s"},
		{[]string{"diagnose", "--cloudtrail", "--since", "2161h"}, "error: --since 2161h0m0s is beyond CloudTrail's 90 days (2160h) of event history"},
		{[]string{"diagnose", "--cloudtrail", "--cloudtrail-max-events", "0"}, "error: --cloudtrail-max-events must be at least 1, got 0"},
		{[]string{"diagnose", "--since", "2h"}, "error: --since applies to --cloudtrail"},
		{[]string{"diagnose", "--cloudtrail-max-events", "10"}, "error: --cloudtrail-max-events applies to --cloudtrail"},
		{[]string{"diagnose", "--cloudtrail", "--skip-aws"}, "error: --cloudtrail reads AWS: drop --skip-aws"},
		{[]string{"diagnose", "--cloudtrail", "--from-snapshot", "x.json"}, "error: --from-snapshot judges the saved scope: drop the arguments, -l, -A, --probe, --cloudtrail and --save-snapshot"},
		{[]string{"events", "--since", "0s"}, "error: --since must be a positive duration such as 1h or 30m, got 0s"},
		{[]string{"events", "--since", "91d"}, `error: invalid argument "91d" for "--since" flag`},
		{[]string{"events", "--skip-aws"}, "error: events reads CloudTrail: drop --skip-aws"},
		{[]string{"events", "--aws-concurrency", "0"}, "error: --aws-concurrency must be at least 1"},
		{[]string{"events", "--issuer", "http://oidc.example.com"}, "error: --issuer: "},
		{[]string{"events", "-o", "name"}, `error: unknown output format "name": use wide, json or yaml`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			t.Parallel()
			streams, _, out, errOut := genericiooptionsTestStreams()
			code := execute(context.Background(), streams, tt.args, Deps{})
			if code != ExitError {
				t.Errorf("exit %d, want %d", code, ExitError)
			}
			first, _, _ := strings.Cut(errOut.String(), "\n")
			if !strings.HasPrefix(first, tt.want) {
				t.Errorf("stderr %q, want it to start with %q", errOut.String(), tt.want)
			}
			if out.Len() != 0 {
				t.Errorf("stdout %q, want nothing", out.String())
			}
		})
	}
}
