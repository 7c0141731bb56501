package recordmap

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/eventsapi"
)

func TestBadInputShed(t *testing.T) {
	runBadInput(t, []badInput{
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
	})
}

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
