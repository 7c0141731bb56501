package pagerdutyexporter // import "github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter"

import (
	"cmp"
	"context"
	"errors"
	"maps"
	"slices"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/eventsapi"
	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/recordmap"
)

// admit puts each record of ld, from the pipeline, on the queue of its
// route and priority. Only a refused enqueue (a full queue) fails the call.
func (f *flow) admit(ctx context.Context, ld plog.Logs) error {
	_, err := f.take(ctx, ld, arrival{received: pcommon.NewTimestampFromTime(f.now()), run: f.run})
	return err
}

// take is admit for records from the pipeline, or, with arrived.auto, for
// the resolves the exporter makes itself when alerts go quiet, arrived when
// they were decided. It returns the dedup keys of the records a queue
// refused.
func (f *flow) take(ctx context.Context, ld plog.Logs, arrived arrival) (refused []string, err error) {
	received := arrived.received
	count := ld.LogRecordCount()
	var small [8]sorted
	s := sorting{records: small[:0], several: count > 1, received: received}
	if count > len(small) {
		s.records = make([]sorted, 0, count)
	}
	var n pcommon.Timestamp
	queued := 0
	for ref := range records(ld) {
		n++
		at := arrived
		at.at = received + n
		r := f.queueFor(ctx, ref, at, &s)
		if r.queued {
			queued++
			if r.dedupKey != "" {
				f.pending.add(r.dedupKey, r.queue, r.firing)
			}
		}
		s.records = append(s.records, r)
	}
	f.exit.tallied(ctx, &s.suppressed)
	if queued == 0 {
		return nil, nil // every record settled on its way in
	}
	first := s.records[0].queue
	if queued == len(s.records) && !slices.ContainsFunc(s.records, func(r sorted) bool { return r.queue != first }) {
		// The common case: the whole request goes to one queue. The
		// exporter owns ld (it declares that it mutates data), so it is
		// stamped and queued as it is, without a copy.
		stamp(ld, arrived)
		err := f.enqueue(ctx, &s, first, &heldLogs{logs: ld, count: queued})
		return s.refused, err
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
		at := arrived
		at.at = received + n
		batches[key].add(ref, &at)
	}
	// Most urgent first: should the queues fill, the least urgent are refused.
	var errs []error
	for _, key := range slices.SortedFunc(maps.Keys(batches), func(a, b queueKey) int {
		return cmp.Or(cmp.Compare(a.priority, b.priority), cmp.Compare(a.route, b.route))
	}) {
		errs = append(errs, f.enqueue(ctx, &s, key, batches[key]))
	}
	return s.refused, errors.Join(errs...)
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
	refused    []string // dedup keys of records a queue refused
	received   pcommon.Timestamp
}

// sorted is where one record of a request goes.
type sorted struct {
	queue    queueKey
	queued   bool   // false: settled on its way in
	firing   bool   // a trigger
	dedupKey string // pinned while it waits; "" for a change event
}

// queueFor identifies a record that reached the exporter at arrived, and
// returns its queue; it settles the record instead (not queued) when it can
// go no further: it cannot become an event, has no route, or is a repeat
// the cache settles on arrival. An alert record that is queued is pinned in
// the cache (dedup.Cache.Arrive).
func (f *flow) queueFor(ctx context.Context, ref recordRef, arrived arrival, s *sorting) sorted {
	m, err := recordmap.IdentifyAt(ref.lr, ref.rl.Resource(), &f.mapping, arrived.at)
	if err != nil {
		f.exit.settle(ctx, nil, &outcome{kind: outcomeRejected, ref: ref, rejection: mappingRejection(err), err: err})
		return sorted{}
	}
	ev := &m.Event
	rt := f.routes.pick(m.RoutingValue)
	sameKey, several := s.sameKey[ev.DedupKey]
	if !ev.IsChange() && f.arrive(ctx, ref, &m, rt, arrived, s, !several) {
		return sorted{}
	}
	if several && !ev.IsChange() {
		return sorted{queue: sameKey, queued: true, dedupKey: ev.DedupKey, firing: ev.Action == eventsapi.Trigger}
	}
	key, ok := f.queueOf(&m, rt)
	if !ok {
		if !ev.IsChange() {
			f.cache.Unpin(ev.DedupKey, int64(arrived.received)) //nolint:gosec // G115: Unix nanoseconds until 2262
		}
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
	return sorted{queue: key, queued: true, dedupKey: ev.DedupKey, firing: ev.Action == eventsapi.Trigger}
}

// arrive tells the cache of an alert record's arrival, its place in its
// alert's order, and settles it there, without queueing it, when settle is
// true and the cache suppresses it (a repeat, an acknowledge or resolve
// already applied, or a stale record) while no earlier record of its alert
// waits: delivery would decide the same, and in a storm of repeats queueing
// each would cost more than deciding. Otherwise the record is pinned, to
// be queued.
func (f *flow) arrive(ctx context.Context, ref recordRef, m *recordmap.Result, rt *route, arrived arrival, s *sorting, settle bool) bool {
	ev := f.seen(m, rt, arrived.auto, arrived.received)
	ev.At = ev.Arrival
	turn, settled := f.cache.Arrive(ctx, m.Event.DedupKey, ev, settle && !arrived.auto)
	if !settled {
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
	f.exit.enqueuing(key, held.count)
	err := f.exit.enqueued(key, held.count, f.queues.consume(ctx, key, held.logs))
	if err != nil {
		for _, r := range s.records {
			if r.queued && r.queue == key && r.dedupKey != "" {
				f.unpin(r.dedupKey, s.received)
				s.refused = append(s.refused, r.dedupKey)
			}
		}
	}
	return err
}

// unpin lets go of what a queued record held: its dedup key's pin (see
// dedup.Cache.Arrive) and its place in pending, once the record settled.
func (f *flow) unpin(dedupKey string, received pcommon.Timestamp) {
	f.cache.Unpin(dedupKey, int64(received)) //nolint:gosec // G115: Unix nanoseconds until 2262
	f.pending.done(dedupKey)
}

// forget lets go of the pins of the records of ld, a request the retry
// sender gave up on: they will never settle.
func (f *flow) forget(ld plog.Logs) {
	for ref := range records(ld) {
		if !queuedBy(ref.sl, f.run) {
			f.cache.ReadBack(-1)
			continue
		}
		received := receivedAt(ref.sl)
		if m, err := recordmap.IdentifyAt(ref.lr, ref.rl.Resource(), &f.mapping, received); err == nil && m.Event.DedupKey != "" {
			f.unpin(m.Event.DedupKey, received)
		}
	}
}
