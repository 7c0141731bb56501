package dedup

import (
	"context"

	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/eventsapi"
)

// record notes that PagerDuty accepted ev for dedupKey under ev.RoutingKey,
// or, uncertain, may have.
func (c *Cache) record(ctx context.Context, dedupKey string, ev Event, uncertain bool) {
	c.mu.Lock()
	now := c.now().UnixNano()
	e, victims := c.lru.lookup(dedupKey, now)
	if e == nil {
		// An acknowledge for an incident we never saw opened nothing in
		// PagerDuty: remembering it as open would suppress the real trigger.
		if ev.Action == eventsapi.Acknowledge {
			// It may be owed to a trigger still to come.
			owed := c.owe(dedupKey, &ev, false)
			c.mu.Unlock()
			c.deleteStored(ctx, victims)
			if owed {
				c.persistOwed(ctx, dedupKey)
			}
			return
		}
		e = &entry{key: dedupKey}
		if p := c.lru.pinned[dedupKey]; p != nil {
			// The newest firing record of those waiting.
			e.firingAt, e.quietFor = p.firing.firingAt, p.firing.quietFor
		}
		victims = append(victims, c.lru.insert(e, now)...)
	}
	c.lru.unlink(e)
	owedChanged := false
	if ev.Action == eventsapi.Acknowledge && (e.uncertain || uncertain) {
		// It may have found no incident: owed until one is sure to be open.
		owedChanged = c.owe(dedupKey, &ev, false)
	}
	if uncertain && ev.Action == eventsapi.Acknowledge {
		e.unknown() // first: it may not have acknowledged anything
	}
	e.accepted(&ev, now)
	if uncertain {
		e.unknown()
	}
	owedChanged = c.settleOwed(dedupKey, e) || owedChanged
	if ev.Action == eventsapi.Trigger || e.route == 0 {
		e.route = c.keys.id(ev.RoutingKey)
	}
	c.lru.quiet.start(e)
	c.lru.link(e, now)
	c.mu.Unlock()

	c.persist(ctx, dedupKey)
	c.deleteStored(ctx, victims)
	if owedChanged {
		c.persistOwed(ctx, dedupKey)
	}
}

// suppressed notes that ev was suppressed for reason (see alert.suppressed).
// The storage learns it when a field it keeps changed, or when the record
// time applied moved while records of the key wait, which it may make
// stale after a restart.
func (c *Cache) suppressed(ctx context.Context, dedupKey string, ev Event, reason string) {
	c.mu.Lock()
	e, ok := c.lru.entries[dedupKey]
	if !ok {
		owed := reason == ReasonDeferred && c.owe(dedupKey, &ev, true)
		c.mu.Unlock()
		if owed {
			c.persistOwed(ctx, dedupKey)
		}
		return
	}
	applied := e.eventTime
	if e.suppressed(&ev, reason) {
		c.unsave(dedupKey)
		c.lru.quiet.start(e)
	}
	owedChanged := false
	if ev.Action == eventsapi.Acknowledge && !ev.Auto && (e.state != Acknowledged || reason == ReasonDeferred) && ev.Time >= e.resolvedTime {
		// It found no incident to acknowledge, or one it seemed too old
		// for: a trigger still to come may open it.
		owedChanged = c.owe(dedupKey, &ev, reason == ReasonDeferred)
	}
	owedChanged = c.settleOwed(dedupKey, e) || owedChanged
	dirty := e.dirty || (e.eventTime != applied && (c.lru.pinned[dedupKey] != nil || c.readBack.Load() > 0))
	c.mu.Unlock()
	if owedChanged {
		c.persistOwed(ctx, dedupKey)
	}
	if dirty {
		c.persist(ctx, dedupKey)
	}
}
