package recordmap

import (
	"testing"

	"github.com/stretchr/testify/assert"
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
