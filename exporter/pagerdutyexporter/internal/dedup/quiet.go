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
