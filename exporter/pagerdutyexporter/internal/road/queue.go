package road // import "github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/road"

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/eventsapi"
	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/recordmap"
	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/routes"
)

// queueOf picks a record's queue: for an acknowledge, the queue of its
// key's records still pending (see pending); else the route of its
// incident's key when the cache knows an incident the event belongs to,
// else rt, the route its routing attribute selects. An acknowledge or
// resolve with no route at all goes to the first route, where delivery
// looks again: its trigger may be queued still.
func (r *Road) queueOf(m *recordmap.Result, rt *routes.Route) (routes.Queue, bool) {
	ev := &m.Event
	p := routes.PriorityOf(ev)
	if !ev.IsChange() {
		if incidentKey, open := r.cache.IncidentKey(ev.DedupKey); incidentKey != "" && (open || ev.Action != eventsapi.Trigger) {
			rt = r.routes.OfKey(incidentKey)
		}
	}
	if q, ok := r.pending.queue(ev.DedupKey); ok && ev.Action == eventsapi.Acknowledge {
		return q, true
	}
	switch {
	case rt != nil && rt != r.routes.Unknown:
		return routes.Queue{Route: rt.Name, Priority: p}, true
	case ev.Action == eventsapi.Acknowledge || ev.Action == eventsapi.Resolve:
		return routes.Queue{Route: r.routes.Queued[0].Name, Priority: p}, true
	}
	return routes.Queue{}, false
}

// enqueue hands the records of s sorted to key to their queue. They are
// noted in pending, and counted in the backlog, before the queue takes
// them, so that a consumer that settles them at once never takes either
// below what is queued. A
// queue that refuses them (full) takes them off the backlog again, and lets
// go of their dedup keys' pins.
func (r *Road) enqueue(ctx context.Context, s *sorting, key routes.Queue, held *heldLogs) error {
	for _, way := range s.records {
		if way.queued && way.queue == key && way.dedupKey != "" {
			r.pending.add(way.dedupKey, key, way.firing)
		}
	}
	var summaries func(yield func(string) bool)
	if r.names {
		summaries = func(yield func(string) bool) {
			for _, way := range s.records {
				if way.queued && way.queue == key && !yield(way.summary) {
					return
				}
			}
		}
	}
	r.backlog.add(key, held.count, summaries)
	err := r.queues.Consume(ctx, key, held.logs)
	if err == nil {
		return nil
	}
	r.backlog.settle(key, held.count)
	for _, way := range s.records {
		if way.queued && way.queue == key && way.dedupKey != "" {
			r.unpin(way.dedupKey, s.received)
			s.refused = append(s.refused, way.dedupKey)
		}
	}
	return fmt.Errorf("queueing %d records for route %q, priority %s: %w", held.count, key.Route, key.Priority, err)
}

// enqueueEach hands each queue the records of ld that s sorted to it, each
// copied with its arrival: ld spans several queues, or some of its records
// settled on their way in.
func (r *Road) enqueueEach(ctx context.Context, s *sorting, ld plog.Logs, arrived arrival) error {
	batches := map[routes.Queue]*heldLogs{}
	var n pcommon.Timestamp
	for ref := range records(ld) {
		way := s.records[n]
		key := way.queue
		n++
		if !way.queued {
			continue
		}
		if batches[key] == nil {
			batches[key] = &heldLogs{}
		}
		at := arrived
		at.at = arrived.received + n
		batches[key].add(ref, &at)
	}
	// Most urgent first: should the queues fill, the least urgent are refused.
	var errs []error
	for _, key := range slices.SortedFunc(maps.Keys(batches), func(a, b routes.Queue) int {
		return cmp.Or(cmp.Compare(a.Priority, b.Priority), cmp.Compare(a.Route, b.Route))
	}) {
		errs = append(errs, r.enqueue(ctx, s, key, batches[key]))
	}
	return errors.Join(errs...)
}
