package road // import "github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/road"

import (
	"context"
	"slices"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/eventsapi"
	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/recordmap"
	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/routes"
	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/telemetry"
)

// Admit puts each record of ld, from the pipeline, on the queue of its
// route and priority. Only a refused enqueue (a full queue) fails the call.
func (r *Road) Admit(ctx context.Context, ld plog.Logs) error {
	_, err := r.take(ctx, ld, arrival{received: pcommon.NewTimestampFromTime(r.now()), run: r.run})
	return err
}

// take is admit for records from the pipeline, or, with arrived.auto, for
// the resolves the exporter makes itself when alerts go quiet, arrived when
// they were decided. It returns the dedup keys of the records a queue
// refused.
func (r *Road) take(ctx context.Context, ld plog.Logs, arrived arrival) (refused []string, err error) {
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
		way := r.queueFor(ctx, ref, at, &s)
		if way.queued {
			queued++
		}
		s.records = append(s.records, way)
	}
	// Once the rest are queued: one measurement for the request's repeats.
	defer r.tallied(ctx, &s.suppressed)
	if queued == 0 {
		return nil, nil // every record settled on its way in
	}
	first := s.records[0].queue
	if queued == len(s.records) && !slices.ContainsFunc(s.records, func(way sorted) bool { return way.queue != first }) {
		// The common case: the whole request goes to one queue. The
		// exporter owns ld (it declares that it mutates data), so it is
		// stamped and queued as it is, without a copy.
		stamp(ld, arrived)
		err := r.enqueue(ctx, &s, first, &heldLogs{logs: ld, count: queued})
		return s.refused, err
	}
	return s.refused, r.enqueueEach(ctx, &s, ld, arrived)
}

// sorting is one admitted request on its way to the queues. Records of one
// dedup key keep their order: they share the queue of the first of them,
// whatever their own priority.
type sorting struct {
	records []sorted // each record's way so far
	several bool     // the request has more than one record
	sameKey map[string]routes.Queue
	// suppressed counts the repeats settled on arrival (see telemetry.SuppressedTally).
	suppressed telemetry.SuppressedTally
	refused    []string // dedup keys of records a queue refused
	received   pcommon.Timestamp
}

// sorted is where one record of a request goes.
type sorted struct {
	queue    routes.Queue
	queued   bool   // false: settled on its way in
	firing   bool   // a trigger
	dedupKey string // pinned while it waits; "" for a change event
	summary  string // its event's, for the storm digest's names
}

// queueFor identifies a record that reached the exporter at arrived, and
// returns its queue; it settles the record instead (not queued) when it can
// go no further: it cannot become an event, has no route, or is a repeat
// the cache settles on arrival. An alert record that is queued is pinned in
// the cache (dedup.Cache.Arrive).
func (r *Road) queueFor(ctx context.Context, ref recordRef, arrived arrival, s *sorting) sorted {
	m, err := recordmap.IdentifyAt(ref.lr, ref.rl.Resource(), &r.mapping, arrived.at)
	if err != nil {
		r.settle(ctx, nil, &outcome{kind: outcomeRejected, ref: ref, verdict: verdict{rejection: telemetry.MappingRejection(err), err: err}})
		return sorted{}
	}
	ev := &m.Event
	rt := r.routes.Pick(m.RoutingValue)
	sameKey, several := s.sameKey[ev.DedupKey]
	if !ev.IsChange() && r.arrive(ctx, ref, &m, rt, arrived, s, !several) {
		return sorted{}
	}
	if several && !ev.IsChange() {
		return sorted{queue: sameKey, queued: true, dedupKey: ev.DedupKey, firing: ev.Action == eventsapi.Trigger, summary: ev.Payload.Summary}
	}
	key, ok := r.queueOf(&m, rt)
	if !ok {
		if !ev.IsChange() {
			r.cache.Unpin(ev.DedupKey, int64(arrived.received)) //nolint:gosec // G115: Unix nanoseconds until 2262
		}
		o := outcome{ref: ref}
		r.unrouted(&o, &m)
		r.settle(ctx, nil, &o)
		return sorted{}
	}
	if !ev.IsChange() && s.several {
		if s.sameKey == nil {
			s.sameKey = map[string]routes.Queue{}
		}
		s.sameKey[ev.DedupKey] = key
	}
	return sorted{queue: key, queued: true, dedupKey: ev.DedupKey, firing: ev.Action == eventsapi.Trigger, summary: ev.Payload.Summary}
}
