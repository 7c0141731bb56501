package dedup

import (
	"context"

	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/eventsapi"
)

// Reasons a Decision suppresses an event.
const (
	// ReasonDuplicate: a trigger of an open incident with the payload hash
	// last sent for it, within Config.RepeatInterval of the last event
	// PagerDuty accepted for its dedup key.
	ReasonDuplicate = "duplicate"
	// ReasonAlreadyApplied: an acknowledge of an incident already
	// acknowledged or resolved, or a resolve of one already resolved: it
	// would change nothing in PagerDuty.
	ReasonAlreadyApplied = "already_applied"
	// ReasonStale: an event older (by Event.Time) than the last one applied
	// to its dedup key, such as a retried resolve overtaken by a newer
	// trigger; sending it would undo the newer event.
	ReasonStale = "stale"
	// ReasonDeferred: an acknowledge that older records of its alert are
	// still ahead of, in a queue (a resolve and a new trigger, say): the
	// exporter sends it itself once they are delivered and its incident is
	// open (see Owed).
	ReasonDeferred = "deferred"
)

// Reasons lists every suppression reason, for telemetry prepared ahead.
var Reasons = [...]string{ReasonDuplicate, ReasonAlreadyApplied, ReasonStale, ReasonDeferred}

// Decision says whether to send an event and under which routing key.
type Decision struct {
	// RoutingKey is the key that opened the incident when the cache knows it,
	// else the event's own.
	RoutingKey string
	// Reason names why the event is suppressed; "" means send it.
	Reason string
}

// decide is Begin's decision, made while the caller holds dedupKey's turn:
// the turn, not c.mu, keeps the key's entry from changing while the storage
// is read.
//
// arriving: ev is a record on its way in (see Arrive), which is not decided
// while an earlier record of its alert waits: the decision is then
// reasonWaits.
func (c *Cache) decide(ctx context.Context, dedupKey string, ev Event, arriving bool) Decision {
	now := ev.At
	if now == 0 {
		now = c.now().UnixNano()
	}
	c.mu.Lock()
	if arriving && c.lru.pinned[dedupKey] != nil {
		c.mu.Unlock()
		return Decision{Reason: reasonWaits}
	}
	e, expired := c.lru.lookup(dedupKey, now)
	if e != nil {
		// Known: decided at once, under the one lock.
		defer c.mu.Unlock()
		return c.rules(dedupKey, e, ev, now)
	}
	c.mu.Unlock()
	c.deleteStored(ctx, expired)
	if expired == nil {
		e = c.loadStored(ctx, dedupKey)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.rules(dedupKey, e, ev, now)
}

// reasonWaits is the decision of decide for a record on its way in while an
// earlier record of its alert waits: none yet.
const reasonWaits = "\x00waits"

// rules is the decision itself, on the entry e (nil when unknown), at now
// (Unix nanoseconds): the alert's decision (alert.decide) and the routing
// key it goes under.
func (c *Cache) rules(dedupKey string, e *entry, ev Event, now int64) Decision {
	// Only an acknowledge asks whether older records of its alert wait.
	olderWaits := ev.Action == eventsapi.Acknowledge && !ev.Auto && c.olderWaits(dedupKey, ev.Arrival)
	if e == nil {
		return Decision{RoutingKey: ev.RoutingKey, Reason: decideUnknown(&ev, olderWaits)}
	}
	routingKey := c.keys.key(e.route)
	if routingKey == "" || (ev.Action == eventsapi.Trigger && !e.state.open()) {
		// Stored under a route the configuration no longer has, or a new
		// incident, which may open under the key the record asks for.
		routingKey = ev.RoutingKey
	}
	return Decision{RoutingKey: routingKey, Reason: e.decide(&ev, now, int64(c.cfg.RepeatInterval), olderWaits)}
}
