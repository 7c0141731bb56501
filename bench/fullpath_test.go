package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	pagerduty "github.com/PagerDuty/go-pagerduty"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter"
)

// routingKey is a fake 32-character integration key.
const routingKey = "R0UT1NGKEYR0UT1NGKEYR0UT1NGKEY00"

const enqueuePath = "/v2/enqueue"

// The alert every benchmark sends. The resource gives payload.source
// (host.name); alert.* attributes give the payload fields; the rest, and the
// resource, become custom_details.
const (
	alertName      = "HighErrorRate"
	alertSummary   = "checkout: 5xx error rate 7.3% over the last 5m (threshold 5%)"
	alertSeverity  = "critical"
	alertComponent = "checkout-api"
	alertEnv       = "prod"
	alertValue     = 0.073
	serviceName    = "checkout"
	hostName       = "checkout-7f9c5d-x2k4p.prod.example.net"

	// timestampLayout is the exporter's payload.timestamp format.
	timestampLayout = "2006-01-02T15:04:05.000Z"
)

// alertTime is the record time of every alert.
var alertTime = time.Date(2026, 11, 28, 13, 0, 0, 123_000_000, time.UTC)

// fingerprints hands out alert fingerprints never used before in this
// process, so that no event is suppressed by an exporter's dedup cache.
var fingerprints atomic.Uint64

func nextFingerprint() string {
	return fmt.Sprintf("bench-%016x", fingerprints.Add(1))
}

// ---------------------------------------------------------------------------
// The Events API double.

var (
	respBody = []byte(`{"status":"success","message":"Event processed","dedup_key":"5f3e1f0b8c2a4d6e9b7a1c3d5e7f9a0b"}`)
	ctJSON   = []string{"application/json"}
)

// eventsServer answers every POST to /v2/enqueue with 202 and PagerDuty's
// success body, after reading the request body. It counts the requests and
// keeps the last body.
type eventsServer struct {
	*httptest.Server
	requests atomic.Int64
	rejected atomic.Int64

	mu   sync.Mutex
	last bytes.Buffer
}

func newEventsServer(tb testing.TB) *eventsServer {
	s := &eventsServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serveHTTP))
	tb.Cleanup(s.Close)
	return s
}

func (s *eventsServer) serveHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.last.Reset()
	_, err := s.last.ReadFrom(r.Body)
	s.mu.Unlock()
	if err != nil || r.Method != http.MethodPost || r.URL.Path != enqueuePath {
		s.rejected.Add(1)
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	s.requests.Add(1)
	w.Header()["Content-Type"] = ctJSON
	w.WriteHeader(http.StatusAccepted)
	_, _ = w.Write(respBody)
}

// lastBody returns a copy of the last request body.
func (s *eventsServer) lastBody() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return bytes.Clone(s.last.Bytes())
}

// checkRun fails b unless the server answered exactly want requests since
// before (and refused none), and the last body is JSON for routingKey.
func (s *eventsServer) checkRun(b *testing.B, before, want int64) map[string]any {
	b.Helper()
	if got := s.requests.Load() - before; got != want {
		b.Fatalf("server counted %d requests, want %d (b.N)", got, want)
	}
	if n := s.rejected.Load(); n != 0 {
		b.Fatalf("server refused %d requests", n)
	}
	body := s.lastBody()
	var ev map[string]any
	if err := json.Unmarshal(body, &ev); err != nil {
		b.Fatalf("last body is not JSON: %v: %s", err, body)
	}
	if ev["routing_key"] != routingKey {
		b.Fatalf("last body has routing_key %v, want %s", ev["routing_key"], routingKey)
	}
	return ev
}

// ---------------------------------------------------------------------------
// The exporter.

// exporterConfig is the exporter's default config sending straight to url:
// no sending queue, no retry, no rate limit.
func exporterConfig(url string) *pagerdutyexporter.Config {
	cfg := pagerdutyexporter.NewFactory().CreateDefaultConfig().(*pagerdutyexporter.Config)
	cfg.ClientConfig.Endpoint = url
	cfg.RoutingKey = configopaque.String(routingKey)
	cfg.QueueConfig = configoptional.None[exporterhelper.QueueBatchConfig]()
	cfg.BackOffConfig.Enabled = false
	cfg.RateLimit.EventsPerMinute = 0
	return cfg
}

func startExporter(ctx context.Context, tb testing.TB, url string) exporter.Logs {
	tb.Helper()
	cfg := exporterConfig(url)
	if err := cfg.Validate(); err != nil {
		tb.Fatal(err)
	}
	set := exportertest.NewNopSettings(component.MustNewType("pagerduty"))
	exp, err := pagerdutyexporter.NewFactory().CreateLogs(ctx, set, cfg)
	if err != nil {
		tb.Fatal(err)
	}
	if err := exp.Start(ctx, componenttest.NewNopHost()); err != nil {
		tb.Fatal(err)
	}
	return exp
}

func shutdown(ctx context.Context, tb testing.TB, exp exporter.Logs) {
	tb.Helper()
	if err := exp.Shutdown(ctx); err != nil {
		tb.Fatal(err)
	}
}

// appendAlert appends a typical firing alert to sl: eight record attributes,
// a record time and severity number.
func appendAlert(sl plog.ScopeLogs, fingerprint string) {
	lr := sl.LogRecords().AppendEmpty()
	lr.SetTimestamp(pcommon.NewTimestampFromTime(alertTime))
	lr.SetObservedTimestamp(pcommon.NewTimestampFromTime(alertTime.Add(time.Second)))
	lr.SetSeverityNumber(plog.SeverityNumberError)
	lr.SetSeverityText("ERROR")
	a := lr.Attributes()
	a.EnsureCapacity(8)
	a.PutStr("alert.fingerprint", fingerprint)
	a.PutStr("alert.status", "firing")
	a.PutStr("alert.name", alertName)
	a.PutStr("alert.summary", alertSummary)
	a.PutStr("alert.severity", alertSeverity)
	a.PutStr("alert.component", alertComponent)
	a.PutStr("deployment.environment", alertEnv)
	a.PutDouble("alert.value", alertValue)
}

// alertScope returns an empty batch from one resource (service.name,
// host.name) and its one scope, for alerts to be appended to.
func alertScope() (plog.Logs, plog.ScopeLogs) {
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr("service.name", serviceName)
	rl.Resource().Attributes().PutStr("host.name", hostName)
	sl := rl.ScopeLogs().AppendEmpty()
	sl.Scope().SetName("github.com/prometheus/alertmanager")
	return ld, sl
}

// alertLogs returns a batch from one resource with one alert per
// fingerprint.
func alertLogs(fingerprints ...string) plog.Logs {
	ld, sl := alertScope()
	for _, fp := range fingerprints {
		appendAlert(sl, fp)
	}
	return ld
}

// ---------------------------------------------------------------------------
// The baselines.

// baselineHTTPClient is an http.Client built like the exporter's by
// confighttp.ClientConfig.ToClient, from the same config values: a clone of
// http.DefaultTransport with keep-alive on and the same MaxIdleConns,
// MaxIdleConnsPerHost (100, the exporter's default), IdleConnTimeout,
// MaxConnsPerHost, ForceAttemptHTTP2, and the same client Timeout (30s).
// What ToClient adds and this leaves out is the exporter's own overhead: the
// otelhttp.Transport wrapper (with the no-op tracer and meter providers of
// exportertest.NewNopSettings).
func baselineHTTPClient(cc confighttp.ClientConfig) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DisableKeepAlives = !cc.Keepalive.HasValue()
	if ka := cc.Keepalive.Get(); ka != nil {
		t.MaxIdleConns = ka.MaxIdleConns
		t.MaxIdleConnsPerHost = ka.MaxIdleConnsPerHost
		t.IdleConnTimeout = ka.IdleConnTimeout
	}
	t.MaxConnsPerHost = cc.MaxConnsPerHost
	t.ForceAttemptHTTP2 = cc.ForceAttemptHTTP2
	return &http.Client{Transport: t, Timeout: cc.Timeout}
}

// gopagerdutyEvent is the event the exporter sends for an alert with
// dedupKey, as a go-pagerduty V2Event. details is shared between events.
func gopagerdutyEvent(dedupKey string, details map[string]any) *pagerduty.V2Event {
	return &pagerduty.V2Event{
		RoutingKey: routingKey,
		Action:     "trigger",
		DedupKey:   dedupKey,
		Payload: &pagerduty.V2Payload{
			Summary:   alertSummary,
			Source:    hostName,
			Severity:  alertSeverity,
			Timestamp: alertTime.UTC().Format(timestampLayout),
			Component: alertComponent,
			Details:   details,
		},
		// The exporter's default client: the two must send the same event.
		Client: "OpenTelemetry Collector",
	}
}

// gopagerdutyDetails are the custom_details the exporter sends.
func gopagerdutyDetails() map[string]any {
	return map[string]any{
		"alert.name":             alertName,
		"deployment.environment": alertEnv,
		"alert.value":            alertValue,
		"resource": map[string]any{
			"service.name": serviceName,
			"host.name":    hostName,
		},
	}
}

// ---------------------------------------------------------------------------
// The benchmarks.

// BenchmarkFullPath sends one event per iteration to the same server three
// ways. Every iteration is a real HTTP request: the server's count must equal
// b.N.
func BenchmarkFullPath(b *testing.B) {
	srv := newEventsServer(b)
	ctx := context.Background()

	// The exporter's body for one alert, captured by the server: nethttp
	// posts exactly these bytes, and go-pagerduty must send the same event.
	refBody := func() []byte {
		exp := startExporter(ctx, b, srv.URL)
		defer shutdown(ctx, b, exp)
		if err := exp.ConsumeLogs(ctx, alertLogs("reference")); err != nil {
			b.Fatal(err)
		}
		return srv.lastBody()
	}()
	checkSameEvent(b, srv, refBody)

	b.Run("exporter", func(b *testing.B) {
		b.ReportAllocs()
		exp := startExporter(ctx, b, srv.URL)
		defer shutdown(ctx, b, exp)
		// Warm up: the connection is opened outside the timed loop.
		if err := exp.ConsumeLogs(ctx, alertLogs(nextFingerprint())); err != nil {
			b.Fatal(err)
		}
		// Each iteration's alert has a fingerprint never seen before, so the
		// dedup cache lets it through. The fingerprints are made here, outside
		// the timed loop, and the loop reuses one batch, only pointing its
		// alert.fingerprint at the next one: one Value.SetStr, no allocation
		// (a few ns against tens of µs). ConsumeLogs is synchronous here (no
		// sending queue) and keeps no reference to the batch. Prebuilding b.N
		// batches instead would leave b.N live batches for the GC to mark
		// during the timed loop, a cost the baselines do not pay.
		fps := make([]string, b.N)
		for i := range fps {
			fps[i] = nextFingerprint()
		}
		ld := alertLogs("unset")
		fp, ok := ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).Attributes().Get("alert.fingerprint")
		if !ok {
			b.Fatal("batch has no alert.fingerprint")
		}
		before := srv.requests.Load()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			fp.SetStr(fps[i])
			if err := exp.ConsumeLogs(ctx, ld); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		ev := srv.checkRun(b, before, int64(b.N))
		if ev["dedup_key"] != fps[b.N-1] {
			b.Fatalf("last body has dedup_key %v, want %s", ev["dedup_key"], fps[b.N-1])
		}
	})

	b.Run("gopagerduty", func(b *testing.B) {
		b.ReportAllocs()
		httpClient := baselineHTTPClient(exporterConfig(srv.URL).ClientConfig)
		defer httpClient.CloseIdleConnections()
		client := pagerduty.NewClient("", pagerduty.WithV2EventsAPIEndpoint(srv.URL))
		client.HTTPClient = httpClient
		details := gopagerdutyDetails()
		if _, err := client.ManageEventWithContext(ctx, gopagerdutyEvent(nextFingerprint(), details)); err != nil {
			b.Fatal(err)
		}
		fps := make([]string, b.N)
		for i := range fps {
			fps[i] = nextFingerprint()
		}
		before := srv.requests.Load()
		var resp *pagerduty.V2EventResponse
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			var err error
			// The event is built per iteration, as a caller would; the
			// details map is shared.
			resp, err = client.ManageEventWithContext(ctx, gopagerdutyEvent(fps[i], details))
			if err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		ev := srv.checkRun(b, before, int64(b.N))
		if ev["dedup_key"] != fps[b.N-1] {
			b.Fatalf("last body has dedup_key %v, want %s", ev["dedup_key"], fps[b.N-1])
		}
		if resp.Status != "success" {
			b.Fatalf("last response status %q, want success", resp.Status)
		}
	})

	b.Run("nethttp", func(b *testing.B) {
		b.ReportAllocs()
		client := baselineHTTPClient(exporterConfig(srv.URL).ClientConfig)
		defer client.CloseIdleConnections()
		url := srv.URL + enqueuePath
		post := func() error {
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(refBody))
			if err != nil {
				return err
			}
			req.Header.Set("Content-Type", "application/json")
			resp, err := client.Do(req)
			if err != nil {
				return err
			}
			_, err = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if err == nil && resp.StatusCode != http.StatusAccepted {
				err = fmt.Errorf("status %d", resp.StatusCode)
			}
			return err
		}
		if err := post(); err != nil {
			b.Fatal(err)
		}
		before := srv.requests.Load()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if err := post(); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		srv.checkRun(b, before, int64(b.N))
		if !bytes.Equal(srv.lastBody(), refBody) {
			b.Fatalf("last body differs from the exporter's")
		}
	})
}

// checkSameEvent fails b unless go-pagerduty's body for the reference alert
// is, as JSON, the exporter's body refBody.
func checkSameEvent(b *testing.B, srv *eventsServer, refBody []byte) {
	b.Helper()
	client := pagerduty.NewClient("", pagerduty.WithV2EventsAPIEndpoint(srv.URL))
	httpClient := baselineHTTPClient(exporterConfig(srv.URL).ClientConfig)
	defer httpClient.CloseIdleConnections()
	client.HTTPClient = httpClient
	if _, err := client.ManageEventWithContext(context.Background(), gopagerdutyEvent("reference", gopagerdutyDetails())); err != nil {
		b.Fatal(err)
	}
	var want, got map[string]any
	if err := json.Unmarshal(refBody, &want); err != nil {
		b.Fatalf("exporter body is not JSON: %v: %s", err, refBody)
	}
	gotBody := srv.lastBody()
	if err := json.Unmarshal(gotBody, &got); err != nil {
		b.Fatalf("go-pagerduty body is not JSON: %v: %s", err, gotBody)
	}
	if !reflect.DeepEqual(want, got) {
		b.Fatalf("go-pagerduty sends another event than the exporter:\nexporter:    %s\ngo-pagerduty: %s", refBody, gotBody)
	}
}

// suppressedBatch is the number of records in BenchmarkSuppressed's batch.
const suppressedBatch = 100

// BenchmarkSuppressed measures the dedup path: a batch of 100 firing alerts
// whose incidents are open (the batch was sent once before the timer), sent
// again and again. Every record is suppressed: the server must see no
// request in the timed loop.
func BenchmarkSuppressed(b *testing.B) {
	b.ReportAllocs()
	srv := newEventsServer(b)
	ctx := context.Background()
	exp := startExporter(ctx, b, srv.URL)
	defer shutdown(ctx, b, exp)

	fps := make([]string, suppressedBatch)
	for i := range fps {
		fps[i] = nextFingerprint()
	}
	ld := alertLogs(fps...)
	if err := exp.ConsumeLogs(ctx, ld); err != nil {
		b.Fatal(err)
	}
	if got := srv.requests.Load(); got != suppressedBatch {
		b.Fatalf("first round: server counted %d requests, want %d", got, suppressedBatch)
	}

	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := exp.ConsumeLogs(ctx, ld); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N*suppressedBatch)/b.Elapsed().Seconds(), "records/s")
	if got := srv.requests.Load() - suppressedBatch; got != 0 {
		b.Fatalf("server counted %d requests in the timed loop, want 0 (all suppressed)", got)
	}
	if n := srv.rejected.Load(); n != 0 {
		b.Fatalf("server refused %d requests", n)
	}
}
