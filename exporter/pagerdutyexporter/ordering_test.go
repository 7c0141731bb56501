package pagerdutyexporter

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/pdtest"
)

// startBehindABlocker starts an exporter with one consumer per queue whose
// Events API holds the event of the alert "blocker" until release is
// closed, so that the records queued behind it wait.
func startBehindABlocker(t *testing.T, dedup func(*DedupConfig)) (*fakeEventsAPI, *harness, chan struct{}) {
	t.Helper()
	api := newFakeEventsAPI(t)
	release := make(chan struct{})
	api.respond = func(req apiRequest) (int, http.Header, string) {
		if req.dedup() == "blocker" {
			<-release
		}
		return http.StatusAccepted, nil, ""
	}
	cfg := testConfig(api)
	dedup(&cfg.Dedup)
	queue := exporterhelper.NewDefaultQueueConfig()
	queue.NumConsumers = 1
	cfg.QueueConfig = configoptional.Some(queue)
	return api, startExporter(t, cfg), release
}

// triggerBehindTheBlocker queues the alert "blocker", waits until the Events
// API holds its event, then queues a trigger of alert "x" behind it; attrs
// are more attributes of both.
func triggerBehindTheBlocker(t *testing.T, api *fakeEventsAPI, h *harness, attrs ...any) {
	t.Helper()
	ctx := context.Background()
	require.NoError(t, h.exp.ConsumeLogs(ctx, pdtest.Alert("checkout", append([]any{"alert.fingerprint", "blocker"}, attrs...)...)))
	require.Eventually(t, func() bool { return len(api.requestsSoFar()) == 1 }, 5*time.Second, 10*time.Millisecond)
	require.NoError(t, h.exp.ConsumeLogs(ctx, pdtest.Alert("checkout", append([]any{"alert.fingerprint", "x"}, attrs...)...)))
}

// laterRecordOfX is a record of alert "x" with status, a second younger than
// its trigger.
func laterRecordOfX(status string) plog.Logs {
	ld := pdtest.Alert("checkout", "alert.fingerprint", "x", "alert.status", status)
	ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).SetTimestamp(
		pcommon.NewTimestampFromTime(time.Date(2026, 11, 28, 12, 0, 1, 0, time.UTC)))
	return ld
}

// takenActions takes the events the Events API received, as "action dedup_key".
func takenActions(api *fakeEventsAPI) []string {
	var got []string
	for _, r := range api.taken() {
		got = append(got, r.action()+" "+r.dedup())
	}
	return got
}

// TestNewestIntentWinsWithATinyCache: a trigger queued behind a backlog and
// the resolve sent right after it, which overtakes it through its own
// queue, end resolved, even with a cache that forgets at once (ttl 1ns) or
// holds one entry: the trigger's dedup key keeps its ordering state until
// the trigger settles.
func TestNewestIntentWinsWithATinyCache(t *testing.T) {
	for _, tc := range []struct {
		name  string
		dedup func(*DedupConfig)
	}{
		{"ttl 1ns", func(d *DedupConfig) { d.TTL = time.Nanosecond }},
		{"max_entries 1", func(d *DedupConfig) { d.MaxEntries = 1 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			api, h, release := startBehindABlocker(t, tc.dedup)
			triggerBehindTheBlocker(t, api, h, "alert.summary", "down")
			require.NoError(t, h.exp.ConsumeLogs(context.Background(), laterRecordOfX("resolved")))
			require.Eventually(t, func() bool { return len(api.requestsSoFar()) == 2 }, 5*time.Second, 10*time.Millisecond, "the resolve overtakes")
			close(release)
			require.Eventually(t, func() bool {
				m, err := h.tt.GetMetric("otelcol_exporter_pagerduty_suppressed")
				return err == nil && sumByAttrs(m)["trigger/stale"] == 1
			}, 5*time.Second, 10*time.Millisecond, "the older trigger of x settles, stale")
			assert.Equal(t, []string{"trigger blocker", "resolve x"}, takenActions(api), "x stays resolved")
		})
	}
}

// TestPinsAreLetGo: every record pinned on its way in lets go of its pin
// when it settles: sent, refused, failed in a request the pipeline gets
// back, or retried until the retry sender gave up.
func TestPinsAreLetGo(t *testing.T) {
	api := newFakeEventsAPI(t)
	api.respond = func(req apiRequest) (int, http.Header, string) {
		switch req.dedup() {
		case "refused":
			return http.StatusBadRequest, nil, `{"status":"invalid event","errors":["bad"]}`
		case "failing":
			return http.StatusServiceUnavailable, nil, ""
		}
		return http.StatusAccepted, nil, ""
	}
	ctx := context.Background()
	h := startQuietHarness(t, testConfig(api)) // no queue: a failed request goes back to the pipeline
	require.NoError(t, h.e.layers.road.Admit(ctx, pdtest.Batch(
		pdtest.Alert("checkout", "alert.fingerprint", "sent"),
		pdtest.Alert("checkout", "alert.fingerprint", "refused"),
		pdtest.Alert("checkout", "alert.fingerprint", "sent", "alert.status", "resolved"),
	)))
	require.Error(t, h.e.layers.road.Admit(ctx, pdtest.Alert("checkout", "alert.fingerprint", "failing")))
	assert.Zero(t, h.e.layers.state.cache.Stats().Pinned)

	cfg := testConfig(api)
	cfg.QueueConfig = configoptional.Some(exporterhelper.NewDefaultQueueConfig())
	cfg.BackOffConfig.Enabled = true
	cfg.BackOffConfig.InitialInterval = 10 * time.Millisecond
	cfg.BackOffConfig.MaxInterval = 10 * time.Millisecond
	cfg.BackOffConfig.MaxElapsedTime = 100 * time.Millisecond
	h = startQuietHarness(t, cfg)
	require.NoError(t, h.e.layers.road.Admit(ctx, pdtest.Alert("checkout", "alert.fingerprint", "failing")))
	assert.Equal(t, 1, h.e.layers.state.cache.Stats().Pinned, "queued, then retried: pending")
	require.Eventually(t, func() bool {
		h.e.layers.road.ObserveBacklog(time.Now(), func(string, int64) {})
		return h.e.layers.state.cache.Stats().Pinned == 0
	}, 5*time.Second, 20*time.Millisecond, "let go once the retry sender gave up")
}

// TestAcknowledgeWaitsForItsTrigger: an acknowledge sent while its alert's
// trigger still waits behind a backlog follows the trigger's queue instead
// of overtaking it through its own: PagerDuty would drop an acknowledge
// that comes before the incident exists, and the incident would stay
// triggered. A resolve may overtake: it leaves a tombstone the trigger
// finds stale.
func TestAcknowledgeWaitsForItsTrigger(t *testing.T) {
	api, h, release := startBehindABlocker(t, func(*DedupConfig) {})
	triggerBehindTheBlocker(t, api, h, "alert.severity", "info")
	require.NoError(t, h.exp.ConsumeLogs(context.Background(), laterRecordOfX("acknowledged")))
	time.Sleep(200 * time.Millisecond)
	assert.Len(t, api.requestsSoFar(), 1, "the acknowledge waits behind its trigger")
	close(release)
	require.Eventually(t, func() bool { return len(api.requestsSoFar()) == 3 }, 5*time.Second, 10*time.Millisecond)
	assert.Equal(t, []string{"trigger blocker", "trigger x", "acknowledge x"}, takenActions(api))
}
