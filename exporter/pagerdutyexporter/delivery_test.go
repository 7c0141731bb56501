package pagerdutyexporter

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/pdtest"
)

func TestResponseHandling(t *testing.T) {
	fp := "alert.fingerprint"
	// One batch: two records for checkout around one for payments.
	records := func() plog.Logs {
		return pdtest.Batch(
			pdtest.Alert("checkout", fp, "c-1", "alert.summary", "one"),
			pdtest.Alert("payments", fp, "p-1", "alert.summary", "two"),
			pdtest.Alert("checkout", fp, "c-2", "alert.summary", "three"),
		)
	}
	tests := []struct {
		name       string
		status     int
		header     http.Header
		body       string
		wantErr    string   // "", "retryable", "throttle"
		unsent     []string // dedup keys handed back for retry
		sent       int      // requests made
		rejected   int
		outcome    string
		statusCode string
	}{
		{
			name: "400 drops only the refused records", status: 400,
			body: `{"status":"invalid event","message":"Event object is invalid","errors":["'payload.source' is missing or blank"]}`,
			sent: 3, rejected: 2, outcome: "rejected", statusCode: "4xx",
		},
		{
			name: "500 hands back the key's records, others are sent", status: 500, wantErr: "retryable",
			unsent: []string{"c-1", "c-2"}, sent: 2, outcome: "failed", statusCode: "5xx",
		},
		{
			name: "429 with Retry-After is a throttle", status: 429, header: http.Header{"Retry-After": {"30"}}, wantErr: "throttle",
			unsent: []string{"c-1", "c-2"}, sent: 2, outcome: "throttled", statusCode: "4xx",
		},
		{
			name: "429 without Retry-After is retryable", status: 429, wantErr: "retryable",
			unsent: []string{"c-1", "c-2"}, sent: 2, outcome: "throttled", statusCode: "4xx",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			api := newFakeEventsAPI(t)
			api.respond = func(r apiRequest) (int, http.Header, string) {
				if r.key() == checkoutKey {
					return tc.status, tc.header, tc.body
				}
				return http.StatusAccepted, nil, ""
			}
			h := startExporter(t, testConfig(api))
			err := h.exp.ConsumeLogs(context.Background(), records())
			assert.Len(t, api.taken(), tc.sent)

			switch tc.wantErr {
			case "":
				require.NoError(t, err)
			default:
				require.Error(t, err)
				assert.False(t, consumererror.IsPermanent(err))
				var partial consumererror.Logs
				require.ErrorAs(t, err, &partial)
				var unsent []string
				for _, rl := range partial.Data().ResourceLogs().All() {
					for _, sl := range rl.ScopeLogs().All() {
						for _, lr := range sl.LogRecords().All() {
							v, _ := lr.Attributes().Get(fp)
							unsent = append(unsent, v.Str())
							svc, _ := rl.Resource().Attributes().Get("service.name")
							assert.Equal(t, "checkout", svc.Str(), "resource is kept with the record")
						}
					}
				}
				assert.Equal(t, tc.unsent, unsent)
				if tc.wantErr == "throttle" {
					assert.Contains(t, err.Error(), "Throttle (30s)")
				}
				assert.Contains(t, err.Error(), `routing "checkout"`)
			}

			if tc.rejected > 0 {
				assertCounted(t, h.tt, "otelcol_exporter_pagerduty_records_rejected", []metricdata.DataPoint[int64]{
					{Value: int64(tc.rejected), Attributes: attribute.NewSet(attribute.String("reason", "api_rejected"))},
				})
				warnings := h.logs.FilterMessage("Dropping log record that cannot be delivered to PagerDuty").All()
				require.Len(t, warnings, tc.rejected)
				fields := warnings[0].ContextMap()
				assert.Equal(t, "c-1", fields["dedup_key"], "the log line names the record")
				assert.Contains(t, fields["error"], "'payload.source' is missing or blank", "PagerDuty's errors are logged")
			}
			got, err := h.tt.GetMetric("otelcol_exporter_pagerduty_events")
			require.NoError(t, err)
			assert.Contains(t, sumByAttrs(got), "trigger/"+tc.outcome+"/checkout")
			req, err := h.tt.GetMetric("otelcol_exporter_pagerduty_requests")
			require.NoError(t, err)
			assert.Contains(t, sumByAttrs(req), "/v2/enqueue/"+tc.statusCode)
		})
	}
}

func TestTransportErrorIsRetryable(t *testing.T) {
	api := newFakeEventsAPI(t)
	cfg := testConfig(api)
	api.Close()
	h := startExporter(t, cfg)
	err := h.exp.ConsumeLogs(context.Background(), pdtest.Alert("checkout", "alert.fingerprint", "c-1"))
	require.Error(t, err)
	assert.False(t, consumererror.IsPermanent(err))
	req, err := h.tt.GetMetric("otelcol_exporter_pagerduty_requests")
	require.NoError(t, err)
	assert.Equal(t, map[string]int64{"/v2/enqueue/transport": 1}, sumByAttrs(req))
}

// TestRecordsWaitBehindAFailedKey: a resolve held for retry keeps the firing
// record after it from being judged a duplicate of the still-open incident.
func TestRecordsWaitBehindAFailedKey(t *testing.T) {
	api := newFakeEventsAPI(t)
	h := startExporter(t, testConfig(api))
	ctx := context.Background()
	firing := func() plog.Logs { return pdtest.Alert("checkout", "alert.fingerprint", "x", "alert.summary", "down") }
	require.NoError(t, h.exp.ConsumeLogs(ctx, firing()))
	api.taken()

	api.respond = func(apiRequest) (int, http.Header, string) { return 503, nil, "" }
	err := h.exp.ConsumeLogs(ctx, pdtest.Batch(pdtest.Alert("checkout", "alert.fingerprint", "x", "alert.status", "resolved"), firing()))
	var partial consumererror.Logs
	require.ErrorAs(t, err, &partial)
	assert.Equal(t, 2, partial.Data().LogRecordCount(), "both records wait for the retry")
	assert.Len(t, api.taken(), 1, "only the first record was tried")

	api.respond = nil
	require.NoError(t, h.exp.ConsumeLogs(ctx, partial.Data()))
	var got []string
	for _, r := range api.taken() {
		got = append(got, r.action())
	}
	assert.Equal(t, []string{"resolve", "trigger"}, got)
}

// TestNewestIntentWinsAcrossQueues: a resolve held for retry in its queue
// does not close an incident that a newer firing record, sent later to
// another queue, kept open: the firing record is suppressed as a duplicate,
// and the retried resolve is then stale.
func TestNewestIntentWinsAcrossQueues(t *testing.T) {
	api := newFakeEventsAPI(t)
	h := startExporter(t, testConfig(api))
	ctx := context.Background()
	firing := func() plog.Logs { return pdtest.Alert("checkout", "alert.fingerprint", "x", "alert.summary", "down") }
	require.NoError(t, h.exp.ConsumeLogs(ctx, firing()))
	api.taken()

	later := func(ld plog.Logs, d time.Duration) plog.Logs {
		lr := ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0)
		lr.SetTimestamp(pcommon.NewTimestampFromTime(lr.Timestamp().AsTime().Add(d)))
		return ld
	}
	api.respond = func(apiRequest) (int, http.Header, string) { return 503, nil, "" }
	err := h.exp.ConsumeLogs(ctx, later(pdtest.Alert("checkout", "alert.fingerprint", "x", "alert.status", "resolved"), time.Second))
	var partial consumererror.Logs
	require.ErrorAs(t, err, &partial)
	assert.Equal(t, 1, partial.Data().LogRecordCount(), "the resolve waits for the retry")
	require.NoError(t, h.exp.ConsumeLogs(ctx, later(firing(), 2*time.Second)))
	assert.Len(t, api.taken(), 1, "only the resolve was tried; the firing record was a duplicate")

	api.respond = nil
	require.NoError(t, h.exp.ConsumeLogs(ctx, partial.Data()))
	assert.Empty(t, api.taken(), "the retried resolve is older than the firing record: stale")
	got, err := h.tt.GetMetric("otelcol_exporter_pagerduty_suppressed")
	require.NoError(t, err)
	assert.Equal(t, map[string]int64{"trigger/duplicate": 1, "resolve/stale": 1}, sumByAttrs(got))
}

// TestRetryKeepsArrivalOrder: records without a time are ordered by when the
// exporter first saw them, so a trigger retried after its resolve landed is
// stale, not a new incident.
func TestRetryKeepsArrivalOrder(t *testing.T) {
	api := newFakeEventsAPI(t)
	h := startExporter(t, testConfig(api))
	ctx := context.Background()
	untimed := func(ld plog.Logs) plog.Logs {
		ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).SetTimestamp(0)
		return ld
	}
	api.respond = func(apiRequest) (int, http.Header, string) { return 500, nil, "" }
	err := h.exp.ConsumeLogs(ctx, untimed(pdtest.Alert("checkout", "alert.fingerprint", "x")))
	var partial consumererror.Logs
	require.ErrorAs(t, err, &partial)
	held := partial.Data().ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0)
	assert.NotZero(t, held.ObservedTimestamp(), "the held record carries its arrival time")

	api.respond = nil
	require.NoError(t, h.exp.ConsumeLogs(ctx, untimed(pdtest.Alert("checkout", "alert.fingerprint", "x", "alert.status", "resolved"))))
	require.NoError(t, h.exp.ConsumeLogs(ctx, partial.Data()))
	reqs := api.taken()
	require.Len(t, reqs, 2, "trigger (failed), resolve; the retried trigger is not sent")
	assert.Equal(t, "resolve", reqs[1].action())
	assertCounted(t, h.tt, "otelcol_exporter_pagerduty_suppressed", []metricdata.DataPoint[int64]{
		{Value: 1, Attributes: attribute.NewSet(attribute.String("event_action", "trigger"), attribute.String("reason", "stale"))},
	})
}
