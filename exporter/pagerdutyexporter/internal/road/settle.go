package road // import "github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/road"

import (
	"context"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.uber.org/zap"

	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/eventsapi"
	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/recordmap"
	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/telemetry"
)

// settle settles one record; p is the push it was delivered in, nil on
// its way in.
func (r *Road) settle(ctx context.Context, p *push, o *outcome) {
	defer o.turn.Release()
	if !o.auto {
		// The exporter's own events lack what a record would carry (a
		// severity): nothing of theirs was repaired.
		r.tel.Repaired(ctx, o.repairs)
	}
	if o.repairs.Has(recordmap.RepairTimeInFuture) {
		r.logger.Debug("Record time ahead of its arrival: ordered by arrival", recordFields(o.ref, o.dedupKey)...)
	}
	if o.sent {
		r.tel.Waited(ctx, o.route, o.waited)
		r.tel.Sent(ctx, o.route, o.action, &o.result, o.took)
		r.health.Settled(o.route.Name, o.result)
	}
	switch o.kind {
	case outcomeAccepted:
		o.turn.Commit(ctx)
		r.tel.Paged(ctx, o.route, o.priority, time.Since(o.received.AsTime()))
		if o.auto && o.action == eventsapi.Resolve {
			r.tel.AutoResolved(ctx, o.route)
			r.logger.Debug("Resolved an alert whose firing records stopped", zap.String("dedup_key", o.dedupKey), zap.String("routing", o.route.Name))
		}
	case outcomeSuppressed:
		o.turn.Commit(ctx)
		r.tel.Suppressed(ctx, o.tally, o.action, o.reason)
	case outcomeRejected:
		if o.tombstone {
			o.turn.Commit(ctx)
		}
		r.tel.Rejected(ctx, o.rejection)
		r.logger.Warn("Dropping log record that cannot be delivered to PagerDuty",
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
	case p != nil && !o.ours:
		r.cache.ReadBack(-1)
	case p != nil && o.dedupKey != "":
		r.unpin(o.dedupKey, o.received)
	}
}

// pushed settles a push: what was settled leaves the backlog, and what goes
// back to the queue is remembered for the backlog, or counted as handed back
// at a stop. It returns the push's error for the retry sender.
func (r *Road) pushed(p *push) error {
	r.backlog.settle(p.key, p.ld.LogRecordCount()-p.unsent.count)
	err := p.result()
	switch {
	case err == nil:
	case r.stop.Err() != nil:
		r.unsentAtStop.Add(int64(p.unsent.count))
	default:
		r.backlog.retrying(p.unsent.logs, p.key, time.Now())
	}
	return err
}

// tallied records the suppressions of a request sorted on its way in.
func (r *Road) tallied(ctx context.Context, tally *telemetry.SuppressedTally) {
	r.tel.FlushSuppressed(ctx, tally)
}

// unpin lets go of what a queued record held: its dedup key's pin (see
// dedup.Cache.Arrive) and its place in pending, once the record settled.
func (r *Road) unpin(dedupKey string, received pcommon.Timestamp) {
	r.cache.Unpin(dedupKey, int64(received)) //nolint:gosec // G115: Unix nanoseconds until 2262
	r.pending.done(dedupKey)
}

// forget lets go of the pins of the records of ld, a request the retry
// sender gave up on: they will never settle.
func (r *Road) forget(ld plog.Logs) {
	for ref := range records(ld) {
		arrived, ours := opened(ref.sl, r.run)
		if !ours {
			r.cache.ReadBack(-1)
			continue
		}
		received := arrived.received
		if m, err := recordmap.IdentifyAt(ref.lr, ref.rl.Resource(), &r.mapping, received); err == nil && m.Event.DedupKey != "" {
			r.unpin(m.Event.DedupKey, received)
		}
	}
}
