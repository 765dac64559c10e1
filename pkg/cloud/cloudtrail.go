package cloud

import (
	"context"
	"sort"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"golang.org/x/time/rate"

	"github.com/kubectl-irsa/kubectl-irsa/pkg/facts"
)

// OpLookupEvents is the one CloudTrail call, and the permission it needs.
const OpLookupEvents = "cloudtrail:LookupEvents"

// CloudTrail's limits (docs/behaviour.md#cloudtrail): LookupEvents answers
// at most 50 events a page, looks back at most 90 days, and is limited to 2
// requests a second per account and region.
const (
	TrailPageSize          = 50
	TrailMaxWindow         = 90 * 24 * time.Hour
	TrailRequestsPerSecond = 2
	// trailMaxAttempts gives throttled pages more room than the default 3
	// attempts: the SDK's standard retryer backs off exponentially on
	// ThrottlingException, and a run that shares the account's budget with
	// other readers needs a few rounds of that.
	trailMaxAttempts = 8
)

// TrailAPI is the CloudTrail method the plugin calls.
type TrailAPI interface {
	LookupEvents(ctx context.Context, params *cloudtrail.LookupEventsInput, optFns ...func(*cloudtrail.Options)) (*cloudtrail.LookupEventsOutput, error)
}

var _ TrailAPI = (*cloudtrail.Client)(nil)

// newCloudTrail builds the per-region CloudTrail client factory of a
// collector: events are per region, so each lookup signs for its own.
func newCloudTrail(cfg aws.Config) func(region string) TrailAPI {
	return func(region string) TrailAPI {
		return cloudtrail.NewFromConfig(cfg, func(o *cloudtrail.Options) {
			o.Region = region
			o.HTTPClient = guardRequestBodies(o.HTTPClient)
			o.RetryMaxAttempts = trailMaxAttempts
		})
	}
}

// TrailLookupSpec is one pass to make: an event name in a region.
type TrailLookupSpec struct {
	Region    string
	EventName string
}

// TrailInput says what to read of CloudTrail.
type TrailInput struct {
	Since, Until time.Time
	// MaxEvents bounds the events each pass reads (newest first).
	MaxEvents int
	Lookups   []TrailLookupSpec
	// Keep says whether a parsed event belongs to the cluster; the others
	// are only counted.
	Keep func(facts.TrailEvent) bool
	// OnPage, when set, is told after each page what the pass has read so
	// far and how many events were kept in all.
	OnPage func(region, eventName string, pages, events, kept int)
}

// ReadTrail makes the lookups, each paced to CloudTrail's rate for its
// region, and keeps the cluster's events, deduplicated by event id. It
// never fails: a failed pass is recorded in its TrailLookup, with what it
// read before. Cost: at most ceil(MaxEvents/50) calls per lookup, whatever
// the number of service accounts.
func (c *Collector) ReadTrail(ctx context.Context, in TrailInput) *facts.TrailFacts {
	out := &facts.TrailFacts{Since: in.Since.UTC(), Until: in.Until.UTC(), MaxEvents: in.MaxEvents}
	if c.CloudTrail == nil {
		out.Unavailable = "no CloudTrail client"
		return out
	}
	out.Lookups = make([]facts.TrailLookup, len(in.Lookups))
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		seen = map[string]bool{}
	)
	keep := func(e facts.TrailEvent) bool {
		mu.Lock()
		defer mu.Unlock()
		if seen[e.ID] {
			return false
		}
		seen[e.ID] = true
		if in.Keep != nil && !in.Keep(e) {
			out.OtherClusters++
			return false
		}
		out.Events = append(out.Events, e)
		return true
	}
	kept := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(out.Events)
	}
	malformed := func() {
		mu.Lock()
		defer mu.Unlock()
		out.Malformed++
	}
	for i, spec := range in.Lookups {
		wg.Go(func() {
			l := c.lookup(ctx, in, spec, keep, malformed, kept)
			mu.Lock()
			out.Lookups[i] = l
			mu.Unlock()
		})
	}
	wg.Wait()
	facts.SortTrailEvents(out.Events)
	return out
}

// lookup pages one event name in one region, newest first, until the
// window or MaxEvents is exhausted.
func (c *Collector) lookup(ctx context.Context, in TrailInput, spec TrailLookupSpec, keep func(facts.TrailEvent) bool, malformed func(), kept func() int) facts.TrailLookup {
	l := facts.TrailLookup{Region: spec.Region, EventName: spec.EventName}
	api := c.CloudTrail(spec.Region)
	limiter := c.trailLimiter(spec.Region)
	resource := spec.Region + " EventName=" + spec.EventName
	input := &cloudtrail.LookupEventsInput{
		LookupAttributes: []cttypes.LookupAttribute{{AttributeKey: cttypes.LookupAttributeKeyEventName, AttributeValue: aws.String(spec.EventName)}},
		StartTime:        aws.Time(in.Since),
		EndTime:          aws.Time(in.Until),
	}
	for {
		remaining := in.MaxEvents - l.Events
		input.MaxResults = aws.Int32(int32(min(TrailPageSize, remaining))) //nolint:gosec // at most TrailPageSize (50)
		if err := limiter.Wait(ctx); err != nil {
			l.Err = Classify(OpLookupEvents, resource, ctx.Err())
			return l
		}
		var page *cloudtrail.LookupEventsOutput
		l.Err = c.call(ctx, OpLookupEvents, resource, func(ctx context.Context) error {
			var err error
			page, err = api.LookupEvents(ctx, input)
			return err
		})
		if l.Err != nil {
			return l
		}
		l.Pages++
		for _, raw := range page.Events {
			l.Events++
			e, err := ParseTrailEvent(raw, spec.Region)
			if err != nil {
				malformed()
				continue
			}
			if l.Oldest.IsZero() || e.Time.Before(l.Oldest) {
				l.Oldest = e.Time
			}
			keep(e)
		}
		if in.OnPage != nil {
			in.OnPage(spec.Region, spec.EventName, l.Pages, l.Events, kept())
		}
		next := aws.ToString(page.NextToken)
		if next == "" || len(page.Events) == 0 {
			l.Oldest = time.Time{}
			return l
		}
		if l.Events >= in.MaxEvents {
			l.Truncated = true
			return l
		}
		input.NextToken = aws.String(next)
	}
}

// trailLimiter is the pace of one region's lookups: CloudTrail's own limit,
// so a run is never the reason the account's other readers are throttled.
func (c *Collector) trailLimiter(region string) *rate.Limiter {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.trailLimiters == nil {
		c.trailLimiters = map[string]*rate.Limiter{}
	}
	l, ok := c.trailLimiters[region]
	if !ok {
		r := c.TrailRate
		if r <= 0 {
			r = TrailRequestsPerSecond
		}
		l = rate.NewLimiter(rate.Limit(r), 1)
		c.trailLimiters[region] = l
	}
	return l
}

// TrailRegions lists the distinct regions of specs, sorted.
func TrailRegions(specs []TrailLookupSpec) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range specs {
		if !seen[s.Region] {
			seen[s.Region] = true
			out = append(out, s.Region)
		}
	}
	sort.Strings(out)
	return out
}
