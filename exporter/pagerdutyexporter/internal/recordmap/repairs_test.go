package recordmap

import (
	"encoding/json"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/eventsapi"
)

func TestStatusDefaulted(t *testing.T) {
	for _, tc := range []struct {
		name      string
		build     func(a pcommon.Map)
		action    eventsapi.Action
		defaulted bool
	}{
		{"status absent", func(pcommon.Map) {}, eventsapi.Trigger, false},
		{"status firing", func(a pcommon.Map) { a.PutStr(AttrStatus, "firing") }, eventsapi.Trigger, false},
		{"status empty", func(a pcommon.Map) { a.PutStr(AttrStatus, "") }, eventsapi.Trigger, true},
		{"status white space", func(a pcommon.Map) { a.PutStr(AttrStatus, " \t\n") }, eventsapi.Trigger, true},
		{"status empty value", func(a pcommon.Map) { a.PutEmpty(AttrStatus) }, eventsapi.Trigger, true},
		{"event_action empty", func(a pcommon.Map) { a.PutStr(AttrEventAction, "") }, eventsapi.Trigger, true},
		{"event_action white space, status resolved", func(a pcommon.Map) {
			a.PutStr(AttrEventAction, "  ")
			a.PutStr(AttrStatus, "resolved")
		}, eventsapi.Resolve, true},
		{"both empty", func(a pcommon.Map) {
			a.PutStr(AttrEventAction, "")
			a.PutStr(AttrStatus, "")
		}, eventsapi.Trigger, true},
		{"event_action resolve, status empty: status unread", func(a pcommon.Map) {
			a.PutStr(AttrEventAction, "resolve")
			a.PutStr(AttrStatus, "")
		}, eventsapi.Resolve, false},
		{"change event, status empty: status unread", func(a pcommon.Map) {
			a.PutStr(AttrEventType, "change")
			a.PutStr(AttrStatus, "")
		}, eventsapi.Change, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := mapOK(t, func(lr plog.LogRecord, _ pcommon.Resource) {
				lr.Attributes().PutStr(AttrSummary, "s")
				lr.Attributes().PutStr(AttrFingerprint, "fp")
				tc.build(lr.Attributes())
			})
			assert.Equal(t, tc.action, m.Event.Action)
			assert.Equal(t, tc.defaulted, m.Repairs.Has(RepairStatusDefaulted), "repairs %v", repairNamesOf(m.Repairs))
		})
	}
	// On the resource, as any contract attribute.
	m := mapOK(t, func(_ plog.LogRecord, res pcommon.Resource) { res.Attributes().PutStr(AttrStatus, " ") })
	assert.True(t, m.Repairs.Has(RepairStatusDefaulted))
}

func TestSeverityTrimmed(t *testing.T) {
	for _, tc := range []struct {
		in                 string
		want               string
		trimmed, defaulted bool
	}{
		{"critical", eventsapi.SeverityCritical, false, false},
		{"CRITICAL\x00", eventsapi.SeverityCritical, true, false},
		{"\x00critical", eventsapi.SeverityCritical, true, false},
		{" warning\n", eventsapi.SeverityWarning, true, false},
		{"\tP1\r\n", eventsapi.SeverityCritical, true, false},
		{"\u0085info\u00a0", eventsapi.SeverityInfo, true, false},
		{"\x1b\x7ferror\x1f", eventsapi.SeverityError, true, false},
		{"crit ical", eventsapi.SeverityError, false, true},
		{"bogus\x00", eventsapi.SeverityError, false, true},
		{" \x00 ", eventsapi.SeverityError, false, true},
	} {
		t.Run(tc.in, func(t *testing.T) {
			m := mapOK(t, func(lr plog.LogRecord, _ pcommon.Resource) {
				lr.Attributes().PutStr(AttrSeverity, tc.in)
			})
			assert.Equal(t, tc.want, m.field("severity"))
			assert.Equal(t, tc.trimmed, m.Repairs.Has(RepairSeverityTrimmed), "repairs %v", repairNamesOf(m.Repairs))
			assert.Equal(t, tc.defaulted, m.Repairs.Has(RepairSeverityDefaulted), "repairs %v", repairNamesOf(m.Repairs))
		})
	}
}

// nestMaps makes v a chain of levels maps, each holding the next under "d",
// the last holding "leaf": "x".
func nestMaps(v pcommon.Value, levels int) {
	m := v.SetEmptyMap()
	for range levels - 1 {
		m = m.PutEmptyMap("d")
	}
	m.PutStr("leaf", "x")
}

// nestSlices makes v a chain of levels lists, the last holding "x".
func nestSlices(v pcommon.Value, levels int) {
	s := v.SetEmptySlice()
	for range levels - 1 {
		s = s.AppendEmpty().SetEmptySlice()
	}
	s.AppendEmpty().SetStr("x")
}

// depthOf returns how many maps and lists nest in a decoded JSON value, and
// what the innermost of them holds that is neither.
func depthOf(v any) (int, any) {
	depth := 0
	for {
		switch x := v.(type) {
		case map[string]any:
			if d, ok := x["d"]; ok {
				v = d
			} else {
				v = x["leaf"]
			}
		case []any:
			v = x[0]
		default:
			return depth, v
		}
		depth++
	}
}

// deepAttr builds a record whose attribute "deep" nest makes levels deep.
func deepAttr(nest func(pcommon.Value, int), levels int) builder {
	return func(lr plog.LogRecord, _ pcommon.Resource) { nest(lr.Attributes().PutEmpty("deep"), levels) }
}

func TestDepthCapped(t *testing.T) {
	marker := "[nested deeper than 32 levels]"
	for _, tc := range []struct {
		name   string
		build  builder
		member string
		depth  int // maps and lists left in the member
		inner  any // what the innermost holds
		capped bool
	}{
		{"maps at the bound", deepAttr(nestMaps, maxDetailDepth), "deep", maxDetailDepth, "x", false},
		{"maps past the bound", deepAttr(nestMaps, maxDetailDepth+1), "deep", maxDetailDepth, marker, true},
		{"lists at the bound", deepAttr(nestSlices, maxDetailDepth), "deep", maxDetailDepth, "x", false},
		{"lists past the bound", deepAttr(nestSlices, maxDetailDepth+5), "deep", maxDetailDepth, marker, true},
		{
			name: "map body past the bound",
			build: func(lr plog.LogRecord, _ pcommon.Resource) {
				lr.Attributes().PutStr(AttrSummary, "s")
				nestMaps(lr.Body(), maxDetailDepth+1)
			},
			member: "body", depth: maxDetailDepth, inner: marker, capped: true,
		},
		{
			// The resource member is itself a level: its attributes start
			// at the second.
			name:   "resource attribute past the bound",
			build:  func(_ plog.LogRecord, res pcommon.Resource) { nestMaps(res.Attributes().PutEmpty("d"), maxDetailDepth) },
			member: "resource", depth: maxDetailDepth, inner: marker, capped: true,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := mapOK(t, tc.build)
			depth, inner := depthOf(m.details()[tc.member])
			assert.Equal(t, tc.depth, depth)
			assert.Equal(t, tc.inner, inner)
			assert.Equal(t, tc.capped, m.Repairs.Has(RepairDepthCapped), "repairs %v", repairNamesOf(m.Repairs))
		})
	}
}

// TestDeepNestingDoesNotRecurse maps records nested 100,000 levels deep
// with a stack far smaller than encoding them level by level would take:
// the encoder must stop at the bound.
func TestDeepNestingDoesNotRecurse(t *testing.T) {
	const levels = 100_000
	defer debug.SetMaxStack(debug.SetMaxStack(4 << 20))
	for name, nest := range map[string]func(pcommon.Value, int){"maps": nestMaps, "lists": nestSlices} {
		t.Run(name, func(t *testing.T) {
			lr, res := plog.NewLogRecord(), pcommon.NewResource()
			lr.Attributes().PutStr(AttrSummary, "s")
			nest(lr.Attributes().PutEmpty("deep"), levels)
			nest(res.Attributes().PutEmpty("deep"), levels)
			r, err := Map(lr, res, testOptions())
			require.NoError(t, err)
			body := r.Event.AppendJSON(nil)
			assert.True(t, json.Valid(body))
			assert.Equal(t, 2, strings.Count(string(body), `"[nested deeper than 32 levels]"`))
			assert.True(t, r.Repairs.Has(RepairDepthCapped))
			assert.Less(t, len(body), 2_000)
		})
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

func TestRejectDetailStaysShort(t *testing.T) {
	m := mapWith(t, testOptions(), func(lr plog.LogRecord, _ pcommon.Resource) {
		lr.Attributes().PutStr(AttrStatus, strings.Repeat("x", 1<<20))
	})
	var rejected *RejectError
	require.ErrorAs(t, m.err, &rejected)
	assert.Less(t, len(rejected.Error()), 200)
}
