package pagerdutyexporter // import "github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter"

import (
	"context"
	"fmt"
	"time"

	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/dedup"
	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/eventsapi"
	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/recordmap"
)

// flow is the road of every event. admit takes records in: it identifies
// each once, picks its route once, settles a repeat on arrival, and puts the
// rest on the queue of their route and priority. deliver takes them out of
// a queue: it takes the alert's turn, holds it behind a failing key,
// completes the event, waits for the limiter by priority and sends. Every
// outcome leaves through exit.
type flow struct {
	mapping recordmap.Options
	routes  *router
	queues  *queues
	limiter *eventsapi.Limiter
	exit    *exit
	pending *pending
	stop    context.Context // done once shutdown stops delivery
	sends   context.Context // done once shutdown cancels the requests in flight
	// autoResolveAfter is auto_resolve.after: an alert's quiet period
	// unless its record sets alert.resolve_after; 0: none.
	autoResolveAfter time.Duration
	// now is the exporter's arrival clock (see arrivalClock), which the
	// cache's quiet clocks share; run tells this run's queued records from
	// those an earlier run left in a persistent queue (see runAttr).
	now func() time.Time
	run int64

	// Set by start, before the queues start: they need the host.
	client *eventsapi.Client
	cache  *dedup.Cache
}

// deliver returns the push of one queue: it sends one event per record, in
// order. Records that failed in a way a retry can fix are handed back to the
// retry sender, alone, so that accepted events are never sent twice; once a
// routing key fails, its later records wait for the retry too, keeping
// their order.
func (f *flow) deliver(key queueKey) consumer.ConsumeLogsFunc {
	return func(ctx context.Context, ld plog.Logs) error {
		// A stop cancels the wait for a dedup key's turn or for the limiter.
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		defer f.cancelOnStop(cancel)()
		p := push{key: key, ld: ld}
		f.exit.taking(&p)
		for ref := range records(ld) {
			o := f.deliverRecord(ctx, &p, ref)
			f.exit.settle(ctx, &p, &o)
		}
		return f.exit.pushed(&p)
	}
}

// deliverRecord takes one record from its queue to PagerDuty, as far as it
// can go, and says how far that was.
func (f *flow) deliverRecord(ctx context.Context, p *push, ref recordRef) outcome {
	o := outcome{ref: ref, priority: p.key.priority, received: receivedAt(ref.sl), auto: isAutoResolve(ref.sl)}
	if f.stop.Err() != nil {
		o.kind, o.err = outcomeHeld, errShuttingDown
		return o
	}
	m, err := recordmap.IdentifyAt(ref.lr, ref.rl.Resource(), &f.mapping, o.received)
	if err != nil {
		o.kind, o.rejection, o.err = outcomeRejected, mappingRejection(err), err
		return o
	}
	ev := &m.Event
	o.action, o.dedupKey = ev.Action, ev.DedupKey
	rt := f.routes.pick(m.RoutingValue)
	o.turn, err = f.begin(ctx, &m, rt, o.auto, o.received)
	if err != nil {
		o.kind, o.err = outcomeFailed, err
		if rt != nil {
			o.failKey = rt.key
		}
		return o
	}
	if f.goesNoFurther(&o, p, &m) {
		return o
	}
	routingKey := o.turn.RoutingKey
	// Only an event that will be sent needs its details, links and images.
	m.Complete()
	o.repairs = m.Repairs
	if o.waited, err = f.limiter.Wait(ctx, routingKey, int(p.key.priority), arrivedAt(o.received)); err != nil {
		o.kind, o.failKey, o.err = outcomeFailed, routingKey, fmt.Errorf("waiting for the rate limiter: %w", err)
		return o
	}
	ev.RoutingKey = routingKey
	start := time.Now()
	// A stop does not cancel a request in flight at once: canceling it
	// would lose whether PagerDuty applied it. The client's timeout bounds
	// it, and the shutdown's bound (see shutdownDrain).
	o.result = f.client.Send(f.sends, ev) //nolint:contextcheck // a request outlives its push's cancellation until the shutdown's bound

	o.kind, o.took = outcomeSent, time.Since(start)
	return o
}

// goesNoFurther settles o, whose dedup turn is taken, when its event is not
// to be sent now: it has no routing key, is a change event for a ruleset
// key, waits behind a failed event of its key, or is suppressed.
func (f *flow) goesNoFurther(o *outcome, p *push, m *recordmap.Result) bool {
	ev := &m.Event
	routingKey := o.turn.RoutingKey
	switch {
	case routingKey == "":
		f.unrouted(o, m)
		// A resolve that overtook its trigger still closes it: the
		// trigger, older, will be stale.
		o.tombstone = ev.Action == eventsapi.Resolve
		return true
	case ev.IsChange() && eventsapi.IsRulesetKey(routingKey):
		// PagerDuty takes no change events on a ruleset key
		// (https://developer.pagerduty.com/docs/events-api-v2-overview#getting-started).
		o.route = f.routes.ofKey(routingKey)
		o.kind, o.rejection = outcomeRejected, rejectChangeToRulesetKey
		o.err = fmt.Errorf("route %q has a ruleset key (it starts with R), which takes no change events", o.route.name)
		return true
	}
	o.route = f.routes.ofKey(routingKey)
	// Behind a failed event of its key, a record waits even if it would be
	// suppressed now: the cache does not yet show the failed event's effect.
	if failure := p.failingKey(routingKey); failure != nil {
		o.kind, o.err = outcomeBehindFailure, failure
		return true
	}
	if o.turn.Reason != "" {
		o.kind, o.reason = outcomeSuppressed, o.turn.Reason
		return true
	}
	return false
}

// begin takes the record's dedup key's turn and the cache's decision:
// deciding, sending and recording are one step per dedup key, so a consumer
// holding an older record for the key sees this one's effect. A change
// event has no dedup key: its turn is untracked, to send under rt.
func (f *flow) begin(ctx context.Context, m *recordmap.Result, rt *route, auto bool, received pcommon.Timestamp) (dedup.Turn, error) {
	if m.Event.IsChange() {
		return dedup.Untracked(keyOf(rt)), nil
	}
	turn, err := f.cache.Begin(ctx, m.Event.DedupKey, f.seen(m, rt, auto, received))
	if err != nil {
		return turn, fmt.Errorf("waiting for dedup key %q: %w", m.Event.DedupKey, err)
	}
	return turn, nil
}

// seen is what the dedup cache needs to know of an identified alert event
// under rt, the route its record selects, that reached the exporter at
// received (an event of the exporter's own: its record's arrival, or when
// it was decided). An auto-resolve has no record time: it must never make
// a later firing record stale; an owed acknowledge keeps its record's.
func (f *flow) seen(m *recordmap.Result, rt *route, auto bool, received pcommon.Timestamp) dedup.Event {
	ev := dedup.Event{Action: m.Event.Action, RoutingKey: keyOf(rt), PayloadHash: m.PayloadHash, Auto: auto, Arrival: int64(received)} //nolint:gosec // G115: Unix nanoseconds until 2262
	if !auto || ev.Action == eventsapi.Acknowledge {
		ev.Time = m.OrderingTime
	}
	if ev.Action == eventsapi.Trigger {
		ev.QuietFor = f.quietFor(m)
	}
	return ev
}

// quietFor is the quiet period of a firing record's alert: its
// alert.resolve_after, else auto_resolve.after; 0: never auto-resolved.
func (f *flow) quietFor(m *recordmap.Result) time.Duration {
	if m.HasResolveAfter {
		return m.ResolveAfter
	}
	return f.autoResolveAfter
}

// unrouted makes o the outcome of a record no routing key takes.
func (f *flow) unrouted(o *outcome, m *recordmap.Result) {
	o.kind, o.rejection = outcomeRejected, rejectNoRoutingKey
	o.action, o.dedupKey = m.Event.Action, m.Event.DedupKey
	o.err = fmt.Errorf("%s %q matches no routing.keys entry and routing_key is not set", f.mapping.RoutingAttribute, bounded(m.RoutingValue))
}

// arrivedAt is when a record reached the exporter, the zero time when
// unknown (the limiter then ages it from now, never from 1970).
func arrivedAt(received pcommon.Timestamp) time.Time {
	if received == 0 {
		return time.Time{}
	}
	return received.AsTime()
}

// cancelOnStop arranges for cancel to run when the exporter stops, and
// returns the function that undoes the arrangement. The stop context is only
// watched: nothing runs under it.
func (f *flow) cancelOnStop(cancel context.CancelFunc) (undo func() bool) {
	return context.AfterFunc(f.stop, cancel)
}

// keyOf is rt's routing key, "" for no route.
func keyOf(rt *route) string {
	if rt == nil {
		return ""
	}
	return rt.key
}
