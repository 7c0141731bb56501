// Package redactlog keeps routing keys out of the exporter's log lines: a
// zap core that redacts every entry before it is written.
package redactlog // import "github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/redactlog"

import (
	"encoding/json"
	"fmt"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/eventsapi"
)

// Logger returns logger with r applied to every entry it writes: the
// message and every field, including those added with With. Level, sampling
// and the destinations of logger are unchanged. Given to exporterhelper
// (through exporter.Settings.Logger), it covers the retry sender's
// "Exporting failed" lines too.
func Logger(logger *zap.Logger, r *eventsapi.Redactor) *zap.Logger {
	return logger.WithOptions(zap.WrapCore(func(c zapcore.Core) zapcore.Core {
		return &redactCore{Core: c, r: r}
	}))
}

// redactCore redacts what it passes on to the core it wraps.
type redactCore struct {
	zapcore.Core
	r *eventsapi.Redactor
}

func (c *redactCore) With(fields []zapcore.Field) zapcore.Core {
	return &redactCore{Core: c.Core.With(redactFields(c.r, fields)), r: c.r}
}

// Check asks the wrapped core first, so that its level and sampling decide
// as they would without redaction, and writes through what it returned.
func (c *redactCore) Check(ent zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	down := c.Core.Check(ent, nil)
	if down == nil {
		return ce
	}
	return ce.AddCore(ent, &redactedWrite{down: down, r: c.r})
}

func (c *redactCore) Write(ent zapcore.Entry, fields []zapcore.Field) error {
	ent.Message = c.r.Redact(ent.Message)
	ent.Stack = c.r.Redact(ent.Stack)
	return c.Core.Write(ent, redactFields(c.r, fields))
}

// redactedWrite writes one checked entry, redacted, through the cores the
// wrapped core chose for it. It exists only inside a CheckedEntry.
type redactedWrite struct {
	down *zapcore.CheckedEntry
	r    *eventsapi.Redactor
}

func (w *redactedWrite) Enabled(zapcore.Level) bool { return true }
func (w *redactedWrite) With([]zapcore.Field) zapcore.Core {
	return w
}

func (w *redactedWrite) Check(_ zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	return ce
}

// Write takes the entry as the logger completed it after Check (its caller
// and stack are set then), not the copy the wrapped core checked.
func (w *redactedWrite) Write(ent zapcore.Entry, fields []zapcore.Field) error {
	ent.Message = w.r.Redact(ent.Message)
	ent.Stack = w.r.Redact(ent.Stack)
	w.down.Entry = ent
	w.down.Write(redactFields(w.r, fields)...)
	return nil
}

func (w *redactedWrite) Sync() error { return nil }

// redactFields returns fields with r applied to every text they hold; the
// slice is copied only when a field changes.
func redactFields(r *eventsapi.Redactor, fields []zapcore.Field) []zapcore.Field {
	out := fields
	copied := false
	for i, f := range fields {
		g, changed := redactField(r, f)
		if !changed {
			continue
		}
		if !copied {
			out = append([]zapcore.Field(nil), fields...)
			copied = true
		}
		out[i] = g
	}
	return out
}

func redactField(r *eventsapi.Redactor, f zapcore.Field) (zapcore.Field, bool) {
	switch f.Type {
	case zapcore.StringType:
		if s := r.Redact(f.String); s != f.String {
			f.String = s
			return f, true
		}
		return f, false
	case zapcore.ByteStringType:
		b, _ := f.Interface.([]byte)
		if s := r.Redact(string(b)); s != string(b) {
			return zap.ByteString(f.Key, []byte(s)), true
		}
		return f, false
	case zapcore.ErrorType:
		// Always as its redacted text: an error's verbose form or its
		// causes, which zap would add, may hold what Error() left out.
		err, _ := f.Interface.(error)
		return zap.String(f.Key, r.Redact(safeText(err.Error))), true
	case zapcore.StringerType:
		s, _ := f.Interface.(fmt.Stringer)
		return zap.String(f.Key, r.Redact(safeText(s.String))), true
	case zapcore.ReflectType, zapcore.ObjectMarshalerType, zapcore.ArrayMarshalerType, zapcore.InlineMarshalerType:
		// Encode to plain values, redact their strings, log those.
		enc := zapcore.NewMapObjectEncoder()
		f.AddTo(enc)
		fields := make([]zapcore.Field, 0, len(enc.Fields))
		for k, v := range enc.Fields {
			fields = append(fields, zap.Any(k, redactValue(r, v)))
		}
		if len(fields) == 1 {
			return fields[0], true
		}
		return zap.Inline(inlineFields(fields)), true
	}
	return f, false
}

// safeText calls text, turning a panic (an error or Stringer that is a nil
// pointer) into a note, as zap itself would.
func safeText(text func() string) (s string) {
	defer func() {
		if p := recover(); p != nil {
			s = fmt.Sprintf("<PANIC=%v>", p)
		}
	}()
	return text()
}

// redactValue redacts the strings in a value built by MapObjectEncoder.
func redactValue(r *eventsapi.Redactor, v any) any {
	switch v := v.(type) {
	case nil, bool, int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, uintptr,
		float32, float64, complex64, complex128, time.Time, time.Duration:
		return v
	case string:
		return r.Redact(v)
	case []byte:
		return r.Redact(string(v))
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[r.Redact(k)] = redactValue(r, e)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = redactValue(r, e)
		}
		return out
	case fmt.Stringer:
		return r.Redact(safeText(v.String))
	case error:
		return r.Redact(safeText(v.Error))
	}
	// A value logged by reflection: redact its JSON form's strings.
	b, err := json.Marshal(v)
	if err != nil {
		return r.Redact(fmt.Sprint(v))
	}
	var plain any
	if err := json.Unmarshal(b, &plain); err != nil {
		return r.Redact(string(b))
	}
	return redactValue(r, plain)
}

// inlineFields adds several fields where one stood.
type inlineFields []zapcore.Field

func (fs inlineFields) MarshalLogObject(enc zapcore.ObjectEncoder) error {
	for _, f := range fs {
		f.AddTo(enc)
	}
	return nil
}
