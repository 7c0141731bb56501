package eventsapi

import (
	"context"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// window is the span the limit applies to: PagerDuty's sliding 60 seconds,
// plus a second of slack so that jitter between our send time and PagerDuty's
// receive time cannot push one more event into a server-side window.
const window = time.Minute + time.Second

// Limiter paces events per routing key: a token bucket spreads them at
// eventsPerMinute with bursts of at most burst, and a log of the last
// eventsPerMinute send times guarantees that no sliding window ever holds more
// than eventsPerMinute. The bucket alone cannot promise that: a full bucket
// adds burst events on top of a minute's refill.
type Limiter struct {
	perWindow int
	limit     rate.Limit
	burst     int

	mu   sync.Mutex
	keys map[string]*keyLimiter
}

type keyLimiter struct {
	mu     sync.Mutex
	bucket *rate.Limiter
	sent   []time.Time // ring of the last perWindow send times
	next   int         // oldest entry of sent once it is full
}

// NewLimiter returns a limiter allowing eventsPerMinute events per routing
// key in any 60-second window, burst of them at once. eventsPerMinute 0
// disables limiting; otherwise burst must be in [1, eventsPerMinute].
func NewLimiter(eventsPerMinute, burst int) *Limiter {
	l := &Limiter{perWindow: eventsPerMinute, burst: burst}
	if eventsPerMinute > 0 {
		l.limit = rate.Limit(float64(eventsPerMinute) / time.Minute.Seconds())
		l.keys = make(map[string]*keyLimiter)
	}
	return l
}

// Wait blocks until an event may be sent under routingKey and returns how long
// it waited. It fails only when ctx ends first; the slot it held then stays
// counted, which can only make later events wait a little longer.
func (l *Limiter) Wait(ctx context.Context, routingKey string) (time.Duration, error) {
	if l.perWindow == 0 {
		return 0, nil
	}
	delay := l.reserve(routingKey, time.Now())
	if delay == 0 {
		return 0, nil
	}
	t := time.NewTimer(delay)
	defer t.Stop()
	select {
	case <-t.C:
		return delay, nil
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

// reserve books the next send slot for routingKey at or after now and returns
// how long until it.
func (l *Limiter) reserve(routingKey string, now time.Time) time.Duration {
	k := l.forKey(routingKey)
	k.mu.Lock()
	defer k.mu.Unlock()
	at := now.Add(k.bucket.ReserveN(now, 1).DelayFrom(now))
	if len(k.sent) < l.perWindow {
		k.sent = append(k.sent, at)
		return at.Sub(now)
	}
	if earliest := k.sent[k.next].Add(window); at.Before(earliest) {
		at = earliest
	}
	k.sent[k.next] = at
	k.next = (k.next + 1) % l.perWindow
	return at.Sub(now)
}

func (l *Limiter) forKey(routingKey string) *keyLimiter {
	l.mu.Lock()
	defer l.mu.Unlock()
	k, ok := l.keys[routingKey]
	if !ok {
		k = &keyLimiter{bucket: rate.NewLimiter(l.limit, l.burst)}
		l.keys[routingKey] = k
	}
	return k
}
