package recordmap

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/eventsapi"
)

// Map identifies and completes a record in one call, as the exporter does
// for a record it sends: the tests' view of the whole mapping. A record time
// out of range is dropped, as if the record had none.
func Map(lr plog.LogRecord, res pcommon.Resource, opts *Options) (Result, error) {
	return MapAt(lr, res, opts, 0)
}

// MapAt is Map for a record that reached the exporter at arrival; 0 means
// unknown, as in Map.
func MapAt(lr plog.LogRecord, res pcommon.Resource, opts *Options, arrival pcommon.Timestamp) (Result, error) {
	out, err := IdentifyAt(lr, res, opts, arrival)
	if err == nil {
		out.Complete()
	}
	return out, err
}

// fakeRoutingKey has the 32 characters PagerDuty requires and routes nowhere.
const fakeRoutingKey = "R0UT1NGKEYF0RTESTS0NLY0000000000"

var (
	recordTime = time.Date(2026, 3, 14, 9, 26, 53, 589_000_000, time.UTC)
	traceID    = pcommon.TraceID{0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36}
	spanID     = pcommon.SpanID{0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7}
)

func testOptions() *Options {
	return &Options{RoutingAttribute: "team", DefaultSeverity: eventsapi.SeverityError, Hostname: "collector-host", Client: "OpenTelemetry Collector"}
}

type builder func(lr plog.LogRecord, res pcommon.Resource)

// mapped is one Map call and, when it succeeded, the request body rendered
// with a routing key, already checked by validateEvent.
type mapped struct {
	Result
	err  error
	body []byte
	doc  map[string]any
}

func mapWith(tb testing.TB, opts *Options, build builder) mapped {
	tb.Helper()
	return mapAt(tb, opts, 0, build)
}

// mapAt is mapWith for a record that arrived at arrival (MapAt).
func mapAt(tb testing.TB, opts *Options, arrival pcommon.Timestamp, build builder) mapped {
	tb.Helper()
	lr, res := plog.NewLogRecord(), pcommon.NewResource()
	if build != nil {
		build(lr, res)
	}
	r, err := MapAt(lr, res, opts, arrival)
	m := mapped{Result: r, err: err}
	if err == nil {
		m.Event.RoutingKey = fakeRoutingKey
		m.body = m.Event.AppendJSON(nil)
		m.doc = validateEvent(tb, m.body)
	}
	return m
}

func mapOK(tb testing.TB, build builder) mapped {
	tb.Helper()
	m := mapWith(tb, testOptions(), build)
	require.NoError(tb, m.err)
	return m
}

func (m mapped) payload() map[string]any {
	p, _ := m.doc["payload"].(map[string]any)
	return p
}

// field returns a payload member as a string, "" when absent.
func (m mapped) field(name string) string {
	s, _ := m.payload()[name].(string)
	return s
}

func (m mapped) details() map[string]any {
	d, _ := m.payload()["custom_details"].(map[string]any)
	return d
}

func (m mapped) dedupKey() string {
	s, _ := m.doc["dedup_key"].(string)
	return s
}

// shedKeys returns the keys listed by the details_shed note, nil without one.
func (m mapped) shedKeys(tb testing.TB) []string {
	note, ok := m.details()["details_shed"].(map[string]any)
	if !ok {
		return nil
	}
	raw, ok := note["keys"].([]any)
	require.True(tb, ok, "details_shed note without keys: %v", note)
	keys := make([]string, len(raw))
	for i, k := range raw {
		keys[i], _ = k.(string)
	}
	return keys
}

func repairsOf(rs ...Repair) Repairs {
	var out Repairs
	for _, r := range rs {
		out |= Repairs(r)
	}
	return out
}

func repairNamesOf(rs Repairs) []string {
	var names []string
	for r := range rs.All() {
		names = append(names, r.String())
	}
	return names
}

func requireReject(t *testing.T, m mapped, reason string) *RejectError {
	t.Helper()
	require.Error(t, m.err)
	var rej *RejectError
	require.ErrorAs(t, m.err, &rej)
	assert.Equal(t, reason, rej.Reason)
	return rej
}

// typicalAlert is a firing alert as an Alertmanager or Grafana bridge would
// write it: contract attributes, labels as a nested map, a list, numbers,
// and a resource describing the host and service.
func typicalAlert(lr plog.LogRecord, res pcommon.Resource) {
	a := lr.Attributes()
	a.PutStr(AttrName, "HighErrorRate")
	a.PutStr(AttrStatus, "firing")
	a.PutStr(AttrFingerprint, "c0ffee1234abcd")
	a.PutStr(AttrSummary, "Checkout error rate 7.3% (threshold 5%)")
	a.PutStr(AttrSeverity, "critical")
	a.PutStr(AttrComponent, "checkout-api")
	a.PutStr(AttrGroup, "payments")
	a.PutStr(AttrClass, "http_errors")
	a.PutStr(AttrRunbookURL, "https://runbooks.example.com/checkout/high-error-rate")
	a.PutStr(AttrDashboardURL, "https://grafana.example.com/d/checkout")
	labels := a.PutEmptyMap("labels")
	labels.PutStr("env", "prod")
	labels.PutStr("region", "eu-west-1")
	k8s := labels.PutEmptyMap("k8s")
	k8s.PutStr("pod", "checkout-7d9f8-x2k4q")
	k8s.PutInt("restarts", 3)
	thresholds := a.PutEmptySlice("thresholds")
	thresholds.AppendEmpty().SetDouble(0.05)
	thresholds.AppendEmpty().SetDouble(0.1)
	thresholds.AppendEmpty().SetEmptyMap().PutStr("action", "page")
	a.PutDouble("error_rate", 0.073)
	a.PutInt("requests", 18234)
	a.PutBool("slo_breach", true)
	a.PutStr("team", "payments")
	lr.Body().SetStr("alert HighErrorRate fired for checkout")
	lr.SetSeverityNumber(plog.SeverityNumberError) // alert.severity wins
	lr.SetTimestamp(pcommon.NewTimestampFromTime(recordTime))
	lr.SetObservedTimestamp(pcommon.NewTimestampFromTime(recordTime.Add(2 * time.Second)))
	lr.SetTraceID(traceID)
	lr.SetSpanID(spanID)
	r := res.Attributes()
	r.PutStr(AttrHostName, "web-01")
	r.PutStr(AttrServiceName, "checkout")
	r.PutStr("k8s.namespace.name", "shop")
	r.PutStr("cloud.region", "eu-west-1")
}

// fromOTLP builds the first record of an OTLP JSON file in testdata/otlp,
// as the collector's receivers decode it from the wire.
func fromOTLP(name string) builder {
	return func(lr plog.LogRecord, res pcommon.Resource) {
		data, err := os.ReadFile(filepath.Join("testdata", "otlp", name))
		if err != nil {
			panic(err)
		}
		logs, err := (&plog.JSONUnmarshaler{}).UnmarshalLogs(data)
		if err != nil {
			panic(err)
		}
		rl := logs.ResourceLogs().At(0)
		rl.Resource().CopyTo(res)
		rl.ScopeLogs().At(0).LogRecords().At(0).CopyTo(lr)
	}
}

// badInput is a case of the TestBadInput tables: a record that breaks a
// rule of the contract or of the Events API, the options it is mapped with
// (testOptions when nil), and what its mapping must be.
type badInput struct {
	name  string
	opts  *Options
	build builder
	check func(t *testing.T, m mapped)
}

// runBadInput maps each case's record, in a subtest of its own, and checks
// the mapping.
func runBadInput(t *testing.T, cases []badInput) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			opts := tc.opts
			if opts == nil {
				opts = testOptions()
			}
			tc.check(t, mapWith(t, opts, tc.build))
		})
	}
}

// withStr builds a record with a summary and one string attribute.
func withStr(name, value string) builder {
	return func(lr plog.LogRecord, _ pcommon.Resource) {
		lr.Attributes().PutStr(AttrSummary, "s")
		lr.Attributes().PutStr(name, value)
	}
}
