package e2e

import (
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
)

// alert is one log record of the exporter's record contract
// (exporter/pagerdutyexporter/internal/recordmap/attributes.go). Empty
// fields are left out of the record.
type alert struct {
	Fingerprint string // alert.fingerprint, the dedup key
	Status      string // alert.status: firing, acknowledged, resolved, ...
	Severity    string // alert.severity
	Summary     string // alert.summary
	Name        string // alert.name
	EventType   string // pagerduty.event_type: alert (default) or change
	Body        string
	// Attrs are further record attributes (pcommon.Map.FromRaw values).
	Attrs map[string]any
}

// payload builds one OTLP logs request. Each service call opens a new
// resource; records are added to the latest one.
type payload struct {
	ld plog.Logs
	sl plog.ScopeLogs
}

func newPayload() *payload { return &payload{ld: plog.NewLogs()} }

// service opens a resource whose service.name is name; "" opens a resource
// without attributes, i.e. a record that names no route.
func (p *payload) service(name string) *payload {
	rl := p.ld.ResourceLogs().AppendEmpty()
	if name != "" {
		rl.Resource().Attributes().PutStr("service.name", name)
		rl.Resource().Attributes().PutStr("host.name", name+"-host")
	}
	p.sl = rl.ScopeLogs().AppendEmpty()
	p.sl.Scope().SetName("pagerduty-e2e")
	return p
}

// add appends records to the current resource, each stamped with the
// current time, so that records sent later are never older (the exporter
// suppresses events older than the last one applied for their key).
func (p *payload) add(alerts ...alert) *payload {
	if p.ld.ResourceLogs().Len() == 0 {
		p.service("")
	}
	for _, a := range alerts {
		lr := p.sl.LogRecords().AppendEmpty()
		now := pcommon.NewTimestampFromTime(time.Now())
		lr.SetTimestamp(now)
		lr.SetObservedTimestamp(now)
		if a.Body != "" {
			lr.Body().SetStr(a.Body)
		}
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

// withoutTimestamps clears every record's timestamps, as in OTLP from
// sources that set none (the demo's samples): the exporter then cannot
// tell a late event from a stale one.
func withoutTimestamps(ld plog.Logs) plog.Logs {
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

// logs returns the request built so far.
func (p *payload) logs() plog.Logs { return p.ld }

// firing, acked and resolved are alert records of one fingerprint.
func firing(fp, severity, summary string) alert {
	return alert{Fingerprint: fp, Status: "firing", Severity: severity, Summary: summary, Name: "E2E " + fp}
}

func acked(fp string) alert { return alert{Fingerprint: fp, Status: "acknowledged"} }

func resolved(fp string) alert { return alert{Fingerprint: fp, Status: "resolved"} }

// records is a one-resource request of service holding alerts.
func records(service string, alerts ...alert) plog.Logs {
	return newPayload().service(service).add(alerts...).logs()
}
