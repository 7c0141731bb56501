package recordmap

import (
	"encoding/base64"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/eventsapi"
)

// appendValue appends v as JSON, keeping the shape of maps and slices.
func appendValue(buf []byte, v pcommon.Value) []byte {
	switch v.Type() {
	case pcommon.ValueTypeStr:
		return eventsapi.AppendString(buf, v.Str())
	case pcommon.ValueTypeInt:
		return strconv.AppendInt(buf, v.Int(), 10)
	case pcommon.ValueTypeDouble:
		f := v.Double()
		if math.IsNaN(f) || math.IsInf(f, 0) {
			// JSON has no NaN or infinities; keep the information as text.
			return eventsapi.AppendString(buf, strconv.FormatFloat(f, 'g', -1, 64))
		}
		return strconv.AppendFloat(buf, f, 'g', -1, 64)
	case pcommon.ValueTypeBool:
		return strconv.AppendBool(buf, v.Bool())
	case pcommon.ValueTypeMap:
		buf = append(buf, '{')
		first := true
		for k, mv := range v.Map().All() {
			if !first {
				buf = append(buf, ',')
			}
			first = false
			buf = eventsapi.AppendString(buf, k)
			buf = append(buf, ':')
			buf = appendValue(buf, mv)
		}
		return append(buf, '}')
	case pcommon.ValueTypeSlice:
		buf = append(buf, '[')
		for i, sv := range v.Slice().All() {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = appendValue(buf, sv)
		}
		return append(buf, ']')
	case pcommon.ValueTypeBytes:
		return eventsapi.AppendString(buf, base64.StdEncoding.EncodeToString(v.Bytes().AsRaw()))
	default:
		return append(buf, "null"...)
	}
}

// text returns v as a trimmed string: strings as they are, other scalars in
// their usual text form, maps and slices as JSON.
func text(v pcommon.Value) string {
	if v.Type() == pcommon.ValueTypeStr {
		return strings.TrimSpace(v.Str())
	}
	return strings.TrimSpace(v.AsString())
}

// truncateRunes cuts s to at most n runes, the last of them an ellipsis.
func truncateRunes(s string, n int) (string, bool) {
	if len(s) <= n || utf8.RuneCountInString(s) <= n {
		return s, false
	}
	count := 0
	for i := range s {
		if count == n-1 {
			return s[:i] + "…", true
		}
		count++
	}
	return s, false
}
