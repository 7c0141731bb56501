package dedup

import "context"

// Turn is one dedup key's exclusive turn, from Begin to Release. Decision is
// what the cache decided for the event offered to Begin.
type Turn struct {
	Decision

	c        *Cache
	dedupKey string
	event    Event
	slot     *slot // nil once released, and for an untracked event
}

// Begin waits for dedupKey's turn and decides whether ev would change
// anything in PagerDuty. It fails only when ctx ends first. Every Turn must
// be released; commit it once the event is settled.
func (c *Cache) Begin(ctx context.Context, dedupKey string, ev Event) (Turn, error) {
	sl, err := c.turns.acquire(ctx, dedupKey)
	if err != nil {
		return Turn{}, err
	}
	return c.begun(ctx, dedupKey, ev, sl), nil
}

// TryBegin is Begin for a caller that must not wait: it reports false, and
// decides nothing, when another holds dedupKey's turn.
func (c *Cache) TryBegin(ctx context.Context, dedupKey string, ev Event) (Turn, bool) {
	sl, ok := c.turns.tryAcquire(dedupKey)
	if !ok {
		return Turn{}, false
	}
	return c.begun(ctx, dedupKey, ev, sl), true
}

func (c *Cache) begun(ctx context.Context, dedupKey string, ev Event, sl *slot) Turn {
	if ev.Arrival == 0 {
		ev.Arrival = c.now().UnixNano()
	}
	d := c.decide(ctx, dedupKey, ev, false)
	ev.RoutingKey = d.RoutingKey
	return Turn{Decision: d, c: c, dedupKey: dedupKey, event: ev, slot: sl}
}

// Untracked returns a turn for an event the cache does not track, such as a
// change event: its decision is to send under routingKey, and Commit and
// Release do nothing.
func Untracked(routingKey string) Turn {
	return Turn{Decision: Decision{RoutingKey: routingKey}}
}

// Commit records what PagerDuty shows once the turn's event is settled: when
// it was sent, that PagerDuty accepted it under Decision.RoutingKey (written
// through to the storage); when it was suppressed as a duplicate or as
// already applied, that its effect holds as of its time, so that an older
// record, such as a resolve still being retried, is stale; and a firing
// record's quiet period, sent or not (see alert.suppressed).
func (t *Turn) Commit(ctx context.Context) {
	switch {
	case t.c == nil:
	case t.Reason == "":
		t.c.record(ctx, t.dedupKey, t.event, false)
	default:
		t.c.suppressed(ctx, t.dedupKey, t.event, t.Reason)
	}
}

// Unknown records that the turn's event was sent and its outcome is not
// known: the request failed in a way that PagerDuty may have applied it. It
// is taken for applied, for the order of the key's records (an older
// record is stale: the event is retried until it settles, and would undo
// it), but the key's next events are sent, not suppressed as already shown,
// until one is accepted.
func (t *Turn) Unknown(ctx context.Context) {
	if t.c != nil && t.Reason == "" {
		t.c.record(ctx, t.dedupKey, t.event, true)
	}
}

// Release ends the turn; later calls do nothing.
func (t *Turn) Release() {
	if t.slot != nil {
		t.c.turns.release(t.dedupKey, t.slot)
		t.slot = nil
	}
}
