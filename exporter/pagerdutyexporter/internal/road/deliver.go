package road // import "github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/road"

import (
	"context"
	"errors"

	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/recordmap"
	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/routes"
	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/telemetry"
)

// deliver returns the push of one queue: it sends one event per record, in
// order. Records that failed in a way a retry can fix are handed back to the
// retry sender, alone, so that accepted events are never sent twice; once a
// routing key fails, its later records wait for the retry too, keeping
// their order.
func (r *Road) deliver(key routes.Queue) consumer.ConsumeLogsFunc {
	return func(ctx context.Context, ld plog.Logs) error {
		// A stop cancels the wait for a dedup key's turn or for the limiter.
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		defer r.cancelOnStop(cancel)()
		p := push{key: key, ld: ld}
		r.backlog.taken(ld)
		for ref := range records(ld) {
			o := r.deliverRecord(ctx, &p, ref)
			r.settle(ctx, &p, &o)
		}
		return r.pushed(&p)
	}
}

// deliverRecord takes one record from its queue to PagerDuty, as far as it
// can go, and says how far that was: it reads the record from its envelope,
// takes its alert's turn and the decision (decide.go), and sends what is to
// be sent (send.go).
func (r *Road) deliverRecord(ctx context.Context, p *push, ref recordRef) outcome {
	arrived, ours := opened(ref.sl, r.run)
	o := outcome{ref: ref, carried: carried{priority: p.key.Priority, received: arrived.received, auto: arrived.auto, ours: ours}}
	if r.stop.Err() != nil {
		o.kind, o.err = outcomeHeld, errShuttingDown
		return o
	}
	m, err := recordmap.IdentifyAt(ref.lr, ref.rl.Resource(), &r.mapping, o.received)
	if err != nil {
		o.kind, o.rejection, o.err = outcomeRejected, telemetry.MappingRejection(err), err
		return o
	}
	if r.decide(ctx, &o, p, &m) {
		r.send(ctx, &o, p.key.Priority, &m)
	}
	return o
}

// push is the state of one delivery from a queue: the routing keys that
// have failed, the records to hand back for a retry, and how many were
// settled.
type push struct {
	key     routes.Queue
	ld      plog.Logs
	failing map[string]error
	errs    []error
	held    bool // an error was added for a record handed back at a stop
	unsent  heldLogs
}

// failingKey returns the error of routingKey if one of its events failed
// earlier in the push, else nil.
func (p *push) failingKey(routingKey string) error { return p.failing[routingKey] }

// result is nil when nothing needs a retry, else a retryable error carrying
// only the unsent records (and a throttle delay, when the server asked).
func (p *push) result() error {
	if p.unsent.count == 0 {
		return nil
	}
	return consumererror.NewLogs(errors.Join(p.errs...), p.unsent.logs)
}

// cancelOnStop arranges for cancel to run when the exporter stops, and
// returns the function that undoes the arrangement. The stop context is only
// watched: nothing runs under it.
func (r *Road) cancelOnStop(cancel context.CancelFunc) (undo func() bool) {
	return context.AfterFunc(r.stop, cancel)
}
