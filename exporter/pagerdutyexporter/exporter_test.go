package pagerdutyexporter

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/metadata"
	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/metadatatest"
	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/telemetry"
)

// fakeEventsAPI is an Events API double: it records every request and
// answers with the status its respond function picks (202 by default).
type fakeEventsAPI struct {
	*httptest.Server
	mu       sync.Mutex
	requests []apiRequest
	respond  func(req apiRequest) (status int, header http.Header, body string)
}

type apiRequest struct {
	Path      string
	UserAgent string
	Body      map[string]any
}

func (r apiRequest) key() string    { s, _ := r.Body["routing_key"].(string); return s }
func (r apiRequest) action() string { s, _ := r.Body["event_action"].(string); return s }
func (r apiRequest) dedup() string  { s, _ := r.Body["dedup_key"].(string); return s }
func (r apiRequest) payload(field string) string {
	p, _ := r.Body["payload"].(map[string]any)
	s, _ := p[field].(string)
	return s
}

func newFakeEventsAPI(t *testing.T) *fakeEventsAPI {
	f := &fakeEventsAPI{}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, err := io.ReadAll(r.Body)
		req := apiRequest{Path: r.URL.Path, UserAgent: r.Header.Get("User-Agent")}
		// The handler runs outside the test's goroutine, where FailNow must not
		// be called: a failure is recorded, and the request refused.
		if !assert.NoError(t, err) || !assert.NoError(t, json.Unmarshal(raw, &req.Body), "body must be JSON: %s", raw) {
			http.Error(w, "unreadable request", http.StatusBadRequest)
			return
		}
		f.mu.Lock()
		f.requests = append(f.requests, req)
		respond := f.respond
		f.mu.Unlock()
		status, header, body := http.StatusAccepted, http.Header{}, `{"status":"success","message":"Event processed"}`
		if respond != nil {
			status, header, body = respond(req)
		}
		for k, v := range header {
			w.Header()[k] = v
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(f.Close)
	return f
}

// requestsSoFar returns the requests received, keeping them.
func (f *fakeEventsAPI) requestsSoFar() []apiRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]apiRequest(nil), f.requests...)
}

func (f *fakeEventsAPI) taken() []apiRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := f.requests
	f.requests = nil
	return out
}

// testConfig talks to api with queue and retry off, so that ConsumeLogs
// returns the push's own error.
func testConfig(api *fakeEventsAPI) *Config {
	cfg := NewFactory().CreateDefaultConfig().(*Config)
	cfg.ClientConfig.Endpoint = api.URL
	cfg.RoutingKey = testKey
	cfg.Routing = RoutingConfig{
		Attribute: "service.name",
		Keys:      map[string]configopaque.String{"checkout": checkoutKey, "payments": paymentsKey},
	}
	cfg.RateLimit = RateLimitConfig{}
	cfg.QueueConfig = configoptional.None[exporterhelper.QueueBatchConfig]()
	cfg.BackOffConfig.Enabled = false
	return cfg
}

type harness struct {
	exp  exporter.Logs
	tt   *componenttest.Telemetry
	logs *observer.ObservedLogs
}

func startExporter(t *testing.T, cfg *Config) *harness {
	t.Helper()
	return startExporterOn(t, cfg, componenttest.NewNopHost())
}

// observedSettings are exporter settings whose telemetry and debug logs the
// test reads.
func observedSettings(t *testing.T) (exporter.Settings, *componenttest.Telemetry, *observer.ObservedLogs) {
	t.Helper()
	tt := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tt.Shutdown(context.Background())) })
	core, logs := observer.New(zapcore.DebugLevel)
	set := metadatatest.NewSettings(tt)
	set.Logger = zap.New(core)
	return set, tt, logs
}

func startExporterOn(t *testing.T, cfg *Config, host component.Host) *harness {
	t.Helper()
	set, tt, logs := observedSettings(t)
	exp, err := NewFactory().CreateLogs(context.Background(), set, cfg)
	require.NoError(t, err)
	require.NoError(t, exp.Start(context.Background(), host))
	t.Cleanup(func() { require.NoError(t, exp.Shutdown(context.Background())) })
	return &harness{exp: exp, tt: tt, logs: logs}
}

func newSettings(*testing.T) exporter.Settings { return exportertest.NewNopSettings(metadata.Type) }

// alert builds a one-record batch; attrs alternate name and value.
func alert(service string, attrs ...any) plog.Logs {
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	if service != "" {
		rl.Resource().Attributes().PutStr("service.name", service)
	}
	rl.Resource().Attributes().PutStr("host.name", "web-1")
	lr := rl.ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
	lr.SetTimestamp(pcommon.NewTimestampFromTime(time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)))
	raw := map[string]any{}
	for i := 0; i+1 < len(attrs); i += 2 {
		if attrs[i+1] != nil {
			raw[attrs[i].(string)] = attrs[i+1]
		}
	}
	if err := lr.Attributes().FromRaw(raw); err != nil {
		panic(err)
	}
	return ld
}

// batch concatenates one-record batches into one.
func batch(parts ...plog.Logs) plog.Logs {
	ld := plog.NewLogs()
	for _, p := range parts {
		p.ResourceLogs().MoveAndAppendTo(ld.ResourceLogs())
	}
	return ld
}

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
			"trigger on checkout", alert("checkout", fp, "fp-1", "alert.summary", "Checkout latency high", "alert.severity", "warning"),
			[]string{"/v2/enqueue " + checkoutKey + " trigger fp-1 warning"},
		},
		{"identical firing is suppressed", alert("checkout", fp, "fp-1", "alert.summary", "Checkout latency high", "alert.severity", "WARN"), nil},
		{
			"escalation is sent at once", alert("checkout", fp, "fp-1", "alert.summary", "Checkout latency high", "alert.severity", "critical"),
			[]string{"/v2/enqueue " + checkoutKey + " trigger fp-1 critical"},
		},
		{
			"acknowledge without the routing attribute follows the incident", alert("", fp, "fp-1", "alert.status", "acknowledged"),
			[]string{"/v2/enqueue " + checkoutKey + " acknowledge fp-1 error"},
		},
		{
			"resolve from another service still follows the incident", alert("payments", fp, "fp-1", "alert.status", "RESOLVED"),
			[]string{"/v2/enqueue " + checkoutKey + " resolve fp-1 error"},
		},
		{"repeated resolve is suppressed", alert("checkout", fp, "fp-1", "alert.status", "resolved"), nil},
		{
			"payments routes to its own key", alert("payments", fp, "fp-2", "alert.summary", "Card declines"),
			[]string{"/v2/enqueue " + paymentsKey + " trigger fp-2 error"},
		},
		{
			"unknown service uses routing_key", alert("search", fp, "fp-3", "alert.summary", "Index stale"),
			[]string{"/v2/enqueue " + testKey + " trigger fp-3 error"},
		},
		{
			"change event", alert("checkout", "pagerduty.event_type", "change", "alert.summary", "Deployed v2"),
			[]string{"/v2/change/enqueue " + checkoutKey + "   "},
		},
		{
			"change events are never suppressed", alert("checkout", "pagerduty.event_type", "change", "alert.summary", "Deployed v2"),
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
	rec := alert("checkout", "alert.fingerprint", "fp-1", "alert.summary", "Down")
	require.Error(t, h.exp.ConsumeLogs(context.Background(), rec))
	fail = false
	require.NoError(t, h.exp.ConsumeLogs(context.Background(), rec))
	assert.Len(t, api.taken(), 2, "the retry is sent, not suppressed as a duplicate")
}

func TestResponseHandling(t *testing.T) {
	fp := "alert.fingerprint"
	// One batch: two records for checkout around one for payments.
	records := func() plog.Logs {
		return batch(
			alert("checkout", fp, "c-1", "alert.summary", "one"),
			alert("payments", fp, "p-1", "alert.summary", "two"),
			alert("checkout", fp, "c-2", "alert.summary", "three"),
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
	err := h.exp.ConsumeLogs(context.Background(), alert("checkout", "alert.fingerprint", "c-1"))
	require.Error(t, err)
	assert.False(t, consumererror.IsPermanent(err))
	req, err := h.tt.GetMetric("otelcol_exporter_pagerduty_requests")
	require.NoError(t, err)
	assert.Equal(t, map[string]int64{"/v2/enqueue/transport": 1}, sumByAttrs(req))
}

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
			name: "non-string types", bad: alert("", "alert.fingerprint", int64(42), "alert.summary", map[string]any{"a": 1}, "alert.severity", int64(3)),
			sent: true, repaired: "severity_defaulted", check: func(t *testing.T, r apiRequest) {
				assert.Equal(t, "42", r.dedup())
				assert.JSONEq(t, `{"a":1}`, r.payload("summary"))
			},
		},
		{
			name: "invalid UTF-8", bad: alert("", "alert.summary", "bad \xff\xfe bytes", "k\xff", "v\xfe"),
			sent: true, repaired: "invalid_utf8", check: func(t *testing.T, r apiRequest) {
				assert.Equal(t, "bad \uFFFD bytes", r.payload("summary"))
			},
		},
		{
			name: "5000-character summary", bad: alert("", "alert.summary", strings.Repeat("s", 5000)),
			sent: true, repaired: "truncated", check: func(t *testing.T, r apiRequest) {
				assert.Len(t, []rune(r.payload("summary")), 1024)
			},
		},
		{
			name: "1 MB attribute", bad: alert("", "alert.summary", "big", "blob", huge, "small", "kept"),
			sent: true, repaired: "details_shed", check: func(t *testing.T, r apiRequest) {
				details := r.Body["payload"].(map[string]any)["custom_details"].(map[string]any)
				assert.NotContains(t, details, "blob")
				assert.Equal(t, "kept", details["small"])
				assert.Contains(t, details, "details_shed")
			},
		},
		{
			name: "unknown severity", bad: alert("", "alert.summary", "x", "alert.severity", "bogus"),
			sent: true, repaired: "severity_defaulted", check: func(t *testing.T, r apiRequest) {
				assert.Equal(t, "error", r.payload("severity"))
			},
		},
		{name: "unknown alert.status", bad: alert("", "alert.summary", "x", "alert.status", "pending"), rejected: "unknown_event_action"},
		{
			name: "300-byte fingerprint", bad: alert("", "alert.fingerprint", strings.Repeat("f", 300)),
			sent: true, repaired: "dedup_key_hashed", check: func(t *testing.T, r apiRequest) {
				assert.Len(t, r.dedup(), 64)
			},
		},
		{name: "empty routing map match", bad: alert("", "service.name", ""), sent: true, check: func(t *testing.T, r apiRequest) {
			assert.Equal(t, testKey, r.key())
		}},
		{
			name: "acknowledge for an incident never seen", bad: alert("payments", "alert.fingerprint", "never", "alert.status", "acknowledged"),
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
			ld := batch(
				alert("checkout", "alert.fingerprint", "before", "alert.summary", "good"),
				tc.bad,
				alert("checkout", "alert.fingerprint", "after", "alert.summary", "good"),
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

func TestKeysAreTrimmed(t *testing.T) {
	api := newFakeEventsAPI(t)
	cfg := testConfig(api)
	cfg.RoutingKey = testKey + "\n"
	h := startExporter(t, cfg)
	require.NoError(t, h.exp.ConsumeLogs(context.Background(), alert("search", "alert.fingerprint", "s-1")))
	reqs := api.taken()
	require.Len(t, reqs, 1)
	assert.Equal(t, testKey, reqs[0].key())
}

func TestNoRoutingKeyIsRejected(t *testing.T) {
	api := newFakeEventsAPI(t)
	cfg := testConfig(api)
	cfg.RoutingKey = ""
	h := startExporter(t, cfg)
	ld := batch(alert("search", "alert.fingerprint", "s-1"), alert("checkout", "alert.fingerprint", "c-1"))
	require.NoError(t, h.exp.ConsumeLogs(context.Background(), ld))
	reqs := api.taken()
	require.Len(t, reqs, 1)
	assert.Equal(t, checkoutKey, reqs[0].key())
	assertCounted(t, h.tt, "otelcol_exporter_pagerduty_records_rejected", []metricdata.DataPoint[int64]{
		{Value: 1, Attributes: attribute.NewSet(attribute.String("reason", "no_routing_key"))},
	})
}

// TestRoutingKeysNeverLeak runs a lifecycle, a refused event and a failing
// request with debug logging, and searches logs, errors and metrics for keys.
func TestRoutingKeysNeverLeak(t *testing.T) {
	api := newFakeEventsAPI(t)
	api.respond = func(r apiRequest) (int, http.Header, string) {
		// Some proxies, WAFs and gateways echo the request in their errors.
		echo, _ := json.Marshal(r.Body)
		switch r.dedup() {
		case "refused":
			return 400, nil, `{"status":"invalid event","message":"Event object is invalid","errors":["bad"]}`
		case "failing":
			return 503, nil, "unavailable"
		case "echo-400":
			return 400, nil, `{"status":"invalid event","message":"bad request","errors":["cannot parse ` + strings.ReplaceAll(string(echo), `"`, `'`) + `"]}`
		case "echo-429":
			return 429, http.Header{"Retry-After": {"1"}}, string(echo)
		case "echo-500":
			return 500, nil, "<html><body>upstream failed for " + string(echo) + "</body></html>"
		}
		return 202, nil, ""
	}
	h := startExporter(t, testConfig(api))
	ctx := context.Background()
	var errs []error
	for _, ld := range []plog.Logs{
		alert("checkout", "alert.fingerprint", "fp"),
		alert("checkout", "alert.fingerprint", "fp"),
		alert("checkout", "alert.fingerprint", "fp", "alert.status", "acknowledged"),
		alert("payments", "alert.fingerprint", "fp", "alert.status", "resolved"),
		alert("payments", "alert.fingerprint", "refused"),
		alert("", "alert.fingerprint", "failing"),
		alert("", "alert.status", "bogus"),
		alert("checkout", "alert.fingerprint", "echo-400"),
		alert("payments", "alert.fingerprint", "echo-429"),
		alert("", "alert.fingerprint", "echo-500"),
	} {
		errs = append(errs, h.exp.ConsumeLogs(ctx, ld))
	}
	require.Error(t, errors.Join(errs...), "the failing request must surface an error")

	var text strings.Builder
	text.WriteString(errors.Join(errs...).Error())
	enc := zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig())
	for _, entry := range h.logs.All() {
		buf, err := enc.EncodeEntry(entry.Entry, entry.Context)
		require.NoError(t, err)
		text.Write(buf.Bytes())
	}
	for _, name := range []string{
		"otelcol_exporter_pagerduty_events", "otelcol_exporter_pagerduty_requests",
		"otelcol_exporter_pagerduty_records_rejected", "otelcol_exporter_pagerduty_suppressed",
	} {
		m, err := h.tt.GetMetric(name)
		require.NoError(t, err)
		for k := range sumByAttrs(m) {
			text.WriteString(k + "\n")
		}
	}
	all := text.String()
	require.Contains(t, all, "refused", "the refused record is named")
	require.Contains(t, all, "echo-400", "the echoed refusal is logged")
	for _, key := range []string{testKey, checkoutKey, paymentsKey} {
		for i := 0; i+16 <= len(key); i++ {
			assert.NotContains(t, all, key[i:i+16], "a 16-character piece of a key")
		}
	}
}

func TestShutdownWithoutStart(t *testing.T) {
	cfg := testConfig(newFakeEventsAPI(t))
	exp, err := NewFactory().CreateLogs(context.Background(), exportertest.NewNopSettings(metadata.Type), cfg)
	require.NoError(t, err)
	require.NoError(t, exp.Shutdown(context.Background()))
}

// sumByAttrs flattens an int64 sum into "attr/attr/..." -> value, with
// attribute values in key order.
func sumByAttrs(m metricdata.Metrics) map[string]int64 {
	out := map[string]int64{}
	sum, ok := m.Data.(metricdata.Sum[int64])
	if !ok {
		return out
	}
	for _, dp := range counted(sum.DataPoints) {
		var parts []string
		for _, kv := range dp.Attributes.ToSlice() {
			parts = append(parts, kv.Value.AsString())
		}
		out[strings.Join(parts, "/")] += dp.Value
	}
	return out
}

// counted drops the series a counter holds at 0 from the start (see
// series.zero) and the exporter attribute every series carries.
func counted(dps []metricdata.DataPoint[int64]) []metricdata.DataPoint[int64] {
	var out []metricdata.DataPoint[int64]
	for _, dp := range dps {
		if dp.Value == 0 && dp.Attributes.Len() > 1 {
			continue
		}
		kept, _ := dp.Attributes.Filter(func(kv attribute.KeyValue) bool { return kv.Key != "exporter" })
		out = append(out, metricdata.DataPoint[int64]{Value: dp.Value, Attributes: kept})
	}
	return out
}

// assertCounted checks the data points of an int64 metric other than the
// zeros every counter starts with, attributes without the exporter's ID.
func assertCounted(t *testing.T, tt *componenttest.Telemetry, name string, want []metricdata.DataPoint[int64]) {
	t.Helper()
	m, err := tt.GetMetric(name)
	require.NoError(t, err)
	var dps []metricdata.DataPoint[int64]
	switch data := m.Data.(type) {
	case metricdata.Sum[int64]:
		dps = data.DataPoints
	case metricdata.Gauge[int64]:
		dps = data.DataPoints
	default:
		t.Fatalf("%s: not an int64 sum or gauge: %T", name, m.Data)
	}
	for _, dp := range dps {
		id, _ := dp.Attributes.Value("exporter")
		assert.Equal(t, "pagerduty", id.AsString(), "%s: every series names the exporter", name)
	}
	type point struct {
		value int64
		attrs attribute.Distinct
	}
	var got, exp []point
	for _, dp := range counted(dps) {
		got = append(got, point{dp.Value, dp.Attributes.Equivalent()})
	}
	for _, dp := range want {
		exp = append(exp, point{dp.Value, dp.Attributes.Equivalent()})
	}
	assert.ElementsMatch(t, exp, got, name)
}

// TestRecordsWaitBehindAFailedKey: a resolve held for retry keeps the firing
// record after it from being judged a duplicate of the still-open incident.
func TestRecordsWaitBehindAFailedKey(t *testing.T) {
	api := newFakeEventsAPI(t)
	h := startExporter(t, testConfig(api))
	ctx := context.Background()
	firing := func() plog.Logs { return alert("checkout", "alert.fingerprint", "x", "alert.summary", "down") }
	require.NoError(t, h.exp.ConsumeLogs(ctx, firing()))
	api.taken()

	api.respond = func(apiRequest) (int, http.Header, string) { return 503, nil, "" }
	err := h.exp.ConsumeLogs(ctx, batch(alert("checkout", "alert.fingerprint", "x", "alert.status", "resolved"), firing()))
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
	firing := func() plog.Logs { return alert("checkout", "alert.fingerprint", "x", "alert.summary", "down") }
	require.NoError(t, h.exp.ConsumeLogs(ctx, firing()))
	api.taken()

	later := func(ld plog.Logs, d time.Duration) plog.Logs {
		lr := ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0)
		lr.SetTimestamp(pcommon.NewTimestampFromTime(lr.Timestamp().AsTime().Add(d)))
		return ld
	}
	api.respond = func(apiRequest) (int, http.Header, string) { return 503, nil, "" }
	err := h.exp.ConsumeLogs(ctx, later(alert("checkout", "alert.fingerprint", "x", "alert.status", "resolved"), time.Second))
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
	err := h.exp.ConsumeLogs(ctx, untimed(alert("checkout", "alert.fingerprint", "x")))
	var partial consumererror.Logs
	require.ErrorAs(t, err, &partial)
	held := partial.Data().ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0)
	assert.NotZero(t, held.ObservedTimestamp(), "the held record carries its arrival time")

	api.respond = nil
	require.NoError(t, h.exp.ConsumeLogs(ctx, untimed(alert("checkout", "alert.fingerprint", "x", "alert.status", "resolved"))))
	require.NoError(t, h.exp.ConsumeLogs(ctx, partial.Data()))
	reqs := api.taken()
	require.Len(t, reqs, 2, "trigger (failed), resolve; the retried trigger is not sent")
	assert.Equal(t, "resolve", reqs[1].action())
	assertCounted(t, h.tt, "otelcol_exporter_pagerduty_suppressed", []metricdata.DataPoint[int64]{
		{Value: 1, Attributes: attribute.NewSet(attribute.String("event_action", "trigger"), attribute.String("reason", "stale"))},
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
	require.NoError(t, h.exp.ConsumeLogs(ctx, alert("payments", "alert.fingerprint", "x")))
	require.NoError(t, h.exp.ConsumeLogs(ctx, alert("", "alert.fingerprint", "x", "alert.status", "resolved")))
	reqs := api.taken()
	require.Len(t, reqs, 2)
	assert.Equal(t, paymentsKey, reqs[1].key())
	assert.Equal(t, "resolve", reqs[1].action())
}

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

// TestDropWarningNamesTheRecord: a rejected record without its own time is
// named by its observed time and the start of its body.
func TestDropWarningNamesTheRecord(t *testing.T) {
	api := newFakeEventsAPI(t)
	h := startExporter(t, testConfig(api))
	ld := alert("checkout", "alert.status", "pending")
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
			require.NoError(t, exp.ConsumeLogs(ctx, alert("checkout", "alert.fingerprint", "eu-1")))
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
	require.NoError(t, h.exp.ConsumeLogs(ctx, at(alert("checkout", "alert.fingerprint", "skewed"), future)))
	require.NoError(t, h.exp.ConsumeLogs(ctx, at(alert("checkout", "alert.fingerprint", "skewed", "alert.status", "resolved"), time.Now())))

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

	require.NoError(t, h.exp.ConsumeLogs(context.Background(), alert("rules", "pagerduty.event_type", "change", "alert.summary", "deployed")))
	assert.Empty(t, api.taken(), "the change event was not sent")
	m, err := h.tt.GetMetric("otelcol_exporter_pagerduty_records_rejected")
	require.NoError(t, err)
	assert.Equal(t, int64(1), sumByAttrs(m)["change_to_ruleset_key"])
}

// TestTooManyRoutesForTheSeriesLimitIsNamed: a configuration whose routes
// make more series of the events metric than the metrics SDK keeps says so
// at start, once; one within the limit, raised or not, says nothing.
func TestTooManyRoutesForTheSeriesLimitIsNamed(t *testing.T) {
	for _, tc := range []struct {
		routes int
		limit  string // OTEL_GO_X_CARDINALITY_LIMIT
		warns  int
	}{
		{routes: 124, warns: 0},
		{routes: 126, warns: 1},
		{routes: 126, limit: "2100", warns: 0},
		{routes: 126, limit: "0", warns: 0},
		{routes: 126, limit: "2000", warns: 1},
	} {
		t.Setenv(telemetry.SeriesLimitEnv, tc.limit)
		api := newFakeEventsAPI(t)
		cfg := testConfig(api)
		cfg.Routing.Keys = map[string]configopaque.String{}
		for i := range tc.routes {
			cfg.Routing.Keys[fmt.Sprintf("route-%03d", i)] = configopaque.String(fmt.Sprintf("%032d", i))
		}
		h := startExporter(t, cfg)
		warnings := h.logs.FilterMessageSnippet("more series of otelcol_exporter_pagerduty_events").All()
		require.Len(t, warnings, tc.warns, "%d routes, limit %q", tc.routes, tc.limit)
		if tc.warns > 0 {
			assert.EqualValues(t, (tc.routes+1)*16, warnings[0].ContextMap()["series"])
		}
	}
}
