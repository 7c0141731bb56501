package redactlog

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/eventsapi"
	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/pdtest"
)

// Routing keys as PagerDuty issues them: 32 characters.
const (
	testKey     = "0123456789abcdef0123456789abcdef"
	checkoutKey = "c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0"
)

type keyStringer struct{ s string }

func (k keyStringer) String() string { return k.s }

type keyObject struct{ name, key string }

func (o keyObject) MarshalLogObject(enc zapcore.ObjectEncoder) error {
	enc.AddString("name", o.name)
	enc.AddString("echo", o.key)
	enc.AddInt("n", 3)
	return nil
}

// TestRedactLogger logs a key through every kind of zap field and checks
// that none survives, while the rest of each entry is kept.
func TestRedactLogger(t *testing.T) {
	core, logs := observer.New(zapcore.InfoLevel)
	logger := Logger(zap.New(core, zap.AddCaller()), eventsapi.NewRedactor(testKey, checkoutKey))

	type body struct {
		RoutingKey string `json:"routing_key"`
		Count      int    `json:"count"`
	}
	logger.With(zap.String("with", "k="+checkoutKey)).Warn("echoed "+testKey,
		zap.String("string", "proxy said "+testKey),
		zap.ByteString("bytes", []byte(testKey[4:24])),
		zap.Error(fmt.Errorf("routing %q: %w", "checkout", errors.New("events API responded 400: "+testKey))),
		zap.Stringer("stringer", keyStringer{testKey}),
		zap.Any("reflected", body{RoutingKey: testKey, Count: 7}),
		zap.Object("object", keyObject{"o", testKey}),
		zap.Strings("array", []string{"a", testKey}),
		zap.Inline(keyObject{"inline", checkoutKey}),
		zap.Int("status", 400),
		zap.Duration("interval", 1500*time.Millisecond),
		zap.String("plain", "no secret here"),
	)
	logger.Debug("below the level " + testKey) // filtered by the core's level
	require.Equal(t, 1, logs.Len())
	assert.True(t, logs.All()[0].Caller.Defined, "the caller is kept")
	assert.Contains(t, logs.All()[0].Caller.File, "redactlog_test.go")

	text := pdtest.EncodeAll(t, logs)
	assert.Empty(t, pdtest.KeyLeak(text, testKey, checkoutKey), text)
	entry := logs.All()[0]
	assert.Equal(t, "echoed "+eventsapi.Redacted, entry.Message)
	fields := entry.ContextMap()
	assert.Equal(t, "k="+eventsapi.Redacted, fields["with"])
	assert.Equal(t, "proxy said "+eventsapi.Redacted, fields["string"])
	assert.Equal(t, `routing "checkout": events API responded 400: `+eventsapi.Redacted, fields["error"])
	assert.Equal(t, eventsapi.Redacted, fields["stringer"])
	assert.Equal(t, map[string]any{"routing_key": eventsapi.Redacted, "count": float64(7)}, fields["reflected"])
	assert.Equal(t, map[string]any{"name": "o", "echo": eventsapi.Redacted, "n": 3}, fields["object"])
	assert.Equal(t, []any{"a", eventsapi.Redacted}, fields["array"])
	assert.Equal(t, "inline", fields["name"])
	assert.Equal(t, int64(400), fields["status"])
	assert.Equal(t, 1500*time.Millisecond, fields["interval"])
	assert.Equal(t, "no secret here", fields["plain"])
}

// TestRedactLoggerKeepsSamplingAndLevels: the wrapped core still decides
// which entries are written, as the collector's sampled, leveled logger
// does.
func TestRedactLoggerKeepsSamplingAndLevels(t *testing.T) {
	infoCore, infoLogs := observer.New(zapcore.InfoLevel)
	debugCore, debugLogs := observer.New(zapcore.DebugLevel)
	sampled := zapcore.NewSamplerWithOptions(zapcore.NewTee(infoCore, debugCore), time.Minute, 2, 0)
	logger := Logger(zap.New(sampled), eventsapi.NewRedactor(testKey))
	for range 5 {
		logger.Info("same " + testKey)
	}
	logger.Debug("debug " + testKey)
	assert.Equal(t, 2, infoLogs.Len(), "sampling: the first 2 identical entries only")
	assert.Equal(t, 3, debugLogs.Len(), "2 sampled info entries and the debug one")
	assert.Zero(t, infoLogs.FilterMessageSnippet("debug").Len(), "the info core gets no debug entry")
	assert.Empty(t, pdtest.KeyLeak(pdtest.EncodeAll(t, infoLogs)+pdtest.EncodeAll(t, debugLogs), testKey))
}
