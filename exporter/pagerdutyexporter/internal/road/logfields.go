package road // import "github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/road"

import (
	"unicode/utf8"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.uber.org/zap"

	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/recordmap"
)

// maxLoggedValue bounds, in bytes, each record value quoted in a log line;
// a longer value is cut and its full length given beside it, so that one
// record cannot write a megabyte of log.
const maxLoggedValue = 128

// recordFields identify a record in logs without its routing key.
func recordFields(ref recordRef, dedupKey string) []zap.Field {
	fields := make([]zap.Field, 0, 8)
	if dedupKey != "" {
		fields = appendBounded(fields, "dedup_key", dedupKey)
	}
	for _, name := range []string{recordmap.AttrName, recordmap.AttrFingerprint, recordmap.AttrServiceName} {
		v, ok := ref.lr.Attributes().Get(name)
		if !ok {
			v, ok = ref.rl.Resource().Attributes().Get(name)
		}
		if ok {
			fields = appendBounded(fields, name, v.AsString())
		}
	}
	if ts := recordmap.RecordTime(ref.lr); ts != 0 {
		fields = append(fields, zap.Time("record_time", ts.AsTime()))
	}
	if body := ref.lr.Body(); body.Type() == pcommon.ValueTypeStr && body.Str() != "" {
		excerpt := []rune(body.Str())
		fields = append(fields, zap.String("body", string(excerpt[:min(len(excerpt), 80)])))
	}
	return fields
}

// appendBounded appends name: value, cut to maxLoggedValue bytes on a rune
// boundary, and name_length with the full length when it was cut.
func appendBounded(fields []zap.Field, name, value string) []zap.Field {
	if len(value) <= maxLoggedValue {
		return append(fields, zap.String(name, value))
	}
	return append(fields, zap.String(name, bounded(value)), zap.Int(name+"_length", len(value)))
}

// bounded is value cut to maxLoggedValue bytes on a rune boundary, with an
// ellipsis and its full length when it was cut.
func bounded(value string) string {
	if len(value) <= maxLoggedValue {
		return value
	}
	cut := maxLoggedValue
	for cut > 0 && !utf8.RuneStart(value[cut]) {
		cut--
	}
	return value[:cut] + "…"
}
