package pagerdutyexporter // import "github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter"

import (
	"errors"
	"time"

	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/recordmap"
)

// push is the state of one delivery: which routing keys have failed and the
// records to hand back for a retry.
type push struct {
	failing map[string]error
	errs    []error
	held    bool // hold was called
	unsent  heldLogs
}

// hold returns err for a record handed back without failing its routing
// key; the push's error names err once.
func (p *push) hold(err error) error {
	if !p.held {
		p.held = true
		p.errs = append(p.errs, err)
	}
	return err
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

// receivedAttr is the scope attribute in which the exporter's own queues
// carry when their records reached the exporter, in Unix nanoseconds. It
// never leaves the exporter: scope attributes are not part of any event.
const receivedAttr = "pagerduty.exporter.received"

// receivedAt reads receivedAttr from a scope of the exporter's queues, 0
// when absent.
func receivedAt(sl plog.ScopeLogs) pcommon.Timestamp {
	v, _ := sl.Scope().Attributes().Get(receivedAttr)
	return pcommon.NewTimestampFromTime(time.Unix(0, v.Int()))
}

// heldLogs copies records into a new plog.Logs, keeping their resource and
// scope. Records arrive in iteration order, so a resource or scope is copied
// once, when its first record arrives.
type heldLogs struct {
	logs       plog.Logs
	rl         plog.ResourceLogs
	sl         plog.ScopeLogs
	res, scope int
	count      int
}

// add copies lr, the record-th record of its plog.Logs, at (res, scope).
// received, when not 0, is stamped on the copied scope (see receivedAttr),
// and stands in for the time of a record that carries none, so that the
// record is ordered by when it first came, not by when it is sent or
// retried.
func (h *heldLogs) add(res, scope int, record uint64, rl plog.ResourceLogs, sl plog.ScopeLogs, lr plog.LogRecord, received pcommon.Timestamp) {
	if h.count == 0 {
		h.logs = plog.NewLogs()
		h.res, h.scope = -1, -1
	}
	if res != h.res {
		h.rl = h.logs.ResourceLogs().AppendEmpty()
		rl.Resource().CopyTo(h.rl.Resource())
		h.rl.SetSchemaUrl(rl.SchemaUrl())
		h.res, h.scope = res, -1
	}
	if scope != h.scope {
		h.sl = h.rl.ScopeLogs().AppendEmpty()
		sl.Scope().CopyTo(h.sl.Scope())
		h.sl.SetSchemaUrl(sl.SchemaUrl())
		if received != 0 {
			h.sl.Scope().Attributes().PutInt(receivedAttr, received.AsTime().UnixNano())
		}
		h.scope = scope
	}
	held := h.sl.LogRecords().AppendEmpty()
	lr.CopyTo(held)
	if !recordmap.HasTime(held) {
		// A nanosecond apart, so that records of one call keep their order
		// even across queues.
		held.SetObservedTimestamp(received + pcommon.Timestamp(record))
	}
	h.count++
}
