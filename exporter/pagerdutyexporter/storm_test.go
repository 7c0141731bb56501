package pagerdutyexporter

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/pdtest"
)

// TestStormDigestOnTheWiredExporter: with storm.digest_after, the ticker's
// digest job sends a route's digest while its alerts wait in its queue,
// ahead of them, and resolves it once they are delivered; without storage,
// a stop resolves a digest still open.
func TestStormDigestOnTheWiredExporter(t *testing.T) {
	api := newFakeEventsAPI(t)
	release := make(chan struct{})
	api.respond = func(req apiRequest) (int, http.Header, string) {
		if !strings.HasPrefix(req.dedup(), "otelcol-pagerduty/storm/") {
			<-release // the storm's alerts wait until the test lets them go
		}
		return http.StatusAccepted, nil, ""
	}
	cfg := testConfig(api)
	cfg.RateLimit = RateLimitConfig{EventsPerMinute: 120, Burst: 1}
	cfg.Storm.DigestAfter = time.Second
	queue := exporterhelper.NewDefaultQueueConfig()
	queue.NumConsumers = 1
	cfg.QueueConfig = configoptional.Some(queue)
	set, _, _ := observedSettings(t)
	e := newExporter(cfg, set)
	e.background = false // the test ticks
	ctx := context.Background()
	require.NoError(t, e.start(ctx, componenttest.NewNopHost()))
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			close(release)
			require.NoError(t, e.shutdown(ctx))
		}
	})

	var alerts []plog.Logs
	for i := range 6 {
		alerts = append(alerts, pdtest.Alert("checkout", "alert.fingerprint", fmt.Sprint("storm-", i), "alert.severity", "warning"))
	}
	require.NoError(t, e.consume(ctx, pdtest.Batch(alerts...)))
	require.NoError(t, e.layers.digests.Tick(ctx, e.arrival.Now()))
	digests := func() []apiRequest {
		var out []apiRequest
		for _, r := range api.requestsSoFar() {
			if strings.HasPrefix(r.dedup(), "otelcol-pagerduty/storm/") {
				out = append(out, r)
			}
		}
		return out
	}
	got := digests()
	require.Len(t, got, 1, "one digest while 6 alerts wait at 120 a minute, 3s to drain")
	assert.Equal(t, "trigger", got[0].action())
	assert.Equal(t, "otelcol-pagerduty/storm/checkout", got[0].dedup())
	assert.Equal(t, checkoutKey, got[0].key())
	assert.Equal(t, "warning", got[0].payload("severity"))
	assert.Regexp(t, `^Alert storm on checkout: 6 alerts waiting, about 3s to deliver at 120/min$`, got[0].payload("summary"))

	// Stopped with the digest open and no storage: the stop resolves it.
	close(release)
	stopped = true
	require.NoError(t, e.shutdown(ctx))
	got = digests()
	require.Len(t, got, 2)
	assert.Equal(t, "resolve", got[1].action())
	assert.Equal(t, "otelcol-pagerduty/storm/checkout", got[1].dedup())
}
