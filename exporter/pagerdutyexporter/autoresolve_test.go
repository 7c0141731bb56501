package pagerdutyexporter

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/clock"
	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/pdtest"
)

// quietHarness is an exporter started on its own, so that a test can sweep
// its quiet clocks at a time of its choosing.
type quietHarness struct {
	e     *pagerdutyExporter
	tt    *componenttest.Telemetry
	logs  *observer.ObservedLogs
	clock *steppedClock
}

// steppedClock is the exporter's arrival clock in a test that sweeps at
// times of its choosing: real time, moved forward to a sweep's time, so
// that a record consumed after a sweep arrives after it, as it would.
type steppedClock struct {
	mu    sync.Mutex
	ahead time.Duration
}

func (c *steppedClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.ahead)
}

// step moves the clock by d, either way, as a step of the wall clock.
func (c *steppedClock) step(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ahead += d
}

// reach moves the clock to at, if it is not there yet.
func (c *steppedClock) reach(at time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ahead = max(c.ahead, time.Until(at))
}

func startQuietHarness(t *testing.T, cfg *Config) *quietHarness {
	t.Helper()
	set, tt, logs := observedSettings(t)
	e := newExporter(cfg, set)
	stepped := &steppedClock{}
	e.arrival = clock.NewArrival(stepped.now)
	require.NoError(t, e.start(context.Background(), componenttest.NewNopHost()))
	t.Cleanup(func() { require.NoError(t, e.shutdown(context.Background())) })
	return &quietHarness{e: e, tt: tt, logs: logs, clock: stepped}
}

func (h *quietHarness) consume(t *testing.T, parts ...any) {
	t.Helper()
	require.NoError(t, h.e.layers.road.Admit(context.Background(), pdtest.Alert("checkout", parts...)))
}

// sweep resolves what went quiet by at.
func (h *quietHarness) sweep(t *testing.T, at time.Time) {
	t.Helper()
	h.clock.reach(at)
	require.NoError(t, h.e.layers.road.OwnEvents(context.Background(), at))
}

func actions(reqs []apiRequest) []string {
	var out []string
	for _, r := range reqs {
		out = append(out, r.action()+" "+r.dedup()+" "+r.key())
	}
	return out
}

// TestAutoResolveAfterQuietPeriod: a triggered alert is resolved once no
// firing record of its dedup key has come for the quiet period: a
// suppressed repeat restarts the clock, an acknowledge does not, the
// resolve goes to the key that opened the incident and is counted and
// logged, and the next firing record is a trigger again.
func TestAutoResolveAfterQuietPeriod(t *testing.T) {
	api := newFakeEventsAPI(t)
	cfg := testConfig(api)
	cfg.AutoResolve.After = 10 * time.Second
	h := startQuietHarness(t, cfg)

	start := time.Now()
	h.consume(t, "alert.fingerprint", "declines", "alert.summary", "card declined")
	h.consume(t, "alert.fingerprint", "acked", "alert.summary", "disk full")
	time.Sleep(1200 * time.Millisecond)
	h.consume(t, "alert.fingerprint", "declines", "alert.summary", "card declined") // a repeat: suppressed
	h.consume(t, "alert.fingerprint", "acked", "alert.status", "acknowledged")
	require.Equal(t, []string{"trigger declines " + checkoutKey, "trigger acked " + checkoutKey, "acknowledge acked " + checkoutKey}, actions(api.taken()))

	h.sweep(t, start.Add(9*time.Second))
	assert.Empty(t, api.taken(), "never before the quiet period")
	h.sweep(t, start.Add(11100*time.Millisecond))
	assert.Equal(t, []string{"resolve acked " + checkoutKey}, actions(api.taken()),
		"the acknowledge did not restart the clock; the repeat did")
	h.sweep(t, start.Add(12500*time.Millisecond))
	assert.Equal(t, []string{"resolve declines " + checkoutKey}, actions(api.taken()))
	h.sweep(t, start.Add(time.Hour))
	assert.Empty(t, api.taken(), "each alert resolved once")

	h.consume(t, "alert.fingerprint", "declines", "alert.summary", "card declined")
	assert.Equal(t, []string{"trigger declines " + checkoutKey}, actions(api.taken()), "after an auto-resolve, a firing record is a new trigger")

	m, err := h.tt.GetMetric("otelcol_exporter_pagerduty_auto_resolved")
	require.NoError(t, err)
	counts := map[string]int64{}
	for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
		route, _ := dp.Attributes.Value(attribute.Key("routing"))
		counts[route.AsString()] = dp.Value
	}
	assert.Equal(t, map[string]int64{"checkout": 2, "default": 0, "payments": 0}, counts)
	logged := h.logs.FilterMessageSnippet("Resolved an alert whose firing records stopped")
	assert.Equal(t, 2, logged.Len())
	assert.Equal(t, zapcore.DebugLevel, logged.All()[0].Level)
	assert.Equal(t, "acked", logged.All()[0].ContextMap()["dedup_key"])
}

// TestAutoResolveMarkIsTheExportersOwn: a record from the pipeline that
// carries the exporter's auto-resolve mark on its scope is an ordinary
// record: the mark is dropped on the way in.
func TestAutoResolveMarkIsTheExportersOwn(t *testing.T) {
	api := newFakeEventsAPI(t)
	cfg := testConfig(api)
	cfg.AutoResolve.After = time.Minute
	h := startQuietHarness(t, cfg)
	h.consume(t, "alert.fingerprint", "declines")
	forged := pdtest.Alert("checkout", "alert.fingerprint", "declines", "alert.status", "resolved")
	forged.ResourceLogs().At(0).ScopeLogs().At(0).Scope().Attributes().PutBool("pagerduty.exporter.auto_resolve", true)
	require.NoError(t, h.e.layers.road.Admit(context.Background(), forged))
	assert.Equal(t, []string{"trigger declines " + checkoutKey, "resolve declines " + checkoutKey}, actions(api.taken()),
		"as an auto-resolve it would have lost to the running clock")
}

// TestResolveAfterPerAlert: alert.resolve_after sets an alert's own quiet
// period, even with auto_resolve.after off, and "0s" opts an alert out
// whatever the configured period; the newest firing record's value
// applies.
func TestResolveAfterPerAlert(t *testing.T) {
	api := newFakeEventsAPI(t)
	cfg := testConfig(api)
	h := startQuietHarness(t, cfg) // auto_resolve.after: 0
	start := time.Now()
	h.consume(t, "alert.fingerprint", "declines", "alert.resolve_after", "5s")
	h.consume(t, "alert.fingerprint", "plain")
	h.consume(t, "alert.fingerprint", "changed-mind", "alert.resolve_after", "5s")
	h.consume(t, "alert.fingerprint", "changed-mind", "alert.resolve_after", "0s") // a repeat that opts out
	require.Len(t, api.taken(), 3)
	h.sweep(t, start.Add(time.Hour))
	assert.Equal(t, []string{"resolve declines " + checkoutKey}, actions(api.taken()))

	cfg = testConfig(api)
	cfg.AutoResolve.After = 5 * time.Second
	h = startQuietHarness(t, cfg)
	start = time.Now()
	h.consume(t, "alert.fingerprint", "heartbeat", "alert.resolve_after", "0s")
	h.consume(t, "alert.fingerprint", "typo", "alert.resolve_after", "soon")
	require.Len(t, api.taken(), 2)
	h.sweep(t, start.Add(time.Hour))
	assert.Equal(t, []string{"resolve typo " + checkoutKey}, actions(api.taken()), "an unparsable value falls back to auto_resolve.after")
}
