package pagerdutyexporter

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/metadata"
	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/metadatatest"
	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/pdtest"
	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/telemetry"
)

// TestCardinalityStaysBounded feeds 20,000 distinct fingerprints through an
// exporter whose cache holds 1,000: the cache stays at its bound, every
// trigger is still sent, and the evictions are counted. The cache alone is
// driven with 1,000,000 in dedup's TestMillionDistinctKeys.
func TestCardinalityStaysBounded(t *testing.T) {
	api := newFakeEventsAPI(t)
	cfg := testConfig(api)
	cfg.Dedup.MaxEntries = 1000
	h := startExporter(t, cfg)
	const total, perBatch = 20_000, 1_000
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr("host.name", "storm")
	records := rl.ScopeLogs().AppendEmpty().LogRecords()
	for range perBatch {
		lr := records.AppendEmpty()
		lr.Attributes().PutStr("alert.summary", "noise")
		lr.Attributes().PutStr("alert.fingerprint", "")
	}
	for b := range total / perBatch {
		for i, lr := range records.All() {
			lr.Attributes().PutStr("alert.fingerprint", fmt.Sprintf("fp-%d", b*perBatch+i))
		}
		require.NoError(t, h.exp.ConsumeLogs(context.Background(), ld))
		api.taken()
	}
	assertCounted(t, h.tt, "otelcol_exporter_pagerduty_cache_entries", []metricdata.DataPoint[int64]{{Value: 1000}})
	assertCounted(t, h.tt, "otelcol_exporter_pagerduty_cache_evictions", []metricdata.DataPoint[int64]{{Value: total - 1000}})
	got, err := h.tt.GetMetric("otelcol_exporter_pagerduty_events")
	require.NoError(t, err)
	assert.Equal(t, map[string]int64{"trigger/accepted/default": total}, sumByAttrs(got))
}

// TestCountersStartAtZero: every series the exporter can know at start
// exists before the first event, at 0, so that rate() and increase() see
// the first event after a start.
func TestCountersStartAtZero(t *testing.T) {
	api := newFakeEventsAPI(t)
	h := startExporter(t, testConfig(api))
	for name, want := range map[string][]string{
		"otelcol_exporter_pagerduty_events":           {"trigger/accepted/checkout", "resolve/failed/payments", "change/throttled/default"},
		"otelcol_exporter_pagerduty_requests":         {"/v2/enqueue/2xx", "/v2/change/enqueue/transport", "/v2/enqueue/3xx"},
		"otelcol_exporter_pagerduty_suppressed":       {"trigger/duplicate", "resolve/stale", "acknowledge/already_applied"},
		"otelcol_exporter_pagerduty_records_repaired": {"truncated", "time_in_future", "invalid_utf8"},
		"otelcol_exporter_pagerduty_records_rejected": {"no_routing_key", "api_rejected", "unknown_event_action"},
		"otelcol_exporter_pagerduty_throttled":        {"checkout", "default"},
	} {
		m, err := h.tt.GetMetric(name)
		require.NoError(t, err, name)
		zeros := map[string]bool{}
		for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
			require.Zero(t, dp.Value, name)
			kept, _ := dp.Attributes.Filter(func(kv attribute.KeyValue) bool { return kv.Key != "exporter" })
			var parts []string
			for _, kv := range kept.ToSlice() {
				parts = append(parts, kv.Value.AsString())
			}
			zeros[strings.Join(parts, "/")] = true
		}
		for _, series := range want {
			assert.True(t, zeros[series], "%s{%s} exists at 0 before any event", name, series)
		}
	}
}

// TestTwoExportersHaveTheirOwnSeries: every series carries the exporter's
// component ID, so two pagerduty exporters in one collector never share one.
func TestTwoExportersHaveTheirOwnSeries(t *testing.T) {
	api := newFakeEventsAPI(t)
	tt := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tt.Shutdown(context.Background())) })
	ctx := context.Background()
	for _, name := range []string{"eu", "us"} {
		set := metadatatest.NewSettings(tt)
		set.ID = component.NewIDWithName(metadata.Type, name)
		exp, err := NewFactory().CreateLogs(ctx, set, testConfig(api))
		require.NoError(t, err)
		require.NoError(t, exp.Start(ctx, componenttest.NewNopHost()))
		t.Cleanup(func() { require.NoError(t, exp.Shutdown(ctx)) })
		if name == "eu" {
			require.NoError(t, exp.ConsumeLogs(ctx, pdtest.Alert("checkout", "alert.fingerprint", "eu-1")))
		}
	}
	m, err := tt.GetMetric("otelcol_exporter_pagerduty_events")
	require.NoError(t, err)
	accepted := map[string]int64{}
	for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
		if outcome, _ := dp.Attributes.Value("outcome"); outcome.AsString() == "accepted" {
			id, ok := dp.Attributes.Value("exporter")
			require.True(t, ok, "a series without the exporter attribute")
			accepted[id.AsString()] += dp.Value
		}
	}
	assert.Equal(t, map[string]int64{"pagerduty/eu": 1, "pagerduty/us": 0}, accepted)
}

// TestTooManyRoutesForTheSeriesLimitIsNamed: a configuration whose routes
// make more series of the events metric than the metrics SDK keeps says so
// at start, once; one within the limit, raised or not, says nothing. The
// SDK keeps limit - 1 series of a metric and counts the rest in an overflow
// series, so 125 routes (routing_key and 124 keys), 2,000 series, already
// lose one under the default limit of 2,000.
func TestTooManyRoutesForTheSeriesLimitIsNamed(t *testing.T) {
	for _, tc := range []struct {
		keys  int    // entries of routing.keys, beside routing_key
		limit string // OTEL_GO_X_CARDINALITY_LIMIT
		warns int
	}{
		{keys: 123, warns: 0},
		{keys: 124, warns: 1},
		{keys: 126, warns: 1},
		{keys: 124, limit: "2001", warns: 0},
		{keys: 126, limit: "2100", warns: 0},
		{keys: 126, limit: "0", warns: 0},
		{keys: 126, limit: "2000", warns: 1},
	} {
		t.Setenv(telemetry.SeriesLimitEnv, tc.limit)
		api := newFakeEventsAPI(t)
		cfg := testConfig(api)
		cfg.Routing.Keys = map[string]configopaque.String{}
		for i := range tc.keys {
			cfg.Routing.Keys[fmt.Sprintf("route-%03d", i)] = configopaque.String(fmt.Sprintf("%032d", i))
		}
		h := startExporter(t, cfg)
		warnings := h.logs.FilterMessageSnippet("more series of otelcol_exporter_pagerduty_events").All()
		require.Len(t, warnings, tc.warns, "%d keys, limit %q", tc.keys, tc.limit)
		if tc.warns > 0 {
			assert.EqualValues(t, (tc.keys+1)*16, warnings[0].ContextMap()["series"])
		}
	}
}
