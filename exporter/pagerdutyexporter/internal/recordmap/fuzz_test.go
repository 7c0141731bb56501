package recordmap

import (
	"bytes"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/eventsapi"
)

// FuzzMap builds a record from fuzzed contract attributes, body and one free
// attribute (repeated copies times, on the record and once on the resource,
// so that sizes past the request limit are cheap to reach) and checks that
// Map either rejects it with a reason or yields a body PagerDuty accepts.
// Seeds are in testdata/fuzz/FuzzMap.
func FuzzMap(f *testing.F) {
	f.Add("Disk 97% full", "warning", "firing", "", "fp-1", []byte("disk /var"), "team", "payments", int32(13), uint8(0), uint64(1_773_480_413_589_000_000))
	f.Fuzz(func(t *testing.T, summary, severity, status, eventType, fingerprint string, body []byte,
		key, value string, severityNumber int32, copies uint8, timestamp uint64,
	) {
		build := func() (plog.LogRecord, pcommon.Resource) {
			lr, res := plog.NewLogRecord(), pcommon.NewResource()
			a := lr.Attributes()
			for name, v := range map[string]string{
				AttrSummary: summary, AttrSeverity: severity, AttrStatus: status,
				AttrEventType: eventType, AttrFingerprint: fingerprint,
			} {
				if v != "" {
					a.PutStr(name, v)
				}
			}
			if len(body) > 0 {
				lr.Body().SetStr(string(body))
			}
			a.PutStr(key, value)
			// Bounded, so that slow inputs do not stall the fuzzer: three
			// times the request limit is plenty to exercise shedding.
			n := min(int(copies), 3*eventsapi.MaxRequestBytes/(len(key)+len(value)+8))
			for i := range n {
				a.PutStr(key+"."+strconv.Itoa(i), value)
			}
			res.Attributes().PutStr(key, value)
			lr.SetSeverityNumber(plog.SeverityNumber(severityNumber))
			lr.SetTimestamp(pcommon.Timestamp(timestamp))
			return lr, res
		}

		lr, res := build()
		m := mapWith(t, testOptions(), func(l plog.LogRecord, r pcommon.Resource) {
			lr.CopyTo(l)
			res.CopyTo(r)
		}) // validates the body on success
		if m.err != nil {
			var rej *RejectError
			require.ErrorAs(t, m.err, &rej)
			assert.Contains(t, []string{RejectUnknownEventType, RejectUnknownEventAction}, rej.Reason)
			return
		}
		assert.Equal(t, m.Event.IsChange(), m.doc["event_action"] == nil, "endpoint and body agree")
		if m.Repairs.Has(RepairDedupKeyHashed) {
			assert.Len(t, m.Event.DedupKey, 64)
		}
		// Dedup keys and bodies must not depend on anything but the record.
		again, err := Map(lr, res, testOptions())
		require.NoError(t, err)
		again.Event.RoutingKey = fakeRoutingKey
		assert.True(t, bytes.Equal(m.body, again.Event.AppendJSON(nil)), "mapping is deterministic")
		assert.Equal(t, m.Repairs, again.Repairs)
	})
}
