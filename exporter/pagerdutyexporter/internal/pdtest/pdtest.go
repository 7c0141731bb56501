// Package pdtest holds what the exporter's tests share across its
// packages: builders of alert records, the search for routing keys in
// logged text, and a log of component status events. It is imported by
// tests only.
package pdtest // import "github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/pdtest"

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componentstatus"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/eventsapi"
)

// Alert builds a one-record batch of service (none when ""), on host
// web-1, timed 2026-11-28 12:00 UTC; attrs alternate name and value, and a
// nil value leaves its name out.
func Alert(service string, attrs ...any) plog.Logs {
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	if service != "" {
		rl.Resource().Attributes().PutStr("service.name", service)
	}
	rl.Resource().Attributes().PutStr("host.name", "web-1")
	lr := rl.ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
	lr.SetTimestamp(pcommon.NewTimestampFromTime(time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)))
	raw := map[string]any{}
	for i := 0; i+1 < len(attrs); i += 2 {
		if attrs[i+1] != nil {
			raw[attrs[i].(string)] = attrs[i+1]
		}
	}
	if err := lr.Attributes().FromRaw(raw); err != nil {
		panic(err)
	}
	return ld
}

// Batch concatenates one-record batches into one; the parts are emptied.
func Batch(parts ...plog.Logs) plog.Logs {
	ld := plog.NewLogs()
	for _, p := range parts {
		p.ResourceLogs().MoveAndAppendTo(ld.ResourceLogs())
	}
	return ld
}

// KeyLeak returns the first piece of eventsapi.RedactFragment bytes of one
// of keys that text holds, "" when none.
func KeyLeak(text string, keys ...string) string {
	for _, key := range keys {
		for i := 0; i+eventsapi.RedactFragment <= len(key); i++ {
			if piece := key[i : i+eventsapi.RedactFragment]; strings.Contains(text, piece) {
				return piece
			}
		}
	}
	return ""
}

// EncodeAll renders observed entries as the collector's JSON log would.
func EncodeAll(t *testing.T, logs *observer.ObservedLogs) string {
	t.Helper()
	enc := zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig())
	var b strings.Builder
	for _, entry := range logs.All() {
		buf, err := enc.EncodeEntry(entry.Entry, entry.Context)
		require.NoError(t, err)
		b.Write(buf.Bytes())
		buf.Free()
	}
	return b.String()
}

// StatusLog records the component status events reported to it, in order.
type StatusLog struct {
	mu     sync.Mutex
	events []*componentstatus.Event
}

// Report records ev.
func (l *StatusLog) Report(ev *componentstatus.Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, ev)
}

// All returns the events reported so far.
func (l *StatusLog) All() []*componentstatus.Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]*componentstatus.Event(nil), l.events...)
}

// Statuses returns the statuses reported so far.
func (l *StatusLog) Statuses() []componentstatus.Status {
	var out []componentstatus.Status
	for _, ev := range l.All() {
		out = append(out, ev.Status())
	}
	return out
}
