package recordmap

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/eventsapi"
)

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

func TestBadInputTruncated(t *testing.T) {
	runBadInput(t, []badInput{
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
	})
}

func TestBadInputDetailValues(t *testing.T) {
	runBadInput(t, []badInput{
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
	})
}
