package recordmap

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"hash/fnv"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/eventsapi"
)

var update = flag.Bool("update", false, "rewrite testdata/golden/*.json from the current mapping")

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

var goldenCases = []struct {
	name    string
	build   builder
	arrival pcommon.Timestamp // passed to MapAt
	repairs Repairs
	check   func(t *testing.T, m mapped)
}{
	{
		name:  "firing_alert",
		build: typicalAlert,
		check: func(t *testing.T, m mapped) {
			assert.Equal(t, "payments", m.RoutingValue)
			assert.Equal(t, recordTime.UnixNano(), m.Time)
		},
	},
	{
		name: "acknowledge_status",
		build: func(lr plog.LogRecord, res pcommon.Resource) {
			a := lr.Attributes()
			a.PutStr(AttrStatus, "Acknowledged")
			a.PutStr(AttrFingerprint, "c0ffee1234abcd")
			a.PutStr(AttrName, "HighErrorRate")
			a.PutStr(AttrSummary, "Checkout error rate 7.3% (threshold 5%)")
			a.PutStr(AttrSeverity, "CRITICAL")
			a.PutStr("acknowledged_by", "alice")
			lr.SetTimestamp(pcommon.NewTimestampFromTime(recordTime.Add(5 * time.Minute)))
			res.Attributes().PutStr(AttrServiceName, "checkout")
		},
	},
	{
		name: "resolve_event_action",
		build: func(lr plog.LogRecord, res pcommon.Resource) {
			a := lr.Attributes()
			a.PutStr(AttrEventAction, "Resolve")
			a.PutStr(AttrStatus, "firing") // pagerduty.event_action wins
			a.PutStr(AttrDedupKey, "checkout/HighErrorRate")
			a.PutStr(AttrFingerprint, "c0ffee1234abcd") // pagerduty.dedup_key wins
			a.PutStr(AttrSummary, "Checkout error rate back to 0.4%")
			a.PutStr(AttrSource, "web-01.shop.example.com")
			a.PutStr(AttrSeverity, "info")
			lr.SetTimestamp(pcommon.NewTimestampFromTime(recordTime.Add(20 * time.Minute)))
			res.Attributes().PutStr(AttrHostName, "web-01") // alert.source wins
		},
	},
	{
		name: "change_event",
		build: func(lr plog.LogRecord, res pcommon.Resource) {
			a := lr.Attributes()
			a.PutStr(AttrEventType, "CHANGE")
			a.PutStr(AttrSummary, "Deployed checkout v1.42.0 to prod")
			a.PutStr(AttrSource, "argo-cd")
			// None of these has a meaning for a change event.
			a.PutStr(AttrSeverity, "critical")
			a.PutStr(AttrStatus, "firing")
			a.PutStr(AttrFingerprint, "deploy-1.42.0")
			a.PutStr(AttrComponent, "checkout")
			a.PutStr(AttrImages, "https://img.example.com/deploy.png")
			a.PutStr(AttrRunbookURL, "https://runbooks.example.com/deploys")
			links := a.PutEmptySlice(AttrLinks)
			pr := links.AppendEmpty().SetEmptyMap()
			pr.PutStr("href", "https://github.com/example/checkout/pull/1842")
			pr.PutStr("text", "PR #1842")
			links.AppendEmpty().SetStr("https://argo.example.com/applications/checkout")
			a.PutStr("version", "1.42.0")
			a.PutStr("commit", "9f3c2ab")
			lr.SetTimestamp(pcommon.NewTimestampFromTime(recordTime))
			res.Attributes().PutStr("deployment.environment.name", "prod")
		},
	},
	{
		name: "body_only",
		build: func(lr plog.LogRecord, res pcommon.Resource) {
			lr.Body().SetStr("  disk /var is 97% full  \n")
			lr.SetSeverityNumber(plog.SeverityNumberWarn)
			lr.SetObservedTimestamp(pcommon.NewTimestampFromTime(recordTime))
			res.Attributes().PutStr(AttrHostName, "db-02")
		},
		repairs: repairsOf(RepairDedupKeyDerived),
		check: func(t *testing.T, m mapped) {
			assert.Equal(t, recordTime.UnixNano(), m.Time, "Time from ObservedTimestamp")
			assert.NotContains(t, m.details(), "body", "a body used as summary is not repeated")
		},
	},
	{
		name: "images",
		build: func(lr plog.LogRecord, res pcommon.Resource) {
			a := lr.Attributes()
			a.PutStr(AttrName, "GPU temperature high")
			a.PutStr(AttrSeverity, "warn")
			a.PutStr(AttrFingerprint, "gpu-node-7/temp")
			images := a.PutEmptySlice(AttrImages)
			full := images.AppendEmpty().SetEmptyMap()
			full.PutStr("src", "https://img.example.com/gpu-temp.png")
			full.PutStr("href", "https://grafana.example.com/d/gpu")
			full.PutStr("alt", "GPU temperature, last hour")
			images.AppendEmpty().SetStr("https://img.example.com/fan-speed.png")
			images.AppendEmpty().SetEmptyMap().PutStr("src", "https://img.example.com/heatmap.png")
			images.AppendEmpty().SetEmptyMap().PutStr("href", "https://no-src.example.com") // no src: dropped
			images.AppendEmpty().SetStr("  ")                                               // blank: dropped
			lr.SetTimestamp(pcommon.NewTimestampFromTime(recordTime))
			res.Attributes().PutStr(AttrHostName, "gpu-node-7")
		},
	},
	{
		name: "client_links_images",
		build: func(lr plog.LogRecord, res pcommon.Resource) {
			a := lr.Attributes()
			a.PutStr(AttrName, "CheckoutLatencyHigh")
			a.PutStr(AttrFingerprint, "checkout-latency-p99")
			a.PutStr(AttrSeverity, "critical")
			a.PutStr(AttrClient, "Grafana")
			a.PutStr(AttrClientURL, "/alerting/grafana/abc/view") // relative: dropped
			a.PutStr(AttrGeneratorURL, "https://grafana.example.com/alerting/grafana/abc/view")
			a.PutStr(AttrRunbookURL, "runbooks/checkout.md") // relative: dropped
			a.PutStr(AttrDashboardURL, "https://grafana.example.com/d/checkout")
			links := a.PutEmptySlice(AttrLinks)
			links.AppendEmpty().SetStr("javascript:alert(1)")
			mail := links.AppendEmpty().SetEmptyMap()
			mail.PutStr("href", "mailto:oncall@example.com")
			mail.PutStr("text", "Mail the on-call")
			wiki := links.AppendEmpty().SetEmptyMap()
			wiki.PutStr("href", "http://wiki.internal/checkout")
			wiki.PutStr("text", "Wiki")
			links.AppendEmpty().SetStr("ftp://files.example.com/heap.dump")
			images := a.PutEmptySlice(AttrImages)
			images.AppendEmpty().SetStr("http://img.example.com/latency.png") // not https: dropped
			p99 := images.AppendEmpty().SetEmptyMap()
			p99.PutStr("src", "https://img.example.com/p99.png")
			p99.PutStr("href", "javascript:void(0)") // dropped, the image stays
			p99.PutStr("alt", "p99 latency")
			inline := images.AppendEmpty().SetEmptyMap()
			inline.PutStr("src", "data:image/png;base64,iVBORw0KGgo=") // not https: dropped
			inline.PutStr("alt", "inline")
			heat := images.AppendEmpty().SetEmptyMap()
			heat.PutStr("src", "https://img.example.com/heat.png")
			heat.PutStr("href", "https://grafana.example.com/d/heat")
			lr.SetTimestamp(pcommon.NewTimestampFromTime(recordTime))
			res.Attributes().PutStr(AttrServiceName, "checkout")
		},
		repairs: repairsOf(RepairLinkInvalid, RepairImageInvalid, RepairClientURLInvalid),
		check: func(t *testing.T, m mapped) {
			assert.Equal(t, "Grafana", m.doc["client"])
			assert.Equal(t, "https://grafana.example.com/alerting/grafana/abc/view", m.doc["client_url"], "alert.generator_url after an invalid pagerduty.client_url")
			assert.NotContains(t, m.details(), AttrClient)
			assert.NotContains(t, m.details(), AttrClientURL)
			assert.Contains(t, m.details(), AttrGeneratorURL, "alert.generator_url stays in the details")
		},
	},
	{
		name: "summary_emoji",
		build: func(lr plog.LogRecord, res pcommon.Resource) {
			a := lr.Attributes()
			a.PutStr(AttrSummary, strings.Repeat("🚨", 1024)) // 1024 code points, 2048 UTF-16 units
			a.PutStr(AttrFingerprint, "sirens")
			a.PutStr(AttrSeverity, "critical")
			res.Attributes().PutStr(AttrHostName, "web-01")
		},
		repairs: repairsOf(RepairTruncated),
		check: func(t *testing.T, m mapped) {
			summary := m.field("summary")
			assert.Equal(t, strings.Repeat("🚨", 511)+"…", summary, "511 emoji and the ellipsis: 1023 UTF-16 units")
			assert.Len(t, utf16.Encode([]rune(summary)), 1023)
		},
	},
	{
		name:  "duplicate_keys",
		build: fromOTLP("duplicate_keys.json"),
		// Of keys that appear twice, the first value is the one kept: the
		// summary, the routing value, labels, labels.env and the resource's.
		repairs: repairsOf(RepairDuplicateKey),
		check: func(t *testing.T, m mapped) {
			assert.Equal(t, "Checkout p99 latency 4.2s", m.field("summary"))
			assert.Equal(t, "web-01", m.field("source"))
			assert.Equal(t, "payments", m.RoutingValue)
			assert.Equal(t, "payments", m.details()["team"])
			assert.Equal(t, map[string]any{"env": "prod", "region": "eu-west-1"}, m.details()["labels"])
			assert.Equal(t, map[string]any{"host.name": "web-01", "k8s.namespace.name": "shop"}, m.details()["resource"])
		},
	},
	{
		name: "detail_note_names",
		build: func(lr plog.LogRecord, res pcommon.Resource) {
			a := lr.Attributes()
			a.PutStr(AttrSummary, "Queue depth 12k on orders")
			a.PutStr(AttrFingerprint, "orders-queue-depth")
			a.PutStr(AttrSeverity, "warning")
			// Attributes with the names of the exporter's own members.
			a.PutStr("body", "the record's body attribute")
			a.PutStr("trace_id", "an attribute, not the record's trace")
			a.PutStr("span_id", "an attribute too")
			a.PutStr("resource", "orders-queue")
			a.PutStr("_resource", "taken as well")
			lr.Body().SetStr("queue depth 12034 > 10000")
			lr.SetTraceID(traceID)
			lr.SetSpanID(spanID)
			lr.SetTimestamp(pcommon.NewTimestampFromTime(recordTime))
			res.Attributes().PutStr(AttrHostName, "mq-01")
		},
		check: func(t *testing.T, m mapped) {
			d := m.details()
			assert.Equal(t, "the record's body attribute", d["body"])
			assert.Equal(t, "queue depth 12034 > 10000", d["_body"])
			assert.Equal(t, traceID.String(), d["_trace_id"])
			assert.Equal(t, spanID.String(), d["_span_id"])
			assert.Equal(t, "orders-queue", d["resource"])
			assert.Equal(t, "taken as well", d["_resource"])
			assert.Equal(t, map[string]any{AttrHostName: "mq-01"}, d["__resource"])
		},
	},
	{
		name: "details_shed_attribute",
		build: func(lr plog.LogRecord, res pcommon.Resource) {
			a := lr.Attributes()
			a.PutStr(AttrSummary, "Core dump on batch-07")
			a.PutStr(AttrFingerprint, "batch-07-core")
			a.PutStr(AttrSeverity, "warning")
			a.PutStr("details_shed", "the record's own attribute")
			a.PutStr("stack", strings.Repeat("frame\n", 100_000)) // 700 KB: shed
			lr.SetTimestamp(pcommon.NewTimestampFromTime(recordTime))
			res.Attributes().PutStr(AttrHostName, "batch-07")
		},
		repairs: repairsOf(RepairDetailsShed),
		check: func(t *testing.T, m mapped) {
			d := m.details()
			assert.Equal(t, "the record's own attribute", d["details_shed"])
			note, _ := d["_details_shed"].(map[string]any)
			assert.Equal(t, []any{"stack"}, note["keys"])
		},
	},
	{
		name: "time_out_of_range",
		build: func(lr plog.LogRecord, res pcommon.Resource) {
			a := lr.Attributes()
			a.PutStr(AttrSummary, "Clock of sensor-3 is off")
			a.PutStr(AttrFingerprint, "sensor-3-clock")
			a.PutStr(AttrSeverity, "warning")
			// 2300-04-02, past 2262-04-11, the last time a pcommon.Timestamp
			// converts to without wrapping: it used to be sent as 1715-09-13.
			lr.SetTimestamp(pcommon.Timestamp(uint64(math.MaxInt64) + 1_000_000_000*3600*24*365*38))
			res.Attributes().PutStr(AttrHostName, "sensor-3")
		},
		arrival: pcommon.NewTimestampFromTime(recordTime),
		repairs: repairsOf(RepairTimeOutOfRange),
		check: func(t *testing.T, m mapped) {
			assert.Equal(t, recordTime.UnixNano(), m.Time, "the arrival time")
			assert.Equal(t, "2026-03-14T09:26:53.589Z", m.field("timestamp"))
		},
	},
	{
		name: "value_converted",
		build: func(lr plog.LogRecord, _ pcommon.Resource) {
			a := lr.Attributes()
			a.PutInt(AttrFingerprint, 42)
			a.PutEmptyMap(AttrSummary).PutStr("text", "disk full")
			a.PutDouble(AttrSource, 10.5)
			a.PutBool(AttrComponent, true)
			a.PutInt("team", 7) // the routing attribute
			lr.SetTimestamp(pcommon.NewTimestampFromTime(recordTime))
		},
		repairs: repairsOf(RepairSeverityDefaulted, RepairValueConverted),
		check: func(t *testing.T, m mapped) {
			assert.Equal(t, "42", m.dedupKey())
			assert.JSONEq(t, `{"text":"disk full"}`, m.field("summary"))
			assert.Equal(t, "10.5", m.field("source"))
			assert.Equal(t, "true", m.field("component"))
			assert.Equal(t, "7", m.RoutingValue)
			assert.Equal(t, json.Number("7"), m.details()["team"], "details keep the value's type")
		},
	},
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

// TestGolden renders representative records and compares the request bodies
// with testdata/golden. Run with -update to rewrite them, then review the diff.
func TestGolden(t *testing.T) {
	for _, tc := range goldenCases {
		t.Run(tc.name, func(t *testing.T) {
			m := mapAt(t, testOptions(), tc.arrival, tc.build)
			require.NoError(t, m.err)
			path := filepath.Join("testdata", "golden", tc.name+".json")
			if *update {
				var out bytes.Buffer
				require.NoError(t, json.Indent(&out, m.body, "", "  "))
				out.WriteByte('\n')
				require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o750))
				require.NoError(t, os.WriteFile(path, out.Bytes(), 0o600))
			}
			want, err := os.ReadFile(path)
			require.NoError(t, err, "run go test -run Golden -update to create it")
			assert.JSONEq(t, string(want), string(m.body))
			// The goldens themselves must obey the API, whatever -update wrote.
			validateEvent(t, want)
			assert.Equal(t, repairNamesOf(tc.repairs), repairNamesOf(m.Repairs), "repairs")
			assert.Equal(t, tc.name == "change_event", m.Event.IsChange(), "endpoint")
			if tc.check != nil {
				tc.check(t, m)
			}
		})
	}
}

func TestBadInput(t *testing.T) {
	hugeFingerprint := strings.Repeat("fp-", 100) // 300 bytes
	withFingerprint := func(fp string) builder {
		return func(lr plog.LogRecord, _ pcommon.Resource) {
			lr.Attributes().PutStr(AttrName, "N")
			lr.Attributes().PutStr(AttrFingerprint, fp)
		}
	}
	withSeverity := func(severity string, number plog.SeverityNumber) builder {
		return func(lr plog.LogRecord, _ pcommon.Resource) {
			lr.Attributes().PutStr(AttrSummary, "s")
			lr.Attributes().PutStr(AttrSeverity, severity)
			lr.SetSeverityNumber(number)
		}
	}
	withStr := func(name, value string) builder {
		return func(lr plog.LogRecord, _ pcommon.Resource) {
			lr.Attributes().PutStr(AttrSummary, "s")
			lr.Attributes().PutStr(name, value)
		}
	}
	noHostname := testOptions()
	noHostname.Hostname = ""
	infoDefault := testOptions()
	infoDefault.DefaultSeverity = eventsapi.SeverityInfo

	for _, tc := range []struct {
		name  string
		opts  *Options
		build builder
		check func(t *testing.T, m mapped)
	}{
		{
			name: "missing every attribute",
			check: func(t *testing.T, m mapped) {
				require.NoError(t, m.err)
				assert.Equal(t, eventsapi.Trigger, m.Event.Action)
				assert.Contains(t, m.field("summary"), "collector-host", "synthesized summary names the source")
				assert.Equal(t, "collector-host", m.field("source"), "Options.Hostname")
				assert.Equal(t, eventsapi.SeverityError, m.field("severity"), "default severity")
				assert.Equal(t, "/collector-host", m.dedupKey(), "derived from (empty) name and source")
				assert.NotContains(t, m.payload(), "timestamp")
				assert.NotContains(t, m.payload(), "custom_details")
				assert.NotContains(t, m.doc, "links")
				assert.NotContains(t, m.doc, "images")
				assert.Zero(t, m.Time)
				assert.Empty(t, m.RoutingValue)
				assert.Equal(t, repairNamesOf(repairsOf(RepairSeverityDefaulted, RepairSummarySynthesized, RepairDedupKeyDerived)),
					repairNamesOf(m.Repairs))
			},
		},
		{
			name: "missing every attribute and no hostname",
			opts: noHostname,
			check: func(t *testing.T, m mapped) {
				require.NoError(t, m.err)
				assert.Equal(t, "unknown", m.field("source"))
			},
		},
		{
			name: "int alert.severity",
			opts: infoDefault,
			build: func(lr plog.LogRecord, _ pcommon.Resource) {
				lr.Attributes().PutInt(AttrSeverity, 3)
			},
			check: func(t *testing.T, m mapped) {
				require.NoError(t, m.err)
				assert.Equal(t, eventsapi.SeverityInfo, m.field("severity"))
				assert.True(t, m.Repairs.Has(RepairSeverityDefaulted))
			},
		},
		{
			name: "map alert.summary",
			build: func(lr plog.LogRecord, _ pcommon.Resource) {
				lr.Attributes().PutEmptyMap(AttrSummary).PutStr("text", "disk full")
			},
			check: func(t *testing.T, m mapped) {
				require.NoError(t, m.err)
				assert.JSONEq(t, `{"text":"disk full"}`, m.field("summary"))
				assert.False(t, m.Repairs.Has(RepairSummarySynthesized))
			},
		},
		{
			name: "bool alert.fingerprint",
			build: func(lr plog.LogRecord, _ pcommon.Resource) {
				lr.Attributes().PutBool(AttrFingerprint, true)
			},
			check: func(t *testing.T, m mapped) {
				require.NoError(t, m.err)
				assert.Equal(t, "true", m.dedupKey())
				assert.False(t, m.Repairs.Has(RepairDedupKeyDerived))
			},
		},
		{
			name: "slice alert.source",
			build: func(lr plog.LogRecord, _ pcommon.Resource) {
				s := lr.Attributes().PutEmptySlice(AttrSource)
				s.AppendEmpty().SetStr("a")
				s.AppendEmpty().SetStr("b")
			},
			check: func(t *testing.T, m mapped) {
				require.NoError(t, m.err)
				assert.Equal(t, `["a","b"]`, m.field("source"))
			},
		},
		{
			name:  "invalid utf-8 in summary",
			build: withStr(AttrSummary, "disk \xff\xfe full"),
			check: func(t *testing.T, m mapped) {
				require.NoError(t, m.err)
				assert.Equal(t, "disk \uFFFD full", m.field("summary"))
				assert.True(t, m.Repairs.Has(RepairInvalidUTF8))
			},
		},
		{
			name: "invalid utf-8 in body used as summary",
			build: func(lr plog.LogRecord, _ pcommon.Resource) {
				lr.Body().SetStr("\xc3(oops")
			},
			check: func(t *testing.T, m mapped) {
				require.NoError(t, m.err)
				assert.Equal(t, "\uFFFD(oops", m.field("summary"))
				assert.True(t, m.Repairs.Has(RepairInvalidUTF8))
			},
		},
		{
			name: "invalid utf-8 in attribute key and value",
			build: func(lr plog.LogRecord, _ pcommon.Resource) {
				lr.Attributes().PutStr(AttrSummary, "s")
				lr.Attributes().PutStr("lab\xffel", "val\xfeue")
				lr.Attributes().PutEmptyMap("nested").PutStr("k\xff", "v\xff")
			},
			check: func(t *testing.T, m mapped) {
				require.NoError(t, m.err)
				assert.Equal(t, "val\uFFFDue", m.details()["lab\uFFFDel"])
				assert.Equal(t, map[string]any{"k\uFFFD": "v\uFFFD"}, m.details()["nested"])
				assert.True(t, m.Repairs.Has(RepairInvalidUTF8))
			},
		},
		{
			name:  "5000-character summary",
			build: withStr(AttrSummary, strings.Repeat("é€x", 1700)[:5000*2]),
			check: func(t *testing.T, m mapped) {
				require.NoError(t, m.err)
				s := m.field("summary")
				assert.Equal(t, eventsapi.MaxSummaryRunes, utf8.RuneCountInString(s))
				assert.True(t, strings.HasSuffix(s, "…"), "ends in an ellipsis")
				runes := []rune(strings.Repeat("é€x", 1700))
				assert.Equal(t, string(runes[:eventsapi.MaxSummaryRunes-1]), strings.TrimSuffix(s, "…"), "keeps the start")
				assert.True(t, m.Repairs.Has(RepairTruncated))
			},
		},
		{
			name:  "summary of exactly 1024 runes is kept",
			build: withStr(AttrSummary, strings.Repeat("€", eventsapi.MaxSummaryRunes)),
			check: func(t *testing.T, m mapped) {
				require.NoError(t, m.err)
				assert.Equal(t, strings.Repeat("€", eventsapi.MaxSummaryRunes), m.field("summary"))
				assert.False(t, m.Repairs.Has(RepairTruncated))
			},
		},
		{
			name: "whitespace summary falls back to body",
			build: func(lr plog.LogRecord, _ pcommon.Resource) {
				lr.Attributes().PutStr(AttrSummary, " \t ")
				lr.Attributes().PutStr(AttrName, "Name")
				lr.Body().SetStr("from the body")
			},
			check: func(t *testing.T, m mapped) {
				require.NoError(t, m.err)
				assert.Equal(t, "from the body", m.field("summary"))
			},
		},
		{
			name: "non-string body falls back to alert.name and goes to details",
			build: func(lr plog.LogRecord, _ pcommon.Resource) {
				lr.Attributes().PutStr(AttrName, "QueueBacklog")
				body := lr.Body().SetEmptyMap()
				body.PutInt("depth", 90210)
			},
			check: func(t *testing.T, m mapped) {
				require.NoError(t, m.err)
				assert.Equal(t, "QueueBacklog", m.field("summary"))
				assert.Equal(t, map[string]any{"depth": json.Number("90210")}, m.details()["body"])
				assert.Equal(t, "QueueBacklog", m.details()[AttrName], "alert.name stays in the details")
			},
		},
		{
			name: "bytes body is base64 in details",
			build: func(lr plog.LogRecord, _ pcommon.Resource) {
				lr.Attributes().PutStr(AttrSummary, "s")
				lr.Body().SetEmptyBytes().FromRaw([]byte{0xff, 0x00, 'a'})
			},
			check: func(t *testing.T, m mapped) {
				require.NoError(t, m.err)
				assert.Equal(t, "/wBh", m.details()["body"])
			},
		},
		{
			name: "1 MB attribute is shed",
			build: func(lr plog.LogRecord, res pcommon.Resource) {
				typicalAlert(lr, res)
				lr.Attributes().PutStr("stack", strings.Repeat("x", 1<<20))
			},
			check: func(t *testing.T, m mapped) {
				require.NoError(t, m.err)
				assert.LessOrEqual(t, len(m.body), eventsapi.MaxRequestBytes)
				assert.Equal(t, []string{"stack"}, m.shedKeys(t))
				d := m.details()
				assert.NotContains(t, d, "stack")
				for _, kept := range []string{"labels", "thresholds", "error_rate", "team", "body", "trace_id", "span_id", "resource"} {
					assert.Contains(t, d, kept)
				}
				assert.True(t, m.Repairs.Has(RepairDetailsShed))
				assert.Equal(t, "Checkout error rate 7.3% (threshold 5%)", m.field("summary"), "only details are shed")
			},
		},
		{
			name: "many medium attributes shed largest first",
			build: func(lr plog.LogRecord, _ pcommon.Resource) {
				a := lr.Attributes()
				a.PutStr(AttrSummary, "s")
				// 650 KB in all; dropping the two largest leaves 360 KB.
				for _, kb := range []int{130, 150, 110, 140, 120} {
					a.PutStr(fmt.Sprintf("a%d", kb), strings.Repeat("m", kb*1024))
				}
				a.PutStr("small", "kept")
			},
			check: func(t *testing.T, m mapped) {
				require.NoError(t, m.err)
				assert.LessOrEqual(t, len(m.body), eventsapi.MaxRequestBytes)
				assert.Equal(t, []string{"a150", "a140"}, m.shedKeys(t))
				for _, kept := range []string{"a130", "a120", "a110", "small"} {
					assert.Contains(t, m.details(), kept)
				}
				assert.Greater(t, len(m.body), 300*1024, "no more shed than needed")
			},
		},
		{
			name: "request just under the limit is not shed",
			build: func(lr plog.LogRecord, _ pcommon.Resource) {
				lr.Attributes().PutStr(AttrSummary, "s")
				lr.Attributes().PutStr("big", strings.Repeat("m", 500_000))
			},
			check: func(t *testing.T, m mapped) {
				require.NoError(t, m.err)
				assert.Contains(t, m.details(), "big")
				assert.Nil(t, m.shedKeys(t))
				assert.False(t, m.Repairs.Has(RepairDetailsShed))
			},
		},
		{
			name:  "unknown severity falls back to SeverityNumber",
			build: withSeverity("bogus", plog.SeverityNumberWarn2),
			check: func(t *testing.T, m mapped) {
				require.NoError(t, m.err)
				assert.Equal(t, eventsapi.SeverityWarning, m.field("severity"))
				assert.True(t, m.Repairs.Has(RepairSeverityDefaulted))
			},
		},
		{
			name:  "unknown severity falls back to the default",
			opts:  infoDefault,
			build: withSeverity("bogus", plog.SeverityNumberUnspecified),
			check: func(t *testing.T, m mapped) {
				require.NoError(t, m.err)
				assert.Equal(t, eventsapi.SeverityInfo, m.field("severity"))
				assert.True(t, m.Repairs.Has(RepairSeverityDefaulted))
			},
		},
		{
			name:  "unknown alert.status is rejected",
			build: withStr(AttrStatus, "bogus"),
			check: func(t *testing.T, m mapped) {
				rej := requireReject(t, m, RejectUnknownEventAction)
				assert.Contains(t, rej.Detail, AttrStatus)
				assert.Contains(t, rej.Error(), `"bogus"`)
			},
		},
		{
			name:  "unknown pagerduty.event_action is rejected",
			build: withStr(AttrEventAction, "escalate"),
			check: func(t *testing.T, m mapped) {
				rej := requireReject(t, m, RejectUnknownEventAction)
				assert.Contains(t, rej.Detail, AttrEventAction)
			},
		},
		{
			name:  "unknown pagerduty.event_type is rejected",
			build: withStr(AttrEventType, "incident"),
			check: func(t *testing.T, m mapped) {
				rej := requireReject(t, m, RejectUnknownEventType)
				assert.Contains(t, rej.Detail, "incident")
			},
		},
		{
			name: "pagerduty.event_action overrides an unknown alert.status",
			build: func(lr plog.LogRecord, _ pcommon.Resource) {
				lr.Attributes().PutStr(AttrEventAction, " ACKNOWLEDGE ")
				lr.Attributes().PutStr(AttrStatus, "bogus")
				lr.Attributes().PutStr(AttrFingerprint, "fp")
			},
			check: func(t *testing.T, m mapped) {
				require.NoError(t, m.err)
				assert.Equal(t, "acknowledge", m.doc["event_action"])
			},
		},
		{
			name:  "300-byte fingerprint is hashed",
			build: withFingerprint(hugeFingerprint),
			check: func(t *testing.T, m mapped) {
				require.NoError(t, m.err)
				sum := sha256.Sum256([]byte(hugeFingerprint))
				assert.Equal(t, hex.EncodeToString(sum[:]), m.dedupKey())
				assert.Len(t, m.dedupKey(), 64)
				assert.True(t, m.Repairs.Has(RepairDedupKeyHashed))
				again := mapOK(t, withFingerprint(hugeFingerprint))
				assert.Equal(t, m.dedupKey(), again.dedupKey(), "stable across calls")
				other := mapOK(t, withFingerprint(hugeFingerprint+"x"))
				assert.NotEqual(t, m.dedupKey(), other.dedupKey())
			},
		},
		{
			name:  "255-byte fingerprint is verbatim",
			build: withFingerprint(strings.Repeat("k", eventsapi.MaxDedupKeyLen)),
			check: func(t *testing.T, m mapped) {
				require.NoError(t, m.err)
				assert.Equal(t, strings.Repeat("k", eventsapi.MaxDedupKeyLen), m.dedupKey())
				assert.False(t, m.Repairs.Has(RepairDedupKeyHashed))
			},
		},
		{
			name: "pagerduty.dedup_key beats alert.fingerprint, and is hashed past 255 bytes",
			build: func(lr plog.LogRecord, _ pcommon.Resource) {
				lr.Attributes().PutStr(AttrDedupKey, strings.Repeat("é", 128)) // 256 bytes, 128 runes
				lr.Attributes().PutStr(AttrFingerprint, "fp")
			},
			check: func(t *testing.T, m mapped) {
				require.NoError(t, m.err)
				sum := sha256.Sum256([]byte(strings.Repeat("é", 128)))
				assert.Equal(t, hex.EncodeToString(sum[:]), m.dedupKey())
			},
		},
		{
			name: "derived dedup key uses name, source and component",
			build: func(lr plog.LogRecord, res pcommon.Resource) {
				lr.Attributes().PutStr(AttrName, "DiskFull")
				lr.Attributes().PutStr(AttrComponent, "/var")
				lr.Attributes().PutStr(AttrSummary, "changes every time: 97%")
				res.Attributes().PutStr(AttrHostName, "db-02")
			},
			check: func(t *testing.T, m mapped) {
				require.NoError(t, m.err)
				assert.Equal(t, "DiskFull/db-02//var", m.dedupKey())
				assert.True(t, m.Repairs.Has(RepairDedupKeyDerived))
			},
		},
		{
			name: "resolve without identifiers still carries a dedup key",
			build: func(lr plog.LogRecord, _ pcommon.Resource) {
				lr.Attributes().PutStr(AttrStatus, "RESOLVED")
				lr.Attributes().PutStr(AttrName, "DiskFull")
			},
			check: func(t *testing.T, m mapped) {
				require.NoError(t, m.err)
				assert.Equal(t, "resolve", m.doc["event_action"])
				assert.Equal(t, "DiskFull/collector-host", m.dedupKey())
			},
		},
		{
			name: "60 links are capped at 50",
			build: func(lr plog.LogRecord, _ pcommon.Resource) {
				lr.Attributes().PutStr(AttrRunbookURL, "https://runbook")
				links := lr.Attributes().PutEmptySlice(AttrLinks)
				for i := range 59 {
					links.AppendEmpty().SetStr(fmt.Sprintf("https://l/%d", i))
				}
			},
			check: func(t *testing.T, m mapped) {
				require.NoError(t, m.err)
				links, _ := m.doc["links"].([]any)
				require.Len(t, links, eventsapi.MaxLinks)
				assert.Equal(t, map[string]any{"href": "https://runbook", "text": "Runbook"}, links[0])
				assert.Equal(t, map[string]any{"href": "https://l/48"}, links[49])
				assert.True(t, m.Repairs.Has(RepairLinksCapped))
			},
		},
		{
			name: "60 images are capped at 50",
			build: func(lr plog.LogRecord, _ pcommon.Resource) {
				images := lr.Attributes().PutEmptySlice(AttrImages)
				for i := range 60 {
					images.AppendEmpty().SetEmptyMap().PutStr("src", fmt.Sprintf("https://i/%d", i))
				}
			},
			check: func(t *testing.T, m mapped) {
				require.NoError(t, m.err)
				images, _ := m.doc["images"].([]any)
				assert.Len(t, images, eventsapi.MaxImages)
				assert.True(t, m.Repairs.Has(RepairLinksCapped))
			},
		},
		{
			name: "link maps without href are dropped",
			build: func(lr plog.LogRecord, _ pcommon.Resource) {
				links := lr.Attributes().PutEmptySlice(AttrLinks)
				links.AppendEmpty().SetEmptyMap().PutStr("text", "no href")
				links.AppendEmpty().SetStr("")
				ok := links.AppendEmpty().SetEmptyMap()
				ok.PutStr("href", "https://ok")
				ok.PutInt("text", 7)
			},
			check: func(t *testing.T, m mapped) {
				require.NoError(t, m.err)
				assert.Equal(t, []any{map[string]any{"href": "https://ok", "text": "7"}}, m.doc["links"])
			},
		},
		{
			name: "over-long component and link text are capped",
			build: func(lr plog.LogRecord, _ pcommon.Resource) {
				lr.Attributes().PutStr(AttrComponent, strings.Repeat("c", 3000))
				link := lr.Attributes().PutEmptyMap(AttrLinks)
				link.PutStr("href", "https://ok")
				link.PutStr("text", strings.Repeat("t", 3000))
			},
			check: func(t *testing.T, m mapped) {
				require.NoError(t, m.err)
				assert.Equal(t, maxFieldRunes, utf8.RuneCountInString(m.field("component")))
				links, _ := m.doc["links"].([]any)
				require.Len(t, links, 1)
				text, _ := links[0].(map[string]any)["text"].(string)
				assert.Equal(t, maxFieldRunes, utf8.RuneCountInString(text))
				assert.True(t, m.Repairs.Has(RepairTruncated))
			},
		},
		{
			name: "timestamp falls back to ObservedTimestamp",
			build: func(lr plog.LogRecord, _ pcommon.Resource) {
				lr.SetObservedTimestamp(pcommon.NewTimestampFromTime(time.Date(2026, 1, 2, 3, 4, 5, 6_000_000, time.FixedZone("CET", 3600))))
			},
			check: func(t *testing.T, m mapped) {
				require.NoError(t, m.err)
				assert.Equal(t, "2026-01-02T02:04:05.006Z", m.field("timestamp"))
			},
		},
		{
			name: "Timestamp beats ObservedTimestamp",
			build: func(lr plog.LogRecord, _ pcommon.Resource) {
				lr.SetTimestamp(pcommon.NewTimestampFromTime(recordTime))
				lr.SetObservedTimestamp(pcommon.NewTimestampFromTime(recordTime.Add(time.Hour)))
			},
			check: func(t *testing.T, m mapped) {
				require.NoError(t, m.err)
				assert.Equal(t, "2026-03-14T09:26:53.589Z", m.field("timestamp"))
				assert.Equal(t, recordTime.UnixNano(), m.Time)
			},
		},
		{
			name: "NaN and infinities encode as strings",
			build: func(lr plog.LogRecord, _ pcommon.Resource) {
				a := lr.Attributes()
				a.PutDouble("nan", math.NaN())
				a.PutDouble("inf", math.Inf(1))
				a.PutDouble("ninf", math.Inf(-1))
				a.PutDouble("finite", 1.5e-7)
				s := a.PutEmptySlice("list")
				s.AppendEmpty().SetDouble(math.NaN())
				s.AppendEmpty().SetEmptyMap().PutDouble("x", math.Inf(1))
				a.PutEmpty("empty")
			},
			check: func(t *testing.T, m mapped) {
				require.NoError(t, m.err)
				d := m.details()
				assert.Equal(t, "NaN", d["nan"])
				assert.Equal(t, "+Inf", d["inf"])
				assert.Equal(t, "-Inf", d["ninf"])
				assert.Equal(t, json.Number("1.5e-07"), d["finite"])
				assert.Equal(t, []any{"NaN", map[string]any{"x": "+Inf"}}, d["list"])
				assert.Contains(t, d, "empty")
				assert.Nil(t, d["empty"])
			},
		},
		{
			name: "change event without summary gets one",
			build: func(lr plog.LogRecord, res pcommon.Resource) {
				lr.Attributes().PutStr(AttrEventType, "change")
				res.Attributes().PutStr(AttrServiceName, "deployer")
			},
			check: func(t *testing.T, m mapped) {
				require.NoError(t, m.err)
				assert.True(t, m.Event.IsChange())
				assert.Equal(t, "Change on deployer", m.field("summary"))
				assert.True(t, m.Repairs.Has(RepairSummarySynthesized))
				assert.False(t, m.Repairs.Has(RepairSeverityDefaulted), "change events have no severity")
			},
		},
		{
			name: "contract attributes on the resource are used and not repeated",
			build: func(_ plog.LogRecord, res pcommon.Resource) {
				r := res.Attributes()
				r.PutStr(AttrEventAction, "resolve")
				r.PutStr(AttrFingerprint, "from-resource")
				r.PutStr(AttrSummary, "resource summary")
				r.PutStr(AttrServiceName, "svc")
			},
			check: func(t *testing.T, m mapped) {
				require.NoError(t, m.err)
				assert.Equal(t, "resolve", m.doc["event_action"])
				assert.Equal(t, "from-resource", m.dedupKey())
				assert.Equal(t, "resource summary", m.field("summary"))
				assert.Equal(t, map[string]any{AttrServiceName: "svc"}, m.details()["resource"])
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := tc.opts
			if opts == nil {
				opts = testOptions()
			}
			tc.check(t, mapWith(t, opts, tc.build))
		})
	}
}

func TestSeverityAliases(t *testing.T) {
	for _, alias := range []struct{ in, want string }{
		{"fatal", eventsapi.SeverityCritical},
		{"CRIT", eventsapi.SeverityCritical},
		{"High", eventsapi.SeverityCritical},
		{"P1", eventsapi.SeverityCritical},
		{" Error ", eventsapi.SeverityError},
		{"major", eventsapi.SeverityError},
		{"warn", eventsapi.SeverityWarning},
		{"Warning", eventsapi.SeverityWarning},
		{"minor", eventsapi.SeverityWarning},
		{"information", eventsapi.SeverityInfo},
		{"DEBUG", eventsapi.SeverityInfo},
		{"low", eventsapi.SeverityInfo},
	} {
		in, want := alias.in, alias.want
		t.Run(in, func(t *testing.T) {
			// A SeverityNumber that disagrees shows alert.severity wins.
			m := mapOK(t, func(lr plog.LogRecord, _ pcommon.Resource) {
				lr.Attributes().PutStr(AttrSeverity, in)
				lr.SetSeverityNumber(plog.SeverityNumberTrace)
			})
			assert.Equal(t, want, m.field("severity"))
			assert.False(t, m.Repairs.Has(RepairSeverityDefaulted))
		})
	}
}

func TestSeverityNumber(t *testing.T) {
	for _, tc := range []struct {
		number plog.SeverityNumber
		want   string
	}{
		{plog.SeverityNumberFatal4, eventsapi.SeverityCritical},
		{plog.SeverityNumberFatal, eventsapi.SeverityCritical},
		{plog.SeverityNumberError4, eventsapi.SeverityError},
		{plog.SeverityNumberError, eventsapi.SeverityError},
		{plog.SeverityNumberWarn, eventsapi.SeverityWarning},
		{plog.SeverityNumberInfo2, eventsapi.SeverityInfo},
		{plog.SeverityNumberDebug, eventsapi.SeverityInfo},
		{plog.SeverityNumberTrace, eventsapi.SeverityInfo},
		{plog.SeverityNumberUnspecified, eventsapi.SeverityWarning}, // the default below
		{-5, eventsapi.SeverityWarning},
	} {
		t.Run(tc.number.String(), func(t *testing.T) {
			opts := testOptions()
			opts.DefaultSeverity = eventsapi.SeverityWarning
			m := mapWith(t, opts, func(lr plog.LogRecord, _ pcommon.Resource) {
				lr.SetSeverityNumber(tc.number)
			})
			require.NoError(t, m.err)
			assert.Equal(t, tc.want, m.field("severity"))
			assert.Equal(t, tc.number < plog.SeverityNumberTrace, m.Repairs.Has(RepairSeverityDefaulted))
		})
	}
}

func TestSourceFallback(t *testing.T) {
	for _, tc := range []struct {
		name        string
		record, res map[string]string
		want        string
	}{
		{"alert.source on the record", map[string]string{AttrSource: "rec"}, map[string]string{AttrSource: "res", AttrHostName: "h", AttrServiceName: "s"}, "rec"},
		{"alert.source on the resource", nil, map[string]string{AttrSource: "res", AttrHostName: "h", AttrServiceName: "s"}, "res"},
		{"host.name", nil, map[string]string{AttrHostName: "h", AttrServiceName: "s"}, "h"},
		{"blank host.name", nil, map[string]string{AttrHostName: "  ", AttrServiceName: "s"}, "s"},
		{"service.name", nil, map[string]string{AttrServiceName: "s"}, "s"},
		{"record host.name is not a source", map[string]string{AttrHostName: "rec-host"}, nil, "collector-host"},
		{"hostname", nil, nil, "collector-host"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := mapOK(t, func(lr plog.LogRecord, res pcommon.Resource) {
				for k, v := range tc.record {
					lr.Attributes().PutStr(k, v)
				}
				for k, v := range tc.res {
					res.Attributes().PutStr(k, v)
				}
			})
			assert.Equal(t, tc.want, m.field("source"))
		})
	}
}

// TestAttributePrecedence checks that each contract attribute is read from
// the record before the resource.
func TestAttributePrecedence(t *testing.T) {
	for _, tc := range []struct {
		attr, onRecord, onResource string
		got                        func(m mapped) string
	}{
		{AttrSummary, "rec", "res", func(m mapped) string { return m.field("summary") }},
		{AttrSeverity, "info", "critical", func(m mapped) string { return m.field("severity") }},
		{AttrComponent, "rec", "res", func(m mapped) string { return m.field("component") }},
		{AttrGroup, "rec", "res", func(m mapped) string { return m.field("group") }},
		{AttrClass, "rec", "res", func(m mapped) string { return m.field("class") }},
		{AttrFingerprint, "rec", "res", func(m mapped) string { return m.dedupKey() }},
		{AttrDedupKey, "rec", "res", func(m mapped) string { return m.dedupKey() }},
		{AttrStatus, "resolved", "firing", func(m mapped) string { return string(m.Event.Action) }},
		{AttrEventAction, "acknowledge", "resolve", func(m mapped) string { return string(m.Event.Action) }},
		{AttrEventType, "change", "alert", func(m mapped) string { return string(m.Event.Action) }},
		{AttrRunbookURL, "https://rec", "https://res", func(m mapped) string { return m.Event.Links[0].Href }},
		{"team", "rec", "res", func(m mapped) string { return m.RoutingValue }},
	} {
		t.Run(tc.attr, func(t *testing.T) {
			both := mapOK(t, func(lr plog.LogRecord, res pcommon.Resource) {
				lr.Attributes().PutStr(tc.attr, tc.onRecord)
				res.Attributes().PutStr(tc.attr, tc.onResource)
			})
			resOnly := mapOK(t, func(_ plog.LogRecord, res pcommon.Resource) {
				res.Attributes().PutStr(tc.attr, tc.onResource)
			})
			assert.NotEqual(t, tc.got(both), tc.got(resOnly), "the resource value must be visible on its own")
			recOnly := mapOK(t, func(lr plog.LogRecord, _ pcommon.Resource) {
				lr.Attributes().PutStr(tc.attr, tc.onRecord)
			})
			assert.Equal(t, tc.got(recOnly), tc.got(both), "the record value wins")
		})
	}
}

func TestRoutingValue(t *testing.T) {
	m := mapOK(t, func(_ plog.LogRecord, res pcommon.Resource) {
		res.Attributes().PutInt("team", 42)
	})
	assert.Equal(t, "42", m.RoutingValue, "from the resource, as text")

	opts := testOptions()
	opts.RoutingAttribute = ""
	m = mapWith(t, opts, func(lr plog.LogRecord, _ pcommon.Resource) {
		lr.Attributes().PutStr("team", "payments")
	})
	require.NoError(t, m.err)
	assert.Empty(t, m.RoutingValue, "no routing attribute configured")
	assert.Equal(t, "payments", m.details()["team"], "still a custom detail")
}

// TestRoutingOnContractAttribute: a routing attribute may be one the
// contract reads too; it is read as any other, record first.
func TestRoutingOnContractAttribute(t *testing.T) {
	for _, tc := range []struct{ attr, want, source string }{
		{AttrHostName, "record-host", "resource-host"}, // the source reads host.name on the resource only
		{AttrServiceName, "checkout", "resource-host"},
		{AttrComponent, "db", "resource-host"},
	} {
		opts := testOptions()
		opts.RoutingAttribute = tc.attr
		m := mapWith(t, opts, func(lr plog.LogRecord, res pcommon.Resource) {
			lr.Attributes().PutStr(AttrHostName, "record-host")
			lr.Attributes().PutStr(AttrComponent, "db")
			res.Attributes().PutStr(AttrHostName, "resource-host")
			res.Attributes().PutStr(AttrServiceName, "checkout")
		})
		require.NoError(t, m.err)
		assert.Equal(t, tc.want, m.RoutingValue, tc.attr)
		assert.Equal(t, tc.source, m.field("source"), tc.attr)
	}
}

// TestPayloadHash: the hash follows severity and summary and nothing else,
// so the dedup cache lets a changed alert through and suppresses a repeat.
func TestPayloadHash(t *testing.T) {
	alert := func(summary, severity, detail string) builder {
		return func(lr plog.LogRecord, _ pcommon.Resource) {
			lr.Attributes().PutStr(AttrSummary, summary)
			lr.Attributes().PutStr(AttrSeverity, severity)
			lr.Attributes().PutStr("detail", detail)
		}
	}
	base := mapOK(t, alert("disk 97%", "warning", "a")).PayloadHash
	assert.Equal(t, base, mapOK(t, alert("disk 97%", "warn", "b")).PayloadHash, "same severity and summary")
	assert.NotEqual(t, base, mapOK(t, alert("disk 98%", "warning", "a")).PayloadHash, "summary changed")
	assert.NotEqual(t, base, mapOK(t, alert("disk 97%", "critical", "a")).PayloadHash, "severity changed")
	// The separator keeps the boundary between the two fields.
	assert.NotEqual(t, payloadHash("ab", "c"), payloadHash("a", "bc"))
}

// TestPayloadHashIsFNV: hashes are kept in persistent dedup storage, so a
// new version must compute the same ones: 64-bit FNV-1a of severity, a zero
// byte and summary.
func TestPayloadHashIsFNV(t *testing.T) {
	for _, tc := range [][2]string{{"", ""}, {"critical", "disk 97%"}, {"info", "caf\u00e9 \xff"}, {"error", strings.Repeat("x", 2000)}} {
		h := fnv.New64a()
		h.Write([]byte(tc[0]))
		h.Write([]byte{0})
		h.Write([]byte(tc[1]))
		assert.Equal(t, h.Sum64(), payloadHash(tc[0], tc[1]), "%q", tc)
	}
}

// TestFormatTimestamp compares the written-out layout with time.Format over
// the whole range a record time can have.
func TestFormatTimestamp(t *testing.T) {
	times := []int64{0, 1, 999_999, 1_000_000, recordTime.UnixNano(), int64(maxTime)}
	for i := range 1000 {
		times = append(times, int64(i)*(int64(maxTime)/1000)+int64(i)*7_654_321)
	}
	for _, ns := range times {
		assert.Equal(t, time.Unix(0, ns).UTC().Format(timestampLayout), formatTimestamp(ns), ns)
	}
}

func TestRepairsAll(t *testing.T) {
	var all Repairs
	var names []string
	for r := Repair(1); r < repairEnd; r <<= 1 {
		all |= Repairs(r)
		assert.NotEmpty(t, r.String(), "repair %d has no name", r)
		assert.NotContains(t, names, r.String())
		names = append(names, r.String())
	}
	assert.Equal(t, names, repairNamesOf(all))
	assert.Empty(t, repairNamesOf(0))

	// All stops when the consumer does.
	var first []Repair
	for r := range all.All() {
		first = append(first, r)
		break
	}
	assert.Equal(t, []Repair{RepairTruncated}, first)
}

func TestTruncate(t *testing.T) {
	const (
		siren  = "🚨"               // one code point, two UTF-16 units
		family = "👩\u200d👩\u200d👧" // three emoji joined by zero-width joiners
		flagDE = "🇩🇪"              // two regional indicators
		thumb  = "👍🏽"              // emoji and skin tone modifier
		eAcute = "e\u0301"         // e and a combining acute accent
	)
	for _, tc := range []struct {
		name string
		in   string
		n    int
		want string
	}{
		{"empty", "", 3, ""},
		{"fits", "abc", 3, "abc"},
		{"ascii cut", "abcd", 3, "ab…"},
		{"two-byte runes fit by count", "ééé", 3, "ééé"},
		{"two-byte runes cut", "éééé", 3, "éé…"},
		{"1024 emoji: 2048 units", strings.Repeat(siren, 1024), 1024, strings.Repeat(siren, 511) + "…"},
		{"512 emoji: exactly 1024 units", strings.Repeat(siren, 512), 1024, strings.Repeat(siren, 512)},
		{"513 emoji", strings.Repeat(siren, 513), 1024, strings.Repeat(siren, 511) + "…"},
		{"emoji never split", "a" + siren + siren, 3, "a…"},
		{"mixed BMP and astral, fits", strings.Repeat("x", 1020) + siren + siren, 1024, strings.Repeat("x", 1020) + siren + siren},
		{"mixed BMP and astral, cut", strings.Repeat("x", 1021) + siren + siren, 1024, strings.Repeat("x", 1021) + siren + "…"},
		{"family kept whole or dropped", "ab" + family, 6, "ab…"},
		{"flag pair not split", "ab" + flagDE + flagDE, 7, "ab" + flagDE + "…"},
		{"skin tone stays with its emoji", "ab" + thumb + "c", 5, "ab…"},
		{"combining mark stays with its letter", "abc" + eAcute + "def", 5, "abc…"},
		{"a few combining marks go with their letter", "a" + strings.Repeat("\u0301", 100), 10, "…"},
		{"endless combining marks: cut between code points", "a" + strings.Repeat("\u0301", 100), 50, "a" + strings.Repeat("\u0301", 48) + "…"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, cut := truncate(tc.in, tc.n)
			assert.Equal(t, tc.want, got)
			assert.Equal(t, tc.want != tc.in, cut, "cut")
			assert.LessOrEqual(t, utf8.RuneCountInString(got), tc.n, "code points")
			assert.LessOrEqual(t, len(utf16.Encode([]rune(got))), tc.n, "UTF-16 units")
			assert.True(t, utf8.ValidString(got))
		})
	}
}

// TestClient: triggers carry client and client_url, from the record or the
// configuration; other events never do, and the attributes never reach
// custom_details.
func TestClient(t *testing.T) {
	withAttrs := func(action string, kv ...string) builder {
		return func(lr plog.LogRecord, _ pcommon.Resource) {
			a := lr.Attributes()
			a.PutStr(AttrSummary, "s")
			a.PutStr(AttrFingerprint, "fp")
			a.PutStr(AttrEventAction, action)
			for i := 0; i+1 < len(kv); i += 2 {
				a.PutStr(kv[i], kv[i+1])
			}
		}
	}
	configured := func(client, url string) *Options {
		o := testOptions()
		o.Client, o.ClientURL = client, url
		return o
	}
	for _, tc := range []struct {
		name          string
		opts          *Options
		build         builder
		client, url   string // "" when absent
		invalidURL    bool
		changeEvent   bool
		detailsHaveGU bool
	}{
		{
			name: "configured default", opts: configured("OpenTelemetry Collector", ""),
			build: withAttrs("trigger"), client: "OpenTelemetry Collector",
		},
		{
			name: "configured client_url", opts: configured("otelcol", "https://otel.example.com/"),
			build: withAttrs("trigger"), client: "otelcol", url: "https://otel.example.com/",
		},
		{name: "nothing configured", opts: configured("", ""), build: withAttrs("trigger")},
		{
			name: "record overrides both", opts: configured("otelcol", "https://otel.example.com/"),
			build:  withAttrs("trigger", AttrClient, "Grafana", AttrClientURL, "https://grafana.example.com/alerting/abc"),
			client: "Grafana", url: "https://grafana.example.com/alerting/abc",
		},
		{
			name: "generator URL before the configured one", opts: configured("otelcol", "https://otel.example.com/"),
			build:  withAttrs("trigger", AttrGeneratorURL, "http://prometheus:9090/graph?g0.expr=up%3D%3D0"),
			client: "otelcol", url: "http://prometheus:9090/graph?g0.expr=up%3D%3D0", detailsHaveGU: true,
		},
		{
			name: "pagerduty.client_url before the generator URL", opts: configured("", ""),
			build: withAttrs("trigger", AttrClientURL, "https://a.example.com/", AttrGeneratorURL, "https://b.example.com/"),
			url:   "https://a.example.com/", detailsHaveGU: true,
		},
		{
			name: "invalid record URL falls back", opts: configured("", "https://otel.example.com/"),
			build: withAttrs("trigger", AttrClientURL, "grafana.example.com/no-scheme"),
			url:   "https://otel.example.com/", invalidURL: true,
		},
		{
			name: "every candidate invalid", opts: configured("", "ftp://otel.example.com/"),
			build:      withAttrs("trigger", AttrClientURL, "javascript:alert(1)", AttrGeneratorURL, "/graph"),
			invalidURL: true, detailsHaveGU: true,
		},
		{
			name: "over-long URL is dropped, not cut", opts: configured("", ""),
			build:      withAttrs("trigger", AttrClientURL, "https://h/"+strings.Repeat("q", maxURLBytes)),
			invalidURL: true,
		},
		{
			name: "acknowledge carries neither", opts: configured("otelcol", "https://otel.example.com/"),
			build: withAttrs("acknowledge", AttrClient, "Grafana", AttrClientURL, "https://grafana.example.com/"),
		},
		{
			name: "resolve carries neither", opts: configured("otelcol", "https://otel.example.com/"),
			build: withAttrs("resolve", AttrClient, "Grafana", AttrClientURL, "https://grafana.example.com/"),
		},
		{
			name: "change carries neither", opts: configured("otelcol", "https://otel.example.com/"), changeEvent: true,
			build: func(lr plog.LogRecord, res pcommon.Resource) {
				withAttrs("", AttrClient, "Grafana", AttrClientURL, "not checked on a change")(lr, res)
				lr.Attributes().PutStr(AttrEventType, "change")
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := mapWith(t, tc.opts, tc.build)
			require.NoError(t, m.err)
			assert.Equal(t, tc.changeEvent, m.Event.IsChange())
			client, hasClient := m.doc["client"]
			url, hasURL := m.doc["client_url"]
			assert.Equal(t, tc.client != "", hasClient, "client present")
			assert.Equal(t, tc.url != "", hasURL, "client_url present")
			if tc.client != "" {
				assert.Equal(t, tc.client, client)
			}
			if tc.url != "" {
				assert.Equal(t, tc.url, url)
			}
			assert.Equal(t, tc.invalidURL, m.Repairs.Has(RepairClientURLInvalid), "client_url_invalid")
			assert.NotContains(t, m.details(), AttrClient)
			assert.NotContains(t, m.details(), AttrClientURL)
			_, hasGU := m.details()[AttrGeneratorURL]
			assert.Equal(t, tc.detailsHaveGU, hasGU, "alert.generator_url in the details")
		})
	}
}

// TestLinkAndImageRules: only absolute http(s) hrefs and https image srcs
// reach PagerDuty; the record is sent without the rest.
func TestLinkAndImageRules(t *testing.T) {
	for _, tc := range []struct {
		name    string
		build   func(a pcommon.Map)
		links   []any
		images  []any
		repairs Repairs
	}{
		{
			name:  "valid link",
			build: func(a pcommon.Map) { a.PutStr(AttrRunbookURL, "http://wiki.internal/runbook") },
			links: []any{map[string]any{"href": "http://wiki.internal/runbook", "text": "Runbook"}},
		},
		{
			name: "relative, scheme-less and non-http links",
			build: func(a pcommon.Map) {
				a.PutStr(AttrRunbookURL, "/runbooks/disk")
				a.PutStr(AttrDashboardURL, "grafana.example.com/d/x")
				l := a.PutEmptySlice(AttrLinks)
				l.AppendEmpty().SetStr("javascript:alert(1)")
				l.AppendEmpty().SetStr("file:///etc/passwd")
				l.AppendEmpty().SetStr("https://ok.example.com/")
			},
			links:   []any{map[string]any{"href": "https://ok.example.com/"}},
			repairs: repairsOf(RepairLinkInvalid),
		},
		{
			name:    "link with white space",
			build:   func(a pcommon.Map) { a.PutEmptyMap(AttrLinks).PutStr("href", "https://example.com/a b") },
			repairs: repairsOf(RepairLinkInvalid),
		},
		{
			name:    "empty hrefs are no links and no repair",
			build:   func(a pcommon.Map) { a.PutStr(AttrRunbookURL, "  ") },
			repairs: 0,
		},
		{
			name: "image src must be https",
			build: func(a pcommon.Map) {
				i := a.PutEmptySlice(AttrImages)
				i.AppendEmpty().SetStr("http://img.example.com/a.png")
				i.AppendEmpty().SetStr("//img.example.com/b.png")
				i.AppendEmpty().SetStr("https://img.example.com/c.png")
			},
			images:  []any{map[string]any{"src": "https://img.example.com/c.png"}},
			repairs: repairsOf(RepairImageInvalid),
		},
		{
			name: "bad image href is dropped, the image kept",
			build: func(a pcommon.Map) {
				m := a.PutEmptyMap(AttrImages)
				m.PutStr("src", "https://img.example.com/c.png")
				m.PutStr("href", "data:text/html,<h1>x</h1>")
				m.PutStr("alt", "graph")
			},
			images:  []any{map[string]any{"src": "https://img.example.com/c.png", "alt": "graph"}},
			repairs: repairsOf(RepairImageInvalid),
		},
		{
			name: "http image href is fine",
			build: func(a pcommon.Map) {
				m := a.PutEmptyMap(AttrImages)
				m.PutStr("src", "https://img.example.com/c.png")
				m.PutStr("href", "http://grafana.internal/d/x")
			},
			images: []any{map[string]any{"src": "https://img.example.com/c.png", "href": "http://grafana.internal/d/x"}},
		},
		{
			name: "invalid items do not count toward the cap",
			build: func(a pcommon.Map) {
				l := a.PutEmptySlice(AttrLinks)
				for i := range 60 {
					l.AppendEmpty().SetStr(fmt.Sprintf("/bad/%d", i))
				}
				l.AppendEmpty().SetStr("https://ok.example.com/")
			},
			links:   []any{map[string]any{"href": "https://ok.example.com/"}},
			repairs: repairsOf(RepairLinkInvalid),
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := mapOK(t, func(lr plog.LogRecord, _ pcommon.Resource) {
				lr.Attributes().PutStr(AttrSummary, "s")
				lr.Attributes().PutStr(AttrFingerprint, "fp")
				lr.Attributes().PutStr(AttrSeverity, "info")
				tc.build(lr.Attributes())
			})
			for name, want := range map[string][]any{"links": tc.links, "images": tc.images} {
				if want == nil {
					assert.NotContains(t, m.doc, name)
				} else {
					assert.Equal(t, want, m.doc[name])
				}
			}
			assert.Equal(t, repairNamesOf(tc.repairs), repairNamesOf(m.Repairs))
		})
	}
}

func TestTimeOutOfRange(t *testing.T) {
	arrival := pcommon.NewTimestampFromTime(recordTime)
	inRange := pcommon.NewTimestampFromTime(recordTime.Add(-time.Minute))
	const (
		last      = pcommon.Timestamp(math.MaxInt64) // 2262-04-11T23:47:16.854775807Z
		tooLate   = last + 1
		farFuture = pcommon.Timestamp(math.MaxUint64)
	)
	for _, tc := range []struct {
		name                string
		timestamp, observed pcommon.Timestamp
		arrival             pcommon.Timestamp
		wantTime            pcommon.Timestamp
		wantStamp           string // payload.timestamp, "" when absent
		repaired            bool
	}{
		{name: "in range", timestamp: inRange, arrival: arrival, wantTime: inRange, wantStamp: "2026-03-14T09:25:53.589Z"},
		{name: "the last time that converts", timestamp: last, arrival: arrival, wantTime: last, wantStamp: "2262-04-11T23:47:16.854Z"},
		{name: "one nanosecond later", timestamp: tooLate, arrival: arrival, wantTime: arrival, wantStamp: "2026-03-14T09:26:53.589Z", repaired: true},
		{name: "largest timestamp", timestamp: farFuture, arrival: arrival, wantTime: arrival, wantStamp: "2026-03-14T09:26:53.589Z", repaired: true},
		{name: "observed time takes over", timestamp: farFuture, observed: inRange, arrival: arrival, wantTime: inRange, wantStamp: "2026-03-14T09:25:53.589Z", repaired: true},
		{name: "observed time out of range too", timestamp: farFuture, observed: farFuture, arrival: arrival, wantTime: arrival, wantStamp: "2026-03-14T09:26:53.589Z", repaired: true},
		{name: "observed time alone, out of range", observed: tooLate, arrival: arrival, wantTime: arrival, wantStamp: "2026-03-14T09:26:53.589Z", repaired: true},
		{name: "no arrival: as if untimed", timestamp: farFuture, repaired: true},
		{name: "no time at all is no repair", arrival: arrival},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := mapAt(t, testOptions(), tc.arrival, func(lr plog.LogRecord, _ pcommon.Resource) {
				lr.Attributes().PutStr(AttrSummary, "s")
				lr.SetTimestamp(tc.timestamp)
				lr.SetObservedTimestamp(tc.observed)
			})
			require.NoError(t, m.err)
			assert.Equal(t, tc.wantTime.AsTime().UnixNano(), m.Time)
			if tc.wantStamp == "" {
				assert.NotContains(t, m.payload(), "timestamp")
			} else {
				assert.Equal(t, tc.wantStamp, m.field("timestamp"))
			}
			assert.Equal(t, tc.repaired, m.Repairs.Has(RepairTimeOutOfRange))
			lr := plog.NewLogRecord()
			lr.SetTimestamp(tc.timestamp)
			lr.SetObservedTimestamp(tc.observed)
			assert.Equal(t, tc.wantTime != 0 && tc.wantTime != tc.arrival, HasTime(lr), "HasTime")
		})
	}
}

// TestValueConverted: a contract attribute that should be a string and is
// another type is used in its text form and counted; a string is not.
func TestValueConverted(t *testing.T) {
	for _, tc := range []struct {
		name      string
		build     func(a pcommon.Map)
		converted bool
	}{
		{"strings everywhere", func(a pcommon.Map) { a.PutStr(AttrFingerprint, "42"); a.PutStr("team", "7") }, false},
		{"int fingerprint", func(a pcommon.Map) { a.PutInt(AttrFingerprint, 42) }, true},
		{"int dedup key", func(a pcommon.Map) { a.PutInt(AttrDedupKey, 42) }, true},
		{"map summary", func(a pcommon.Map) { a.PutEmptyMap(AttrSummary).PutStr("t", "x") }, true},
		{"double source", func(a pcommon.Map) { a.PutDouble(AttrSource, 1.5) }, true},
		{"bool component", func(a pcommon.Map) { a.PutBool(AttrComponent, true) }, true},
		{"slice group", func(a pcommon.Map) { a.PutEmptySlice(AttrGroup).AppendEmpty().SetStr("g") }, true},
		{"bytes class", func(a pcommon.Map) { a.PutEmptyBytes(AttrClass).FromRaw([]byte("c")) }, true},
		{"int severity", func(a pcommon.Map) { a.PutInt(AttrSeverity, 1) }, true},
		{"double alert.name", func(a pcommon.Map) { a.PutDouble(AttrName, 0.5) }, true},
		{"int routing value", func(a pcommon.Map) { a.PutInt("team", 7) }, true},
		{"int link in a list", func(a pcommon.Map) { a.PutEmptySlice(AttrLinks).AppendEmpty().SetInt(1) }, true},
		{"int link text", func(a pcommon.Map) {
			l := a.PutEmptyMap(AttrLinks)
			l.PutStr("href", "https://ok.example.com/")
			l.PutInt("text", 7)
		}, true},
		{"int client", func(a pcommon.Map) { a.PutInt(AttrClient, 1) }, true},
		{"empty value is absent, not converted", func(a pcommon.Map) { a.PutEmpty(AttrComponent) }, false},
		{"non-string details are not contract attributes", func(a pcommon.Map) { a.PutInt("requests", 5) }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := mapOK(t, func(lr plog.LogRecord, res pcommon.Resource) {
				res.Attributes().PutStr(AttrHostName, "h")
				tc.build(lr.Attributes())
			})
			assert.Equal(t, tc.converted, m.Repairs.Has(RepairValueConverted))
		})
	}

	// On the resource too: host.name as a fallback for the source.
	m := mapOK(t, func(_ plog.LogRecord, res pcommon.Resource) { res.Attributes().PutInt(AttrHostName, 7) })
	assert.Equal(t, "7", m.field("source"))
	assert.True(t, m.Repairs.Has(RepairValueConverted))
}

// TestMapDoesNotModifyRecord: the exporter may hand a record back for retry,
// so mapping must leave it as it was.
func TestMapDoesNotModifyRecord(t *testing.T) {
	lr, res := plog.NewLogRecord(), pcommon.NewResource()
	typicalAlert(lr, res)
	lr.Attributes().PutStr("big", strings.Repeat("x", 600_000))
	wantLR, wantRes := plog.NewLogRecord(), pcommon.NewResource()
	lr.CopyTo(wantLR)
	res.CopyTo(wantRes)
	_, err := Map(lr, res, testOptions())
	require.NoError(t, err)
	assert.Equal(t, wantLR.Attributes().AsRaw(), lr.Attributes().AsRaw())
	assert.Equal(t, wantRes.Attributes().AsRaw(), res.Attributes().AsRaw())
	assert.Equal(t, wantLR.Body().AsRaw(), lr.Body().AsRaw())
}

func BenchmarkMap(b *testing.B) {
	lr, res := plog.NewLogRecord(), pcommon.NewResource()
	benchAlert(lr, res)
	opts := testOptions()
	var buf []byte
	b.ReportAllocs()
	for b.Loop() {
		r, err := Map(lr, res, opts)
		if err != nil {
			b.Fatal(err)
		}
		r.Event.RoutingKey = fakeRoutingKey
		buf = r.Event.AppendJSON(buf[:0])
	}
	b.SetBytes(int64(len(buf)))
}

// BenchmarkIdentify is what a record costs the exporter before the dedup
// cache decides on it: no details, links or JSON.
func BenchmarkIdentify(b *testing.B) {
	lr, res := plog.NewLogRecord(), pcommon.NewResource()
	benchAlert(lr, res)
	opts := testOptions()
	arrival := pcommon.NewTimestampFromTime(recordTime.Add(time.Second))
	var r Result
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if r, err = IdentifyAt(lr, res, opts, arrival); err != nil {
			b.Fatal(err)
		}
	}
	if r.Event.DedupKey == "" || r.OrderingTime == 0 {
		b.Fatal("not identified")
	}
}

// benchAlert is a typical alert: eight record attributes, four resource
// attributes.
func benchAlert(lr plog.LogRecord, res pcommon.Resource) {
	a := lr.Attributes()
	a.PutStr(AttrName, "HighErrorRate")
	a.PutStr(AttrStatus, "firing")
	a.PutStr(AttrFingerprint, "c0ffee1234abcd")
	a.PutStr(AttrSummary, "Checkout error rate 7.3% (threshold 5%)")
	a.PutStr(AttrSeverity, "critical")
	a.PutStr(AttrRunbookURL, "https://runbooks.example.com/checkout/high-error-rate")
	labels := a.PutEmptyMap("labels")
	labels.PutStr("env", "prod")
	labels.PutStr("team", "payments")
	a.PutDouble("error_rate", 0.073)
	lr.SetTimestamp(pcommon.NewTimestampFromTime(recordTime))
	lr.SetTraceID(traceID)
	lr.SetSpanID(spanID)
	r := res.Attributes()
	r.PutStr(AttrHostName, "web-01")
	r.PutStr(AttrServiceName, "checkout")
	r.PutStr("k8s.namespace.name", "shop")
	r.PutStr("cloud.region", "eu-west-1")
}

// Members the Events API knows (reference: PagerDuty Events API v2, §2 of
// the project notes). Change events document only links beside the payload, so images are
// held to be as wrong there as event_action is.
var (
	alertTopLevel  = set("routing_key", "event_action", "dedup_key", "payload", "images", "links", "client", "client_url")
	alertPayload   = set("summary", "source", "severity", "timestamp", "component", "group", "class", "custom_details")
	changeTopLevel = set("routing_key", "payload", "links")
	changePayload  = set("summary", "source", "timestamp", "custom_details")
	linkMembers    = set("href", "text")
	imageMembers   = set("src", "href", "alt")
	severities     = set(eventsapi.SeverityCritical, eventsapi.SeverityError, eventsapi.SeverityWarning, eventsapi.SeverityInfo)
	eventActions   = set("trigger", "acknowledge", "resolve")
)

func set(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

// validateEvent checks a rendered request body against every rule of the
// Events API reference a client can break, and returns the parsed body. An
// event without event_action is held to the change event rules.
func validateEvent(tb testing.TB, body []byte) map[string]any {
	tb.Helper()
	require.LessOrEqual(tb, len(body), eventsapi.MaxRequestBytes, "request over PagerDuty's 512 KB limit")
	require.True(tb, utf8.Valid(body), "body is not valid UTF-8")
	require.True(tb, json.Valid(body), "body is not valid JSON: %.300s", body)

	var doc map[string]any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	require.NoError(tb, dec.Decode(&doc), "body is not a JSON object")
	require.NotNil(tb, doc, "body is null, not an object")
	checkUniqueKeys(tb, body)

	key, ok := doc["routing_key"].(string)
	require.True(tb, ok, "routing_key missing or not a string")
	assert.Equal(tb, eventsapi.RoutingKeyLen, utf8.RuneCountInString(key), "routing_key length")

	_, isAlert := doc["event_action"]
	topLevel, payloadMembers := changeTopLevel, changePayload
	if isAlert {
		topLevel, payloadMembers = alertTopLevel, alertPayload
	}
	for name := range doc {
		assert.True(tb, topLevel[name], "unexpected member %q (alert event: %v)", name, isAlert)
	}

	action := ""
	if isAlert {
		action, ok = doc["event_action"].(string)
		require.True(tb, ok, "event_action not a string")
		require.True(tb, eventActions[action], "event_action %q", action)
		if dk, present := doc["dedup_key"]; present {
			s, isStr := dk.(string)
			require.True(tb, isStr, "dedup_key not a string")
			assert.LessOrEqual(tb, utf8.RuneCountInString(s), eventsapi.MaxDedupKeyLen, "dedup_key length")
		}
		if action != "trigger" {
			s, _ := doc["dedup_key"].(string)
			assert.NotEmpty(tb, s, "%s without dedup_key", action)
		}
		for _, name := range []string{"client", "client_url"} {
			if v, has := doc[name]; has {
				assert.Equal(tb, "trigger", action, "%s on a %s: PagerDuty reads it from triggers only", name, action)
				s, isStr := v.(string)
				assert.True(tb, isStr, "%s not a string", name)
				if name == "client_url" {
					assert.True(tb, eventsapi.IsHTTPURL(s), "client_url %q is not an absolute http(s) URL", s)
				}
			}
		}
	}

	rawPayload, present := doc["payload"]
	// Alert acks and resolves may omit the payload; everything else needs it.
	require.True(tb, present || (isAlert && action != "trigger"), "payload missing")
	if present {
		payload, isObj := rawPayload.(map[string]any)
		require.True(tb, isObj, "payload not an object")
		for name := range payload {
			assert.True(tb, payloadMembers[name], "unexpected payload member %q (alert event: %v)", name, isAlert)
		}
		summary, isStr := payload["summary"].(string)
		require.True(tb, isStr, "payload.summary missing or not a string")
		assert.NotEmpty(tb, strings.TrimSpace(summary), "payload.summary blank")
		assert.LessOrEqual(tb, utf8.RuneCountInString(summary), eventsapi.MaxSummaryRunes, "payload.summary length in code points")
		assert.LessOrEqual(tb, len(utf16.Encode([]rune(summary))), eventsapi.MaxSummaryRunes, "payload.summary length in UTF-16 units")
		if isAlert {
			source, _ := payload["source"].(string)
			assert.NotEmpty(tb, strings.TrimSpace(source), "payload.source missing or blank")
			severity, _ := payload["severity"].(string)
			assert.True(tb, severities[severity], "payload.severity %q", severity)
		} else if src, has := payload["source"]; has {
			_, isStr := src.(string)
			assert.True(tb, isStr, "payload.source not a string")
		}
		for _, name := range []string{"component", "group", "class"} {
			if v, has := payload[name]; has {
				_, isStr := v.(string)
				assert.True(tb, isStr, "payload.%s not a string", name)
			}
		}
		if ts, has := payload["timestamp"]; has {
			s, isStr := ts.(string)
			require.True(tb, isStr, "payload.timestamp not a string")
			_, err := time.Parse(time.RFC3339Nano, s)
			require.NoError(tb, err, "payload.timestamp is not ISO 8601")
		}
		if cd, has := payload["custom_details"]; has {
			_, isObj := cd.(map[string]any)
			assert.True(tb, isObj, "payload.custom_details not an object")
		}
	}

	checkList(tb, doc, "links", eventsapi.MaxLinks, "href", linkMembers)
	checkList(tb, doc, "images", eventsapi.MaxImages, "src", imageMembers)
	checkURLs(tb, doc, "links", map[string]func(string) bool{"href": eventsapi.IsHTTPURL})
	checkURLs(tb, doc, "images", map[string]func(string) bool{"src": eventsapi.IsHTTPSURL, "href": eventsapi.IsHTTPURL})
	return doc
}

// checkURLs checks the URL members of links or images against their rules.
func checkURLs(tb testing.TB, doc map[string]any, name string, rules map[string]func(string) bool) {
	tb.Helper()
	list, _ := doc[name].([]any)
	for i, item := range list {
		obj, _ := item.(map[string]any)
		for member, rule := range rules {
			if v, has := obj[member]; has {
				s, _ := v.(string)
				assert.True(tb, rule(s), "%s[%d].%s %.80q breaks its URL rule", name, i, member, s)
			}
		}
	}
}

// checkUniqueKeys fails when any object in body, at any depth, has a key
// twice: encoding/json keeps the last silently, PagerDuty may not.
func checkUniqueKeys(tb testing.TB, body []byte) {
	tb.Helper()
	dec := json.NewDecoder(bytes.NewReader(body))
	var walk func(path string)
	walk = func(path string) {
		tok, err := dec.Token()
		require.NoError(tb, err)
		switch tok {
		case json.Delim('{'):
			seen := map[string]bool{}
			for dec.More() {
				kt, keyErr := dec.Token()
				require.NoError(tb, keyErr)
				k, _ := kt.(string)
				assert.False(tb, seen[k], "key %q twice in %s", k, path)
				seen[k] = true
				walk(path + "." + k)
			}
			_, err = dec.Token()
			require.NoError(tb, err)
		case json.Delim('['):
			for i := 0; dec.More(); i++ {
				walk(path + "[" + strconv.Itoa(i) + "]")
			}
			_, err = dec.Token()
			require.NoError(tb, err)
		}
	}
	walk("$")
}

// checkList checks links or images: at most limit objects, each with a
// non-empty required string member and only known string members.
func checkList(tb testing.TB, doc map[string]any, name string, limit int, required string, members map[string]bool) {
	tb.Helper()
	raw, present := doc[name]
	if !present {
		return
	}
	list, ok := raw.([]any)
	require.True(tb, ok, "%s not an array", name)
	assert.LessOrEqual(tb, len(list), limit, "too many %s", name)
	for i, item := range list {
		obj, isObj := item.(map[string]any)
		require.True(tb, isObj, "%s[%d] not an object", name, i)
		s, _ := obj[required].(string)
		assert.NotEmpty(tb, s, "%s[%d].%s missing", name, i, required)
		for k, v := range obj {
			assert.True(tb, members[k], "%s[%d] has unexpected member %q", name, i, k)
			_, isStr := v.(string)
			assert.True(tb, isStr, "%s[%d].%s not a string", name, i, k)
		}
	}
}

// TestValidateEventCatchesViolations keeps validateEvent honest: each body
// breaks one rule and must fail it.
func TestValidateEventCatchesViolations(t *testing.T) {
	const key = `"routing_key":"` + fakeRoutingKey + `"`
	okAlert := `{` + key + `,"event_action":"trigger","payload":{"summary":"s","source":"h","severity":"info"}}`
	okChange := `{` + key + `,"payload":{"summary":"s"}}`
	long := func(n int) string { return strings.Repeat("x", n) }
	links := func(n int) string {
		return strings.TrimSuffix(strings.Repeat(`{"href":"https://h"},`, n), ",")
	}

	// Both baselines pass, so each failure below is the one rule it breaks.
	validateEvent(t, []byte(okAlert))
	validateEvent(t, []byte(okChange))

	for name, body := range map[string]string{
		"not json":              `{"routing_key":`,
		"not an object":         `[1]`,
		"null":                  `null`,
		"invalid utf-8":         "{" + key + `,"payload":{"summary":"s` + "\xff" + `"}}`,
		"short routing key":     `{"routing_key":"abc","payload":{"summary":"s"}}`,
		"no routing key":        `{"payload":{"summary":"s"}}`,
		"unknown action":        `{` + key + `,"event_action":"escalate","dedup_key":"d","payload":{"summary":"s","source":"h","severity":"info"}}`,
		"resolve without key":   `{` + key + `,"event_action":"resolve","payload":{"summary":"s","source":"h","severity":"info"}}`,
		"dedup key too long":    `{` + key + `,"event_action":"trigger","dedup_key":"` + long(256) + `","payload":{"summary":"s","source":"h","severity":"info"}}`,
		"trigger no payload":    `{` + key + `,"event_action":"trigger","dedup_key":"d"}`,
		"empty summary":         `{` + key + `,"event_action":"trigger","payload":{"summary":" ","source":"h","severity":"info"}}`,
		"summary too long":      `{` + key + `,"event_action":"trigger","payload":{"summary":"` + strings.Repeat("é", 1025) + `","source":"h","severity":"info"}}`,
		"no source":             `{` + key + `,"event_action":"trigger","payload":{"summary":"s","severity":"info"}}`,
		"bad severity":          `{` + key + `,"event_action":"trigger","payload":{"summary":"s","source":"h","severity":"high"}}`,
		"bad timestamp":         `{` + key + `,"event_action":"trigger","payload":{"summary":"s","source":"h","severity":"info","timestamp":"yesterday"}}`,
		"details not object":    `{` + key + `,"event_action":"trigger","payload":{"summary":"s","source":"h","severity":"info","custom_details":"x"}}`,
		"change with action":    `{` + key + `,"event_action":"change","payload":{"summary":"s"}}`,
		"change with dedup":     `{` + key + `,"dedup_key":"d","payload":{"summary":"s"}}`,
		"change with severity":  `{` + key + `,"payload":{"summary":"s","severity":"info"}}`,
		"change long summary":   `{` + key + `,"payload":{"summary":"` + long(1025) + `"}}`,
		"51 links":              `{` + key + `,"payload":{"summary":"s"},"links":[` + links(51) + `]}`,
		"link without href":     `{` + key + `,"payload":{"summary":"s"},"links":[{"text":"t"}]}`,
		"image without src":     `{` + key + `,"event_action":"trigger","payload":{"summary":"s","source":"h","severity":"info"},"images":[{"href":"h"}]}`,
		"summary of 1024 emoji": `{` + key + `,"event_action":"trigger","payload":{"summary":"` + strings.Repeat("🚨", 1024) + `","source":"h","severity":"info"}}`,
		"duplicate top key":     `{` + key + `,"event_action":"trigger","event_action":"trigger","payload":{"summary":"s","source":"h","severity":"info"}}`,
		"duplicate detail key":  `{` + key + `,"payload":{"summary":"s","custom_details":{"a":1,"a":2}}}`,
		"duplicate nested key":  `{` + key + `,"payload":{"summary":"s","custom_details":{"a":[{"b":1,"b":1}]}}}`,
		"client on a resolve":   `{` + key + `,"event_action":"resolve","dedup_key":"d","client":"c"}`,
		"client on a change":    `{` + key + `,"payload":{"summary":"s"},"client":"c"}`,
		"relative client_url":   `{` + key + `,"event_action":"trigger","payload":{"summary":"s","source":"h","severity":"info"},"client_url":"/graph"}`,
		"relative link href":    `{` + key + `,"payload":{"summary":"s"},"links":[{"href":"/runbook"}]}`,
		"http image src":        `{` + key + `,"event_action":"trigger","payload":{"summary":"s","source":"h","severity":"info"},"images":[{"src":"http://img"}]}`,
		"data: image href":      `{` + key + `,"event_action":"trigger","payload":{"summary":"s","source":"h","severity":"info"},"images":[{"src":"https://img","href":"data:,x"}]}`,
		"too large":             `{` + key + `,"payload":{"summary":"s","custom_details":{"x":"` + long(eventsapi.MaxRequestBytes) + `"}}}`,
	} {
		t.Run(name, func(t *testing.T) {
			rec := &recordingT{name: t.Name()}
			rec.run(func(tb testing.TB) { validateEvent(tb, []byte(body)) })
			assert.True(t, rec.failed, "validateEvent accepted a body breaking %q", name)
		})
	}
}

// recordingT records failures instead of failing the test.
type recordingT struct {
	testing.TB
	name   string
	failed bool
}

// failedNow is what recordingT's FailNow panics with, for run to recover.
type failedNow struct{}

// run calls check with r, ending it at FailNow as testing.T's FailNow ends
// a test, but without leaving the calling goroutine.
func (r *recordingT) run(check func(testing.TB)) {
	defer func() {
		if p := recover(); p != nil {
			if _, ok := p.(failedNow); !ok {
				panic(p)
			}
		}
	}()
	check(r)
}

func (r *recordingT) Name() string              { return r.name }
func (r *recordingT) Helper()                   {}
func (r *recordingT) Errorf(string, ...any)     { r.failed = true }
func (r *recordingT) FailNow()                  { r.failed = true; panic(failedNow{}) }
func (r *recordingT) Fatalf(f string, a ...any) { r.Errorf(f, a...); r.FailNow() }

// TestRequestAlwaysFits feeds records whose bulk is not in attribute values,
// where shedding values alone cannot bring the request under the limit.
func TestRequestAlwaysFits(t *testing.T) {
	for _, tc := range []struct {
		name  string
		build builder
		check func(t *testing.T, m mapped)
	}{
		{
			name: "huge attribute key",
			build: func(lr plog.LogRecord, _ pcommon.Resource) {
				lr.Attributes().PutStr(AttrSummary, "s")
				lr.Attributes().PutStr("small", "kept")
				lr.Attributes().PutStr(strings.Repeat("k", 600_000), "v")
			},
			check: func(t *testing.T, m mapped) {
				assert.True(t, m.Repairs.Has(RepairDetailsShed))
				assert.Equal(t, "kept", m.details()["small"])
				keys := m.shedKeys(t)
				require.Len(t, keys, 1)
				assert.True(t, strings.HasPrefix(keys[0], "kkkk"), "the note names the shed key, shortened")
			},
		},
		{
			name: "a huge key outweighs a large value",
			build: func(lr plog.LogRecord, _ pcommon.Resource) {
				lr.Attributes().PutStr(AttrSummary, "s")
				lr.Attributes().PutStr("value", strings.Repeat("v", 250_000))
				lr.Attributes().PutStr(strings.Repeat("k", 300_000), "v")
			},
			check: func(t *testing.T, m mapped) {
				keys := m.shedKeys(t)
				require.Len(t, keys, 1)
				assert.Equal(t, strings.Repeat("k", maxNoteKeyRunes-1)+"…", keys[0])
				assert.Contains(t, m.details(), "value")
			},
		},
		{
			name: "keys alone over the limit",
			build: func(lr plog.LogRecord, _ pcommon.Resource) {
				lr.Attributes().PutStr(AttrSummary, "s")
				for i := range 3000 {
					lr.Attributes().PutInt(fmt.Sprintf("%0200d", i), int64(i))
				}
			},
			check: func(t *testing.T, m mapped) {
				assert.True(t, m.Repairs.Has(RepairDetailsShed))
				note, _ := m.details()["details_shed"].(map[string]any)
				listed := len(m.shedKeys(t))
				assert.Positive(t, listed)
				unlisted, err := note["unlisted_keys"].(json.Number).Int64()
				require.NoError(t, err)
				assert.Positive(t, unlisted, "a full list counts the rest")
				kept := len(m.details()) - 1
				assert.Equal(t, 3000, listed+int(unlisted)+kept, "every attribute is kept or accounted for")
				assert.Greater(t, len(m.body), eventsapi.MaxRequestBytes-50_000, "no more shed than needed")
			},
		},
		{
			name: "1 MB image src",
			build: func(lr plog.LogRecord, _ pcommon.Resource) {
				lr.Attributes().PutStr(AttrImages, "data:image/png;base64,"+strings.Repeat("A", 1<<20))
				lr.Attributes().PutStr(AttrDashboardURL, "https://h/"+strings.Repeat("d", 1<<20))
			},
			check: func(t *testing.T, m mapped) {
				assert.True(t, m.Repairs.Has(RepairImageInvalid), "a data: URI is no https URL")
				assert.True(t, m.Repairs.Has(RepairLinkInvalid), "a URL is dropped, never cut")
				assert.NotContains(t, m.doc, "images")
				assert.NotContains(t, m.doc, "links")
			},
		},
		{
			name: "images dropped when shedding details is not enough",
			build: func(lr plog.LogRecord, _ pcommon.Resource) {
				url, long := longEscapedURL(), strings.Repeat("\x01", 2000)
				images := lr.Attributes().PutEmptySlice(AttrImages)
				for range 50 {
					i := images.AppendEmpty().SetEmptyMap()
					i.PutStr("src", url)
					i.PutStr("href", url)
					i.PutStr("alt", long)
				}
				lr.Attributes().PutStr(AttrRunbookURL, "https://runbook")
				lr.Attributes().PutStr("detail", "d")
			},
			check: func(t *testing.T, m mapped) {
				assert.True(t, m.Repairs.Has(RepairDetailsShed))
				assert.True(t, m.Repairs.Has(RepairLinksCapped))
				assert.Equal(t, []string{"detail"}, m.shedKeys(t))
				assert.NotContains(t, m.doc, "images")
				assert.Contains(t, m.doc, "links", "links fit once images are gone")
			},
		},
		{
			name: "links and images at their caps, all escaped",
			build: func(lr plog.LogRecord, _ pcommon.Resource) {
				url, long := longEscapedURL(), strings.Repeat("\x01", 2000)
				links := lr.Attributes().PutEmptySlice(AttrLinks)
				images := lr.Attributes().PutEmptySlice(AttrImages)
				for range 50 {
					l := links.AppendEmpty().SetEmptyMap()
					l.PutStr("href", url)
					l.PutStr("text", long)
					i := images.AppendEmpty().SetEmptyMap()
					i.PutStr("src", url)
					i.PutStr("href", url)
					i.PutStr("alt", long)
				}
			},
			check: func(t *testing.T, m mapped) {
				assert.False(t, m.Repairs.Has(RepairDetailsShed), "there were no details")
				assert.True(t, m.Repairs.Has(RepairLinksCapped))
				assert.NotContains(t, m.doc, "images")
				assert.NotContains(t, m.doc, "links")
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := mapOK(t, tc.build) // validateEvent checks the size
			tc.check(t, m)
		})
	}
}

// longEscapedURL is a valid https URL of maxURLBytes whose JSON form is
// about twice as long: the most a URL can weigh in a request.
func longEscapedURL() string {
	const head = "https://h/"
	return head + strings.Repeat(`"`, maxURLBytes-len(head))
}

// TestDetailKeysAreUnique: whatever the record holds, no object in the
// request has a key twice (validateEvent checks every depth), the record's
// attributes keep their names, and of equal keys the first value is kept.
func TestDetailKeysAreUnique(t *testing.T) {
	for _, tc := range []struct {
		name    string
		build   builder
		want    map[string]any // members of custom_details
		repairs Repairs
	}{
		{
			name: "attributes named like the exporter's members",
			build: func(lr plog.LogRecord, _ pcommon.Resource) {
				lr.Body().SetStr("the body")
				lr.SetTraceID(pcommon.TraceID{1, 2, 3})
				for _, k := range []string{"body", "trace_id", "_trace_id", "resource"} {
					lr.Attributes().PutStr(k, "attribute "+k)
				}
			},
			want: map[string]any{
				"body": "attribute body", "_body": "the body",
				"trace_id": "attribute trace_id", "_trace_id": "attribute _trace_id", "__trace_id": "01020300000000000000000000000000",
				"resource": "attribute resource", "_resource": map[string]any{AttrHostName: "h"},
			},
		},
		{
			name: "the details_shed note moves too",
			build: func(lr plog.LogRecord, _ pcommon.Resource) {
				lr.Attributes().PutStr("details_shed", strings.Repeat("x", 600_000)) // itself shed
			},
			want: map[string]any{
				"_details_shed": map[string]any{"reason": "request over 512000 bytes", "keys": []any{"details_shed"}},
				"resource":      map[string]any{AttrHostName: "h"},
			},
			repairs: repairsOf(RepairDetailsShed),
		},
		{
			name: "keys equal once invalid UTF-8 is replaced: the first is kept",
			build: func(lr plog.LogRecord, _ pcommon.Resource) {
				lr.Attributes().PutStr("lab\xffel", "first")
				lr.Attributes().PutStr("lab\xfeel", "second")
				n := lr.Attributes().PutEmptyMap("nested")
				n.PutStr("k\xff", "first")
				n.PutStr("k\xfe", "second")
			},
			want: map[string]any{
				"lab\uFFFDel": "first",
				"nested":      map[string]any{"k\uFFFD": "first"},
				"resource":    map[string]any{AttrHostName: "h"},
			},
			repairs: repairsOf(RepairInvalidUTF8, RepairDuplicateKey),
		},
		{
			name: "duplicates from the wire, on record, nested and resource: the first is kept",
			build: func(lr plog.LogRecord, res pcommon.Resource) {
				fromOTLP("duplicate_keys.json")(lr, res)
				lr.Attributes().PutStr(AttrHostName, "h") // the builder below expects it
			},
			want: map[string]any{
				"team":      "payments",
				"labels":    map[string]any{"env": "prod", "region": "eu-west-1"},
				"host.name": "h",
				"resource":  map[string]any{"host.name": "web-01", "k8s.namespace.name": "shop"},
			},
			repairs: repairsOf(RepairDuplicateKey),
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := mapOK(t, func(lr plog.LogRecord, res pcommon.Resource) {
				lr.Attributes().PutStr(AttrSummary, "s")
				lr.Attributes().PutStr(AttrFingerprint, "fp")
				lr.Attributes().PutStr(AttrSeverity, "info")
				res.Attributes().PutStr(AttrHostName, "h")
				tc.build(lr, res)
			}) // validateEvent fails on any key seen twice
			assert.Equal(t, tc.want, m.details())
			assert.Equal(t, repairNamesOf(tc.repairs), repairNamesOf(m.Repairs))
		})
	}
}

// TestOTLPKeepsDuplicateKeys checks the premise of the duplicate-key rule:
// the collector's OTLP decoding keeps both members of a duplicated key, and
// Map.Get, which the mapping reads contract attributes with, finds the first.
func TestOTLPKeepsDuplicateKeys(t *testing.T) {
	lr, res := plog.NewLogRecord(), pcommon.NewResource()
	fromOTLP("duplicate_keys.json")(lr, res)
	var teams []string
	for k, v := range lr.Attributes().All() {
		if k == "team" {
			teams = append(teams, v.Str())
		}
	}
	assert.Equal(t, []string{"payments", "checkout"}, teams)
	v, _ := lr.Attributes().Get("team")
	assert.Equal(t, "payments", v.Str())
	assert.Equal(t, 4, res.Attributes().Len())
}

func TestRejectDetailStaysShort(t *testing.T) {
	m := mapWith(t, testOptions(), func(lr plog.LogRecord, _ pcommon.Resource) {
		lr.Attributes().PutStr(AttrStatus, strings.Repeat("x", 1<<20))
	})
	var rejected *RejectError
	require.ErrorAs(t, m.err, &rejected)
	assert.Less(t, len(rejected.Error()), 200)
}

// TestSizeBoundIsAnUpperBound: the shortcut that skips measuring must never
// be below the real size, whatever the text holds.
func TestSizeBoundIsAnUpperBound(t *testing.T) {
	for _, text := range []string{"plain", "\x01\x02\x03\x04", "\"\\\"\\", "é漢🚨", "\xff\xfe", "\u2028\u2029"} {
		m := mapOK(t, func(lr plog.LogRecord, res pcommon.Resource) {
			long := strings.Repeat(text, 50)
			a := lr.Attributes()
			a.PutStr(AttrSummary, long)
			a.PutStr(AttrComponent, long)
			a.PutStr(AttrRunbookURL, "https://h/"+long)
			a.PutStr(AttrImages, "https://h/"+long)
			a.PutStr(long, long)
			a.PutEmptyMap("nested").PutStr(long, long)
			lr.SetTimestamp(pcommon.NewTimestampFromTime(recordTime))
			res.Attributes().PutStr(long, long)
		})
		assert.GreaterOrEqual(t, sizeBound(&m.Event), len(m.body), "text %q", text)
	}
}

func TestOrderingTime(t *testing.T) {
	received := pcommon.NewTimestampFromTime(time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC))
	tests := []struct {
		name       string
		record     time.Duration // the record's time relative to received; 0: none
		noArrival  bool          // Identify rather than IdentifyAt
		want       time.Duration // the ordering time relative to received
		wantNoTime bool          // the ordering time is 0
		repaired   bool
	}{
		{name: "no time: arrival", want: 0},
		{name: "in the past: its own", record: -time.Hour, want: -time.Hour},
		{name: "ahead within the tolerance: its own", record: FutureTolerance, want: FutureTolerance},
		{name: "an hour ahead: arrival, repaired", record: time.Hour, want: 0, repaired: true},
		{name: "no arrival: its own, even ahead", record: time.Hour, noArrival: true, want: time.Hour},
		{name: "no arrival and no time: none", noArrival: true, wantNoTime: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			lr := plog.NewLogRecord()
			recorded := received.AsTime().Add(tc.record)
			if tc.record != 0 {
				lr.SetTimestamp(pcommon.NewTimestampFromTime(recorded))
			}
			arrival := received
			if tc.noArrival {
				arrival = 0
			}
			m, err := IdentifyAt(lr, pcommon.NewResource(), &Options{DefaultSeverity: "error", Hostname: "h"}, arrival)
			require.NoError(t, err)
			want := received.AsTime().Add(tc.want).UnixNano()
			if tc.wantNoTime {
				want = 0
			}
			assert.Equal(t, want, m.OrderingTime)
			assert.Equal(t, tc.repaired, m.Repairs.Has(RepairTimeInFuture))
			if tc.record != 0 {
				m.Complete()
				assert.Equal(t, recorded.UTC().Format(timestampLayout), m.Event.Payload.Timestamp,
					"payload.timestamp keeps what the source said")
				assert.Equal(t, tc.repaired, m.Repairs.Has(RepairTimeInFuture), "Complete keeps the repair")
			}
		})
	}
}

// TestCompletionSize: a completion and the allocator's header for objects
// over 512 bytes that hold pointers stay within the 896-byte size class.
func TestCompletionSize(t *testing.T) {
	assert.LessOrEqual(t, unsafe.Sizeof(completion{})+8, uintptr(896))
}

// TestResolveAfter: alert.resolve_after sets a firing alert's quiet period,
// "0s" or "0" opts it out, and anything that is no duration of zero or
// more is ignored and counted.
func TestResolveAfter(t *testing.T) {
	for _, tc := range []struct {
		value    any
		action   string
		want     time.Duration
		has      bool
		repaired bool
	}{
		{value: "15m", want: 15 * time.Minute, has: true},
		{value: " 90s ", want: 90 * time.Second, has: true},
		{value: "0s", has: true},
		{value: "0", has: true},
		{value: int64(0), has: true},
		{value: "soon", repaired: true},
		{value: "-5m", repaired: true},
		{value: "", repaired: true},
		{value: "15m", action: "resolved"},
	} {
		t.Run(fmt.Sprintf("%v %s", tc.value, tc.action), func(t *testing.T) {
			lr := plog.NewLogRecord()
			lr.Attributes().PutStr(AttrFingerprint, "fp")
			require.NoError(t, lr.Attributes().FromRaw(map[string]any{AttrFingerprint: "fp", AttrResolveAfter: tc.value, AttrStatus: tc.action}))
			m, err := IdentifyAt(lr, pcommon.NewResource(), &Options{DefaultSeverity: "error"}, 0)
			require.NoError(t, err)
			assert.Equal(t, tc.want, m.ResolveAfter)
			assert.Equal(t, tc.has, m.HasResolveAfter)
			assert.Equal(t, tc.repaired, m.Repairs.Has(RepairResolveAfterInvalid))
			m.Complete()
			for _, d := range m.Event.Payload.Details {
				assert.NotEqual(t, AttrResolveAfter, d.Key, "left out of custom_details")
			}
		})
	}
}
