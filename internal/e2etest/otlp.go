package e2etest

import (
	"encoding/hex"
	"maps"
	"slices"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
)

// Alert is one log record of the exporter's record contract
// (exporter/pagerdutyexporter/internal/recordmap/attributes.go). Empty
// fields are left out of the record.
type Alert struct {
	Fingerprint string // alert.fingerprint, the dedup key
	Status      string // alert.status: firing, acknowledged, resolved, ...
	Severity    string // alert.severity
	Summary     string // alert.summary
	Name        string // alert.name
	EventType   string // pagerduty.event_type: alert (default) or change
	Body        string
	// TraceID and SpanID are the record's trace context, in hex ("" for
	// none).
	TraceID, SpanID string
	// Attrs are further record attributes (pcommon.Map.FromRaw values).
	Attrs map[string]any
}

// Payload builds one OTLP logs request. Each Service or Resource call opens
// a new resource; records are added to the latest one.
type Payload struct {
	ld plog.Logs
	sl plog.ScopeLogs
}

// NewPayload starts an empty request.
func NewPayload() *Payload { return &Payload{ld: plog.NewLogs()} }

// Service opens a resource whose service.name is name and host.name is
// name-host; "" opens a resource without attributes, i.e. a record that
// names no route.
func (p *Payload) Service(name string) *Payload {
	if name == "" {
		return p.open(nil)
	}
	return p.open([][2]string{{"service.name", name}, {"host.name", name + "-host"}})
}

// Resource opens a resource with the given attributes.
func (p *Payload) Resource(attrs map[string]string) *Payload {
	var kvs [][2]string
	for _, k := range slices.Sorted(maps.Keys(attrs)) {
		kvs = append(kvs, [2]string{k, attrs[k]})
	}
	return p.open(kvs)
}

func (p *Payload) open(attrs [][2]string) *Payload {
	rl := p.ld.ResourceLogs().AppendEmpty()
	for _, kv := range attrs {
		rl.Resource().Attributes().PutStr(kv[0], kv[1])
	}
	p.sl = rl.ScopeLogs().AppendEmpty()
	p.sl.Scope().SetName("pagerduty-e2e")
	return p
}

// Add appends records to the current resource, each stamped with the
// current time, so that records sent later are never older (the exporter
// suppresses events older than the last one applied for their key).
func (p *Payload) Add(alerts ...Alert) *Payload {
	if p.ld.ResourceLogs().Len() == 0 {
		p.Service("")
	}
	for _, a := range alerts {
		lr := p.sl.LogRecords().AppendEmpty()
		now := pcommon.NewTimestampFromTime(time.Now())
		lr.SetTimestamp(now)
		lr.SetObservedTimestamp(now)
		if a.Body != "" {
			lr.Body().SetStr(a.Body)
		}
		setTraceContext(lr, a.TraceID, a.SpanID)
		attrs := lr.Attributes()
		if a.Attrs != nil {
			if err := attrs.FromRaw(a.Attrs); err != nil {
				panic(err) // a test's own literal: a bug in the test
			}
		}
		for _, kv := range [][2]string{
			{"alert.fingerprint", a.Fingerprint},
			{"alert.status", a.Status},
			{"alert.severity", a.Severity},
			{"alert.summary", a.Summary},
			{"alert.name", a.Name},
			{"pagerduty.event_type", a.EventType},
		} {
			if kv[1] != "" {
				attrs.PutStr(kv[0], kv[1])
			}
		}
	}
	return p
}

// Logs returns the request built so far.
func (p *Payload) Logs() plog.Logs { return p.ld }

// WithoutTimestamps clears every record's timestamps, as in OTLP from
// sources that set none (the demo's samples): the exporter then times each
// record by when it first saw it.
func WithoutTimestamps(ld plog.Logs) plog.Logs {
	for _, rl := range ld.ResourceLogs().All() {
		for _, sl := range rl.ScopeLogs().All() {
			for _, lr := range sl.LogRecords().All() {
				lr.SetTimestamp(0)
				lr.SetObservedTimestamp(0)
			}
		}
	}
	return ld
}

// setTraceContext sets the trace and span ids of lr from hex; "" leaves one
// unset. A malformed id is a bug in the test that wrote it.
func setTraceContext(lr plog.LogRecord, traceID, spanID string) {
	if traceID != "" {
		var id pcommon.TraceID
		if n, err := hex.Decode(id[:], []byte(traceID)); err != nil || n != len(id) {
			panic("trace id must be 32 hex digits: " + traceID)
		}
		lr.SetTraceID(id)
	}
	if spanID != "" {
		var id pcommon.SpanID
		if n, err := hex.Decode(id[:], []byte(spanID)); err != nil || n != len(id) {
			panic("span id must be 16 hex digits: " + spanID)
		}
		lr.SetSpanID(id)
	}
}
