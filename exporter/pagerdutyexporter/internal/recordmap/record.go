package recordmap

import (
	"strings"
	"unicode/utf8"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
)

// record reads a log record's attributes, falling back to its resource's.
type record struct {
	lr      plog.LogRecord
	res     pcommon.Resource
	repairs Repairs
	// attrs holds, where found has its bit, the value of each attribute the
	// mapping reads: the record's first of that name (as Map.Get finds it),
	// else the resource's first.
	attrs [attrCount]pcommon.Value
	found uint32
	// consumedAttrs counts the record's attributes that become fields of
	// their own, which custom_details leave out.
	consumedAttrs int
}

// index fills attrs in one pass over the record's attributes and one over
// the resource's. routing is Options.RoutingAttribute.
func (r *record) index(routing string) {
	r.indexMap(r.lr.Attributes(), routing, false)
	r.indexMap(r.res.Attributes(), routing, true)
}

func (r *record) indexMap(m pcommon.Map, routing string, resource bool) {
	for k, v := range m.All() {
		if a, ok := attrOf(k); ok && (resource || a < attrHostName) {
			r.put(a, v)
			if !resource && a.consumed() {
				r.consumedAttrs++
			}
		}
		if routing != "" && k == routing {
			r.put(attrRouting, v)
		}
	}
}

// put keeps the first value found for a.
func (r *record) put(a attr, v pcommon.Value) {
	if r.found&(1<<a) == 0 {
		r.found |= 1 << a
		r.attrs[a] = v
	}
}

func (r *record) get(a attr) (pcommon.Value, bool) {
	return r.attrs[a], r.found&(1<<a) != 0
}

// str returns the attribute as valid UTF-8 text, "" when absent.
func (r *record) str(a attr) string {
	v, ok := r.get(a)
	if !ok {
		return ""
	}
	return r.text(v)
}

// text returns v as valid UTF-8 text, counting the conversion of a value
// that is not a string (value_converted).
func (r *record) text(v pcommon.Value) string {
	switch v.Type() {
	case pcommon.ValueTypeStr:
	case pcommon.ValueTypeEmpty:
		return ""
	default:
		r.repairs |= Repairs(RepairValueConverted)
	}
	return r.valid(text(v))
}

func (r *record) valid(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	r.repairs |= Repairs(RepairInvalidUTF8)
	return strings.ToValidUTF8(s, "\uFFFD")
}

// truncated passes on the string truncate returned, noting a cut as a
// repair: r.truncated(truncate(s, n)).
func (r *record) truncated(s string, cut bool) string {
	if cut {
		r.repairs |= Repairs(RepairTruncated)
	}
	return s
}

// time returns RecordTime in Unix nanoseconds. A time out of range counts
// as absent and is repaired (time_out_of_range); when no usable time
// remains, arrival stands in for it. 0 means no time.
func (r *record) time(arrival pcommon.Timestamp) int64 {
	ts, observed := r.lr.Timestamp(), r.lr.ObservedTimestamp()
	if ts > maxTime || ts == 0 && observed > maxTime {
		r.repairs |= Repairs(RepairTimeOutOfRange)
		if RecordTime(r.lr) == 0 {
			return nanos(arrival)
		}
	}
	return nanos(RecordTime(r.lr))
}

// nanos is ts in Unix nanoseconds, 0 for a time beyond maxTime, which has
// no int64.
func nanos(ts pcommon.Timestamp) int64 {
	if ts > maxTime {
		return 0
	}
	return int64(ts)
}
