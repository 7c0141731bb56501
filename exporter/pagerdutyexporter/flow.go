package pagerdutyexporter // import "github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter"

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
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

	// Set by start, before the queues start: they need the host.
	client *eventsapi.Client
	cache  *dedup.Cache
}

// admit puts each record of ld, from the pipeline, on the queue of its
// route and priority. Only a refused enqueue (a full queue) fails the call.
func (f *flow) admit(ctx context.Context, ld plog.Logs) error { return f.take(ctx, ld, false) }

// take is admit for records from the pipeline, or, with auto, for the
// resolves the exporter makes itself when alerts go quiet.
func (f *flow) take(ctx context.Context, ld plog.Logs, auto bool) error {
	received := pcommon.NewTimestampFromTime(time.Now())
	count := ld.LogRecordCount()
	var small [8]queueKey
	var smallPins [8]string
	s := sorting{keys: small[:0], pins: smallPins[:0], several: count > 1}
	if count > len(small) {
		s.keys, s.pins = make([]queueKey, 0, count), make([]string, 0, count)
	}
	var n pcommon.Timestamp
	for ref := range records(ld) {
		n++
		key, ok := f.queueFor(ctx, ref, arrival{received: received, at: received + n, auto: auto}, &s)
		if !ok {
			key = settled
			s.pins[len(s.pins)-1] = ""
		}
		s.keys = append(s.keys, key)
	}
	f.exit.tallied(ctx, &s.suppressed)
	for i, dedupKey := range s.pins {
		if dedupKey != "" {
			f.pin(dedupKey, s.keys[i])
		}
	}
	if len(s.keys) == 0 || !slices.ContainsFunc(s.keys, func(k queueKey) bool { return k != settled }) {
		return nil // every record settled on its way in
	}
	if !slices.ContainsFunc(s.keys, func(k queueKey) bool { return k != s.keys[0] }) {
		// The common case: the whole request goes to one queue. The
		// exporter owns ld (it declares that it mutates data), so it is
		// stamped and queued as it is, without a copy.
		stamp(ld, received, auto)
		return f.enqueue(ctx, &s, s.keys[0], &heldLogs{logs: ld, count: len(s.keys)})
	}
	batches := map[queueKey]*heldLogs{}
	n = 0
	for ref := range records(ld) {
		key := s.keys[n]
		n++
		if key == settled {
			continue
		}
		if batches[key] == nil {
			batches[key] = &heldLogs{}
		}
		batches[key].add(ref, &arrival{received: received, at: received + n, auto: auto})
	}
	// Most urgent first: should the queues fill, the least urgent are refused.
	var errs []error
	for _, key := range slices.SortedFunc(maps.Keys(batches), func(a, b queueKey) int {
		return cmp.Or(cmp.Compare(a.priority, b.priority), cmp.Compare(a.route, b.route))
	}) {
		errs = append(errs, f.enqueue(ctx, &s, key, batches[key]))
	}
	return errors.Join(errs...)
}

// sorting is one admitted request on its way to the queues. Records of one
// dedup key keep their order: they share the queue of the first of them,
// whatever their own priority.
type sorting struct {
	keys    []queueKey // each record's queue so far; settled when it has none
	pins    []string   // each record's dedup key to pin while it is queued; "" for none
	several bool       // the request has more than one record
	sameKey map[string]queueKey
	// suppressed counts the repeats settled on arrival (see suppressedTally).
	suppressed suppressedTally
}

// settled stands for the queue of a record settled on its way in.
var settled = queueKey{route: "\x00settled"}

// queueFor identifies a record that reached the exporter at, and returns
// its queue; it settles the record instead when it can go no further: it
// cannot become an event, has no route, or is a repeat the cache settles
// on arrival.
func (f *flow) queueFor(ctx context.Context, ref recordRef, arrived arrival, s *sorting) (queueKey, bool) {
	s.pins = append(s.pins, "")
	m, err := recordmap.IdentifyAt(ref.lr, ref.rl.Resource(), &f.mapping, arrived.at)
	if err != nil {
		f.exit.settle(ctx, nil, &outcome{kind: outcomeRejected, ref: ref, rejection: mappingRejection(err), err: err})
		return queueKey{}, false
	}
	ev := &m.Event
	s.pins[len(s.pins)-1] = ev.DedupKey
	if ev.Action == eventsapi.Trigger && !arrived.auto {
		// Every firing record restarts its alert's quiet clock, whether it
		// is sent, suppressed, or waits.
		f.cache.Firing(ev.DedupKey, f.quietFor(&m))
	}
	if key, ok := s.sameKey[ev.DedupKey]; ok && !ev.IsChange() {
		return key, true
	}
	rt := f.routes.pick(m.RoutingValue)
	if !ev.IsChange() && f.settledOnArrival(ctx, ref, &m, rt, arrived, s) {
		return queueKey{}, false
	}
	key, ok := f.queueOf(&m, rt)
	if !ok {
		o := outcome{ref: ref}
		f.unrouted(&o, &m)
		f.exit.settle(ctx, nil, &o)
		return queueKey{}, false
	}
	if !ev.IsChange() && s.several {
		if s.sameKey == nil {
			s.sameKey = map[string]queueKey{}
		}
		s.sameKey[ev.DedupKey] = key
	}
	return key, true
}

// settledOnArrival settles, without queueing it, a record the cache
// suppresses (a repeat, an acknowledge or resolve already applied, or a
// stale record) when its dedup key's turn is free: delivery would decide
// the same, and in a storm of repeats queueing each would cost more than
// deciding.
func (f *flow) settledOnArrival(ctx context.Context, ref recordRef, m *recordmap.Result, rt *route, arrived arrival, s *sorting) bool {
	turn, ok := f.cache.TryBegin(ctx, m.Event.DedupKey, f.seen(m, rt, arrived.auto))
	if !ok {
		return false
	}
	if turn.Reason == "" {
		turn.Release()
		return false
	}
	f.exit.settle(ctx, nil, &outcome{kind: outcomeSuppressed, ref: ref, action: m.Event.Action, dedupKey: m.Event.DedupKey, auto: arrived.auto, turn: turn, reason: turn.Reason, tally: &s.suppressed})
	return true
}

// queueOf picks a record's queue: for an acknowledge, the queue of its
// key's records still pending (see pending); else the route of its
// incident's key when the cache knows an incident the event belongs to,
// else rt, the route its routing attribute selects. An acknowledge or
// resolve with no route at all goes to the first route, where delivery
// looks again: its trigger may be queued still.
func (f *flow) queueOf(m *recordmap.Result, rt *route) (queueKey, bool) {
	ev := &m.Event
	p := priorityOf(ev)
	if !ev.IsChange() {
		if incidentKey, open := f.cache.IncidentKey(ev.DedupKey); incidentKey != "" && (open || ev.Action != eventsapi.Trigger) {
			rt = f.routes.ofKey(incidentKey)
		}
	}
	if q, ok := f.pending.queue(ev.DedupKey); ok && ev.Action == eventsapi.Acknowledge {
		return q, true
	}
	switch {
	case rt != nil && rt != f.routes.unknown:
		return queueKey{rt.name, p}, true
	case ev.Action == eventsapi.Acknowledge || ev.Action == eventsapi.Resolve:
		return queueKey{f.routes.queued[0].name, p}, true
	}
	return queueKey{}, false
}

// enqueue hands the records of s sorted to key to their queue. A queue that
// refuses them (full) lets go of their dedup keys' pins.
func (f *flow) enqueue(ctx context.Context, s *sorting, key queueKey, held *heldLogs) error {
	err := f.exit.enqueued(key, held.count, f.queues.byKey[key].ConsumeLogs(ctx, held.logs))
	if err != nil {
		for i, k := range s.keys {
			if k == key && s.pins[i] != "" {
				f.unpin(s.pins[i])
			}
		}
	}
	return err
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
	o.turn, err = f.begin(ctx, &m, rt, o.auto)
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
func (f *flow) begin(ctx context.Context, m *recordmap.Result, rt *route, auto bool) (dedup.Turn, error) {
	if m.Event.IsChange() {
		return dedup.Untracked(keyOf(rt)), nil
	}
	turn, err := f.cache.Begin(ctx, m.Event.DedupKey, f.seen(m, rt, auto))
	if err != nil {
		return turn, fmt.Errorf("waiting for dedup key %q: %w", m.Event.DedupKey, err)
	}
	return turn, nil
}

// seen is what the dedup cache needs to know of an identified alert event
// under rt, the route its record selects. An auto-resolve has no time: it
// must never make a later firing record stale.
func (f *flow) seen(m *recordmap.Result, rt *route, auto bool) dedup.Event {
	ev := dedup.Event{Action: m.Event.Action, RoutingKey: keyOf(rt), PayloadHash: m.PayloadHash, Auto: auto}
	if !auto {
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
	o.err = fmt.Errorf("%s %q matches no routing.keys entry and routing_key is not set", f.mapping.RoutingAttribute, m.RoutingValue)
}

// arrivedAt is when a record reached the exporter, the zero time when
// unknown (the limiter then ages it from now, never from 1970).
func arrivedAt(received pcommon.Timestamp) time.Time {
	if received == 0 {
		return time.Time{}
	}
	return received.AsTime()
}

// pin keeps dedupKey's ordering state while a record of it waits on q (see
// dedup.Cache.Pin), and notes the queue for its acknowledges (see pending).
func (f *flow) pin(dedupKey string, q queueKey) {
	f.cache.Pin(dedupKey)
	f.pending.add(dedupKey, q)
}

// unpin undoes pin once the record settled.
func (f *flow) unpin(dedupKey string) {
	f.cache.Unpin(dedupKey)
	f.pending.done(dedupKey)
}

// forget lets go of the pins of the records of ld, a request the retry
// sender gave up on: they will never settle.
func (f *flow) forget(ld plog.Logs) {
	for ref := range records(ld) {
		received := receivedAt(ref.sl)
		if received < f.exit.started {
			continue
		}
		if m, err := recordmap.IdentifyAt(ref.lr, ref.rl.Resource(), &f.mapping, received); err == nil && m.Event.DedupKey != "" {
			f.unpin(m.Event.DedupKey)
		}
	}
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
