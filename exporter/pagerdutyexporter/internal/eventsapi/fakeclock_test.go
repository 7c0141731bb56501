package eventsapi

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeClock moves only when a test moves it, so that minutes of traffic run
// in an instant and every grant happens at a known time. Timers fire in the
// goroutine that moves the clock.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*fakeTimer
}

type fakeTimer struct {
	c     *fakeClock
	when  time.Time
	f     func()
	armed bool
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Unix(1_700_000_000, 0)}
}

func (c *fakeClock) clock() clock {
	return clock{now: c.Now, afterFunc: c.afterFunc}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) afterFunc(d time.Duration, f func()) timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &fakeTimer{c: c, when: c.now.Add(d), f: f, armed: true}
	c.timers = append(c.timers, t)
	return t
}

func (t *fakeTimer) Reset(d time.Duration) bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	was := t.armed
	t.when, t.armed = t.c.now.Add(d), true
	return was
}

// advance moves the clock by d, firing each timer due on the way at its own
// time, earliest first.
func (c *fakeClock) advance(d time.Duration) {
	to := c.Now().Add(d)
	for c.fireNext(to) {
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if to.After(c.now) {
		c.now = to
	}
}

// fireNext moves the clock to the earliest armed timer due by until and
// fires it. It reports whether there was one.
func (c *fakeClock) fireNext(until time.Time) bool {
	c.mu.Lock()
	var next *fakeTimer
	for _, t := range c.timers {
		if t.armed && !t.when.After(until) && (next == nil || t.when.Before(next.when)) {
			next = t
		}
	}
	if next == nil {
		c.mu.Unlock()
		return false
	}
	next.armed = false
	if next.when.After(c.now) {
		c.now = next.when
	}
	c.mu.Unlock()
	// Unlocked: the timer's function may arm timers itself.
	next.f()
	return true
}

// limiterSim drives one key of a Limiter on a fakeClock: the test starts
// events waiting, then moves from slot to slot, learning at each which
// event got it.
type limiterSim struct {
	t       *testing.T
	l       *Limiter
	clock   *fakeClock
	queued  int // events started and not yet granted
	granted chan grant
	grants  []grant
}

// grant is one slot handed to an event.
type grant struct {
	name    string
	rank    int
	arrived time.Time
	at      time.Time
}

const simKey = "routing-key"

func newLimiterSim(t *testing.T, eventsPerMinute, burst int) *limiterSim {
	c := newFakeClock()
	return &limiterSim{t: t, l: newLimiter(eventsPerMinute, burst, c.clock()), clock: c, granted: make(chan grant, 1)}
}

// waiting returns how many events wait for the key's next slot.
func (s *limiterSim) waiting() int {
	k := s.l.forKey(simKey)
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.waiters.Len()
}

// spend takes a slot that must be free now.
func (s *limiterSim) spend() {
	waited, err := s.l.Wait(context.Background(), simKey, 0, time.Time{})
	require.NoError(s.t, err)
	require.Zero(s.t, waited, "a slot was free")
}

// wait starts an event waiting, and returns once it is in the queue.
func (s *limiterSim) wait(name string, rank int, arrived time.Time) {
	s.t.Helper()
	s.queued++
	go func() {
		_, err := s.l.Wait(context.Background(), simKey, rank, arrived)
		assert.NoError(s.t, err)
		s.granted <- grant{name: name, rank: rank, arrived: arrived, at: s.clock.Now()}
	}()
	want := s.queued
	waitFor(s.t, func() bool { return s.waiting() == want })
}

// next moves the clock to the next slot and returns the event granted it.
func (s *limiterSim) next() grant {
	s.t.Helper()
	for s.waiting() == s.queued {
		// A timer may find its slot still a rounding error away, and re-arm.
		require.True(s.t, s.clock.fireNext(s.clock.Now().Add(time.Hour)), "events wait and no slot is coming")
	}
	s.queued--
	select {
	case g := <-s.granted:
		s.grants = append(s.grants, g)
		return g
	case <-time.After(5 * time.Second):
		s.t.Fatal("the granted event did not return from Wait")
		return grant{}
	}
}
