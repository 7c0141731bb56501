package recordmap

import (
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/eventsapi"
)

func TestBadInputMissingAttributes(t *testing.T) {
	noHostname := testOptions()
	noHostname.Hostname = ""

	runBadInput(t, []badInput{
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
	})
}

func TestBadInputTimestamp(t *testing.T) {
	runBadInput(t, []badInput{
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
	})
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

// TestCompletionSize: a completion and the allocator's header for objects
// over 512 bytes that hold pointers stay within the 896-byte size class.
func TestCompletionSize(t *testing.T) {
	assert.LessOrEqual(t, unsafe.Sizeof(completion{})+8, uintptr(896))
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
