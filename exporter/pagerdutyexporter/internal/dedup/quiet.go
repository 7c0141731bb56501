package dedup

import (
	"context"
	"sync/atomic"
	"time"
)

// quietClocks are the auto-resolve clocks of open alerts. Each running
// clock sits in the bucket of the second it runs out, a list threaded
// through its entry, so that a sweep touches only the buckets come due and
// the entries in them, never the clocks still running: its cost follows the
// alerts that go quiet, not the alerts that are open. It is not safe for
// concurrent use; Cache guards it.
type quietClocks struct {
	epoch int64 // Unix nanoseconds of second 0
	// down lists the times the exporter was not running, which never count
	// as quiet (see alert.quietFrom); by default, all time before the
	// cache's start.
	down    [][2]int64
	buckets map[uint32]*entry // due second -> first entry due then
	next    uint32            // first second not yet swept
	running int
	used    *atomic.Bool // a clock has run; read without the cache's lock
}

func newQuietClocks(now int64) quietClocks {
	// Second 0 is one before now, so that a due second is never 0, which
	// marks a stopped clock.
	return quietClocks{epoch: now - int64(time.Second), down: [][2]int64{{0, now}}, buckets: map[uint32]*entry{}, next: 1, used: new(atomic.Bool)}
}

// floorSecond is the last whole second at or before now: the bucket a clock
// that runs out at now sits in.
func (q *quietClocks) floorSecond(now int64) uint32 {
	return uint32(max(now-q.epoch, 0) / int64(time.Second)) //nolint:gosec // G115: 136 years of seconds fit
}

// start (re)starts e's clock, from its alert's quietFrom, for e.quietFor
// seconds; it only stops it when no clock runs (see alert.quietFrom). A
// clock whose period ran out before the next sweep runs out at that sweep.
func (q *quietClocks) start(e *entry) {
	q.stop(e)
	from, ok := e.quietFrom(q.down)
	if !ok {
		return
	}
	// In the bucket of the second its period runs out in, checked to the
	// nanosecond when that second is swept (see sweep); on the sum, so that
	// a clock started before the epoch (read back from an earlier run)
	// keeps the quiet time it had.
	due := max(q.floorSecond(from+int64(e.quietFor)*int64(time.Second)), q.next)
	e.quietUntil = due
	e.timerPrev, e.timerNext = nil, q.buckets[due]
	if e.timerNext != nil {
		e.timerNext.timerPrev = e
	}
	q.buckets[due] = e
	q.running++
	q.used.Store(true)
}

// stop stops e's clock, if it runs.
func (q *quietClocks) stop(e *entry) {
	if e.quietUntil == 0 {
		return
	}
	switch {
	case e.timerPrev != nil:
		e.timerPrev.timerNext = e.timerNext
	case e.timerNext != nil:
		q.buckets[e.quietUntil] = e.timerNext
	default:
		delete(q.buckets, e.quietUntil)
	}
	if e.timerNext != nil {
		e.timerNext.timerPrev = e.timerPrev
	}
	e.quietUntil, e.timerPrev, e.timerNext = 0, nil, nil
	q.running--
}

// sweep stops every clock that has run out by now and calls fn with its
// entry. The clocks of the second now is in that have not run out yet stay,
// for the next sweep: an alert is resolved at the first sweep at or after
// its period ran out, to the nanosecond.
func (q *quietClocks) sweep(now int64, fn func(*entry)) {
	upTo := q.floorSecond(now)
	if upTo < q.next {
		return
	}
	take := func(second uint32) {
		var later *entry
		for e := q.buckets[second]; e != nil; e = q.buckets[second] {
			q.stop(e)
			if from, ok := e.quietFrom(q.down); second == upTo && ok && from+int64(e.quietFor)*int64(time.Second) > now {
				e.timerNext, later = later, e // not yet: put back below
				continue
			}
			fn(e)
		}
		for later != nil {
			e := later
			later = e.timerNext
			q.start(e)
		}
	}
	if gap := uint64(upTo - q.next); gap > uint64(len(q.buckets)) {
		// Long asleep (a suspended process): fewer buckets than seconds.
		for second := range q.buckets {
			if second <= upTo {
				take(second)
			}
		}
	} else {
		for second := q.next; second <= upTo; second++ {
			take(second)
		}
	}
	q.next = upTo // the second now is in may hold clocks still running
}

// quietSeconds is d in whole seconds, rounded up, as a clock counts it; 0
// for d <= 0.
func quietSeconds(d time.Duration) uint32 {
	if d <= 0 {
		return 0
	}
	return uint32(min((d+time.Second-1)/time.Second, 1<<31))
}

// firing notes a firing record that reached the exporter (ev.Arrival):
// when it is the newest firing record of its alert, its quiet period is the
// alert's and the clock restarts from its arrival, whether the record will
// be sent, suppressed as a repeat, or waits in a queue. An alert the cache
// does not hold yet keeps it in its pin (p), for the entry to come. c.mu
// must be held.
func (c *Cache) firing(dedupKey string, ev *Event, p *pin, now int64) {
	e, ok := c.lru.entries[dedupKey]
	if !ok {
		if p != nil {
			p.firing.firing(ev)
		}
		return
	}
	if !e.firing(ev) {
		return
	}
	c.unsave(dedupKey)
	c.lru.quiet.start(e)
	if e.awaitsAutoResolve() {
		// A firing alert stays known, even with dedup.ttl shorter than its
		// quiet period (see lru.expired).
		c.lru.unlink(e)
		c.lru.link(e, now)
	}
}

// QuietAlert is an open alert whose auto-resolve clock ran out.
type QuietAlert struct {
	DedupKey string
	// QuietFor is the alert's quiet period.
	QuietFor time.Duration
	// At is when the auto-resolve was decided, in Unix nanoseconds: the
	// Arrival of its Event.
	At int64
}

// Quiet stops the auto-resolve clocks that have run out by now and returns
// their alerts: the decision to resolve each is taken, as of now, and the
// caller queues the resolve (an Event with Auto set and Arrival At), or
// calls Refused to start its clock again. Its cost follows the clocks run
// out, not the alerts open. While records an earlier run queued are left
// (see ReadBack), nothing is decided: a firing record among them, unknown
// to the cache, would show the alert was not quiet.
func (c *Cache) Quiet(ctx context.Context, now time.Time) []QuietAlert {
	if c.readBack.Load() > 0 {
		return nil
	}
	at := now.UnixNano()
	c.mu.Lock()
	var quiet []QuietAlert
	c.lru.quiet.sweep(at, func(e *entry) {
		e.autoResolveDecided(at)
		quiet = append(quiet, QuietAlert{DedupKey: e.key, QuietFor: time.Duration(e.quietFor) * time.Second, At: at})
	})
	c.mu.Unlock()
	for _, q := range quiet {
		c.persist(ctx, q.DedupKey)
	}
	return quiet
}

// Resume sets the times the exporter was not running, from each stop to
// the next start, oldest first, in Unix nanoseconds of its clock, the last
// one ending at this start; a stop of 0 (unknown: a kill, a crash) makes
// all time before its start down. That time never counts as quiet, the
// quiet time an alert had before a clean stop does. Without it, the clock
// of every alert read back starts again from the cache's start. A caller
// that moves the clock forward at start (see Newest) ends the last one
// after the move, so that it is not taken for quiet time.
func (c *Cache) Resume(down [][2]int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lru.quiet.down = down
	for _, e := range c.lru.entries {
		if e.quietUntil != 0 {
			c.lru.quiet.start(e)
		}
	}
}

// Refused notes that the resolve of a quiet alert could not be queued: its
// clock starts again from now, for a whole quiet period.
func (c *Cache) Refused(dedupKey string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.lru.entries[dedupKey]
	if !ok {
		return
	}
	e.firingAt = max(e.firingAt, c.now().UnixNano())
	c.lru.quiet.start(e)
}
