package recordmap

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
)

// TestAttributePrecedence checks that each contract attribute is read from
// the record before the resource.
func TestAttributePrecedence(t *testing.T) {
	for _, tc := range []struct {
		attr, onRecord, onResource string
		got                        func(m mapped) string
	}{
		{AttrSummary, "rec", "res", func(m mapped) string { return m.field("summary") }},
		{AttrSeverity, "info", "critical", func(m mapped) string { return m.field("severity") }},
		{AttrComponent, "rec", "res", func(m mapped) string { return m.field("component") }},
		{AttrGroup, "rec", "res", func(m mapped) string { return m.field("group") }},
		{AttrClass, "rec", "res", func(m mapped) string { return m.field("class") }},
		{AttrFingerprint, "rec", "res", func(m mapped) string { return m.dedupKey() }},
		{AttrDedupKey, "rec", "res", func(m mapped) string { return m.dedupKey() }},
		{AttrStatus, "resolved", "firing", func(m mapped) string { return string(m.Event.Action) }},
		{AttrEventAction, "acknowledge", "resolve", func(m mapped) string { return string(m.Event.Action) }},
		{AttrEventType, "change", "alert", func(m mapped) string { return string(m.Event.Action) }},
		{AttrRunbookURL, "https://rec", "https://res", func(m mapped) string { return m.Event.Links[0].Href }},
		{"team", "rec", "res", func(m mapped) string { return m.RoutingValue }},
	} {
		t.Run(tc.attr, func(t *testing.T) {
			both := mapOK(t, func(lr plog.LogRecord, res pcommon.Resource) {
				lr.Attributes().PutStr(tc.attr, tc.onRecord)
				res.Attributes().PutStr(tc.attr, tc.onResource)
			})
			resOnly := mapOK(t, func(_ plog.LogRecord, res pcommon.Resource) {
				res.Attributes().PutStr(tc.attr, tc.onResource)
			})
			assert.NotEqual(t, tc.got(both), tc.got(resOnly), "the resource value must be visible on its own")
			recOnly := mapOK(t, func(lr plog.LogRecord, _ pcommon.Resource) {
				lr.Attributes().PutStr(tc.attr, tc.onRecord)
			})
			assert.Equal(t, tc.got(recOnly), tc.got(both), "the record value wins")
		})
	}
}

// TestRoutingOnContractAttribute: a routing attribute may be one the
// contract reads too; it is read as any other, record first.
func TestRoutingOnContractAttribute(t *testing.T) {
	for _, tc := range []struct{ attr, want, source string }{
		{AttrHostName, "record-host", "resource-host"}, // the source reads host.name on the resource only
		{AttrServiceName, "checkout", "resource-host"},
		{AttrComponent, "db", "resource-host"},
	} {
		opts := testOptions()
		opts.RoutingAttribute = tc.attr
		m := mapWith(t, opts, func(lr plog.LogRecord, res pcommon.Resource) {
			lr.Attributes().PutStr(AttrHostName, "record-host")
			lr.Attributes().PutStr(AttrComponent, "db")
			res.Attributes().PutStr(AttrHostName, "resource-host")
			res.Attributes().PutStr(AttrServiceName, "checkout")
		})
		require.NoError(t, m.err)
		assert.Equal(t, tc.want, m.RoutingValue, tc.attr)
		assert.Equal(t, tc.source, m.field("source"), tc.attr)
	}
}

func TestBadInputResourceAttributes(t *testing.T) {
	runBadInput(t, []badInput{
		{
			name: "contract attributes on the resource are used and not repeated",
			build: func(_ plog.LogRecord, res pcommon.Resource) {
				r := res.Attributes()
				r.PutStr(AttrEventAction, "resolve")
				r.PutStr(AttrFingerprint, "from-resource")
				r.PutStr(AttrSummary, "resource summary")
				r.PutStr(AttrServiceName, "svc")
			},
			check: func(t *testing.T, m mapped) {
				require.NoError(t, m.err)
				assert.Equal(t, "resolve", m.doc["event_action"])
				assert.Equal(t, "from-resource", m.dedupKey())
				assert.Equal(t, "resource summary", m.field("summary"))
				assert.Equal(t, map[string]any{AttrServiceName: "svc"}, m.details()["resource"])
			},
		},
	})
}
