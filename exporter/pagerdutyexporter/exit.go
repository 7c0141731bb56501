package pagerdutyexporter // import "github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter"

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.uber.org/zap"

	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/dedup"
	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/eventsapi"
	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/recordmap"
)

// errShuttingDown hands a record back to its queue at shutdown.
var errShuttingDown = errors.New("the exporter is shutting down")

// outcomeKind is how a record leaves the road.
type outcomeKind uint8

const (
	// outcomeSent: its event was sent; result says what PagerDuty answered.
	outcomeSent outcomeKind = iota
	// outcomeSuppressed: PagerDuty already shows its effect (reason).
	outcomeSuppressed
	// outcomeRejected: it can never become an event (rejection, err).
	outcomeRejected
	// outcomeFailed: it must be retried, and so must the later events of
	// failKey (when not "") in the same push, to keep their order.
	outcomeFailed
	// outcomeBehindFailure: it waits for the retry of an earlier failed
	// event of its routing key.
	outcomeBehindFailure
	// outcomeHeld: the exporter is stopping; it goes back to its queue.
	outcomeHeld
)

// outcome is what became of one record, for exit to settle.
type outcome struct {
	kind outcomeKind
	ref  recordRef

	// What the road learned of the record, as far as it got.
	action   eventsapi.Action
	dedupKey string
	route    *route // the route its event went, or would have gone, to
	priority priority
	auto     bool // a resolve the exporter made itself
	received pcommon.Timestamp
	repairs  recordmap.Repairs // counted once the event is completed
	turn     dedup.Turn        // committed and released by exit

	reason    string           // outcomeSuppressed: a dedup reason
	tally     *suppressedTally // on its way in: where a suppression is counted until the request is sorted
	rejection rejection
	err       error
	failKey   string
	tombstone bool // outcomeRejected: commit the turn all the same (see flow.deliverRecord)

	waited time.Duration // for the rate limiter
	result eventsapi.Result
	took   time.Duration
}

// exit settles every outcome: it is the only place that counts records in
// the exporter's metrics, tells the component's health how its routes
// deliver, logs a rejection, takes records off the backlog, and tells a
// push which records to hand back. It also commits and releases
// each record's dedup turn, so that what the cache learns and what the
// metrics say never part.
type exit struct {
	tel     *telemetry
	health  *health // set by start
	logger  *zap.Logger
	backlog *backlog
	stop    context.Context
	// unpin lets go of a dedup key pinned while its record was queued
	// (dedup.Cache.Arrive); run is this run of the exporter: a record
	// another run queued was pinned by that run (see runAttr).
	unpin func(dedupKey string, received pcommon.Timestamp)
	// readBackSettled is told of each settled record an earlier run queued
	// (dedup.Cache.ReadBack).
	readBackSettled func()
	run             int64

	unsentAtStop atomic.Int64 // records handed back once stop was called
}

// settle settles one record; p is the push it was delivered in, nil on
// its way in.
func (x *exit) settle(ctx context.Context, p *push, o *outcome) {
	defer o.turn.Release()
	if !o.auto {
		// The exporter's own events lack what a record would carry (a
		// severity): nothing of theirs was repaired.
		x.tel.repairedRecord(ctx, o.repairs)
	}
	if o.repairs.Has(recordmap.RepairTimeInFuture) {
		x.logger.Debug("Record time ahead of its arrival: ordered by arrival", recordFields(o.ref, o.dedupKey)...)
	}
	if o.kind == outcomeSent {
		x.tel.waited(ctx, o.route, o.waited)
		x.tel.sent(ctx, o.route, o.action, &o.result, o.took)
		x.health.settled(o.route.name, o.result)
		x.sent(ctx, o)
	}
	switch o.kind {
	case outcomeSent:
		o.turn.Commit(ctx)
		x.tel.paged(ctx, o.route, o.priority, time.Since(o.received.AsTime()))
		if o.auto && o.action == eventsapi.Resolve {
			x.tel.autoResolved(ctx, o.route)
			x.logger.Debug("Resolved an alert whose firing records stopped", zap.String("dedup_key", o.dedupKey), zap.String("routing", o.route.name))
		}
	case outcomeSuppressed:
		o.turn.Commit(ctx)
		x.tel.suppressedRecord(ctx, o.tally, o.action, o.reason)
	case outcomeRejected:
		if o.tombstone {
			o.turn.Commit(ctx)
		}
		x.tel.rejectedRecord(ctx, o.rejection)
		x.logger.Warn("Dropping log record that cannot be delivered to PagerDuty",
			append(recordFields(o.ref, o.dedupKey), zap.String("reason", o.rejection.String()), zap.Error(o.err))...)
	case outcomeFailed:
		if p.failing == nil {
			p.failing = map[string]error{}
		}
		p.failing[o.failKey] = o.err
		p.errs = append(p.errs, o.err)
	case outcomeHeld:
		if !p.held {
			p.held = true
			p.errs = append(p.errs, o.err)
		}
	}
	switch {
	case o.kind >= outcomeFailed:
		p.unsent.add(o.ref, nil)
	case p != nil && !queuedBy(o.ref.sl, x.run):
		x.readBackSettled()
	case p != nil && o.dedupKey != "":
		x.unpin(o.dedupKey, o.received)
	}
}

// tallied records the suppressions of a request sorted on its way in.
func (x *exit) tallied(ctx context.Context, tally *suppressedTally) {
	x.tel.flushSuppressed(ctx, tally)
}

// sent turns the Events API's answer into how the record settles: accepted,
// refused for good, or failed (retried).
func (x *exit) sent(ctx context.Context, o *outcome) {
	switch o.result.Outcome {
	case eventsapi.Accepted:
	case eventsapi.Rejected:
		o.kind, o.rejection, o.err = outcomeRejected, rejectByAPI, o.result.Err
	default:
		o.kind, o.failKey, o.err = outcomeFailed, o.route.key, retryError(o.route.name, o.result)
		if o.result.Unknown() {
			// It may have reached PagerDuty all the same.
			o.turn.Unknown(ctx)
		}
	}
}

// enqueued settles the records of one request put on a queue: counted in
// the backlog by enqueuing, they leave it if the queue refused them (err).
func (x *exit) enqueued(key queueKey, records int, err error) error {
	if err != nil {
		x.backlog.settle(key.route, records)
		return fmt.Errorf("queueing %d records for route %q, priority %s: %w", records, key.route, key.priority, err)
	}
	return nil
}

// enqueuing counts records about to be put on a queue in the backlog: before
// the queue takes them, so that a consumer that settles them at once never
// takes the count below what is queued.
func (x *exit) enqueuing(key queueKey, records int) { x.backlog.add(key.route, records) }

// taking notes that p takes its request from its queue.
func (x *exit) taking(p *push) { x.backlog.taken(p.ld) }

// pushed settles a push: what was settled leaves the backlog, and what goes
// back to the queue is remembered for the backlog, or counted as handed back
// at a stop. It returns the push's error for the retry sender.
func (x *exit) pushed(p *push) error {
	x.backlog.settle(p.key.route, p.ld.LogRecordCount()-p.unsent.count)
	err := p.result()
	switch {
	case err == nil:
	case x.stop.Err() != nil:
		x.unsentAtStop.Add(int64(p.unsent.count))
	default:
		x.backlog.retrying(p.unsent.logs, p.key.route, time.Now())
	}
	return err
}

// maxLoggedValue bounds, in bytes, each record value quoted in a log line;
// a longer value is cut and its full length given beside it, so that one
// record cannot write a megabyte of log.
const maxLoggedValue = 128

// recordFields identify a record in logs without its routing key.
func recordFields(ref recordRef, dedupKey string) []zap.Field {
	fields := make([]zap.Field, 0, 8)
	if dedupKey != "" {
		fields = appendBounded(fields, "dedup_key", dedupKey)
	}
	for _, name := range []string{recordmap.AttrName, recordmap.AttrFingerprint, recordmap.AttrServiceName} {
		v, ok := ref.lr.Attributes().Get(name)
		if !ok {
			v, ok = ref.rl.Resource().Attributes().Get(name)
		}
		if ok {
			fields = appendBounded(fields, name, v.AsString())
		}
	}
	if ts := recordmap.RecordTime(ref.lr); ts != 0 {
		fields = append(fields, zap.Time("record_time", ts.AsTime()))
	}
	if body := ref.lr.Body(); body.Type() == pcommon.ValueTypeStr && body.Str() != "" {
		excerpt := []rune(body.Str())
		fields = append(fields, zap.String("body", string(excerpt[:min(len(excerpt), 80)])))
	}
	return fields
}

// appendBounded appends name: value, cut to maxLoggedValue bytes on a rune
// boundary, and name_length with the full length when it was cut.
func appendBounded(fields []zap.Field, name, value string) []zap.Field {
	if len(value) <= maxLoggedValue {
		return append(fields, zap.String(name, value))
	}
	return append(fields, zap.String(name, bounded(value)), zap.Int(name+"_length", len(value)))
}

// bounded is value cut to maxLoggedValue bytes on a rune boundary, with an
// ellipsis and its full length when it was cut.
func bounded(value string) string {
	if len(value) <= maxLoggedValue {
		return value
	}
	cut := maxLoggedValue
	for cut > 0 && !utf8.RuneStart(value[cut]) {
		cut--
	}
	return value[:cut] + "…"
}
