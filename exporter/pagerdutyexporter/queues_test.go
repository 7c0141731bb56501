package pagerdutyexporter

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/eventsapi"
	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/metadata"
)

func TestPriorityOf(t *testing.T) {
	tests := []struct {
		action   eventsapi.Action
		severity string
		want     priority
	}{
		{eventsapi.Trigger, eventsapi.SeverityCritical, priorityCritical},
		{eventsapi.Trigger, eventsapi.SeverityError, priorityError},
		{eventsapi.Trigger, eventsapi.SeverityWarning, priorityWarning},
		{eventsapi.Trigger, eventsapi.SeverityInfo, priorityInfo},
		{eventsapi.Acknowledge, eventsapi.SeverityInfo, priorityAckResolve},
		{eventsapi.Resolve, eventsapi.SeverityCritical, priorityAckResolve},
		{eventsapi.Change, "", priorityChange},
	}
	for _, tc := range tests {
		ev := &eventsapi.Event{Action: tc.action, Payload: eventsapi.Payload{Severity: tc.severity}}
		assert.Equal(t, tc.want, priorityOf(ev), "%s %s", tc.action, tc.severity)
	}
	// Most urgent first, in the order the README gives.
	assert.Equal(t, [numPriorities]string{"critical", "ack_resolve", "error", "warning", "info", "change"}, priorityNames)
}

func TestQueueID(t *testing.T) {
	plain := component.NewID(metadata.Type)
	named := component.NewIDWithName(metadata.Type, "eu")
	assert.Equal(t, "pagerduty/checkout/critical", queueID(plain, "checkout", priorityCritical).String())
	assert.Equal(t, "pagerduty/eu/default/info", queueID(named, "default", priorityInfo).String())
	// Route names are escaped: distinct routes never share a queue, nor a
	// storage file.
	assert.Equal(t, "pagerduty/a%20b%2Fc/error", queueID(plain, "a b/c", priorityError).String())
	assert.NotEqual(t, queueID(plain, "a b", priorityError), queueID(plain, "a_b", priorityError))
	assert.NotEqual(t, queueID(plain, "a%20b", priorityError), queueID(plain, "a b", priorityError))
}

func TestBacklogSettlesWhatTheRetrySenderGaveUp(t *testing.T) {
	b := newBacklog([]string{"checkout", "default"}, time.Minute)
	now := time.Unix(1_700_000_000, 0)
	observe := func(at time.Time) map[string]int64 {
		got := map[string]int64{}
		b.observe(at, func(route string, n int64) { got[route] = n })
		return got
	}
	b.add("checkout", 5)
	assert.Equal(t, map[string]int64{"checkout": 5, "default": 0}, observe(now))

	// Two settled; three handed back for a retry.
	b.settle("checkout", 2)
	held := plog.NewLogs()
	lrs := held.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords()
	for range 3 {
		lrs.AppendEmpty()
	}
	b.retrying(held, "checkout", now)
	assert.Equal(t, int64(3), observe(now.Add(time.Minute))["checkout"], "still within the retry window")

	// Taken back by the retry sender: no longer a candidate to give up.
	b.taken(held)
	assert.Equal(t, int64(3), observe(now.Add(time.Hour))["checkout"])

	// Handed back again and never seen since: given up.
	b.retrying(held, "checkout", now)
	assert.Equal(t, int64(0), observe(now.Add(time.Minute + time.Second))["checkout"])
	// Reported never below zero, whatever is settled.
	b.settle("default", 7)
	assert.Equal(t, int64(0), observe(now)["default"])
}

// TestBacklogCountsRecordsSettledBeforeTheirAdmission: a consumer may settle
// records before admission adds them; once added, they are no longer held,
// and the count is back where it was, instead of creeping up for good.
func TestBacklogCountsRecordsSettledBeforeTheirAdmission(t *testing.T) {
	b := newBacklog([]string{"checkout", "payments"}, 0)
	observe := func() map[string]int64 {
		got := map[string]int64{}
		b.observe(time.Now(), func(route string, n int64) { got[route] = n })
		return got
	}
	b.add("payments", 4)
	b.settle("checkout", 3) // a fast consumer, before the add
	assert.Equal(t, map[string]int64{"checkout": 0, "payments": 4}, observe(), "reported as zero meanwhile; other routes unchanged")
	b.add("checkout", 3)
	assert.Equal(t, map[string]int64{"checkout": 0, "payments": 4}, observe(), "settled and added: nothing held")
	b.add("checkout", 2)
	assert.Equal(t, int64(2), observe()["checkout"])
	b.settle("checkout", 2)
	assert.Equal(t, int64(0), observe()["checkout"])
}

// TestBacklogDoesNotDriftWithoutAQueue: without a sending queue, a request
// is pushed, and settled, within the enqueue that then adds it; the gauge
// must read zero once every event was accepted, request after request.
func TestBacklogDoesNotDriftWithoutAQueue(t *testing.T) {
	api := newFakeEventsAPI(t)
	h := startExporter(t, testConfig(api)) // no sending queue: pushes are synchronous
	ctx := context.Background()
	for i := range 3 {
		require.NoError(t, h.exp.ConsumeLogs(ctx, batch(
			alert("checkout", "alert.fingerprint", fmt.Sprint("a-", i), "alert.severity", "critical"),
			alert("checkout", "alert.fingerprint", fmt.Sprint("b-", i), "alert.severity", "info"),
		)))
	}
	require.Len(t, api.taken(), 6, "every event accepted")
	m, err := h.tt.GetMetric("otelcol_exporter_pagerduty_backlog")
	require.NoError(t, err)
	got := map[string]int64{}
	for _, dp := range m.Data.(metricdata.Gauge[int64]).DataPoints {
		route, _ := dp.Attributes.Value("routing")
		got[route.AsString()] = dp.Value
	}
	assert.Equal(t, map[string]int64{"checkout": 0, "default": 0, "payments": 0}, got)
}

// TestBacklogAndTimeToPage: with the sending queue on, records waiting for
// a slow API show as their route's backlog, and each accepted event records
// its wait by route and priority.
func TestBacklogAndTimeToPage(t *testing.T) {
	api := newFakeEventsAPI(t)
	release := make(chan struct{})
	api.respond = func(apiRequest) (int, http.Header, string) {
		<-release
		return http.StatusAccepted, nil, ""
	}
	cfg := testConfig(api)
	queue := exporterhelper.NewDefaultQueueConfig()
	queue.NumConsumers = 1
	cfg.QueueConfig = configoptional.Some(queue)
	h := startExporter(t, cfg)
	ctx := context.Background()
	require.NoError(t, h.exp.ConsumeLogs(ctx, batch(
		alert("checkout", "alert.fingerprint", "a", "alert.severity", "critical"),
		alert("checkout", "alert.fingerprint", "b", "alert.severity", "critical"),
		alert("checkout", "alert.fingerprint", "c", "alert.severity", "info"),
	)))
	backlog := func() map[string]int64 {
		m, err := h.tt.GetMetric("otelcol_exporter_pagerduty_backlog")
		require.NoError(t, err)
		got := map[string]int64{}
		for _, dp := range m.Data.(metricdata.Gauge[int64]).DataPoints {
			route, _ := dp.Attributes.Value("routing")
			got[route.AsString()] = dp.Value
		}
		return got
	}
	assert.Equal(t, map[string]int64{"checkout": 3, "default": 0, "payments": 0}, backlog())

	close(release)
	require.Eventually(t, func() bool { return backlog()["checkout"] == 0 }, 5*time.Second, 10*time.Millisecond)
	m, err := h.tt.GetMetric("otelcol_exporter_pagerduty_event_wait")
	require.NoError(t, err)
	counts := map[string]uint64{}
	for _, dp := range m.Data.(metricdata.Histogram[float64]).DataPoints {
		route, _ := dp.Attributes.Value("routing")
		p, _ := dp.Attributes.Value("priority")
		counts[route.AsString()+"/"+p.AsString()] += dp.Count
	}
	assert.Equal(t, map[string]uint64{"checkout/critical": 2, "checkout/info": 1}, counts)
}

// TestStoppedDeliveryHandsRecordsBack: once shutdown stops delivery, a push
// sends nothing and hands every record back, counted for the shutdown's log
// line.
func TestStoppedDeliveryHandsRecordsBack(t *testing.T) {
	api := newFakeEventsAPI(t)
	cfg := testConfig(api)
	e, err := newExporter(context.Background(), cfg, newSettings(t))
	require.NoError(t, err)
	defer e.tel.tb.Shutdown()
	e.stopNow()
	err = e.flow.deliver(queueKey{"checkout", priorityError})(context.Background(), batch(
		alert("checkout", "alert.fingerprint", "a"),
		alert("checkout", "alert.fingerprint", "b"),
	))
	require.ErrorIs(t, err, errShuttingDown)
	assert.Empty(t, api.taken(), "nothing was sent")
	assert.Equal(t, int64(2), e.exit.unsentAtStop.Load())
}

// TestRepeatsAreSettledOnArrival: with the sending queue on, repeats of an
// alert PagerDuty already has are suppressed within ConsumeLogs, before any
// queue: they cost no copy and never wait behind the queue's backlog.
func TestRepeatsAreSettledOnArrival(t *testing.T) {
	api := newFakeEventsAPI(t)
	cfg := testConfig(api)
	cfg.QueueConfig = configoptional.Some(exporterhelper.NewDefaultQueueConfig())
	h := startExporter(t, cfg)
	ctx := context.Background()
	queued := func() int64 {
		sent, err := h.tt.GetMetric("otelcol_exporter_sent_log_records")
		if err != nil {
			return 0
		}
		var n int64
		for _, dp := range sent.Data.(metricdata.Sum[int64]).DataPoints {
			n += dp.Value
		}
		return n
	}
	require.NoError(t, h.exp.ConsumeLogs(ctx, alert("checkout", "alert.fingerprint", "x")))
	// Until its push returns, the first trigger holds its dedup key's turn.
	require.Eventually(t, func() bool { return queued() == 1 }, 5*time.Second, 10*time.Millisecond)
	require.Len(t, api.requestsSoFar(), 1)

	require.NoError(t, h.exp.ConsumeLogs(ctx, batch(
		alert("checkout", "alert.fingerprint", "x"),
		alert("checkout", "alert.fingerprint", "x"),
		alert("checkout", "alert.fingerprint", "x"),
	)))
	// No waiting: the count is there when ConsumeLogs returns.
	m, err := h.tt.GetMetric("otelcol_exporter_pagerduty_suppressed")
	require.NoError(t, err)
	assert.Equal(t, int64(3), sumByAttrs(m)["trigger/duplicate"])
	assert.Equal(t, int64(1), queued(), "only the first record went through a queue")
}

// TestBacklogForgetsGivenUpRequestsWithoutAReader: with no metric reader,
// a request handed back and never taken again is still let go, with its
// records, once the next request is handed back after the give-up time.
func TestBacklogForgetsGivenUpRequestsWithoutAReader(t *testing.T) {
	b := newBacklog([]string{"checkout"}, time.Minute)
	now := time.Unix(1_700_000_000, 0)
	b.add("checkout", 2)
	first, second := plog.NewLogs(), plog.NewLogs()
	first.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
	second.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
	b.retrying(first, "checkout", now)
	b.retrying(second, "checkout", now.Add(2*time.Minute))
	b.mu.Lock()
	defer b.mu.Unlock()
	assert.Len(t, b.retries, 1, "the first request was given up")
	assert.Equal(t, int64(1), b.records["checkout"])
}
