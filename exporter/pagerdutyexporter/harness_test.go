package pagerdutyexporter

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/metadata"
	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/metadatatest"
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

func (r apiRequest) key() string { s, _ := r.Body["routing_key"].(string); return s }

func (r apiRequest) action() string { s, _ := r.Body["event_action"].(string); return s }

func (r apiRequest) dedup() string { s, _ := r.Body["dedup_key"].(string); return s }

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
