package recordmap

import (
	"bytes"
	"encoding/json"
	"flag"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
)

var update = flag.Bool("update", false, "rewrite testdata/golden/*.json from the current mapping")

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
