package e2etest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-pagerduty/pagerduty/internal/pdsimapi"
)

// scrape is a trimmed exposition of the collector's own metrics: a counter
// with labels, a histogram, a gauge with a _total twin.
const scrape = `# HELP otelcol_exporter_pagerduty_events Events handed to the Events API.
# TYPE otelcol_exporter_pagerduty_events counter
otelcol_exporter_pagerduty_events{event_action="trigger",outcome="accepted",routing="checkout"} 3
otelcol_exporter_pagerduty_events{event_action="trigger",outcome="failed",routing="checkout"} 2
otelcol_exporter_pagerduty_events{event_action="resolve",outcome="accepted",routing="payments"} 1
# HELP otelcol_exporter_pagerduty_request_duration Duration of Events API requests.
# TYPE otelcol_exporter_pagerduty_request_duration histogram
otelcol_exporter_pagerduty_request_duration_bucket{endpoint="/v2/enqueue",le="0.1"} 4
otelcol_exporter_pagerduty_request_duration_bucket{endpoint="/v2/enqueue",le="+Inf"} 6
otelcol_exporter_pagerduty_request_duration_sum{endpoint="/v2/enqueue"} 0.75
otelcol_exporter_pagerduty_request_duration_count{endpoint="/v2/enqueue"} 6
# TYPE otelcol_exporter_queue_size gauge
otelcol_exporter_queue_size{exporter="pagerduty"} 0.5
# TYPE otelcol_exporter_queue_size_total counter
otelcol_exporter_queue_size_total{exporter="pagerduty"} 2
`

func TestParseExposition(t *testing.T) {
	e, err := ParseExposition(strings.NewReader(scrape))
	require.NoError(t, err)

	assert.Equal(t, map[string]string{
		"otelcol_exporter_pagerduty_events":           "counter",
		"otelcol_exporter_pagerduty_request_duration": "histogram",
		"otelcol_exporter_queue_size":                 "gauge",
		"otelcol_exporter_queue_size_total":           "counter",
	}, e.Types)
	// A histogram is its _bucket, _sum and _count series.
	assert.Equal(t, map[string]bool{"endpoint": true, "le": true}, e.Labels["otelcol_exporter_pagerduty_request_duration_bucket"])
	assert.Equal(t, map[string]bool{"endpoint": true}, e.Labels["otelcol_exporter_pagerduty_request_duration_count"])
	assert.NotContains(t, e.Labels, "otelcol_exporter_pagerduty_request_duration")
	assert.Equal(t, map[string]bool{"event_action": true, "outcome": true, "routing": true}, e.Labels["otelcol_exporter_pagerduty_events"])

	assert.InDelta(t, 6, e.Sum("otelcol_exporter_pagerduty_events"), 0)
	assert.InDelta(t, 4, e.Sum("otelcol_exporter_pagerduty_events", "outcome=accepted"), 0)
	assert.InDelta(t, 3, e.Sum("otelcol_exporter_pagerduty_events", "outcome=accepted", "routing=checkout"), 0)
	assert.Zero(t, e.Sum("otelcol_exporter_pagerduty_events", "routing=search"))
	assert.Zero(t, e.Sum("otelcol_exporter_pagerduty_events", "reason=duplicate"), "a label the series lack")
	assert.InDelta(t, 6, e.Sum("otelcol_exporter_pagerduty_request_duration_count"), 0)
	assert.InDelta(t, 0.75, e.Sum("otelcol_exporter_pagerduty_request_duration_sum"), 0)
}

func TestParseExpositionRejectsMalformed(t *testing.T) {
	for _, bad := range []string{
		"metric{a=\"1\" 2\n",             // unterminated label set
		"metric{a=\"1\"} not-a-number\n", // value
	} {
		_, err := ParseExposition(strings.NewReader(bad))
		assert.Error(t, err, "%q", bad)
	}
}

func TestCollectorMetricAndCount(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/metrics" {
			http.NotFound(w, r)
			return
		}
		_, _ = io.WriteString(w, scrape)
	}))
	defer srv.Close()
	c := &Collector{MetricsURL: srv.URL + "/metrics"}

	assert.InDelta(t, 5, c.Metric(t, "otelcol_exporter_pagerduty_events", "routing=checkout"), 0)
	assert.Equal(t, 5, c.Count(t, "otelcol_exporter_pagerduty_events", "routing=checkout"))
	assert.Equal(t, 1, c.Count(t, "otelcol_exporter_pagerduty_events", "event_action=resolve"))
	// A _total twin is counted with the series itself.
	assert.InDelta(t, 2.5, c.Metric(t, "otelcol_exporter_queue_size", "exporter=pagerduty"), 0)

	// Count refuses a fraction: 0.5 is no count of things.
	ft := &fatalRecorder{TB: t}
	func() {
		defer func() { _ = recover() }()
		c.Count(ft, "otelcol_exporter_queue_size", "exporter=pagerduty")
	}()
	assert.Contains(t, ft.fatal, "not a count")
}

// fatalRecorder records a Fatalf, then unwinds with a panic instead of
// ending the test.
type fatalRecorder struct {
	testing.TB
	fatal string
}

func (f *fatalRecorder) Fatalf(format string, args ...any) {
	f.fatal = fmt.Sprintf(format, args...)
	panic(f.fatal)
}

// fakeSim answers /incidents with the events posted so far and /control
// with 200, as pdsim does.
func fakeSim(t *testing.T) (*Simulator, *atomic.Int32) {
	t.Helper()
	var triggers atomic.Int32
	var controls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/incidents":
			n := int(triggers.Add(1)) // one more trigger each time we look
			snap := pdsimapi.Snapshot{Requests: RequestStats{Total: n}}
			for i := range n {
				snap.Events = append(snap.Events, Event{Action: "trigger", Applied: true, DedupKey: "k"})
				if i == 0 {
					snap.Incidents = append(snap.Incidents, Incident{DedupKey: "k", State: "triggered"})
				}
			}
			snap.Events = append(snap.Events, Event{Action: "resolve", Note: "no open incident", DedupKey: "other"})
			_ = json.NewEncoder(w).Encode(snap)
		case "/control":
			var update map[string]any
			if err := json.NewDecoder(r.Body).Decode(&update); err != nil || update["fail_rate"] == nil {
				http.Error(w, "bad control", http.StatusBadRequest)
				return
			}
			controls.Add(1)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return &Simulator{URL: srv.URL}, &controls
}

func TestSimulatorSnapshotAndWait(t *testing.T) {
	sim, controls := fakeSim(t)

	s := sim.Snapshot(t)
	assert.True(t, s.Has("k"))
	assert.False(t, s.Has("k", "missing"))
	assert.Len(t, s.IncidentsFor("k"), 1)
	assert.Equal(t, []string{"trigger"}, Actions(s.EventsFor("k")))
	assert.Equal(t, []string{"resolve (dropped: no open incident)"}, Actions(s.EventsFor("other")))
	assert.Equal(t, 1, s.CountActions("resolve"))
	assert.Contains(t, s.String(), `"dedup_key": "k"`, "String indents the raw body")

	start := time.Now()
	s = sim.WaitFor(t, "three triggers", func(s Snapshot) bool { return s.CountActions("trigger") >= 3 })
	assert.Equal(t, 3, s.CountActions("trigger"))
	assert.Less(t, time.Since(start), LandTimeout)

	sim.Control(t, map[string]any{"fail_rate": 0})
	assert.Equal(t, int32(1), controls.Load())

	u, err := url.Parse(sim.URL)
	require.NoError(t, err)
	assert.Equal(t, u.Port(), sim.Port())
}

func TestPayload(t *testing.T) {
	ld := NewPayload().
		Service("checkout").Add(Alert{Fingerprint: "fp", Status: "firing", Attrs: map[string]any{"n": 1.5}}).
		Resource(map[string]string{"service.name": "search", "host.name": "search-01"}).Add(Alert{EventType: "change", Summary: "deploy"}).
		Logs()
	require.Equal(t, 2, ld.ResourceLogs().Len())

	first := ld.ResourceLogs().At(0)
	assert.Equal(t, map[string]any{"service.name": "checkout", "host.name": "checkout-host"}, first.Resource().Attributes().AsRaw())
	rec := first.ScopeLogs().At(0).LogRecords().At(0)
	assert.Equal(t, map[string]any{"alert.fingerprint": "fp", "alert.status": "firing", "n": 1.5}, rec.Attributes().AsRaw())
	assert.NotZero(t, rec.Timestamp())
	assert.NotZero(t, rec.ObservedTimestamp())

	second := ld.ResourceLogs().At(1)
	assert.Equal(t, map[string]any{"service.name": "search", "host.name": "search-01"}, second.Resource().Attributes().AsRaw())
	assert.Equal(t, map[string]any{"pagerduty.event_type": "change", "alert.summary": "deploy"},
		second.ScopeLogs().At(0).LogRecords().At(0).Attributes().AsRaw())

	WithoutTimestamps(ld)
	assert.Zero(t, rec.Timestamp())
	assert.Zero(t, rec.ObservedTimestamp())
}

func TestRepoRootAndBinary(t *testing.T) {
	root := RepoRoot(t)
	assert.FileExists(t, root+"/builder-config.yaml")
	t.Setenv("E2ETEST_TEST_BIN", "/bin/sh")
	assert.Equal(t, "/bin/sh", Binary(t, "E2ETEST_TEST_BIN", "_build/none", "n/a"))
}

func TestEventuallyAndConsistently(t *testing.T) {
	n := 0
	Eventually(t, time.Second, func() bool { n++; return n == 3 }, "the third look")
	assert.Equal(t, 3, n)

	looks := 0
	Consistently(t, 3*PollInterval, func() bool { looks++; return true }, "always")
	assert.GreaterOrEqual(t, looks, 3)
}

// TestCollectorStatus reads a status tree in healthcheckv2's verbose shape.
func TestCollectorStatus(t *testing.T) {
	const body = `{"start_time":"2026-11-28T12:00:00Z","healthy":false,"status":"StatusRecoverableError","error":"down","status_time":"2026-11-28T12:00:03Z",` +
		`"components":{"pipeline:logs":{"healthy":false,"status":"StatusRecoverableError","error":"down","status_time":"2026-11-28T12:00:03Z",` +
		`"components":{"exporter:pagerduty":{"healthy":false,"status":"StatusRecoverableError","error":"down","status_time":"2026-11-28T12:00:03Z","attributes":{}},` +
		`"receiver:otlp":{"healthy":true,"status":"StatusOK","status_time":"2026-11-28T12:00:00Z"}}}}}`
	var query atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		query.Store(r.URL.RawQuery)
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	c := &Collector{StatusURL: srv.URL + "/status"}

	code, root := c.Status(t)
	assert.Equal(t, http.StatusInternalServerError, code)
	assert.Equal(t, "verbose", query.Load())
	assert.False(t, root.Healthy)
	exp := root.Find("pipeline:logs", "exporter:pagerduty")
	require.NotNil(t, exp)
	assert.Equal(t, "StatusRecoverableError", exp.Status)
	assert.Equal(t, "down", exp.Error)
	assert.Equal(t, time.Date(2026, 11, 28, 12, 0, 3, 0, time.UTC), exp.Time)
	assert.True(t, root.Find("pipeline:logs", "receiver:otlp").Healthy)
	assert.Nil(t, root.Find("pipeline:traces", "exporter:pagerduty"))
	assert.Same(t, root, root.Find())

	srv.Close()
	_, _, err := c.FetchStatus()
	assert.Error(t, err)
}
