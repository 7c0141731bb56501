package eventsapi

import (
	"context"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// windowSlack widens the window the limiter is sized for, so that jitter
// between our send time and PagerDuty's receive time cannot push one more
// event into a server-side 60-second window.
const windowSlack = time.Second

// Limiter paces events per routing key so that no sliding 60-second window
// ever holds more than the configured events per minute.
//
// A token bucket with rate r and burst b admits at most b + r·T events in any
// interval of length T. A bucket refilling at eventsPerMinute/min would let
// b extra events through; refilling at (eventsPerMinute-b) per window keeps
// b + r·window at exactly eventsPerMinute.
type Limiter struct {
	limit rate.Limit
	burst int

	mu   sync.Mutex
	keys map[string]*rate.Limiter
}

// NewLimiter returns a limiter allowing eventsPerMinute events per routing
// key in any 60-second window, burst of them at once. eventsPerMinute 0
// disables limiting; otherwise burst must be in [1, eventsPerMinute).
func NewLimiter(eventsPerMinute, burst int) *Limiter {
	l := &Limiter{limit: rate.Inf, burst: burst}
	if eventsPerMinute > 0 {
		window := time.Minute + windowSlack
		l.limit = rate.Limit(float64(eventsPerMinute-burst) / window.Seconds())
		l.keys = make(map[string]*rate.Limiter)
	}
	return l
}

// Wait blocks until an event may be sent under routingKey and returns how long
// it waited. It fails only when ctx ends first.
func (l *Limiter) Wait(ctx context.Context, routingKey string) (time.Duration, error) {
	if l.limit == rate.Inf {
		return 0, nil
	}
	lim := l.forKey(routingKey)
	r := lim.Reserve()
	delay := r.Delay()
	if delay == 0 {
		return 0, nil
	}
	t := time.NewTimer(delay)
	defer t.Stop()
	select {
	case <-t.C:
		return delay, nil
	case <-ctx.Done():
		r.Cancel()
		return 0, ctx.Err()
	}
}

func (l *Limiter) forKey(routingKey string) *rate.Limiter {
	l.mu.Lock()
	defer l.mu.Unlock()
	lim, ok := l.keys[routingKey]
	if !ok {
		lim = rate.NewLimiter(l.limit, l.burst)
		l.keys[routingKey] = lim
	}
	return lim
}
