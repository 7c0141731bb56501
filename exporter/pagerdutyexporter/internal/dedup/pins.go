package dedup

import (
	"context"
	"slices"

	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/eventsapi"
)

// pin is what the cache holds for a dedup key with records waiting: when
// each arrived, and the newest firing record among them while the cache knows no
// entry for the key, for the entry its first accepted trigger makes.
type pin struct {
	waiting []int64 // the arrivals of the records waiting (Event.Arrival)
	firing  alert   // only firingAt and quietFor are used
}

// Arrive notes the arrival of a record of dedupKey, ev, before it is queued:
// a firing record's quiet period (see alert.firing). When settle is true,
// no earlier record of the key waits, and no record an earlier run queued
// is left (see ReadBack), the cache also decides the record at once; if it
// is to be suppressed, Arrive returns the turn to commit and release, and
// true. Otherwise the record is pinned (see pin) and must be queued, or
// unpinned should its queue refuse it.
//
// Deciding on arrival thus never overtakes a record that waits: the key's
// waiting records are decided first, at delivery.
func (c *Cache) Arrive(ctx context.Context, dedupKey string, ev Event, settle bool) (Turn, bool) {
	if ev.Arrival == 0 {
		ev.Arrival = c.now().UnixNano()
	}
	if settle && c.readBack.Load() == 0 {
		if sl, ok := c.turns.tryAcquire(dedupKey); ok {
			d := c.decide(ctx, dedupKey, ev, true)
			if d.Reason != "" && d.Reason != reasonWaits {
				ev.RoutingKey = d.RoutingKey
				return Turn{Decision: d, c: c, dedupKey: dedupKey, event: ev, slot: sl}, true
			}
			defer c.turns.release(dedupKey, sl)
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	p := c.pin(dedupKey, ev.Arrival)
	if ev.Action == eventsapi.Trigger && !ev.Auto {
		c.firing(dedupKey, &ev, p, ev.Arrival)
	}
	return Turn{}, false
}

// pin notes, with c.mu held, that a record of dedupKey that arrived at
// arrival (its Event.Arrival) waits in a queue, and returns the key's pin:
// until Unpin, the key's entry is neither expired nor evicted, so that the
// ordering of the key's records never depends on the cache's TTL or bound,
// and a record that arrives later is not decided before it (see Arrive).
func (c *Cache) pin(dedupKey string, arrival int64) *pin {
	p := c.lru.pinned[dedupKey]
	if p == nil {
		p = &pin{}
		c.lru.pinned[dedupKey] = p
	}
	p.waiting = append(p.waiting, arrival)
	return p
}

// Unpin notes that a record Pin was told of has settled; a record not
// pinned is left as it is.
func (c *Cache) Unpin(dedupKey string, arrival int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	p := c.lru.pinned[dedupKey]
	if p == nil {
		return
	}
	if i := slices.Index(p.waiting, arrival); i >= 0 {
		p.waiting = slices.Delete(p.waiting, i, i+1)
	}
	if len(p.waiting) == 0 {
		delete(c.lru.pinned, dedupKey)
	}
}

// olderWaits reports whether a record of dedupKey that arrived before
// arrival may still wait in a queue: one pinned, or any an earlier run left
// queued. c.mu must be held.
func (c *Cache) olderWaits(dedupKey string, arrival int64) bool {
	if c.readBack.Load() > 0 {
		return true
	}
	p := c.lru.pinned[dedupKey]
	return p != nil && slices.ContainsFunc(p.waiting, func(a int64) bool { return a < arrival })
}

// ReadBack notes n records (negative: settled) that an earlier run left in
// a persistent queue. Their dedup keys are not pinned, so while any is
// left, no record is decided on arrival, no auto-resolve is decided (see
// Quiet), and no entry expires or is evicted. The count never goes below
// zero: a record read back that was not counted settles as none.
func (c *Cache) ReadBack(n int) {
	for {
		left := c.readBack.Load()
		if n < 0 && left <= 0 {
			return
		}
		if c.readBack.CompareAndSwap(left, max(left+int64(n), 0)) {
			return
		}
	}
}
