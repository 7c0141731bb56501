package road // import "github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/road"

import (
	"iter"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/recordmap"
)

// recordRef is one log record of a plog.Logs, with the resource and scope
// it sits in and their positions.
type recordRef struct {
	res, scope int
	rl         plog.ResourceLogs
	sl         plog.ScopeLogs
	lr         plog.LogRecord
}

// records yields every record of ld in order.
func records(ld plog.Logs) iter.Seq[recordRef] {
	return func(yield func(recordRef) bool) {
		for i, rl := range ld.ResourceLogs().All() {
			for j, sl := range rl.ScopeLogs().All() {
				for _, lr := range sl.LogRecords().All() {
					if !yield(recordRef{res: i, scope: j, rl: rl, sl: sl, lr: lr}) {
						return
					}
				}
			}
		}
	}
}

// receivedAttr is the scope attribute in which the exporter's own queues
// carry when their records reached the exporter, in Unix nanoseconds. It
// never leaves the exporter: scope attributes are not part of any event.
const receivedAttr = "pagerduty.exporter.received"

// autoResolveAttr marks, on a scope of the exporter's own queues, the
// resolves the exporter made itself when their alerts went quiet. Like
// receivedAttr, it never leaves the exporter.
const autoResolveAttr = "pagerduty.exporter.auto_resolve"

// runAttr marks, on a scope of the exporter's own queues, the run of the
// exporter that queued its records (see Road.run): only that run pinned
// their dedup keys, so only it lets go of them. Like receivedAttr, it never
// leaves the exporter.
const runAttr = "pagerduty.exporter.run"

// opened reads the envelope of the records of sl, a scope of the
// exporter's queues: their arrival (received 0 when absent), whether they
// are the exporter's own resolves, and whether this run, run, queued them.
func opened(sl plog.ScopeLogs, run int64) (arrived arrival, ours bool) {
	attrs := sl.Scope().Attributes()
	received, _ := attrs.Get(receivedAttr)
	arrived.received = pcommon.NewTimestampFromTime(time.Unix(0, received.Int()))
	if auto, ok := attrs.Get(autoResolveAttr); ok {
		arrived.auto = auto.Bool()
	}
	queuedBy, ok := attrs.Get(runAttr)
	arrived.run = queuedBy.Int()
	return arrived, ok && arrived.run == run
}

// arrival is when a record reached the exporter: received for the whole
// request, at for the record itself, a nanosecond after the record before
// it, so that untimed records of one request keep their order even across
// queues.
type arrival struct {
	received, at pcommon.Timestamp
	auto         bool  // a resolve the exporter made itself (see autoResolveAttr)
	run          int64 // the exporter's run (see runAttr)
}

// stamp marks every record of ld, in place, as heldLogs.add marks a copy:
// its arrival on each scope, and on each untimed record its own arrival, a
// nanosecond after the record before it.
func stamp(ld plog.Logs, arrived arrival) {
	n := arrived.received
	for _, rl := range ld.ResourceLogs().All() {
		for _, sl := range rl.ScopeLogs().All() {
			markScope(sl.Scope().Attributes(), arrived)
			for _, lr := range sl.LogRecords().All() {
				n++
				if !recordmap.HasTime(lr) {
					lr.SetObservedTimestamp(n)
				}
			}
		}
	}
}

// markScope stamps a scope of the exporter's queues with the arrival of its
// records, the run that queued them, and whether they are the exporter's
// own resolves. Only the exporter marks its own resolves: a record from the
// pipeline carrying the mark loses it.
func markScope(attrs pcommon.Map, arrived arrival) {
	attrs.PutInt(receivedAttr, arrived.received.AsTime().UnixNano())
	attrs.PutInt(runAttr, arrived.run)
	if arrived.auto {
		attrs.PutBool(autoResolveAttr, true)
	} else {
		attrs.Remove(autoResolveAttr)
	}
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

// add copies the record ref. When arrived is not nil, the arrival is
// stamped on the copied scope (see receivedAttr) and stands in for the time
// of a record that carries none, so that the record is ordered by when it
// first came, not by when it is sent or retried.
func (h *heldLogs) add(ref recordRef, arrived *arrival) {
	if h.count == 0 {
		h.logs = plog.NewLogs()
		h.res, h.scope = -1, -1
	}
	if ref.res != h.res {
		h.rl = h.logs.ResourceLogs().AppendEmpty()
		ref.rl.Resource().CopyTo(h.rl.Resource())
		h.rl.SetSchemaUrl(ref.rl.SchemaUrl())
		h.res, h.scope = ref.res, -1
	}
	if ref.scope != h.scope {
		h.sl = h.rl.ScopeLogs().AppendEmpty()
		ref.sl.Scope().CopyTo(h.sl.Scope())
		h.sl.SetSchemaUrl(ref.sl.SchemaUrl())
		if arrived != nil {
			markScope(h.sl.Scope().Attributes(), *arrived)
		}
		h.scope = ref.scope
	}
	held := h.sl.LogRecords().AppendEmpty()
	ref.lr.CopyTo(held)
	if arrived != nil && !recordmap.HasTime(held) {
		held.SetObservedTimestamp(arrived.at)
	}
	h.count++
}
