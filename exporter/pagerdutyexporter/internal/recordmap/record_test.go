package recordmap

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/eventsapi"
)

func TestBadInputValueTypes(t *testing.T) {
	infoDefault := testOptions()
	infoDefault.DefaultSeverity = eventsapi.SeverityInfo

	runBadInput(t, []badInput{
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
	})
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

func TestBadInputInvalidUTF8(t *testing.T) {
	runBadInput(t, []badInput{
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
	})
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
