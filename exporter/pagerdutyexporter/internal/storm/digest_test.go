package storm

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/extension/xextension/storage"
	"go.uber.org/zap"

	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/eventsapi"
	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/metadatatest"
	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/road"
	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/routes"
	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/telemetry"
)

// pagerDuty is a PagerDuty double for the digests: the events it took, in
// order, and whether the next ones fail.
type pagerDuty struct {
	events []*eventsapi.Event
	at     []time.Time // when each event came, as the test set now
	now    time.Time
	failed bool
	// killed makes the exporter die once PagerDuty took the next event,
	// before it learns so.
	killed bool
}

func (pd *pagerDuty) send(_ context.Context, _ *routes.Route, ev *eventsapi.Event) eventsapi.Result {
	if pd.failed {
		return eventsapi.Result{Outcome: eventsapi.Failed, Err: errors.New("503 Service Unavailable")}
	}
	pd.events = append(pd.events, ev)
	pd.at = append(pd.at, pd.now)
	if pd.killed {
		pd.killed = false
		panic(errKilled)
	}
	return eventsapi.Result{Outcome: eventsapi.Accepted}
}

// open reports whether the digest of route is open in PagerDuty: its last
// event is a trigger.
func (pd *pagerDuty) open(route string) bool {
	for i := len(pd.events) - 1; i >= 0; i-- {
		if pd.events[i].DedupKey == DedupKeyPrefix+route {
			return pd.events[i].Action == eventsapi.Trigger
		}
	}
	return false
}

// backlogs are the routes' waiting records, as the road would report them.
type backlogs map[string]*road.Waiting

func (b backlogs) waiting(route string) road.Waiting {
	if w := b[route]; w != nil {
		return *w
	}
	return road.Waiting{}
}

var testRoutes = routes.NewRouter("", map[string]string{
	"checkout": "c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0",
	"payments": "p0p0p0p0p0p0p0p0p0p0p0p0p0p0p0p0",
})

// newTestDigests digests the routes of testRoutes at 60 events a minute,
// after 30s, on pd, kept in store (nil: memory).
func newTestDigests(t *testing.T, b backlogs, pd *pagerDuty, store storage.Client) (*Digests, *componenttest.Telemetry) {
	t.Helper()
	tt := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tt.Shutdown(context.Background())) })
	tel, err := telemetry.New(metadatatest.NewSettings(tt).TelemetrySettings, "pagerduty", testRoutes)
	require.NoError(t, err)
	t.Cleanup(tel.Shutdown)
	d := newDigests(Config{After: 30 * time.Second, EventsPerMinute: 60, Source: "collector-1"},
		testRoutes.Queued, b.waiting, pd.send, tel, zap.NewNop(), store)
	require.NoError(t, d.load(context.Background()))
	return d, tt
}

func waitingInfo(n int64) *road.Waiting {
	w := &road.Waiting{Names: []string{"disk full on db-1", "disk full on db-2"}}
	w.Records[routes.PriorityInfo] = n
	return w
}

// TestDigestLifecycle: a route whose waiting events would take longer than
// digest_after to drain gets one digest, at once; it is updated at most once
// a minute while events wait, with their new counts, and resolved once none
// does. A route without a storm never gets one.
func TestDigestLifecycle(t *testing.T) {
	b := backlogs{"checkout": waitingInfo(30)}
	pd := &pagerDuty{}
	d, tt := newTestDigests(t, b, pd, nil)
	ctx := context.Background()
	t0 := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)

	require.NoError(t, d.Tick(ctx, t0))
	assert.Empty(t, pd.events, "30 events drain in 30s at 60/min: no storm")

	b["checkout"] = waitingInfo(300)
	require.NoError(t, d.Tick(ctx, t0.Add(time.Second)))
	require.Len(t, pd.events, 1)
	ev := pd.events[0]
	assert.Equal(t, eventsapi.Trigger, ev.Action)
	assert.Equal(t, "otelcol-pagerduty/storm/checkout", ev.DedupKey)
	assert.Equal(t, "c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0", ev.RoutingKey)
	assert.Equal(t, "Alert storm on checkout: 300 alerts waiting, about 5m0s to deliver at 60/min", ev.Payload.Summary)
	assert.Equal(t, eventsapi.SeverityInfo, ev.Payload.Severity)
	assert.Equal(t, "collector-1", ev.Payload.Source)
	assert.JSONEq(t, `{"waiting":{"critical":0,"error":0,"warning":0,"info":300,"acknowledge_or_resolve":0,"change":0},
		"to_deliver":"5m0s","events_per_minute":60,"first_alerts":["disk full on db-1","disk full on db-2"]}`, details(t, ev))

	// Within the minute, nothing more; a critical alert joins the storm.
	b["checkout"].Records[routes.PriorityCritical] = 1
	require.NoError(t, d.Tick(ctx, t0.Add(59*time.Second)))
	assert.Len(t, pd.events, 1, "updated within the minute")
	require.NoError(t, d.Tick(ctx, t0.Add(61*time.Second)))
	require.Len(t, pd.events, 2)
	assert.Equal(t, eventsapi.Trigger, pd.events[1].Action)
	assert.Equal(t, "otelcol-pagerduty/storm/checkout", pd.events[1].DedupKey, "an update, not a new incident")
	assert.Equal(t, eventsapi.SeverityCritical, pd.events[1].Payload.Severity, "the most urgent waiting event's severity")
	assert.Contains(t, pd.events[1].Payload.Summary, "301 alerts waiting")

	// Drained below the threshold but not empty: still open, still updated.
	b["checkout"] = waitingInfo(5)
	require.NoError(t, d.Tick(ctx, t0.Add(122*time.Second)))
	require.Len(t, pd.events, 3)
	assert.Contains(t, pd.events[2].Payload.Summary, "5 alerts waiting")

	b["checkout"] = waitingInfo(0)
	require.NoError(t, d.Tick(ctx, t0.Add(123*time.Second)))
	require.Len(t, pd.events, 4)
	assert.Equal(t, eventsapi.Resolve, pd.events[3].Action)
	assert.Equal(t, "otelcol-pagerduty/storm/checkout", pd.events[3].DedupKey)
	require.NoError(t, d.Tick(ctx, t0.Add(200*time.Second)))
	assert.Len(t, pd.events, 4, "nothing after the resolve")
	for _, ev := range pd.events {
		assert.NotEqual(t, "otelcol-pagerduty/storm/payments", ev.DedupKey, "a route without a storm got a digest")
	}

	m, err := tt.GetMetric("otelcol_exporter_pagerduty_storm_digests")
	require.NoError(t, err)
	assert.Equal(t, map[string]int64{"checkout/trigger": 3, "checkout/resolve": 1}, digestCounts(m))
}

// TestDigestRetriedAfterAFailure: a digest PagerDuty did not take is sent
// again at the next tick, and counted only once accepted.
func TestDigestRetriedAfterAFailure(t *testing.T) {
	b := backlogs{"payments": waitingInfo(100)}
	pd := &pagerDuty{failed: true}
	d, _ := newTestDigests(t, b, pd, nil)
	ctx := context.Background()
	t0 := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	require.Error(t, d.Tick(ctx, t0))
	assert.Empty(t, d.open, "not open until PagerDuty took it")
	pd.failed = false
	require.NoError(t, d.Tick(ctx, t0.Add(time.Second)))
	assert.True(t, pd.open("payments"))
	b["payments"] = waitingInfo(0)
	pd.failed = true
	require.Error(t, d.Tick(ctx, t0.Add(2*time.Second)))
	assert.True(t, pd.open("payments"))
	pd.failed = false
	require.NoError(t, d.Tick(ctx, t0.Add(3*time.Second)))
	assert.False(t, pd.open("payments"), "the resolve was retried")
}

// TestDigestNeverLeftOpen: without storage, a stop resolves the open
// digests; with storage it leaves them, and the next run resolves a digest
// whose route has drained, or updates one whose route still waits, at its
// first tick.
func TestDigestNeverLeftOpen(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)

	b := backlogs{"checkout": waitingInfo(300)}
	pd := &pagerDuty{}
	d, _ := newTestDigests(t, b, pd, nil)
	require.NoError(t, d.Tick(ctx, t0))
	require.NoError(t, d.Close(ctx))
	assert.False(t, pd.open("checkout"), "left open by a stop without storage")

	store := newMemStore()
	pd = &pagerDuty{}
	b = backlogs{"checkout": waitingInfo(300), "payments": waitingInfo(300)}
	d, _ = newTestDigests(t, b, pd, store)
	require.NoError(t, d.Tick(ctx, t0))
	require.NoError(t, d.Close(ctx))
	assert.True(t, pd.open("checkout"), "kept open across the stop, with storage")
	assert.True(t, pd.open("payments"))

	// The next run: checkout drained while it was down; payments did not.
	b = backlogs{"payments": waitingInfo(200)}
	d, _ = newTestDigests(t, b, pd, store)
	require.NoError(t, d.Tick(ctx, t0.Add(2*time.Minute)))
	assert.False(t, pd.open("checkout"), "resolved at the first tick")
	require.Len(t, pd.events, 4)
	assert.Equal(t, "otelcol-pagerduty/storm/payments", pd.events[3].DedupKey)
	assert.Contains(t, pd.events[3].Payload.Summary, "200 alerts waiting", "updated at the first tick")
	assert.Empty(t, store.data["storm/checkout"], "forgotten once resolved")
}

var errKilled = errors.New("kill -9")

// TestDigestSurvivesAKill: killed between PagerDuty taking the opening
// trigger and anything after it, with storage, the next run knows the
// digest is open, and resolves it once the route has drained.
func TestDigestSurvivesAKill(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	store := newMemStore()
	pd := &pagerDuty{killed: true}
	d, _ := newTestDigests(t, backlogs{"checkout": waitingInfo(300)}, pd, store)
	func() {
		defer func() {
			if p := recover(); p != nil {
				if err, ok := p.(error); !ok || !errors.Is(err, errKilled) {
					panic(p)
				}
			}
		}()
		_ = d.Tick(ctx, t0)
	}()
	require.True(t, pd.open("checkout"), "PagerDuty took the trigger")

	d, _ = newTestDigests(t, backlogs{}, pd, store)
	require.NoError(t, d.Tick(ctx, t0.Add(time.Minute)))
	assert.False(t, pd.open("checkout"), "the digest the killed run opened is left open")
}

func details(t *testing.T, ev *eventsapi.Event) string {
	t.Helper()
	m := map[string]json.RawMessage{}
	for _, d := range ev.Payload.Details {
		m[d.Key] = d.JSON
	}
	b, err := json.Marshal(m)
	require.NoError(t, err)
	return string(b)
}
