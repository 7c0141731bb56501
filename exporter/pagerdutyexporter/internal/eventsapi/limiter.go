package eventsapi

import (
	"container/heap"
	"context"
	"slices"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// window is the span the limit applies to: PagerDuty computes its limit of
// "approximately 120 calls/minute per integration key" over "a 60 second
// window looking back from the current time"
// (https://developer.pagerduty.com/docs/events-api-rate-limits), and a
// second of slack is added so that jitter between our send time and
// PagerDuty's receive time cannot push one more event into a server-side
// window. PagerDuty also adjusts its limits to the traffic
// (https://developer.pagerduty.com/docs/events-api-v2-overview#rate-limits),
// so a 429 remains possible under the limit; the retry sender handles it.
const window = time.Minute + time.Second

// MaxSendLog bounds the log of send times kept per routing key, in entries
// (one per event). Up to this many events per minute, the log guarantees
// that no sliding window ever holds more than the limit while sending at the
// full rate; above it, the bucket alone paces the key, at eventsPerMinute -
// burst per minute, so that a full burst on top of a minute's refill still
// fits the window. Memory per key is thus at most MaxSendLog times 24 bytes
// (a time.Time).
const MaxSendLog = 4096

// AgingStep is how much earlier, per step of rank, an event must have reached
// the exporter to go before a more urgent one. An event of rank r is never
// overtaken by an event of rank r-k that reached the exporter more than
// k*AgingStep after it, so no rank starves. The bound holds per event, from
// its arrival at the exporter, not from when it began to wait here: the
// records of one request, which a consumer hands to Wait one after another,
// all age from when the request came.
const AgingStep = time.Minute

// Limiter paces events per routing key: a token bucket spreads them at
// eventsPerMinute with bursts of at most burst, and a log of the last
// eventsPerMinute send times guarantees that no sliding window ever holds more
// than eventsPerMinute. The bucket alone cannot promise that: a full bucket
// adds burst events on top of a minute's refill.
//
// When more events wait for a key than it lets out, the next free slot goes
// to the waiter with the earliest deadline: the time its event reached the
// exporter plus its rank times AgingStep. Rank 0 is the most urgent; equal
// deadlines go in order of arrival at the exporter, then at the limiter.
// Slots are handed out as they come due, never booked ahead, so an urgent
// event is next behind any backlog that has not aged past it.
//
// The zero Limiter imposes no limit. A Limiter is safe for concurrent use.
type Limiter struct {
	perWindow int // 0: no limit
	limit     rate.Limit
	burst     int
	logSize   int // 0: the bucket alone paces
	clock     clock

	mu   sync.Mutex
	keys map[string]*keyLimiter
}

// clock is where a Limiter reads the time and arms its timers, so that tests
// can run minutes of traffic without waiting for them.
type clock struct {
	now       func() time.Time
	afterFunc func(d time.Duration, f func()) timer
}

// timer is the part of *time.Timer a Limiter uses.
type timer interface {
	Reset(d time.Duration) bool
}

var systemClock = clock{
	now:       time.Now,
	afterFunc: func(d time.Duration, f func()) timer { return time.AfterFunc(d, f) },
}

type keyLimiter struct {
	l *Limiter

	mu      sync.Mutex
	bucket  *rate.Limiter
	sent    []time.Time // ring of the last logSize send times
	next    int         // oldest entry of sent once it is full
	waiters waitQueue
	seq     uint64
	timer   timer // nil until a waiter first had to wait
}

// NewLimiter returns a limiter allowing eventsPerMinute events per routing
// key in any 60-second window, burst of them at once. eventsPerMinute 0
// disables limiting; otherwise burst must be in [1, eventsPerMinute].
// PagerDuty's own limit is about 120 a minute per integration key
// (https://developer.pagerduty.com/docs/events-api-rate-limits).
func NewLimiter(eventsPerMinute, burst int) *Limiter {
	return newLimiter(eventsPerMinute, burst, systemClock)
}

func newLimiter(eventsPerMinute, burst int, c clock) *Limiter {
	l := &Limiter{perWindow: eventsPerMinute, burst: burst, clock: c}
	if eventsPerMinute <= 0 {
		return l
	}
	if eventsPerMinute <= MaxSendLog {
		// The log holds the window; the bucket only spreads events out.
		l.logSize = eventsPerMinute
		l.limit = rate.Limit(float64(eventsPerMinute) / time.Minute.Seconds())
	} else {
		// A burst plus a window's refill must fit the limit.
		l.limit = rate.Limit(float64(max(eventsPerMinute-burst, 1)) / window.Seconds())
	}
	l.keys = make(map[string]*keyLimiter)
	return l
}

// Wait blocks until an event of the given rank (0 most urgent) that reached
// the exporter at arrived may be sent under routingKey, and returns how long
// it waited here: 0 when a slot was free at once, as it always is without a
// limit. A zero arrived, or one later than now (the wall clock stepped
// back), counts as now. It fails only when ctx ends first; the event then
// takes no slot.
func (l *Limiter) Wait(ctx context.Context, routingKey string, rank int, arrived time.Time) (time.Duration, error) {
	if l.perWindow == 0 {
		return 0, nil
	}
	k := l.forKey(routingKey)
	start := l.clock.now()
	if arrived.IsZero() || arrived.After(start) {
		arrived = start
	}
	// Deadlines compare by the wall clock alone: arrivals read back from a
	// queue carry no monotonic reading, and a heap comparing some pairs by
	// one reading and some by the other could lose its order.
	arrived = arrived.Round(0)
	k.mu.Lock()
	if k.waiters.Len() == 0 && !k.nextSlot(start).After(start) {
		k.take(start)
		k.mu.Unlock()
		return 0, nil
	}
	w := &waiter{arrived: arrived, deadline: arrived.Add(time.Duration(rank) * AgingStep), ready: make(chan struct{})}
	w.seq = k.seq
	k.seq++
	heap.Push(&k.waiters, w)
	k.grant(start)
	granted := w.index < 0
	k.mu.Unlock()
	if granted {
		return 0, nil
	}

	select {
	case <-w.ready:
		return l.clock.now().Sub(start), nil
	case <-ctx.Done():
		k.mu.Lock()
		defer k.mu.Unlock()
		if w.index < 0 {
			// Granted meanwhile: the slot is spent either way.
			return l.clock.now().Sub(start), nil
		}
		heap.Remove(&k.waiters, w.index)
		return 0, ctx.Err()
	}
}

// grant hands every slot due at now to the most urgent waiters, then arms
// the timer for the next slot if anyone still waits. k.mu must be held.
func (k *keyLimiter) grant(now time.Time) {
	for k.waiters.Len() > 0 {
		at := k.nextSlot(now)
		if at.After(now) {
			if k.timer == nil {
				k.timer = k.l.clock.afterFunc(at.Sub(now), k.onTimer)
			} else {
				k.timer.Reset(at.Sub(now))
			}
			return
		}
		k.take(now)
		close(heap.Pop(&k.waiters).(*waiter).ready)
	}
}

func (k *keyLimiter) onTimer() {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.grant(k.l.clock.now())
}

// nextSlot is the earliest time at or after now when an event may go.
func (k *keyLimiter) nextSlot(now time.Time) time.Time {
	at := now
	if tokens := k.bucket.TokensAt(now); tokens < 1 {
		at = now.Add(time.Duration((1 - tokens) / float64(k.bucket.Limit()) * float64(time.Second)))
	}
	if size := k.l.logSize; size > 0 && len(k.sent) == size {
		if earliest := k.sent[k.next].Add(window); at.Before(earliest) {
			at = earliest
		}
	}
	return at
}

// take spends the slot at now, which nextSlot found due.
func (k *keyLimiter) take(now time.Time) {
	// A token short by rounding is borrowed, not waited for.
	k.bucket.ReserveN(now, 1)
	size := k.l.logSize
	switch {
	case size == 0:
	case len(k.sent) < size:
		if k.sent == nil {
			k.sent = make([]time.Time, 0, size)
		}
		k.sent = append(k.sent, now)
	default:
		k.sent[k.next] = now
		k.next = (k.next + 1) % size
	}
}

// Sends returns the times of routingKey's sends that still count against
// its limit (those less than 61 seconds old), oldest first, for Restore to
// seed a limiter with after a restart. It is nil when there are none, when
// limiting is off, and above MaxSendLog events per minute, where no log is
// kept and the bucket alone paces the key.
func (l *Limiter) Sends(routingKey string) []time.Time {
	if l.logSize == 0 {
		return nil
	}
	l.mu.Lock()
	k := l.keys[routingKey]
	l.mu.Unlock()
	if k == nil {
		return nil
	}
	now := l.clock.now()
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.recent(now)
}

// Restore seeds routingKey's limiter with sends, the times of sends made
// under it before a restart (see Sends), as if they had just happened at
// those times: the next slot respects both the 61-second window they fill
// and the bucket they drained, so that a restart does not let a burst
// through that a server enforcing the limit would answer with 429s. Times
// 61 seconds old or older no longer count and are ignored; times after now
// (the wall clock stepped back) count as now. The sends add to those the key
// has made since the start, so restoring twice only slows the key; above
// MaxSendLog events per minute, where no log is kept, the bucket is rebuilt
// from sends alone. Restore does nothing when limiting is off.
func (l *Limiter) Restore(routingKey string, sends []time.Time) {
	if l.perWindow == 0 {
		return
	}
	now := l.clock.now()
	k := l.forKey(routingKey)
	k.mu.Lock()
	defer k.mu.Unlock()
	all := k.recent(now)
	for _, t := range sends {
		if t.After(now) {
			t = now
		}
		if now.Sub(t) < window {
			all = append(all, t.Round(0))
		}
	}
	slices.SortFunc(all, time.Time.Compare)
	// Replayed in order into an empty bucket and log: a bucket fed a time
	// earlier than its last would credit the difference as refill.
	k.bucket = rate.NewLimiter(k.l.limit, k.l.burst)
	k.sent, k.next = nil, 0
	for _, t := range all {
		k.take(t)
	}
	k.grant(now)
}

// recent returns the sends in the log that still count at now, oldest
// first, by the wall clock alone, as they would read back from storage.
// k.mu must be held.
func (k *keyLimiter) recent(now time.Time) []time.Time {
	var out []time.Time
	for i := range len(k.sent) {
		if t := k.sent[(k.next+i)%len(k.sent)]; now.Sub(t) < window {
			out = append(out, t.Round(0))
		}
	}
	return out
}

func (l *Limiter) forKey(routingKey string) *keyLimiter {
	l.mu.Lock()
	defer l.mu.Unlock()
	k, ok := l.keys[routingKey]
	if !ok {
		k = &keyLimiter{l: l, bucket: rate.NewLimiter(l.limit, l.burst)}
		l.keys[routingKey] = k
	}
	return k
}

// waiter is one event waiting for a slot.
type waiter struct {
	arrived  time.Time // at the exporter
	deadline time.Time
	seq      uint64
	index    int // in waitQueue; -1 once granted
	ready    chan struct{}
}

// waitQueue is a heap of waiters, earliest deadline first, then earliest
// arrival at the exporter, then at the limiter.
type waitQueue []*waiter

func (q waitQueue) Len() int { return len(q) }
func (q waitQueue) Less(i, j int) bool {
	if c := q[i].deadline.Compare(q[j].deadline); c != 0 {
		return c < 0
	}
	if c := q[i].arrived.Compare(q[j].arrived); c != 0 {
		return c < 0
	}
	return q[i].seq < q[j].seq
}

func (q waitQueue) Swap(i, j int) {
	q[i], q[j] = q[j], q[i]
	q[i].index, q[j].index = i, j
}

func (q *waitQueue) Push(x any) {
	w := x.(*waiter)
	w.index = len(*q)
	*q = append(*q, w)
}

func (q *waitQueue) Pop() any {
	old := *q
	w := old[len(old)-1]
	old[len(old)-1] = nil
	*q = old[:len(old)-1]
	w.index = -1
	return w
}
