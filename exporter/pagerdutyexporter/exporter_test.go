package pagerdutyexporter

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/metadata"
	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/pdtest"
)

func TestLifecycleRoutingAndSuppression(t *testing.T) {
	api := newFakeEventsAPI(t)
	h := startExporter(t, testConfig(api))
	ctx := context.Background()
	fp := "alert.fingerprint"

	steps := []struct {
		name string
		logs plog.Logs
		want []string // "path key action dedup severity" of each request
	}{
		{
			"trigger on checkout", pdtest.Alert("checkout", fp, "fp-1", "alert.summary", "Checkout latency high", "alert.severity", "warning"),
			[]string{"/v2/enqueue " + checkoutKey + " trigger fp-1 warning"},
		},
		{"identical firing is suppressed", pdtest.Alert("checkout", fp, "fp-1", "alert.summary", "Checkout latency high", "alert.severity", "WARN"), nil},
		{
			"escalation is sent at once", pdtest.Alert("checkout", fp, "fp-1", "alert.summary", "Checkout latency high", "alert.severity", "critical"),
			[]string{"/v2/enqueue " + checkoutKey + " trigger fp-1 critical"},
		},
		{
			"acknowledge without the routing attribute follows the incident", pdtest.Alert("", fp, "fp-1", "alert.status", "acknowledged"),
			[]string{"/v2/enqueue " + checkoutKey + " acknowledge fp-1 error"},
		},
		{
			"resolve from another service still follows the incident", pdtest.Alert("payments", fp, "fp-1", "alert.status", "RESOLVED"),
			[]string{"/v2/enqueue " + checkoutKey + " resolve fp-1 error"},
		},
		{"repeated resolve is suppressed", pdtest.Alert("checkout", fp, "fp-1", "alert.status", "resolved"), nil},
		{
			"payments routes to its own key", pdtest.Alert("payments", fp, "fp-2", "alert.summary", "Card declines"),
			[]string{"/v2/enqueue " + paymentsKey + " trigger fp-2 error"},
		},
		{
			"unknown service uses routing_key", pdtest.Alert("search", fp, "fp-3", "alert.summary", "Index stale"),
			[]string{"/v2/enqueue " + testKey + " trigger fp-3 error"},
		},
		{
			"change event", pdtest.Alert("checkout", "pagerduty.event_type", "change", "alert.summary", "Deployed v2"),
			[]string{"/v2/change/enqueue " + checkoutKey + "   "},
		},
		{
			"change events are never suppressed", pdtest.Alert("checkout", "pagerduty.event_type", "change", "alert.summary", "Deployed v2"),
			[]string{"/v2/change/enqueue " + checkoutKey + "   "},
		},
	}
	for _, s := range steps {
		require.NoError(t, h.exp.ConsumeLogs(ctx, s.logs), s.name)
		var got []string
		for _, r := range api.taken() {
			got = append(got, strings.Join([]string{r.Path, r.key(), r.action(), r.dedup(), r.payload("severity")}, " "))
			assert.True(t, strings.HasPrefix(r.UserAgent, "otelcol-pagerduty-exporter/"+version), r.UserAgent)
		}
		assert.Equal(t, s.want, got, s.name)
	}

	action := func(a, outcome, route string) attribute.Set {
		return attribute.NewSet(attribute.String("event_action", a), attribute.String("outcome", outcome), attribute.String("routing", route))
	}
	assertCounted(t, h.tt, "otelcol_exporter_pagerduty_events", []metricdata.DataPoint[int64]{
		{Value: 2, Attributes: action("trigger", "accepted", "checkout")},
		{Value: 1, Attributes: action("acknowledge", "accepted", "checkout")},
		{Value: 1, Attributes: action("resolve", "accepted", "checkout")},
		{Value: 1, Attributes: action("trigger", "accepted", "payments")},
		{Value: 1, Attributes: action("trigger", "accepted", "default")},
		{Value: 2, Attributes: action("change", "accepted", "checkout")},
	})
	assertCounted(t, h.tt, "otelcol_exporter_pagerduty_suppressed", []metricdata.DataPoint[int64]{
		{Value: 1, Attributes: attribute.NewSet(attribute.String("event_action", "trigger"), attribute.String("reason", "duplicate"))},
		{Value: 1, Attributes: attribute.NewSet(attribute.String("event_action", "resolve"), attribute.String("reason", "already_applied"))},
	})
	assertCounted(t, h.tt, "otelcol_exporter_pagerduty_open_incidents", []metricdata.DataPoint[int64]{{Value: 2}})
	assertCounted(t, h.tt, "otelcol_exporter_pagerduty_cache_entries", []metricdata.DataPoint[int64]{{Value: 3}})
	assertCounted(t, h.tt, "otelcol_exporter_pagerduty_cache_evictions", []metricdata.DataPoint[int64]{{Value: 0}})
	assertCounted(t, h.tt, "otelcol_exporter_pagerduty_requests", []metricdata.DataPoint[int64]{
		{Value: 6, Attributes: attribute.NewSet(attribute.String("endpoint", "/v2/enqueue"), attribute.String("status_class", "2xx"))},
		{Value: 2, Attributes: attribute.NewSet(attribute.String("endpoint", "/v2/change/enqueue"), attribute.String("status_class", "2xx"))},
	})
}

func TestFailedTriggerIsNotRemembered(t *testing.T) {
	api := newFakeEventsAPI(t)
	fail := true
	api.respond = func(apiRequest) (int, http.Header, string) {
		if fail {
			return http.StatusServiceUnavailable, nil, ""
		}
		return http.StatusAccepted, nil, ""
	}
	h := startExporter(t, testConfig(api))
	rec := pdtest.Alert("checkout", "alert.fingerprint", "fp-1", "alert.summary", "Down")
	require.Error(t, h.exp.ConsumeLogs(context.Background(), rec))
	fail = false
	require.NoError(t, h.exp.ConsumeLogs(context.Background(), rec))
	assert.Len(t, api.taken(), 2, "the retry is sent, not suppressed as a duplicate")
}

func TestKeysAreTrimmed(t *testing.T) {
	api := newFakeEventsAPI(t)
	cfg := testConfig(api)
	cfg.RoutingKey = testKey + "\n"
	h := startExporter(t, cfg)
	require.NoError(t, h.exp.ConsumeLogs(context.Background(), pdtest.Alert("search", "alert.fingerprint", "s-1")))
	reqs := api.taken()
	require.Len(t, reqs, 1)
	assert.Equal(t, testKey, reqs[0].key())
}

func TestNoRoutingKeyIsRejected(t *testing.T) {
	api := newFakeEventsAPI(t)
	cfg := testConfig(api)
	cfg.RoutingKey = ""
	h := startExporter(t, cfg)
	ld := pdtest.Batch(pdtest.Alert("search", "alert.fingerprint", "s-1"), pdtest.Alert("checkout", "alert.fingerprint", "c-1"))
	require.NoError(t, h.exp.ConsumeLogs(context.Background(), ld))
	reqs := api.taken()
	require.Len(t, reqs, 1)
	assert.Equal(t, checkoutKey, reqs[0].key())
	assertCounted(t, h.tt, "otelcol_exporter_pagerduty_records_rejected", []metricdata.DataPoint[int64]{
		{Value: 1, Attributes: attribute.NewSet(attribute.String("reason", "no_routing_key"))},
	})
}

// TestAffinityWithoutDefaultKey: with only routing.keys, a resolve naming no
// service still reaches the incident's key rather than being dropped.
func TestAffinityWithoutDefaultKey(t *testing.T) {
	api := newFakeEventsAPI(t)
	cfg := testConfig(api)
	cfg.RoutingKey = ""
	h := startExporter(t, cfg)
	ctx := context.Background()
	require.NoError(t, h.exp.ConsumeLogs(ctx, pdtest.Alert("payments", "alert.fingerprint", "x")))
	require.NoError(t, h.exp.ConsumeLogs(ctx, pdtest.Alert("", "alert.fingerprint", "x", "alert.status", "resolved")))
	reqs := api.taken()
	require.Len(t, reqs, 2)
	assert.Equal(t, paymentsKey, reqs[1].key())
	assert.Equal(t, "resolve", reqs[1].action())
}

func TestShutdownWithoutStart(t *testing.T) {
	cfg := testConfig(newFakeEventsAPI(t))
	exp, err := NewFactory().CreateLogs(context.Background(), exportertest.NewNopSettings(metadata.Type), cfg)
	require.NoError(t, err)
	require.NoError(t, exp.Shutdown(context.Background()))
}

// TestClockSkewDoesNotKeepIncidentsOpen: a trigger stamped an hour ahead (a
// source with a wrong clock) is ordered by its arrival, so the correct,
// later resolve closes the incident instead of being stale.
func TestClockSkewDoesNotKeepIncidentsOpen(t *testing.T) {
	api := newFakeEventsAPI(t)
	h := startExporter(t, testConfig(api))
	ctx := context.Background()
	at := func(ld plog.Logs, ts time.Time) plog.Logs {
		ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).SetTimestamp(pcommon.NewTimestampFromTime(ts))
		return ld
	}
	future := time.Now().Add(time.Hour)
	require.NoError(t, h.exp.ConsumeLogs(ctx, at(pdtest.Alert("checkout", "alert.fingerprint", "skewed"), future)))
	require.NoError(t, h.exp.ConsumeLogs(ctx, at(pdtest.Alert("checkout", "alert.fingerprint", "skewed", "alert.status", "resolved"), time.Now())))

	var got []string
	for _, r := range api.taken() {
		got = append(got, r.action())
		if r.action() == "trigger" {
			assert.Equal(t, future.UTC().Format("2006-01-02T15:04:05.000Z"), r.payload("timestamp"), "payload.timestamp keeps the source's time")
		}
	}
	assert.Equal(t, []string{"trigger", "resolve"}, got, "the resolve was not stale")
	m, err := h.tt.GetMetric("otelcol_exporter_pagerduty_records_repaired")
	require.NoError(t, err)
	assert.Equal(t, int64(1), sumByAttrs(m)["time_in_future"])
}

// TestRulesetKeyRouteIsNamedAtStart: a route whose key is a ruleset key is
// named in a warning at start, and a change event routed to it is dropped
// before sending, counted, and never retried.
func TestRulesetKeyRouteIsNamedAtStart(t *testing.T) {
	api := newFakeEventsAPI(t)
	cfg := testConfig(api)
	cfg.Routing.Keys["rules"] = "R0123456789abcdef0123456789abcde"
	h := startExporter(t, cfg)
	warnings := h.logs.FilterMessageSnippet("ruleset key").All()
	require.Len(t, warnings, 1)
	assert.Equal(t, "rules", warnings[0].ContextMap()["routing"])

	require.NoError(t, h.exp.ConsumeLogs(context.Background(), pdtest.Alert("rules", "pagerduty.event_type", "change", "alert.summary", "deployed")))
	assert.Empty(t, api.taken(), "the change event was not sent")
	m, err := h.tt.GetMetric("otelcol_exporter_pagerduty_records_rejected")
	require.NoError(t, err)
	assert.Equal(t, int64(1), sumByAttrs(m)["change_to_ruleset_key"])
}
