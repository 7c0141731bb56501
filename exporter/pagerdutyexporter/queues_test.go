package pagerdutyexporter

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/pdtest"
)

// TestBacklogDoesNotDriftWithoutAQueue: without a sending queue, a request
// is pushed, and settled, within the enqueue that then adds it; the gauge
// must read zero once every event was accepted, request after request.
func TestBacklogDoesNotDriftWithoutAQueue(t *testing.T) {
	api := newFakeEventsAPI(t)
	h := startExporter(t, testConfig(api)) // no sending queue: pushes are synchronous
	ctx := context.Background()
	for i := range 3 {
		require.NoError(t, h.exp.ConsumeLogs(ctx, pdtest.Batch(
			pdtest.Alert("checkout", "alert.fingerprint", fmt.Sprint("a-", i), "alert.severity", "critical"),
			pdtest.Alert("checkout", "alert.fingerprint", fmt.Sprint("b-", i), "alert.severity", "info"),
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
	require.NoError(t, h.exp.ConsumeLogs(ctx, pdtest.Batch(
		pdtest.Alert("checkout", "alert.fingerprint", "a", "alert.severity", "critical"),
		pdtest.Alert("checkout", "alert.fingerprint", "b", "alert.severity", "critical"),
		pdtest.Alert("checkout", "alert.fingerprint", "c", "alert.severity", "info"),
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
	require.NoError(t, h.exp.ConsumeLogs(ctx, pdtest.Alert("checkout", "alert.fingerprint", "x")))
	// Until its push returns, the first trigger holds its dedup key's turn.
	require.Eventually(t, func() bool { return queued() == 1 }, 5*time.Second, 10*time.Millisecond)
	require.Len(t, api.requestsSoFar(), 1)

	require.NoError(t, h.exp.ConsumeLogs(ctx, pdtest.Batch(
		pdtest.Alert("checkout", "alert.fingerprint", "x"),
		pdtest.Alert("checkout", "alert.fingerprint", "x"),
		pdtest.Alert("checkout", "alert.fingerprint", "x"),
	)))
	// No waiting: the count is there when ConsumeLogs returns.
	m, err := h.tt.GetMetric("otelcol_exporter_pagerduty_suppressed")
	require.NoError(t, err)
	assert.Equal(t, int64(3), sumByAttrs(m)["trigger/duplicate"])
	assert.Equal(t, int64(1), queued(), "only the first record went through a queue")
}
