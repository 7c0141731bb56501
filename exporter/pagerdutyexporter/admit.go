package pagerdutyexporter // import "github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter"

import (
	"cmp"
	"context"
	"errors"
	"maps"
	"slices"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/eventsapi"
	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/recordmap"
)

// admit puts each record of ld, from the pipeline, on the queue of its
// route and priority. Only a refused enqueue (a full queue) fails the call.
func (f *flow) admit(ctx context.Context, ld plog.Logs) error { return f.take(ctx, ld, false) }

// take is admit for records from the pipeline, or, with auto, for the
// resolves the exporter makes itself when alerts go quiet.
func (f *flow) take(ctx context.Context, ld plog.Logs, auto bool) error {
	received := pcommon.NewTimestampFromTime(time.Now())
	count := ld.LogRecordCount()
	var small [8]sorted
	s := sorting{records: small[:0], several: count > 1}
	if count > len(small) {
		s.records = make([]sorted, 0, count)
	}
	var n pcommon.Timestamp
	queued := 0
	for ref := range records(ld) {
		n++
		r := f.queueFor(ctx, ref, arrival{received: received, at: received + n, auto: auto}, &s)
		if r.queued {
			queued++
			if r.dedupKey != "" {
				f.pin(r.dedupKey, r.queue)
			}
		}
		s.records = append(s.records, r)
	}
	f.exit.tallied(ctx, &s.suppressed)
	if queued == 0 {
		return nil // every record settled on its way in
	}
	first := s.records[0].queue
	if queued == len(s.records) && !slices.ContainsFunc(s.records, func(r sorted) bool { return r.queue != first }) {
		// The common case: the whole request goes to one queue. The
		// exporter owns ld (it declares that it mutates data), so it is
		// stamped and queued as it is, without a copy.
		stamp(ld, received, auto)
		return f.enqueue(ctx, &s, first, &heldLogs{logs: ld, count: queued})
	}
	batches := map[queueKey]*heldLogs{}
	n = 0
	for ref := range records(ld) {
		r := s.records[n]
		key := r.queue
		n++
		if !r.queued {
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
	records []sorted // each record's way so far
	several bool     // the request has more than one record
	sameKey map[string]queueKey
	// suppressed counts the repeats settled on arrival (see suppressedTally).
	suppressed suppressedTally
}

// sorted is where one record of a request goes.
type sorted struct {
	queue    queueKey
	queued   bool   // false: settled on its way in
	dedupKey string // pinned while it waits; "" for a change event
}

// queueFor identifies a record that reached the exporter at arrived, and
// returns its queue; it settles the record instead (not queued) when it can
// go no further: it cannot become an event, has no route, or is a repeat
// the cache settles on arrival.
func (f *flow) queueFor(ctx context.Context, ref recordRef, arrived arrival, s *sorting) sorted {
	m, err := recordmap.IdentifyAt(ref.lr, ref.rl.Resource(), &f.mapping, arrived.at)
	if err != nil {
		f.exit.settle(ctx, nil, &outcome{kind: outcomeRejected, ref: ref, rejection: mappingRejection(err), err: err})
		return sorted{}
	}
	ev := &m.Event
	if ev.Action == eventsapi.Trigger && !arrived.auto {
		// Every firing record restarts its alert's quiet clock, whether it
		// is sent, suppressed, or waits.
		f.cache.Firing(ev.DedupKey, f.quietFor(&m))
	}
	if key, ok := s.sameKey[ev.DedupKey]; ok && !ev.IsChange() {
		return sorted{queue: key, queued: true, dedupKey: ev.DedupKey}
	}
	rt := f.routes.pick(m.RoutingValue)
	if !ev.IsChange() && f.settledOnArrival(ctx, ref, &m, rt, arrived, s) {
		return sorted{}
	}
	key, ok := f.queueOf(&m, rt)
	if !ok {
		o := outcome{ref: ref}
		f.unrouted(&o, &m)
		f.exit.settle(ctx, nil, &o)
		return sorted{}
	}
	if !ev.IsChange() && s.several {
		if s.sameKey == nil {
			s.sameKey = map[string]queueKey{}
		}
		s.sameKey[ev.DedupKey] = key
	}
	return sorted{queue: key, queued: true, dedupKey: ev.DedupKey}
}

// settledOnArrival settles, without queueing it, a record the cache
// suppresses (a repeat, an acknowledge or resolve already applied, or a
// stale record) when its dedup key's turn is free: delivery would decide
// the same, and in a storm of repeats queueing each would cost more than
// deciding.
func (f *flow) settledOnArrival(ctx context.Context, ref recordRef, m *recordmap.Result, rt *route, arrived arrival, s *sorting) bool {
	ev := f.seen(m, rt, arrived.auto)
	ev.At = arrived.received.AsTime().UnixNano()
	turn, ok := f.cache.TryBegin(ctx, m.Event.DedupKey, ev)
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
	err := f.exit.enqueued(key, held.count, f.queues.consume(ctx, key, held.logs))
	if err != nil {
		for _, r := range s.records {
			if r.queued && r.queue == key && r.dedupKey != "" {
				f.unpin(r.dedupKey)
			}
		}
	}
	return err
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
