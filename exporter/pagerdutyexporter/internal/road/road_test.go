package road

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componentstatus"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/config/configretry"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/dedup"
	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/eventsapi"
	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/metadatatest"
	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/queues"
	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/recordmap"
	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/routes"
	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/telemetry"
)

// Routing keys as PagerDuty issues them: 32 characters.
const (
	testKey     = "0123456789abcdef0123456789abcdef"
	checkoutKey = "c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0"
	paymentsKey = "p0p0p0p0p0p0p0p0p0p0p0p0p0p0p0p0"
)

// eventsAPI is an Events API double that accepts every event, and records
// each as "action dedup_key routing_key".
type eventsAPI struct {
	*httptest.Server
	mu   sync.Mutex
	sent []string
}

func newEventsAPI(t *testing.T) *eventsAPI {
	api := &eventsAPI{}
	api.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var ev struct {
			Action   string `json:"event_action"`
			DedupKey string `json:"dedup_key"`
			Key      string `json:"routing_key"`
		}
		raw, _ := io.ReadAll(r.Body)
		if !assert.NoError(t, json.Unmarshal(raw, &ev), "body must be JSON: %s", raw) {
			http.Error(w, "unreadable request", http.StatusBadRequest)
			return
		}
		api.mu.Lock()
		api.sent = append(api.sent, ev.Action+" "+ev.DedupKey+" "+ev.Key)
		api.mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
		_, _ = io.WriteString(w, `{"status":"success","message":"Event processed"}`)
	}))
	t.Cleanup(api.Close)
	return api
}

// taken returns the events sent since the last call.
func (api *eventsAPI) taken() []string {
	api.mu.Lock()
	defer api.mu.Unlock()
	out := api.sent
	api.sent = nil
	return out
}

// testRoad is a road on real layers, its queues off (each push delivers
// before Admit returns), sending to an eventsAPI.
type testRoad struct {
	*Road
	api  *eventsAPI
	tt   *componenttest.Telemetry
	logs *observer.ObservedLogs
}

// newTestRoad starts a road whose alerts go quiet after autoResolveAfter
// (0: never) on the clock now.
func newTestRoad(t *testing.T, autoResolveAfter time.Duration, now func() time.Time) *testRoad {
	t.Helper()
	api := newEventsAPI(t)
	tt := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tt.Shutdown(context.Background())) })
	set := metadatatest.NewSettings(tt)
	core, logs := observer.New(zapcore.DebugLevel)
	set.Logger = zap.New(core)
	router := routes.NewRouter(testKey, map[string]string{"checkout": checkoutKey, "payments": paymentsKey})
	tel, err := telemetry.New(set.TelemetrySettings, set.ID.String(), router)
	require.NoError(t, err)
	t.Cleanup(tel.Shutdown)
	r := New(context.Background(), Config{
		Mapping:          recordmap.Options{RoutingAttribute: "service.name", DefaultSeverity: eventsapi.SeverityError},
		AutoResolveAfter: autoResolveAfter,
		Queues: queues.Config{
			Settings: set, Exporter: struct{}{},
			Queue: configoptional.None[exporterhelper.QueueBatchConfig](), Retry: configretry.BackOffConfig{},
		},
	}, Below{
		Routes:    router,
		Cache:     dedup.New(dedup.Config{TTL: 24 * time.Hour, MaxEntries: 1000, RepeatInterval: 4 * time.Hour}, now),
		Limiter:   eventsapi.NewLimiter(0, 0),
		Client:    eventsapi.NewClient(api.Client(), api.URL, "test", 0),
		Telemetry: tel,
		Health:    telemetry.NewHealth(func(*componentstatus.Event) {}, time.Now),
		Logger:    set.Logger,
		Now:       now,
	}, 1)
	require.NoError(t, r.Start(context.Background(), componenttest.NewNopHost(), nil))
	t.Cleanup(func() {
		disarm := r.Stop(false)
		defer disarm()
		require.NoError(t, r.Shutdown(context.Background(), false))
	})
	return &testRoad{Road: r, api: api, tt: tt, logs: logs}
}

// suppressed reads otelcol_exporter_pagerduty_suppressed as
// "action/reason" -> count, leaving out the series at zero.
func (r *testRoad) suppressed(t *testing.T) map[string]int64 {
	t.Helper()
	m, err := r.tt.GetMetric("otelcol_exporter_pagerduty_suppressed")
	require.NoError(t, err)
	got := map[string]int64{}
	for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
		if dp.Value == 0 {
			continue
		}
		action, _ := dp.Attributes.Value("event_action")
		reason, _ := dp.Attributes.Value("reason")
		exporter, _ := dp.Attributes.Value("exporter")
		assert.Equal(t, "pagerduty", exporter.AsString())
		got[action.AsString()+"/"+reason.AsString()] += dp.Value
	}
	return got
}
