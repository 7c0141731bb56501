package pagerdutyexporter // import "github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter"

import (
	"errors"

	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
)

// push is the state of one pushLogs call: which routing keys have failed and
// the records to hand back for a retry.
type push struct {
	// arrival stands in for the time of records that carry none.
	arrival pcommon.Timestamp
	failing map[string]error
	errs    []error
	unsent  unsentLogs
}

// fail marks routingKey as failing for the rest of the push and returns err.
func (p *push) fail(routingKey string, err error) error {
	if p.failing == nil {
		p.failing = map[string]error{}
	}
	p.failing[routingKey] = err
	p.errs = append(p.errs, err)
	return err
}

// result is nil when nothing needs a retry, else a retryable error carrying
// only the unsent records (and a throttle delay, when the server asked).
func (p *push) result() error {
	if p.unsent.count == 0 {
		return nil
	}
	return consumererror.NewLogs(errors.Join(p.errs...), p.unsent.logs)
}

// unsentLogs copies records into a new plog.Logs, keeping their resource and
// scope. Records arrive in iteration order, so a resource or scope is copied
// once, when its first record arrives.
type unsentLogs struct {
	logs       plog.Logs
	rl         plog.ResourceLogs
	sl         plog.ScopeLogs
	res, scope int
	count      int
}

// add copies lr; a record with no time gets arrival as its observed time, so
// that its retry is ordered by when it first came, not by when it is retried.
func (u *unsentLogs) add(res, scope int, rl plog.ResourceLogs, sl plog.ScopeLogs, lr plog.LogRecord, arrival pcommon.Timestamp) {
	if u.count == 0 {
		u.logs = plog.NewLogs()
		u.res, u.scope = -1, -1
	}
	if res != u.res {
		u.rl = u.logs.ResourceLogs().AppendEmpty()
		rl.Resource().CopyTo(u.rl.Resource())
		u.rl.SetSchemaUrl(rl.SchemaUrl())
		u.res, u.scope = res, -1
	}
	if scope != u.scope {
		u.sl = u.rl.ScopeLogs().AppendEmpty()
		sl.Scope().CopyTo(u.sl.Scope())
		u.sl.SetSchemaUrl(sl.SchemaUrl())
		u.scope = scope
	}
	held := u.sl.LogRecords().AppendEmpty()
	lr.CopyTo(held)
	if held.Timestamp() == 0 && held.ObservedTimestamp() == 0 {
		held.SetObservedTimestamp(arrival)
	}
	u.count++
}
