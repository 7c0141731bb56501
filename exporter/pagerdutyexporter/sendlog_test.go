package pagerdutyexporter

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/eventsapi"
	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/pdtest"
)

// TestSendLogSurvivesRestart: with storage, the send times of the last
// minute outlive the exporter, so that the next one's limiter makes the
// 11th event of a 10-a-minute key wait instead of sending a second burst; a
// save while running also counts, a tick ahead, what the limiter could
// still let out before the next save. The storage holds route names, never
// keys.
func TestSendLogSurvivesRestart(t *testing.T) {
	api := newFakeEventsAPI(t)
	storageID := component.MustNewID("file_storage")
	data := map[string][]byte{}
	host := extHost{storageID: &mapStorage{data: data}}
	cfg := testConfig(api)
	cfg.Dedup.Storage = &storageID
	cfg.RateLimit = RateLimitConfig{EventsPerMinute: 10, Burst: 10}
	ctx := context.Background()
	start := func() *pagerdutyExporter {
		e := newExporter(cfg, newSettings(t))
		require.NoError(t, e.start(ctx, host))
		return e
	}

	first := start()
	for i := range 10 {
		require.NoError(t, first.layers.road.Admit(ctx, pdtest.Alert("checkout", "alert.fingerprint", fmt.Sprint("burst-", i))))
	}
	require.Len(t, api.taken(), 10)
	now := time.Now()
	require.NoError(t, first.layers.state.sendLog.Save(ctx, now, false))
	padded, err := eventsapi.DecodeSends(data["limiter/checkout"])
	require.NoError(t, err)
	assert.Len(t, padded, 10+10+1, "a running save counts what the next tick may send: burst 10 and a tick's refill at 10 a minute")
	require.NoError(t, first.shutdown(ctx))
	exact, err := eventsapi.DecodeSends(data["limiter/checkout"])
	require.NoError(t, err)
	assert.Len(t, exact, 10, "a graceful shutdown saves the exact log")
	for k := range data {
		assert.NotContains(t, k, checkoutKey)
	}

	second := start()
	defer func() { require.NoError(t, second.shutdown(ctx)) }()
	assert.Len(t, second.layers.limiter.Sends(checkoutKey), 10, "restored")
	waitCtx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	_, err = second.layers.limiter.Wait(waitCtx, checkoutKey, 0, time.Time{})
	require.ErrorIs(t, err, context.DeadlineExceeded, "the 11th event of the minute waits, across the restart")
	_, err = second.layers.limiter.Wait(ctx, paymentsKey, 0, time.Time{})
	require.NoError(t, err, "another route sent nothing: it does not wait")
}

// TestSendLogNeedsStorage: without storage there is no send log, and the
// exporter says nothing about it: the limiter starting empty after a
// restart is docs/lifecycle-and-delivery.md's to say (Delivery guarantees), not a warning at
// every start of a collector that has no storage by choice. Nothing is
// logged at any level, from start to shutdown, but the line that says where
// events go.
func TestSendLogNeedsStorage(t *testing.T) {
	api := newFakeEventsAPI(t)
	cfg := testConfig(api)
	cfg.RateLimit = RateLimitConfig{EventsPerMinute: 10, Burst: 10}
	core, logs := observer.New(zapcore.DebugLevel)
	set := newSettings(t)
	set.Logger = zap.New(core)
	e := newExporter(cfg, set)
	require.NoError(t, e.start(context.Background(), componenttest.NewNopHost()))
	assert.Nil(t, e.layers.state.sendLog)
	require.NoError(t, e.shutdown(context.Background()))
	others := logs.Filter(func(e observer.LoggedEntry) bool { return e.Message != "Sending events to the PagerDuty Events API" })
	assert.Empty(t, pdtest.EncodeAll(t, others), "logged without storage, besides where events go")
}
