package dedup

import (
	"context"

	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/eventsapi"
)

// Arrive notes the arrival of a record of dedupKey, ev, before it is queued:
// a firing record's quiet period (see alert.firing). When settle is true
// and no earlier record of the key waits, the cache also decides the record
// at once; if it is to be suppressed, Arrive returns the turn to commit and
// release, and true. Otherwise the record is pinned (see Pin), as if Pin had
// been called, and must be queued, or unpinned should its queue refuse it.
//
// Deciding on arrival never overtakes a record that waits: the key's
// pinned records are decided first, at delivery, in their queue's order.
func (c *Cache) Arrive(ctx context.Context, dedupKey string, ev Event, settle bool) (Turn, bool) {
	if ev.Arrival == 0 {
		ev.Arrival = c.now().UnixNano()
	}
	if settle {
		if sl, ok := c.turns.tryAcquire(dedupKey); ok {
			c.mu.Lock()
			waiting := c.lru.pinned[dedupKey] != nil
			c.mu.Unlock()
			if !waiting {
				if turn := c.begun(ctx, dedupKey, ev, sl); turn.Reason != "" {
					return turn, true
				}
			}
			defer c.turns.release(dedupKey, sl)
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	p := c.pin(dedupKey)
	if ev.Action == eventsapi.Trigger && !ev.Auto {
		c.firing(dedupKey, &ev, p, ev.Arrival)
	}
	return Turn{}, false
}

// Pin notes that a record of dedupKey waits in a queue: until Unpin, the
// key's entry is neither expired nor evicted, so that the ordering of the
// key's records never depends on the cache's TTL or bound, and a record
// that arrives later is not decided before it (see Arrive).
func (c *Cache) Pin(dedupKey string) {
	c.mu.Lock()
	c.pin(dedupKey)
	c.mu.Unlock()
}

// pin is Pin with c.mu held; it returns the key's pin.
func (c *Cache) pin(dedupKey string) *pin {
	p := c.lru.pinned[dedupKey]
	if p == nil {
		p = &pin{}
		c.lru.pinned[dedupKey] = p
	}
	p.records++
	return p
}

// Unpin notes that a record Pin was told of has settled; a key not pinned
// is left as it is.
func (c *Cache) Unpin(dedupKey string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch p := c.lru.pinned[dedupKey]; {
	case p == nil:
	case p.records > 1:
		p.records--
	default:
		delete(c.lru.pinned, dedupKey)
	}
}
