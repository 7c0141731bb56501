package pagerdutyexporter

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componentstatus"
	"go.opentelemetry.io/collector/component/componenttest"

	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/pdtest"
	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/telemetry"
)

// statusHost is a host that takes status reports, as the collector's does.
type statusHost struct {
	component.Host
	pdtest.StatusLog
}

// fakeClock is a clock the test moves.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time          { return c.t }
func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }

// startWithStatus starts an exporter on cfg as the collector would, on a
// host that takes status reports, with the health's clock under the test's
// control. cfg has no queue, so each dispatch delivers before it returns.
func startWithStatus(t *testing.T, cfg *Config) (*pagerdutyExporter, *statusHost, *fakeClock) {
	t.Helper()
	e := newExporter(cfg, newSettings(t))
	clock := &fakeClock{t: time.Now()}
	e.statusNow = clock.now
	host := &statusHost{Host: componenttest.NewNopHost()}
	require.NoError(t, e.start(context.Background(), host))
	t.Cleanup(func() { require.NoError(t, e.shutdown(context.Background())) })
	return e, host, clock
}

// TestExporterReportsOutageAndRecovery: the exporter reports an outage of
// the Events API once it has lasted telemetry.FailingAfter, and StatusOK once an
// event is accepted again; a single failure followed by an acceptance
// reports nothing.
func TestExporterReportsOutageAndRecovery(t *testing.T) {
	api := newFakeEventsAPI(t)
	var down bool
	var mu sync.Mutex
	api.respond = func(apiRequest) (int, http.Header, string) {
		mu.Lock()
		defer mu.Unlock()
		if down {
			return 503, nil, `{"status":"unavailable","message":"Service Unavailable","errors":["try later"]}`
		}
		return 202, nil, ""
	}
	setDown := func(d bool) { mu.Lock(); down = d; mu.Unlock() }
	e, host, clock := startWithStatus(t, testConfig(api))
	ctx := context.Background()

	setDown(true)
	require.Error(t, e.layers.road.Admit(ctx, pdtest.Alert("checkout", "alert.fingerprint", "a")))
	setDown(false)
	require.NoError(t, e.layers.road.Admit(ctx, pdtest.Alert("checkout", "alert.fingerprint", "a")))
	require.Empty(t, host.All(), "one retried request")

	setDown(true)
	require.Error(t, e.layers.road.Admit(ctx, pdtest.Alert("checkout", "alert.fingerprint", "b")))
	clock.advance(telemetry.FailingAfter)
	require.Error(t, e.layers.road.Admit(ctx, pdtest.Alert("checkout", "alert.fingerprint", "b")))
	require.Equal(t, []componentstatus.Status{componentstatus.StatusRecoverableError}, host.Statuses())
	assert.Contains(t, host.All()[0].Err().Error(), `route "checkout" failing since`)
	assert.Contains(t, host.All()[0].Err().Error(), "503 Service Unavailable: Service Unavailable; try later")

	setDown(false)
	require.NoError(t, e.layers.road.Admit(ctx, pdtest.Alert("checkout", "alert.fingerprint", "b")))
	assert.Equal(t, []componentstatus.Status{componentstatus.StatusRecoverableError, componentstatus.StatusOK}, host.Statuses())
}

// TestExporterRefusedKeyNamesTheRouteNeverTheKey: a route whose events are
// all refused with a 404 is a permanent error that names the route and
// what PagerDuty answered, never the key, even when the answer quotes it.
func TestExporterRefusedKeyNamesTheRouteNeverTheKey(t *testing.T) {
	api := newFakeEventsAPI(t)
	api.respond = func(r apiRequest) (int, http.Header, string) {
		if r.key() == paymentsKey {
			return 404, nil, `{"status":"not found","message":"Not Found","errors":["no integration for routing key ` + r.key() + `"]}`
		}
		return 202, nil, ""
	}
	e, host, _ := startWithStatus(t, testConfig(api))
	ctx := context.Background()
	for _, fp := range []string{"a", "b", "c"} {
		require.NoError(t, e.layers.road.Admit(ctx, pdtest.Batch(
			pdtest.Alert("payments", "alert.fingerprint", fp),
			pdtest.Alert("checkout", "alert.fingerprint", fp),
		)), "a refused record is dropped, not retried")
	}
	require.Equal(t, []componentstatus.Status{componentstatus.StatusPermanentError}, host.Statuses())
	msg := host.All()[0].Err().Error()
	assert.Contains(t, msg, `route "payments"`)
	assert.Contains(t, msg, "404 Not Found")
	assert.Contains(t, msg, "[REDACTED]", "the answer is quoted, without the key")
	assert.NotContains(t, msg, "checkout")
	assert.Empty(t, pdtest.KeyLeak(msg, testKey, checkoutKey, paymentsKey))
}
