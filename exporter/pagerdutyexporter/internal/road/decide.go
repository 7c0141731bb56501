package road // import "github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/road"

import (
	"context"
	"fmt"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/dedup"
	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/eventsapi"
	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/recordmap"
	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/routes"
	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/telemetry"
)

// arrive tells the cache of an alert record's arrival, its place in its
// alert's order, and settles it there, without queueing it, when settle is
// true and the cache suppresses it (a repeat, an acknowledge or resolve
// already applied, or a stale record) while no earlier record of its alert
// waits: delivery would decide the same, and in a storm of repeats queueing
// each would cost more than deciding. Otherwise the record is pinned, to
// be queued.
func (r *Road) arrive(ctx context.Context, ref recordRef, m *recordmap.Result, rt *routes.Route, arrived arrival, s *sorting, settle bool) bool {
	ev := r.seen(m, rt, arrived.auto, arrived.received)
	ev.At = ev.Arrival
	turn, settled := r.cache.Arrive(ctx, m.Event.DedupKey, ev, settle && !arrived.auto)
	if !settled {
		return false
	}
	r.settle(ctx, nil, &outcome{
		kind: outcomeSuppressed, ref: ref,
		carried:  carried{auto: arrived.auto},
		identity: identity{action: m.Event.Action, dedupKey: m.Event.DedupKey},
		verdict:  verdict{turn: turn, reason: turn.Reason, tally: &s.suppressed},
	})
	return true
}

// decide takes the turn of the alert of m, delivered in p, and its
// decision, and reports whether its event is to be sent; when it is not, o
// says why.
func (r *Road) decide(ctx context.Context, o *outcome, p *push, m *recordmap.Result) bool {
	o.action, o.dedupKey = m.Event.Action, m.Event.DedupKey
	rt := r.routes.Pick(m.RoutingValue)
	var err error
	if o.turn, err = r.begin(ctx, m, rt, o.auto, o.received); err != nil {
		o.kind, o.err = outcomeFailed, err
		if rt != nil {
			o.failKey = rt.Key
		}
		return false
	}
	return !r.goesNoFurther(o, p, m)
}

// goesNoFurther settles o, whose dedup turn is taken, when its event is not
// to be sent now: it has no routing key, is a change event for a ruleset
// key, waits behind a failed event of its key, or is suppressed.
func (r *Road) goesNoFurther(o *outcome, p *push, m *recordmap.Result) bool {
	ev := &m.Event
	routingKey := o.turn.RoutingKey
	switch {
	case routingKey == "":
		r.unrouted(o, m)
		// A resolve that overtook its trigger still closes it: the
		// trigger, older, will be stale.
		o.tombstone = ev.Action == eventsapi.Resolve
		return true
	case ev.IsChange() && eventsapi.IsRulesetKey(routingKey):
		// PagerDuty takes no change events on a ruleset key
		// (https://developer.pagerduty.com/docs/events-api-v2-overview#getting-started).
		o.route = r.routes.OfKey(routingKey)
		o.kind, o.rejection = outcomeRejected, telemetry.RejectChangeToRulesetKey
		o.err = fmt.Errorf("route %q has a ruleset key (it starts with R), which takes no change events", o.route.Name)
		return true
	}
	o.route = r.routes.OfKey(routingKey)
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
func (r *Road) begin(ctx context.Context, m *recordmap.Result, rt *routes.Route, auto bool, received pcommon.Timestamp) (dedup.Turn, error) {
	if m.Event.IsChange() {
		return dedup.Untracked(routes.KeyOf(rt)), nil
	}
	turn, err := r.cache.Begin(ctx, m.Event.DedupKey, r.seen(m, rt, auto, received))
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
func (r *Road) seen(m *recordmap.Result, rt *routes.Route, auto bool, received pcommon.Timestamp) dedup.Event {
	ev := dedup.Event{Action: m.Event.Action, RoutingKey: routes.KeyOf(rt), PayloadHash: m.PayloadHash, Auto: auto, Arrival: int64(received)} //nolint:gosec // G115: Unix nanoseconds until 2262
	if !auto || ev.Action == eventsapi.Acknowledge {
		ev.Time = m.OrderingTime
	}
	if ev.Action == eventsapi.Trigger {
		ev.QuietFor = r.quietFor(m)
	}
	return ev
}

// quietFor is the quiet period of a firing record's alert: its
// alert.resolve_after, else auto_resolve.after; 0: never auto-resolved.
func (r *Road) quietFor(m *recordmap.Result) time.Duration {
	if m.HasResolveAfter {
		return m.ResolveAfter
	}
	return r.autoResolveAfter
}
