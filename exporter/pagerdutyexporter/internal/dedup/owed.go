package dedup

import (
	"context"
	"fmt"
	"time"
)

// owedPrefix namespaces owed acknowledges in the storage: the record's
// time and arrival, 16 bytes, then 1 when it was deferred, 0 if not.
const owedPrefix = "owed/"

func (s *storageStore) saveOwed(ctx context.Context, dedupKey string, o owedAck) error {
	b := make([]byte, 17)
	putNanos(b, o.time)
	putNanos(b[8:], o.arrival)
	if o.deferred {
		b[16] = 1
	}
	return s.Client.Set(ctx, owedPrefix+dedupKey, b)
}

func decodeOwed(dedupKey string, b []byte) (*owedAck, error) {
	if len(b) != 17 {
		return nil, fmt.Errorf("owed acknowledge %q: unknown layout", dedupKey)
	}
	return &owedAck{time: nanos(b), arrival: nanos(b[8:]), deferred: b[16] == 1}, nil
}

// owedAck is an acknowledge record that could not apply when it was
// decided: no incident was open, or the open one seemed newer than it. The
// trigger of its incident may still come (it waits in a queue, is being
// retried, or was handed back by a restart behind it); once that trigger is
// accepted, the exporter sends the acknowledge itself, as the step its
// alert's newest intent needs.
type owedAck struct {
	time, arrival int64 // the record's Event.Time and Event.Arrival
	ready         bool  // its incident was open when its entry last changed
	// deferred: it was not sent (ReasonDeferred): should its alert's entry
	// be forgotten meanwhile, it is sent all the same, as an acknowledge of
	// an alert the cache does not know is.
	deferred bool
}

// minOwedBound is the fewest owed acknowledges held however small
// Config.MaxEntries: each costs a few dozen bytes, and a cache of a handful
// of entries still sees acknowledges of many alerts.
const minOwedBound = 1024

// owe notes ev, an acknowledge, as owed; it reports whether that changed
// anything. c.mu must be held.
func (c *Cache) owe(dedupKey string, ev *Event, deferred bool) bool {
	if ev.Time == 0 || ev.Auto {
		return false
	}
	if o, ok := c.owed[dedupKey]; ok && o.time >= ev.Time {
		return false
	}
	if c.cfg.MaxEntries > 0 && len(c.owed) >= max(c.cfg.MaxEntries, minOwedBound) {
		return false // bounded as the cache is, if loosely
	}
	c.owed[dedupKey] = &owedAck{time: ev.Time, arrival: ev.Arrival, deferred: deferred}
	return true
}

// settleOwed looks at dedupKey's owed acknowledge, if any, after its entry
// e changed: it is due once the incident it was meant for is open, and
// forgotten once a newer resolve closed it or an acknowledge applied; it
// reports whether it forgot it. c.mu must be held.
func (c *Cache) settleOwed(dedupKey string, e *entry) bool {
	o, ok := c.owed[dedupKey]
	switch {
	case !ok:
	case o.time < e.resolvedTime, e.state == Acknowledged && !e.uncertain && !c.olderWaits(dedupKey, o.arrival):
		// A newer resolve closed its incident, or it is acknowledged and
		// nothing ahead of it can change that.
		delete(c.owed, dedupKey)
		return true
	default:
		o.ready = e.owes(o.time)
	}
	return false
}

// persistOwed writes dedupKey's owed acknowledge, as it is now, to the
// storage, or deletes it there: an acknowledge owed survives a restart.
func (c *Cache) persistOwed(ctx context.Context, dedupKey string) {
	s, ok := c.store.(*storageStore)
	if !ok {
		return
	}
	c.saving.Lock()
	defer c.saving.Unlock()
	c.mu.Lock()
	o, owed := c.owed[dedupKey]
	var saved owedAck
	if owed {
		saved = *o
	}
	c.mu.Unlock()
	if owed {
		c.report(s.saveOwed(ctx, dedupKey, saved))
	} else {
		c.report(s.Client.Delete(ctx, owedPrefix+dedupKey))
	}
}

// owedNow reports whether o is due now: no record of its alert that arrived
// before it waits in a queue (it may be a resolve and a new trigger, whose
// incident the acknowledge is meant for), here or read back from an earlier
// run, and its incident is open and unacknowledged; or, its alert's entry
// forgotten since, it was ready or deferred. c.mu must be held.
func (c *Cache) owedNow(dedupKey string, o *owedAck) bool {
	if c.olderWaits(dedupKey, o.arrival) {
		return false
	}
	if e := c.lru.entries[dedupKey]; e != nil {
		return e.owes(o.time)
	}
	return o.ready || o.deferred
}

// OwedAck is an acknowledge the exporter owes: queue it as an Event with
// Auto set, Action Acknowledge, Time and Arrival as given.
type OwedAck struct {
	DedupKey      string
	Time, Arrival int64
}

// Owed returns the acknowledges due (see owedAck), each once, and forgets
// those older than the TTL at now while no record of their alert waits.
func (c *Cache) Owed(ctx context.Context, now time.Time) []OwedAck {
	c.mu.Lock()
	var due []OwedAck
	var gone []string
	for key, o := range c.owed {
		if e := c.lru.entries[key]; e != nil && c.settleOwed(key, e) {
			// Applied, or closed by a newer resolve, with nothing of its
			// alert ahead to change that.
			gone = append(gone, key)
			continue
		}
		switch {
		case c.owedNow(key, o):
			due = append(due, OwedAck{DedupKey: key, Time: o.time, Arrival: o.arrival})
		case c.cfg.TTL > 0 && now.UnixNano()-o.arrival >= int64(c.cfg.TTL) && c.lru.pinned[key] == nil && c.readBack.Load() == 0:
			// Too old, and no record of its alert waits that could open
			// its incident.
		default:
			continue
		}
		delete(c.owed, key)
		gone = append(gone, key)
	}
	c.mu.Unlock()
	for _, key := range gone {
		c.persistOwed(ctx, key)
	}
	return due
}
