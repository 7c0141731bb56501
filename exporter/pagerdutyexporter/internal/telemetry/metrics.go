// Package telemetry is how the exporter observes itself: its metrics, each
// attribute set built once from the configuration, the reasons a record is
// rejected, and its component status (Health).
package telemetry // import "github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/telemetry"

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/dedup"
	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/eventsapi"
	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/metadata"
	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/recordmap"
	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/routes"
)

// SeriesLimitEnv sets the metrics SDK's bound on the series of one metric in
// the collector's process; 0 or less: no bound.
const SeriesLimitEnv = "OTEL_GO_X_CARDINALITY_LIMIT"

// SeriesLimit is the metrics SDK's bound on the series of one metric (2,000
// unless SeriesLimitEnv says otherwise; 0: none): past it, measurements of
// new attribute sets are counted under otel_metric_overflow="true" instead.
// A reader's own cardinality_limits are not seen from here.
func SeriesLimit() int {
	n, err := strconv.Atoi(strings.TrimSpace(os.Getenv(SeriesLimitEnv)))
	switch {
	case err != nil:
		return 2000
	case n <= 0:
		return 0
	}
	return n
}

// EventSeries is how many series of otelcol_exporter_pagerduty_events the
// configured routes start with, the most of any of the exporter's metrics.
func EventSeries(routes int) int { return routes * numActions * len(eventsapi.Outcomes) }

// Index spaces of the attribute sets.
const (
	numActions       = 4 // trigger, acknowledge, resolve, change
	numEndpoints     = 2 // eventsapi.EnqueuePath, eventsapi.ChangeEnqueuePath
	numStatusClasses = 5
	numRepairBits    = 32
)

var (
	actionNames      = [numActions]eventsapi.Action{eventsapi.Trigger, eventsapi.Acknowledge, eventsapi.Resolve, eventsapi.Change}
	endpointNames    = [numEndpoints]string{eventsapi.EnqueuePath, eventsapi.ChangeEnqueuePath}
	statusClassNames = [numStatusClasses]string{"transport", "2xx", "3xx", "4xx", "5xx"}
)

func actionIndex(a eventsapi.Action) int {
	switch a {
	case eventsapi.Acknowledge:
		return 1
	case eventsapi.Resolve:
		return 2
	case eventsapi.Change:
		return 3
	}
	return 0
}

func endpointIndex(path string) int {
	if path == eventsapi.ChangeEnqueuePath {
		return 1
	}
	return 0
}

// statusClassIndex is the class of an HTTP status; 0 (transport) when no
// response arrived. A status outside 2xx–5xx is counted with the class whose
// outcome it gets: 1xx with 4xx (refused), 600 and above with 5xx (retried).
func statusClassIndex(code int) int {
	switch {
	case code == 0:
		return 0
	case code < 200:
		return 3
	case code >= 600:
		return 4
	}
	return code/100 - 1
}

func reasonIndex(reason string) int {
	for i, r := range dedup.Reasons {
		if r == reason {
			return i
		}
	}
	panic("unknown suppression reason " + reason)
}

// Telemetry records the exporter's own metrics. Every attribute set they
// carry is built here, once, from the configuration: building a set per
// event would cost more than mapping the record. Each set carries the
// exporter's component ID, so that two pagerduty exporters in one collector
// keep series of their own. Nothing else in the package writes an attribute.
type Telemetry struct {
	tb *metadata.TelemetryBuilder

	exporter   attrSet
	routes     []routeSets // by route.index: the configured routes, then the unknown route
	requests   [numEndpoints][numStatusClasses]attrSet
	durations  [numEndpoints]attrSet
	suppressed [numActions][len(dedup.Reasons)]attrSet
	repaired   [numRepairBits]attrSet
	rejected   [numRejections]attrSet

	// Stranded is the stranded_records gauge: the records found at start in
	// the persistent queues of routes no longer configured (see
	// queues.Directory); 0 without persistent queues.
	Stranded atomic.Int64
}

// attrSet is one attribute set, as the options each kind of instrument
// takes: passing a prebuilt slice costs no allocation per measurement.
type attrSet struct {
	add     []metric.AddOption
	record  []metric.RecordOption
	observe []metric.ObserveOption
}

// routeSets are the attribute sets of one route.
type routeSets struct {
	route  attrSet
	events [numActions][len(eventsapi.Outcomes)]attrSet
	waits  [routes.NumPriorities]attrSet
	// digests are the storm digest's sets: trigger, then resolve.
	digests [2]attrSet
}

// New builds the exporter's instruments from settings, and every attribute set
// they carry for the exporter exporterID and the routes of router.
func New(settings component.TelemetrySettings, exporterID string, router *routes.Router) (*Telemetry, error) {
	tb, err := metadata.NewTelemetryBuilder(settings)
	if err != nil {
		return nil, fmt.Errorf("creating telemetry: %w", err)
	}
	id := attribute.String("exporter", exporterID)
	set := func(kvs ...string) attrSet {
		attrs := make([]attribute.KeyValue, 1, 1+len(kvs)/2)
		attrs[0] = id
		for i := 0; i+1 < len(kvs); i += 2 {
			attrs = append(attrs, attribute.String(kvs[i], kvs[i+1]))
		}
		opt := metric.WithAttributeSet(attribute.NewSet(attrs...))
		return attrSet{add: []metric.AddOption{opt}, record: []metric.RecordOption{opt}, observe: []metric.ObserveOption{opt}}
	}
	t := &Telemetry{tb: tb, exporter: set()}
	for _, rt := range append(append([]*routes.Route(nil), router.Queued...), router.Unknown) {
		rs := routeSets{route: set("routing", rt.Name)}
		for a, action := range actionNames {
			for _, o := range eventsapi.Outcomes {
				rs.events[a][o] = set("event_action", string(action), "outcome", o.String(), "routing", rt.Name)
			}
		}
		for p := range routes.NumPriorities {
			rs.waits[p] = set("priority", p.String(), "routing", rt.Name)
		}
		for i, action := range []eventsapi.Action{eventsapi.Trigger, eventsapi.Resolve} {
			rs.digests[i] = set("event_action", string(action), "routing", rt.Name)
		}
		t.routes = append(t.routes, rs)
	}
	for e, endpoint := range endpointNames {
		t.durations[e] = set("endpoint", endpoint)
		for c, class := range statusClassNames {
			t.requests[e][c] = set("endpoint", endpoint, "status_class", class)
		}
	}
	for a, action := range actionNames[:3] {
		for r, reason := range dedup.Reasons {
			t.suppressed[a][r] = set("event_action", string(action), "reason", reason)
		}
	}
	for r := range (^recordmap.Repairs(0)).All() {
		t.repaired[repairBit(r)] = set("reason", r.String())
	}
	for r := range numRejections {
		t.rejected[r] = set("reason", r.String())
	}
	return t, nil
}

func repairBit(r recordmap.Repair) int {
	bit := 0
	for r > 1 {
		r >>= 1
		bit++
	}
	return bit
}

// Zero records 0 for every counter series that can occur for the configured
// routes, so that each exists from the start: rate() and increase() see the
// first event after a start only if the series was there before it. Change
// events are never suppressed; only a trigger is a duplicate, only an
// acknowledge or resolve already applied.
func (t *Telemetry) Zero(ctx context.Context) {
	tb := t.tb
	for _, rs := range t.routes[:len(t.routes)-1] {
		for a := range numActions {
			for o := range eventsapi.Outcomes {
				tb.ExporterPagerdutyEvents.Add(ctx, 0, rs.events[a][o].add...)
			}
		}
		tb.ExporterPagerdutyThrottled.Add(ctx, 0, rs.route.add...)
		tb.ExporterPagerdutyRateLimitWait.Add(ctx, 0, rs.route.add...)
		tb.ExporterPagerdutyAutoResolved.Add(ctx, 0, rs.route.add...)
		for _, digests := range rs.digests {
			tb.ExporterPagerdutyStormDigests.Add(ctx, 0, digests.add...)
		}
	}
	for e := range numEndpoints {
		for c := range numStatusClasses {
			tb.ExporterPagerdutyRequests.Add(ctx, 0, t.requests[e][c].add...)
		}
	}
	for a := range 3 {
		for r, reason := range dedup.Reasons {
			if (reason == dedup.ReasonDuplicate) == (a == 0) || reason == dedup.ReasonStale {
				tb.ExporterPagerdutySuppressed.Add(ctx, 0, t.suppressed[a][r].add...)
			}
		}
	}
	for r := range (^recordmap.Repairs(0)).All() {
		tb.ExporterPagerdutyRecordsRepaired.Add(ctx, 0, t.repaired[repairBit(r)].add...)
	}
	for r := range numRejections {
		tb.ExporterPagerdutyRecordsRejected.Add(ctx, 0, t.rejected[r].add...)
	}
}

// Sent counts one request to the Events API, which took took, and what
// became of its event.
func (t *Telemetry) Sent(ctx context.Context, rt *routes.Route, action eventsapi.Action, res *eventsapi.Result, took time.Duration) {
	e := endpointIndex(res.Path)
	t.tb.ExporterPagerdutyRequests.Add(ctx, 1, t.requests[e][statusClassIndex(res.StatusCode)].add...)
	t.tb.ExporterPagerdutyRequestDuration.Record(ctx, took.Seconds(), t.durations[e].record...)
	t.tb.ExporterPagerdutyEvents.Add(ctx, 1, t.routes[rt.Index].events[actionIndex(action)][res.Outcome].add...)
	if res.Outcome == eventsapi.Throttled {
		t.tb.ExporterPagerdutyThrottled.Add(ctx, 1, t.routes[rt.Index].route.add...)
	}
}

// Paged records the time from a record's arrival to its event's acceptance.
func (t *Telemetry) Paged(ctx context.Context, rt *routes.Route, p routes.Priority, since time.Duration) {
	t.tb.ExporterPagerdutyEventWait.Record(ctx, since.Seconds(), t.routes[rt.Index].waits[p].record...)
}

// Waited adds a wait for the rate limiter; 0 records nothing.
func (t *Telemetry) Waited(ctx context.Context, rt *routes.Route, d time.Duration) {
	if d > 0 {
		t.tb.ExporterPagerdutyRateLimitWait.Add(ctx, d.Seconds(), t.routes[rt.Index].route.add...)
	}
}

// AutoResolved counts an alert the exporter resolved itself, accepted.
func (t *Telemetry) AutoResolved(ctx context.Context, rt *routes.Route) {
	t.tb.ExporterPagerdutyAutoResolved.Add(ctx, 1, t.routes[rt.Index].route.add...)
}

// Digest counts a storm digest of rt that PagerDuty accepted: a trigger
// (opened or updated) or a resolve.
func (t *Telemetry) Digest(ctx context.Context, rt *routes.Route, action eventsapi.Action) {
	i := 0
	if action == eventsapi.Resolve {
		i = 1
	}
	t.tb.ExporterPagerdutyStormDigests.Add(ctx, 1, t.routes[rt.Index].digests[i].add...)
}

// Suppressed counts a record whose effect PagerDuty already shows,
// in tally when not nil (see SuppressedTally), else at once.
func (t *Telemetry) Suppressed(ctx context.Context, tally *SuppressedTally, action eventsapi.Action, reason string) {
	a, r := actionIndex(action), reasonIndex(reason)
	if tally != nil {
		tally[a][r]++
		return
	}
	t.tb.ExporterPagerdutySuppressed.Add(ctx, 1, t.suppressed[a][r].add...)
}

// SuppressedTally counts the records of one request settled on arrival, so
// that a storm of repeats costs one measurement per request, not per record.
type SuppressedTally [numActions][len(dedup.Reasons)]int64

// FlushSuppressed records a tally.
func (t *Telemetry) FlushSuppressed(ctx context.Context, tally *SuppressedTally) {
	for a := range tally {
		for r, n := range tally[a] {
			if n > 0 {
				t.tb.ExporterPagerdutySuppressed.Add(ctx, n, t.suppressed[a][r].add...)
			}
		}
	}
}

// Repaired counts each repair made to a record.
func (t *Telemetry) Repaired(ctx context.Context, repairs recordmap.Repairs) {
	if repairs == 0 {
		return
	}
	for r := range repairs.All() {
		t.tb.ExporterPagerdutyRecordsRepaired.Add(ctx, 1, t.repaired[repairBit(r)].add...)
	}
}

// Rejected counts a record dropped for reason.
func (t *Telemetry) Rejected(ctx context.Context, reason Rejection) {
	t.tb.ExporterPagerdutyRecordsRejected.Add(ctx, 1, t.rejected[reason].add...)
}

// Backlog calls fn with each route's count of the records the exporter
// holds, as of now.
type Backlog func(now time.Time, fn func(route string, records int64))

// RegisterGauges observes the cache and the backlog from the metric
// reader's goroutine; router names the backlog's routes.
func (t *Telemetry) RegisterGauges(cache *dedup.Cache, backlog Backlog, router *routes.Router) error {
	return errors.Join(
		t.tb.RegisterExporterPagerdutyCacheEntriesCallback(func(_ context.Context, o metric.Int64Observer) error {
			o.Observe(int64(cache.Stats().Entries), t.exporter.observe...)
			return nil
		}),
		t.tb.RegisterExporterPagerdutyOpenIncidentsCallback(func(_ context.Context, o metric.Int64Observer) error {
			o.Observe(int64(cache.Stats().Open), t.exporter.observe...)
			return nil
		}),
		t.tb.RegisterExporterPagerdutyCacheEvictionsCallback(func(_ context.Context, o metric.Int64Observer) error {
			o.Observe(cache.Stats().Evictions, t.exporter.observe...)
			return nil
		}),
		t.tb.RegisterExporterPagerdutyStrandedRecordsCallback(func(_ context.Context, o metric.Int64Observer) error {
			o.Observe(t.Stranded.Load(), t.exporter.observe...)
			return nil
		}),
		t.tb.RegisterExporterPagerdutyBacklogCallback(func(_ context.Context, o metric.Int64Observer) error {
			backlog(time.Now(), func(route string, records int64) {
				o.Observe(records, t.routes[router.Named(route).Index].route.observe...)
			})
			return nil
		}),
	)
}

// Shutdown lets go of the instruments.
func (t *Telemetry) Shutdown() { t.tb.Shutdown() }
