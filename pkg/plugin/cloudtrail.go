package plugin

import (
	"fmt"
	"time"

	"github.com/spf13/pflag"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/pipeline"
)

// trailFlags are the CloudTrail flags diagnose (--cloudtrail) and events
// share.
type trailFlags struct {
	Enabled   bool
	Since     time.Duration
	MaxEvents int
	// flags is where the flags were registered, to tell a --since given
	// without --cloudtrail from its default.
	flags *pflag.FlagSet
}

func newTrailFlags() trailFlags {
	return trailFlags{Since: time.Hour, MaxEvents: pipeline.DefaultTrailMaxEvents}
}

// AddFlags registers --since and --cloudtrail-max-events, and --cloudtrail
// when optIn (diagnose reads CloudTrail only when asked: LookupEvents is
// limited to 2 requests a second per account and region).
func (t *trailFlags) AddFlags(fs *pflag.FlagSet, optIn bool) {
	t.flags = fs
	if optIn {
		fs.BoolVar(&t.Enabled, "cloudtrail", false, "Also read CloudTrail for the service accounts' recent token exchanges and what AWS answered (needs cloudtrail:LookupEvents; paced at 2 calls a second per region)")
	}
	fs.DurationVar(&t.Since, "since", t.Since, "How far back to read CloudTrail, e.g. 30m, 24h (at most 2160h, CloudTrail's 90 days)")
	fs.IntVar(&t.MaxEvents, "cloudtrail-max-events", t.MaxEvents, "Most events to read per region and event name, newest first (50 a page)")
}

// Validate checks the window; a CloudTrail flag without --cloudtrail is a
// usage error rather than silently ignored.
func (t trailFlags) Validate() error {
	if !t.Enabled {
		for _, name := range []string{"since", "cloudtrail-max-events"} {
			if t.flags != nil && t.flags.Changed(name) {
				return fmt.Errorf("--%s applies to --cloudtrail", name)
			}
		}
		return nil
	}
	return t.options().Validate()
}

func (t trailFlags) options() pipeline.TrailOptions {
	return pipeline.TrailOptions{Since: t.Since, MaxEvents: t.MaxEvents}
}

// request is the pipeline's CloudTrail request: nil when not enabled.
func (t trailFlags) request() *pipeline.TrailOptions {
	if !t.Enabled {
		return nil
	}
	o := t.options()
	return &o
}
