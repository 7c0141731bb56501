package recordmap

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/eventsapi"
)

func TestBadInputAction(t *testing.T) {
	runBadInput(t, []badInput{
		{
			name:  "unknown alert.status is rejected",
			build: withStr(AttrStatus, "bogus"),
			check: func(t *testing.T, m mapped) {
				rej := requireReject(t, m, RejectUnknownEventAction)
				assert.Contains(t, rej.Detail, AttrStatus)
				assert.Contains(t, rej.Error(), `"bogus"`)
			},
		},
		{
			name:  "unknown pagerduty.event_action is rejected",
			build: withStr(AttrEventAction, "escalate"),
			check: func(t *testing.T, m mapped) {
				rej := requireReject(t, m, RejectUnknownEventAction)
				assert.Contains(t, rej.Detail, AttrEventAction)
			},
		},
		{
			name:  "unknown pagerduty.event_type is rejected",
			build: withStr(AttrEventType, "incident"),
			check: func(t *testing.T, m mapped) {
				rej := requireReject(t, m, RejectUnknownEventType)
				assert.Contains(t, rej.Detail, "incident")
			},
		},
		{
			name: "pagerduty.event_action overrides an unknown alert.status",
			build: func(lr plog.LogRecord, _ pcommon.Resource) {
				lr.Attributes().PutStr(AttrEventAction, " ACKNOWLEDGE ")
				lr.Attributes().PutStr(AttrStatus, "bogus")
				lr.Attributes().PutStr(AttrFingerprint, "fp")
			},
			check: func(t *testing.T, m mapped) {
				require.NoError(t, m.err)
				assert.Equal(t, "acknowledge", m.doc["event_action"])
			},
		},
	})
}

func TestBadInputDedupKey(t *testing.T) {
	hugeFingerprint := strings.Repeat("fp-", 100) // 300 bytes
	withFingerprint := func(fp string) builder {
		return func(lr plog.LogRecord, _ pcommon.Resource) {
			lr.Attributes().PutStr(AttrName, "N")
			lr.Attributes().PutStr(AttrFingerprint, fp)
		}
	}

	runBadInput(t, []badInput{
		{
			name:  "300-byte fingerprint is hashed",
			build: withFingerprint(hugeFingerprint),
			check: func(t *testing.T, m mapped) {
				require.NoError(t, m.err)
				sum := sha256.Sum256([]byte(hugeFingerprint))
				assert.Equal(t, hex.EncodeToString(sum[:]), m.dedupKey())
				assert.Len(t, m.dedupKey(), 64)
				assert.True(t, m.Repairs.Has(RepairDedupKeyHashed))
				again := mapOK(t, withFingerprint(hugeFingerprint))
				assert.Equal(t, m.dedupKey(), again.dedupKey(), "stable across calls")
				other := mapOK(t, withFingerprint(hugeFingerprint+"x"))
				assert.NotEqual(t, m.dedupKey(), other.dedupKey())
			},
		},
		{
			name:  "255-byte fingerprint is verbatim",
			build: withFingerprint(strings.Repeat("k", eventsapi.MaxDedupKeyLen)),
			check: func(t *testing.T, m mapped) {
				require.NoError(t, m.err)
				assert.Equal(t, strings.Repeat("k", eventsapi.MaxDedupKeyLen), m.dedupKey())
				assert.False(t, m.Repairs.Has(RepairDedupKeyHashed))
			},
		},
		{
			name: "pagerduty.dedup_key beats alert.fingerprint, and is hashed past 255 bytes",
			build: func(lr plog.LogRecord, _ pcommon.Resource) {
				lr.Attributes().PutStr(AttrDedupKey, strings.Repeat("é", 128)) // 256 bytes, 128 runes
				lr.Attributes().PutStr(AttrFingerprint, "fp")
			},
			check: func(t *testing.T, m mapped) {
				require.NoError(t, m.err)
				sum := sha256.Sum256([]byte(strings.Repeat("é", 128)))
				assert.Equal(t, hex.EncodeToString(sum[:]), m.dedupKey())
			},
		},
		{
			name: "derived dedup key uses name, source and component",
			build: func(lr plog.LogRecord, res pcommon.Resource) {
				lr.Attributes().PutStr(AttrName, "DiskFull")
				lr.Attributes().PutStr(AttrComponent, "/var")
				lr.Attributes().PutStr(AttrSummary, "changes every time: 97%")
				res.Attributes().PutStr(AttrHostName, "db-02")
			},
			check: func(t *testing.T, m mapped) {
				require.NoError(t, m.err)
				assert.Equal(t, "DiskFull/db-02//var", m.dedupKey())
				assert.True(t, m.Repairs.Has(RepairDedupKeyDerived))
			},
		},
		{
			name: "resolve without identifiers still carries a dedup key",
			build: func(lr plog.LogRecord, _ pcommon.Resource) {
				lr.Attributes().PutStr(AttrStatus, "RESOLVED")
				lr.Attributes().PutStr(AttrName, "DiskFull")
			},
			check: func(t *testing.T, m mapped) {
				require.NoError(t, m.err)
				assert.Equal(t, "resolve", m.doc["event_action"])
				assert.Equal(t, "DiskFull/collector-host", m.dedupKey())
			},
		},
	})
}

// TestResolveAfter: alert.resolve_after sets a firing alert's quiet period,
// "0s" or "0" opts it out, and anything that is no duration of zero or
// more is ignored and counted.
func TestResolveAfter(t *testing.T) {
	for _, tc := range []struct {
		value    any
		action   string
		want     time.Duration
		has      bool
		repaired bool
	}{
		{value: "15m", want: 15 * time.Minute, has: true},
		{value: " 90s ", want: 90 * time.Second, has: true},
		{value: "0s", has: true},
		{value: "0", has: true},
		{value: int64(0), has: true},
		{value: "soon", repaired: true},
		{value: "-5m", repaired: true},
		{value: "", repaired: true},
		{value: "15m", action: "resolved"},
	} {
		t.Run(fmt.Sprintf("%v %s", tc.value, tc.action), func(t *testing.T) {
			lr := plog.NewLogRecord()
			lr.Attributes().PutStr(AttrFingerprint, "fp")
			require.NoError(t, lr.Attributes().FromRaw(map[string]any{AttrFingerprint: "fp", AttrResolveAfter: tc.value, AttrStatus: tc.action}))
			m, err := IdentifyAt(lr, pcommon.NewResource(), &Options{DefaultSeverity: "error"}, 0)
			require.NoError(t, err)
			assert.Equal(t, tc.want, m.ResolveAfter)
			assert.Equal(t, tc.has, m.HasResolveAfter)
			assert.Equal(t, tc.repaired, m.Repairs.Has(RepairResolveAfterInvalid))
			m.Complete()
			for _, d := range m.Event.Payload.Details {
				assert.NotEqual(t, AttrResolveAfter, d.Key, "left out of custom_details")
			}
		})
	}
}
