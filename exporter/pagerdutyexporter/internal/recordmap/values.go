package recordmap

import (
	"encoding/base64"
	"math"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/eventsapi"
)

// maxDetailDepth is how many levels of maps and lists a custom_details
// member may hold, its own value being the first; a map or list below them
// is written as depthCappedNote (depth_capped). JSON parsers refuse nesting
// past a bound of their own, PagerDuty's among them (a map 12,000 levels
// deep was answered "JSON parse error"), which would lose the whole event
// for a part no one reads. 32 levels, 35 in the whole body, is within the
// bounds common parsers keep, deeper than labels and annotations nest in
// practice, and a bound on the encoder's recursion too.
const maxDetailDepth = 32

// depthCappedNote stands in for a map or list nested past maxDetailDepth.
var depthCappedNote = "[nested deeper than " + strconv.Itoa(maxDetailDepth) + " levels]"

// appendValue appends v as JSON, keeping the shape of maps and slices down
// to maxDetailDepth. depth is the level v is at: 1 for a custom_details
// member. Invalid UTF-8 is written as U+FFFD (invalid_utf8).
func (r *record) appendValue(buf []byte, v pcommon.Value, depth int) []byte {
	switch v.Type() {
	case pcommon.ValueTypeStr:
		var valid bool
		buf, valid = eventsapi.AppendStringValid(buf, v.Str())
		if !valid {
			r.repairs |= Repairs(RepairInvalidUTF8)
		}
		return buf
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
		return r.appendMap(buf, v.Map(), nil, depth)
	case pcommon.ValueTypeSlice:
		if depth > maxDetailDepth {
			return r.appendDepthCapped(buf)
		}
		buf = append(buf, '[')
		for i, sv := range v.Slice().All() {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = r.appendValue(buf, sv, depth+1)
		}
		return append(buf, ']')
	case pcommon.ValueTypeBytes:
		return eventsapi.AppendString(buf, base64.StdEncoding.EncodeToString(v.Bytes().AsRaw()))
	default:
		return append(buf, "null"...)
	}
}

// appendMap appends m, at level depth, as a JSON object with unique keys:
// of equal keys the first is kept (duplicate_key). skip, when not nil,
// leaves members out.
func (r *record) appendMap(buf []byte, m pcommon.Map, skip func(string) bool, depth int) []byte {
	if depth > maxDetailDepth {
		return r.appendDepthCapped(buf)
	}
	buf = append(buf, '{')
	var seen keySet
	first := true
	for k, v := range m.All() {
		key := r.valid(k)
		if seen.add(key) {
			r.repairs |= Repairs(RepairDuplicateKey)
			continue
		}
		if skip != nil && skip(key) {
			continue
		}
		if !first {
			buf = append(buf, ',')
		}
		first = false
		buf = eventsapi.AppendString(buf, key)
		buf = append(buf, ':')
		buf = r.appendValue(buf, v, depth+1)
	}
	return append(buf, '}')
}

func (r *record) appendDepthCapped(buf []byte) []byte {
	r.repairs |= Repairs(RepairDepthCapped)
	return eventsapi.AppendString(buf, depthCappedNote)
}

// keySet tells which keys were seen: by comparing, while there are few
// (the common case, without allocating), then through a map.
type keySet struct {
	few [16]string
	n   int
	all map[string]struct{}
}

func (s *keySet) has(k string) bool {
	if s.all != nil {
		_, ok := s.all[k]
		return ok
	}
	for _, seen := range s.few[:s.n] {
		if seen == k {
			return true
		}
	}
	return false
}

// add adds k and reports whether it was there already.
func (s *keySet) add(k string) bool {
	if s.has(k) {
		return true
	}
	switch {
	case s.all != nil:
		s.all[k] = struct{}{}
	case s.n < len(s.few):
		s.few[s.n] = k
		s.n++
	default:
		s.all = make(map[string]struct{}, 4*len(s.few))
		for _, seen := range s.few {
			s.all[seen] = struct{}{}
		}
		s.all[k] = struct{}{}
	}
	return false
}

// text returns v as a trimmed string: strings as they are, other scalars in
// their usual text form, maps and slices as JSON.
func text(v pcommon.Value) string {
	if v.Type() == pcommon.ValueTypeStr {
		return strings.TrimSpace(v.Str())
	}
	return strings.TrimSpace(v.AsString())
}

// maxBackoffRunes bounds how far truncate moves a cut back to keep a
// character whole; past it (a run of combining marks), the cut stays where
// it was, still between two code points.
const maxBackoffRunes = 32

// truncate cuts s so that both its length in code points and its length
// in UTF-16 code units (which is how JavaScript and Java count characters)
// are at most n, the last of them an ellipsis. The cut is at a character
// boundary: never inside a surrogate pair, and not between a character and
// its combining marks, variation selectors, emoji modifiers or tags, after
// a zero-width joiner, or inside a flag's pair of regional indicators.
func truncate(s string, n int) (string, bool) {
	// Bytes are at least as many as UTF-16 units, which are at least as
	// many as code points: most strings are decided here.
	if len(s) <= n || utf16Len(s) <= n {
		return s, false
	}
	end, units := 0, 0
	for i, c := range s {
		w := 1
		if c > 0xFFFF {
			w = 2
		}
		if units+w > n-1 { // one unit is left for the ellipsis
			end = i
			break
		}
		units += w
	}
	return s[:characterBoundary(s, end)] + "…", true
}

func utf16Len(s string) int {
	n := 0
	for _, c := range s {
		n++
		if c > 0xFFFF {
			n++
		}
	}
	return n
}

// characterBoundary moves end, a code point boundary of s, back to the
// start of the character it falls in.
func characterBoundary(s string, end int) int {
	cut := end
	for range maxBackoffRunes {
		if cut == 0 {
			return 0
		}
		next, _ := utf8.DecodeRuneInString(s[cut:])
		prev, size := utf8.DecodeLastRuneInString(s[:cut])
		if !extendsPrevious(next) && prev != zeroWidthJoiner && !splitsFlag(s[:cut], next) {
			return cut
		}
		cut -= size
	}
	return end
}

const zeroWidthJoiner = '\u200D'

// extendsPrevious reports whether c belongs to the character before it.
func extendsPrevious(c rune) bool {
	return unicode.In(c, unicode.Mn, unicode.Me, unicode.Mc) ||
		c == zeroWidthJoiner ||
		(c >= 0xFE00 && c <= 0xFE0F) || // variation selectors
		(c >= 0xE0100 && c <= 0xE01EF) || // variation selectors supplement
		(c >= 0x1F3FB && c <= 0x1F3FF) || // emoji skin tone modifiers
		(c >= 0xE0020 && c <= 0xE007F) // tags (subdivision flags)
}

func isRegionalIndicator(c rune) bool { return c >= 0x1F1E6 && c <= 0x1F1FF }

// splitsFlag reports whether cutting before next separates two regional
// indicators that form one flag: head ends in an odd run of them.
func splitsFlag(head string, next rune) bool {
	if !isRegionalIndicator(next) {
		return false
	}
	run := 0
	for head != "" {
		c, size := utf8.DecodeLastRuneInString(head)
		if !isRegionalIndicator(c) {
			break
		}
		run++
		head = head[:len(head)-size]
	}
	return run%2 == 1
}
