package road

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap/zapcore"

	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/pdtest"
)

// TestDropWarningIsBounded: a rejected record with megabyte-long values
// writes a log line of a bounded size: each quoted value is cut to
// maxLoggedValue bytes, on a character boundary, with its full length.
func TestDropWarningIsBounded(t *testing.T) {
	r := newTestRoad(t, 0, time.Now)
	huge := strings.Repeat("é", 500_000) // 1,000,000 bytes
	ld := pdtest.Alert(huge, "alert.status", "pending", "alert.name", huge, "alert.fingerprint", huge)
	require.NoError(t, r.Admit(context.Background(), ld))

	warnings := r.logs.FilterMessage("Dropping log record that cannot be delivered to PagerDuty").All()
	require.Len(t, warnings, 1)
	line, err := zapcore.NewJSONEncoder(zapcore.EncoderConfig{MessageKey: "msg"}).EncodeEntry(warnings[0].Entry, warnings[0].Context)
	require.NoError(t, err)
	assert.Less(t, line.Len(), 2048, "one rejected record, one short line")
	fields := warnings[0].ContextMap()
	for _, name := range []string{"alert.name", "alert.fingerprint", "service.name"} {
		v := fields[name].(string)
		assert.LessOrEqual(t, len(v), maxLoggedValue+len("…"), name)
		assert.True(t, strings.HasSuffix(v, "é…"), "%s is cut on a character boundary: %q", name, v[len(v)-8:])
		assert.EqualValues(t, len(huge), fields[name+"_length"], name)
	}
	short := pdtest.Alert("checkout", "alert.status", "pending", "alert.name", "disk full")
	require.NoError(t, r.Admit(context.Background(), short))
	fields = r.logs.FilterMessage("Dropping log record that cannot be delivered to PagerDuty").All()[1].ContextMap()
	assert.Equal(t, "disk full", fields["alert.name"])
	assert.NotContains(t, fields, "alert.name_length", "a short value is quoted whole")
}
