package pagerdutyexporter

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/pdtest"
)

// TestBadInputNeverLosesNeighbours sends each malformed record between two
// good ones: the good ones always arrive, the bad one is repaired or rejected
// and counted.
func TestBadInputNeverLosesNeighbours(t *testing.T) {
	huge := strings.Repeat("x", 1<<20)
	tests := []struct {
		name     string
		bad      plog.Logs
		sent     bool   // the bad record itself reaches PagerDuty
		repaired string // a repair reason counted
		rejected string // a reject reason counted
		check    func(t *testing.T, r apiRequest)
	}{
		{name: "missing every attribute", bad: func() plog.Logs {
			ld := plog.NewLogs()
			ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
			return ld
		}(), sent: true, repaired: "summary_synthesized", check: func(t *testing.T, r apiRequest) {
			assert.NotEmpty(t, r.payload("summary"))
			assert.NotEmpty(t, r.payload("source"))
			assert.Equal(t, "error", r.payload("severity"))
			assert.Equal(t, testKey, r.key())
		}},
		{
			name: "non-string types", bad: pdtest.Alert("", "alert.fingerprint", int64(42), "alert.summary", map[string]any{"a": 1}, "alert.severity", int64(3)),
			sent: true, repaired: "severity_defaulted", check: func(t *testing.T, r apiRequest) {
				assert.Equal(t, "42", r.dedup())
				assert.JSONEq(t, `{"a":1}`, r.payload("summary"))
			},
		},
		{
			name: "invalid UTF-8", bad: pdtest.Alert("", "alert.summary", "bad \xff\xfe bytes", "k\xff", "v\xfe"),
			sent: true, repaired: "invalid_utf8", check: func(t *testing.T, r apiRequest) {
				assert.Equal(t, "bad \uFFFD bytes", r.payload("summary"))
			},
		},
		{
			name: "5000-character summary", bad: pdtest.Alert("", "alert.summary", strings.Repeat("s", 5000)),
			sent: true, repaired: "truncated", check: func(t *testing.T, r apiRequest) {
				assert.Len(t, []rune(r.payload("summary")), 1024)
			},
		},
		{
			name: "1 MB attribute", bad: pdtest.Alert("", "alert.summary", "big", "blob", huge, "small", "kept"),
			sent: true, repaired: "details_shed", check: func(t *testing.T, r apiRequest) {
				details := r.Body["payload"].(map[string]any)["custom_details"].(map[string]any)
				assert.NotContains(t, details, "blob")
				assert.Equal(t, "kept", details["small"])
				assert.Contains(t, details, "details_shed")
			},
		},
		{
			name: "unknown severity", bad: pdtest.Alert("", "alert.summary", "x", "alert.severity", "bogus"),
			sent: true, repaired: "severity_defaulted", check: func(t *testing.T, r apiRequest) {
				assert.Equal(t, "error", r.payload("severity"))
			},
		},
		{name: "unknown alert.status", bad: pdtest.Alert("", "alert.summary", "x", "alert.status", "pending"), rejected: "unknown_event_action"},
		{
			name: "300-byte fingerprint", bad: pdtest.Alert("", "alert.fingerprint", strings.Repeat("f", 300)),
			sent: true, repaired: "dedup_key_hashed", check: func(t *testing.T, r apiRequest) {
				assert.Len(t, r.dedup(), 64)
			},
		},
		{name: "empty routing map match", bad: pdtest.Alert("", "service.name", ""), sent: true, check: func(t *testing.T, r apiRequest) {
			assert.Equal(t, testKey, r.key())
		}},
		{
			name: "acknowledge for an incident never seen", bad: pdtest.Alert("payments", "alert.fingerprint", "never", "alert.status", "acknowledged"),
			sent: true, check: func(t *testing.T, r apiRequest) {
				assert.Equal(t, "acknowledge", r.action())
				assert.Equal(t, paymentsKey, r.key())
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			api := newFakeEventsAPI(t)
			h := startExporter(t, testConfig(api))
			ld := pdtest.Batch(
				pdtest.Alert("checkout", "alert.fingerprint", "before", "alert.summary", "good"),
				tc.bad,
				pdtest.Alert("checkout", "alert.fingerprint", "after", "alert.summary", "good"),
			)
			require.NoError(t, h.exp.ConsumeLogs(context.Background(), ld))
			// Each record goes to the queue of its route and priority, so the
			// bad one need not be sent between its neighbors.
			var neighbors, others []apiRequest
			for _, r := range api.taken() {
				if r.dedup() == "before" || r.dedup() == "after" {
					neighbors = append(neighbors, r)
				} else {
					others = append(others, r)
				}
			}
			require.Len(t, neighbors, 2)
			assert.Equal(t, "before", neighbors[0].dedup())
			assert.Equal(t, "after", neighbors[1].dedup())
			if tc.sent {
				require.Len(t, others, 1)
				tc.check(t, others[0])
			} else {
				require.Empty(t, others)
			}
			if tc.repaired != "" {
				m, err := h.tt.GetMetric("otelcol_exporter_pagerduty_records_repaired")
				require.NoError(t, err)
				assert.Contains(t, sumByAttrs(m), tc.repaired)
			}
			if tc.rejected != "" {
				assertCounted(t, h.tt, "otelcol_exporter_pagerduty_records_rejected", []metricdata.DataPoint[int64]{
					{Value: 1, Attributes: attribute.NewSet(attribute.String("reason", tc.rejected))},
				})
				require.Equal(t, 1, h.logs.FilterMessage("Dropping log record that cannot be delivered to PagerDuty").Len())
			}
		})
	}
}

// TestDropWarningNamesTheRecord: a rejected record without its own time is
// named by its observed time and the start of its body.
func TestDropWarningNamesTheRecord(t *testing.T) {
	api := newFakeEventsAPI(t)
	h := startExporter(t, testConfig(api))
	ld := pdtest.Alert("checkout", "alert.status", "pending")
	lr := ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0)
	observed := time.Date(2026, 11, 28, 9, 30, 0, 0, time.UTC)
	lr.SetTimestamp(0)
	lr.SetObservedTimestamp(pcommon.NewTimestampFromTime(observed))
	lr.Body().SetStr(strings.Repeat("disk almost full on db-1 ", 10))
	require.NoError(t, h.exp.ConsumeLogs(context.Background(), ld))

	warnings := h.logs.FilterMessage("Dropping log record that cannot be delivered to PagerDuty").All()
	require.Len(t, warnings, 1)
	fields := warnings[0].ContextMap()
	assert.Equal(t, observed, fields["record_time"].(time.Time).UTC())
	body := fields["body"].(string)
	assert.True(t, strings.HasPrefix(body, "disk almost full on db-1"))
	assert.Len(t, []rune(body), 80, "an excerpt, not the whole body")
	assert.Equal(t, "checkout", fields["service.name"])
}
