package dedup

import (
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
	epoch   int64             // Unix nanoseconds of second 0
	buckets map[uint32]*entry // due second -> first entry due then
	next    uint32            // first second not yet swept
	running int
	used    *atomic.Bool // a clock has run; read without the cache's lock
}

func newQuietClocks(now int64) quietClocks {
	// Second 0 is one before now, so that a due second is never 0, which
	// marks a stopped clock.
	return quietClocks{epoch: now - int64(time.Second), buckets: map[uint32]*entry{}, next: 1, used: new(atomic.Bool)}
}

// ceilSecond is the first whole second at or after now; floorSecond the
// last at or before it. A clock started at now for d seconds runs out at
// ceilSecond(now)+d, never sooner than d after now.
func (q *quietClocks) ceilSecond(now int64) uint32 {
	return uint32(max(now-q.epoch+int64(time.Second)-1, 0) / int64(time.Second)) //nolint:gosec // G115: 136 years of seconds fit
}

func (q *quietClocks) floorSecond(now int64) uint32 {
	return uint32(max(now-q.epoch, 0) / int64(time.Second)) //nolint:gosec // G115: 136 years of seconds fit
}

// start (re)starts e's clock at now for e.quietFor seconds; with
// e.quietFor 0 it only stops it.
func (q *quietClocks) start(e *entry, now int64) {
	q.stop(e)
	if e.quietFor == 0 {
		return
	}
	due := q.ceilSecond(now) + e.quietFor
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

// restart starts the clock of an alert read back from storage, when it is
// open and auto-resolved: from now, for its whole quiet period, since the
// storage cannot tell how long it had been quiet, and time the collector
// was not running must never count as quiet.
func (q *quietClocks) restart(e *entry, now int64) {
	if e.state.open() {
		q.start(e, now)
	}
}

// sweep stops every clock that has run out by now and calls fn with its
// entry.
func (q *quietClocks) sweep(now int64, fn func(*entry)) {
	upTo := q.floorSecond(now)
	if upTo < q.next {
		return
	}
	take := func(second uint32) {
		for e := q.buckets[second]; e != nil; e = q.buckets[second] {
			q.stop(e)
			fn(e)
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
	q.next = upTo + 1
}

// quietSeconds is d in whole seconds, rounded up, as a clock counts it; 0
// for d <= 0.
func quietSeconds(d time.Duration) uint32 {
	if d <= 0 {
		return 0
	}
	return uint32(min((d+time.Second-1)/time.Second, 1<<31))
}

// Firing notes that a firing record of dedupKey reached the exporter: if
// the cache holds the alert open, its auto-resolve clock restarts, for
// quietFor (0: the alert is never auto-resolved), whether the record will
// be sent, suppressed as a repeat, or waits in a queue. It takes no turn:
// the clock is the cache's alone, and a later sweep sees the restart. While
// a clock runs, a firing record also keeps the alert's entry from expiring,
// so that dedup.ttl longer than the quiet period keeps the alert known.
func (c *Cache) Firing(dedupKey string, quietFor time.Duration) {
	if quietFor <= 0 && !c.lru.quiet.used.Load() {
		// No clock ever ran: nothing to restart or stop. The common case
		// costs no lock.
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.lru.entries[dedupKey]
	if !ok || !e.state.open() {
		return
	}
	now := c.now().UnixNano()
	e.quietFor = quietSeconds(quietFor)
	c.lru.quiet.start(e, now)
	if e.quietFor > 0 {
		c.lru.unlink(e)
		c.lru.link(e, now)
	}
}

// QuietAlert is an open alert whose auto-resolve clock ran out.
type QuietAlert struct {
	DedupKey string
	// RoutingKey is the key of the incident's route, "" when the route is
	// no longer configured.
	RoutingKey string
	// QuietFor is the alert's quiet period.
	QuietFor time.Duration
}

// Quiet stops the auto-resolve clocks that have run out by now and returns
// their alerts. The caller resolves each (an Event with Auto set), or calls
// Firing to start its clock again. Its cost follows the clocks run out, not
// the alerts open.
func (c *Cache) Quiet(now time.Time) []QuietAlert {
	c.mu.Lock()
	defer c.mu.Unlock()
	var quiet []QuietAlert
	c.lru.quiet.sweep(now.UnixNano(), func(e *entry) {
		quiet = append(quiet, QuietAlert{DedupKey: e.key, RoutingKey: c.keys.key(e.route), QuietFor: time.Duration(e.quietFor) * time.Second})
	})
	return quiet
}
