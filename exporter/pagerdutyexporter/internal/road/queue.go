package road // import "github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/road"

import (
	"context"
	"fmt"

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
// counted in the backlog before the queue takes them, so that a consumer
// that settles them at once never takes the count below what is queued. A
// queue that refuses them (full) takes them off the backlog again, and lets
// go of their dedup keys' pins.
func (r *Road) enqueue(ctx context.Context, s *sorting, key routes.Queue, held *heldLogs) error {
	r.backlog.add(key.Route, held.count)
	err := r.queues.Consume(ctx, key, held.logs)
	if err == nil {
		return nil
	}
	r.backlog.settle(key.Route, held.count)
	for _, way := range s.records {
		if way.queued && way.queue == key && way.dedupKey != "" {
			r.unpin(way.dedupKey, s.received)
			s.refused = append(s.refused, way.dedupKey)
		}
	}
	return fmt.Errorf("queueing %d records for route %q, priority %s: %w", held.count, key.Route, key.Priority, err)
}
