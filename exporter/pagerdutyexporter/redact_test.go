package pagerdutyexporter

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/eventsapi"
	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/metadata"
	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/pdtest"
)

func TestNewKeyRedactorCoversEveryConfiguredKey(t *testing.T) {
	cfg := NewFactory().CreateDefaultConfig().(*Config)
	cfg.RoutingKey = configopaque.String(" " + testKey + "\n")
	cfg.Routing = RoutingConfig{Attribute: "service.name", Keys: map[string]configopaque.String{"checkout": checkoutKey, "payments": paymentsKey}}
	r := newKeyRedactor(cfg)
	for _, key := range []string{testKey, checkoutKey, paymentsKey} {
		assert.Equal(t, "<"+eventsapi.Redacted+">", r.Redact("<"+key+">"))
	}
}

// TestRedactLoggerCoversExporterhelper builds the exporter through the
// factory with the collector's plain logger in its settings, against a
// server that echoes the request at 400 and 503: neither the exporter's
// warning nor exporterhelper's retry lines carry a key. The refused record's
// body quotes the key, and the warning quotes the body: the client's
// redactor never sees that text, only the logger the factory wraps does.
func TestRedactLoggerCoversExporterhelper(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, _ := io.ReadAll(r.Body)
		status := http.StatusServiceUnavailable
		if strings.Contains(string(req), "refused") {
			status = http.StatusBadRequest
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, "<html>blocked: "+string(req)+"</html>")
	}))
	defer srv.Close()

	cfg := NewFactory().CreateDefaultConfig().(*Config)
	cfg.ClientConfig.Endpoint = srv.URL
	cfg.RoutingKey = testKey
	cfg.RateLimit = RateLimitConfig{}
	cfg.QueueConfig = configoptional.None[exporterhelper.QueueBatchConfig]() // push synchronously
	cfg.BackOffConfig.InitialInterval = 10 * time.Millisecond
	cfg.BackOffConfig.MaxInterval = 20 * time.Millisecond
	cfg.BackOffConfig.MaxElapsedTime = 100 * time.Millisecond

	core, logs := observer.New(zapcore.DebugLevel)
	set := exportertest.NewNopSettings(metadata.Type)
	set.Logger = zap.New(core) // as the collector hands it: not redacting
	exp, err := NewFactory().CreateLogs(context.Background(), set, cfg)
	require.NoError(t, err)
	require.NoError(t, exp.Start(context.Background(), componenttest.NewNopHost()))
	defer func() { require.NoError(t, exp.Shutdown(context.Background())) }()

	record := func(fp, body string) plog.Logs {
		ld := plog.NewLogs()
		lr := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
		lr.Attributes().PutStr("alert.fingerprint", fp)
		lr.Body().SetStr(body)
		return ld
	}
	require.NoError(t, exp.ConsumeLogs(context.Background(), record("refused", "disk full, paged with "+testKey)))
	require.Error(t, exp.ConsumeLogs(context.Background(), record("failing", "disk full")))

	text := pdtest.EncodeAll(t, logs)
	dropped := logs.FilterMessageSnippet("Dropping log record").All()
	require.Len(t, dropped, 1, text)
	assert.Equal(t, "disk full, paged with "+eventsapi.Redacted, dropped[0].ContextMap()["body"], "the warning quotes the body, its key replaced")
	require.NotEmpty(t, logs.FilterMessageSnippet("Exporting failed").All(), text)
	assert.Contains(t, text, eventsapi.Redacted, "the echo is quoted, its key replaced")
	assert.Empty(t, pdtest.KeyLeak(text, testKey), text)
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
		pdtest.Alert("checkout", "alert.fingerprint", "fp"),
		pdtest.Alert("checkout", "alert.fingerprint", "fp"),
		pdtest.Alert("checkout", "alert.fingerprint", "fp", "alert.status", "acknowledged"),
		pdtest.Alert("payments", "alert.fingerprint", "fp", "alert.status", "resolved"),
		pdtest.Alert("payments", "alert.fingerprint", "refused"),
		pdtest.Alert("", "alert.fingerprint", "failing"),
		pdtest.Alert("", "alert.status", "bogus"),
		pdtest.Alert("checkout", "alert.fingerprint", "echo-400"),
		pdtest.Alert("payments", "alert.fingerprint", "echo-429"),
		pdtest.Alert("", "alert.fingerprint", "echo-500"),
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
