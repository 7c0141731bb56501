package eventsapi

import (
	"container/heap"
	"context"
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestLimiterNeverExceedsSlidingWindow drives the per-key bucket greedily on
// a simulated clock and checks every 60-second window, as PagerDuty counts.
func TestLimiterNeverExceedsSlidingWindow(t *testing.T) {
	for _, tc := range []struct{ perMinute, burst int }{
		{120, 10}, {120, 1}, {120, 120}, {6, 5}, {MaxSendLog, 100}, {10000, 100},
	} {
		l := NewLimiter(tc.perMinute, tc.burst)
		start := time.Unix(1_700_000_000, 0)
		now := start
		var sent []time.Time
		for now.Sub(start) < 5*time.Minute {
			now = now.Add(reserve(l, "k", now))
			sent = append(sent, now)
		}
		most, j := 0, 0
		for i, first := range sent {
			for j < len(sent) && sent[j].Sub(first) < time.Minute+time.Second/2 {
				j++
			}
			most = max(most, j-i)
		}
		assert.LessOrEqual(t, most, tc.perMinute, "events in a 60s window for %+v", tc)
		// Nor needlessly slow: over five minutes, within 3% of the limit.
		perMinute := float64(len(sent)) / now.Sub(start).Minutes()
		assert.GreaterOrEqual(t, perMinute, 0.97*float64(tc.perMinute), "throughput for %+v", tc)
	}
}

func TestLimiterKeysAreIndependent(t *testing.T) {
	l := NewLimiter(120, 1)
	ctx := context.Background()
	waited, err := l.Wait(ctx, "a", 0, time.Time{})
	require.NoError(t, err)
	assert.Zero(t, waited)
	// "a" has used its burst; "b" has not.
	waited, err = l.Wait(ctx, "b", 0, time.Time{})
	require.NoError(t, err)
	assert.Zero(t, waited)

	canceled, cancel := context.WithCancel(ctx)
	cancel()
	_, err = l.Wait(canceled, "a", 0, time.Time{})
	require.ErrorIs(t, err, context.Canceled)
}

func TestLimiterDisabled(t *testing.T) {
	l := NewLimiter(0, 0)
	for range 1000 {
		waited, err := l.Wait(context.Background(), "k", 0, time.Time{})
		require.NoError(t, err)
		require.Zero(t, waited)
	}
	assert.Nil(t, l.keys, "a disabled limiter keeps no per-key state")
}

// reserve is a greedy sender on a simulated clock: the delay until its next
// event may go.
func reserve(l *Limiter, key string, now time.Time) time.Duration {
	k := l.forKey(key)
	k.mu.Lock()
	defer k.mu.Unlock()
	at := k.nextSlot(now)
	k.take(at)
	return at.Sub(now)
}

// TestLimiterMemoryIsBounded: whatever events_per_minute is, a key keeps at
// most MaxSendLog send times.
func TestLimiterMemoryIsBounded(t *testing.T) {
	for _, perMinute := range []int{120, MaxSendLog, MaxSendLog + 1, 2_000_000} {
		l := NewLimiter(perMinute, 10)
		now := time.Unix(1_700_000_000, 0)
		for range 3 * MaxSendLog {
			now = now.Add(reserve(l, "k", now))
		}
		k := l.forKey("k")
		assert.LessOrEqual(t, len(k.sent), MaxSendLog, "send log for %d/min", perMinute)
		assert.LessOrEqual(t, cap(k.sent), MaxSendLog, "send log capacity for %d/min", perMinute)
	}
}

// TestLimiterServesMostUrgentFirst: with a backlog of rank-4 waiters ahead of
// it, a rank-0 event gets the next slot, and the backlog then drains in the
// order it came, a slot each.
func TestLimiterServesMostUrgentFirst(t *testing.T) {
	// 600/min, burst 1: a slot every 100 ms, none booked ahead.
	s := newLimiterSim(t, 600, 1)
	t0 := s.clock.Now()
	s.spend()
	for i := range 5 {
		s.wait(fmt.Sprintf("info-%d", i), 4, time.Time{})
	}
	s.wait("critical", 0, time.Time{})
	var got []string
	for i := range 6 {
		g := s.next()
		got = append(got, g.name)
		assert.Equal(t, time.Duration(i+1)*100*time.Millisecond, g.at.Sub(t0), "slot of %s", g.name)
	}
	assert.Equal(t, []string{"critical", "info-0", "info-1", "info-2", "info-3", "info-4"}, got)
}

// TestWaitQueueOrder: the earliest deadline goes first; between equal
// deadlines, the event that reached the exporter first, then the one that
// reached the limiter first.
func TestWaitQueueOrder(t *testing.T) {
	var q waitQueue
	t0 := time.Unix(1_700_000_000, 0)
	push := func(seq uint64, arrived time.Time, rank int) {
		heap.Push(&q, &waiter{arrived: arrived, deadline: arrived.Add(time.Duration(rank) * AgingStep), seq: seq})
	}
	push(0, t0.Add(4*AgingStep+time.Second), 0) // critical, 4m1s after the info
	push(1, t0.Add(4*AgingStep), 0)             // critical, 4m after the info: the same deadline
	push(2, t0, 4)                              // info
	push(3, t0.Add(4*AgingStep-time.Second), 0) // critical, 3m59s after the info
	push(4, t0, 4)                              // info of the same request, later at the limiter
	var got []uint64
	for q.Len() > 0 {
		got = append(got, heap.Pop(&q).(*waiter).seq)
	}
	assert.Equal(t, []uint64{3, 2, 4, 1, 0}, got,
		"the younger critical overtakes; the aged infos go before the critical that arrived as late as their aging or later")
}

// TestLimiterAgingBoundsStarvation: rank-0 events keep the key busy on their
// own (each of two consumers brings a fresh one as soon as its last is
// sent), and a rank-4 event arrived at t0. Until t0+4×AgingStep the rank-0
// events go first; after it, only those that arrived before it, at most one
// per consumer, still go ahead of the rank-4 event.
func TestLimiterAgingBoundsStarvation(t *testing.T) {
	const consumers = 2
	s := newLimiterSim(t, 60, 1) // a slot about every second
	t0 := s.clock.Now()
	s.spend()
	for range consumers {
		s.wait("critical", 0, t0)
	}
	s.wait("info", 4, t0)
	aged := t0.Add(4 * AgingStep)

	info := s.next()
	for ; info.rank == 0; info = s.next() {
		require.True(t, info.arrived.Before(aged), "a rank-0 event that arrived at %v, after the rank-4 one aged, went first", info.arrived.Sub(t0))
		s.wait("critical", 0, s.clock.Now())
	}
	assert.False(t, info.at.Before(aged), "rank 0 goes first while the rank-4 event is younger than its aging: granted at %v", info.at.Sub(t0))
	late := 0
	for _, g := range s.grants[:len(s.grants)-1] {
		if !g.at.Before(aged) {
			late++
		}
	}
	assert.LessOrEqual(t, late, consumers, "slots after t0+4×AgingStep went to rank 0 before the rank-4 event")
	assert.Greater(t, len(s.grants), 200, "the rank-0 stream kept the key busy")
}

// TestLimiterAgesEventsFromArrival: a consumer hands the records of one
// request to the limiter one after another, and they all arrived with the
// request. Once the first has aged past a steady rank-0 stream, the rest
// follow it slot after slot; aged from their own turn to wait, each would
// wait AgingStep×rank more, and a request of 20 would take 80 minutes.
func TestLimiterAgesEventsFromArrival(t *testing.T) {
	const consumers, infos = 2, 20
	s := newLimiterSim(t, 60, 1)
	t0 := s.clock.Now()
	s.spend()
	for range consumers {
		s.wait("critical", 0, t0)
	}
	s.wait("info", 4, t0)
	sent, first := 0, -1
	for sent < infos && s.clock.Now().Before(t0.Add(15*time.Minute)) {
		if g := s.next(); g.rank == 0 {
			s.wait("critical", 0, s.clock.Now())
			continue
		}
		if sent == 0 {
			first = len(s.grants) - 1
		}
		sent++
		if sent < infos {
			s.wait("info", 4, t0)
		}
	}
	require.Equal(t, infos, sent, "the request's records are all sent within 15 minutes")
	aged := t0.Add(4 * AgingStep)
	for _, g := range s.grants[first:] {
		assert.Equal(t, 4, g.rank, "a rank-0 event that arrived at %v, after the request aged, went between its records", g.arrived.Sub(t0))
	}
	last := s.grants[len(s.grants)-1].at
	assert.Less(t, last.Sub(aged), time.Duration(infos+consumers+2)*time.Second, "the records went one slot after another once aged")
}

// TestLimiterArrivalDefaultsToNow: a zero arrival, or one in the future (the
// wall clock stepped back since), counts as the time Wait is called.
func TestLimiterArrivalDefaultsToNow(t *testing.T) {
	s := newLimiterSim(t, 60, 1)
	t0 := s.clock.Now()
	s.spend()
	s.clock.advance(500 * time.Millisecond)
	s.wait("now", 0, time.Time{})
	s.wait("earlier", 0, t0)
	s.wait("future", 0, t0.Add(time.Hour))
	s.wait("rank 1", 1, t0)
	var got []string
	for range 4 {
		got = append(got, s.next().name)
	}
	assert.Equal(t, []string{"earlier", "now", "future", "rank 1"}, got)
}

// TestLimiterCanceledWaiterTakesNoSlot: a waiter whose context ends leaves
// the queue without a slot; the next one gets the slot it would have had.
func TestLimiterCanceledWaiterTakesNoSlot(t *testing.T) {
	s := newLimiterSim(t, 600, 1) // a slot every 100 ms
	t0 := s.clock.Now()
	s.spend()
	canceled, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() {
		_, err := s.l.Wait(canceled, simKey, 0, time.Time{})
		done <- err
	}()
	waitFor(t, func() bool { return s.waiting() == 1 })
	cancel()
	require.ErrorIs(t, <-done, context.Canceled)
	assert.Zero(t, s.waiting())
	assert.Equal(t, unixNanos([]time.Time{t0}), unixNanos(s.l.Sends(simKey)), "only the first event took a slot")

	s.wait("next", 0, time.Time{})
	g := s.next()
	assert.Equal(t, t0.Add(100*time.Millisecond), g.at, "the next event gets the first slot after the burst")
	assert.Equal(t, unixNanos([]time.Time{t0, g.at}), unixNanos(s.l.Sends(simKey)))
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	require.Eventually(t, cond, 5*time.Second, time.Millisecond)
}

// TestLimiterRestoreHoldsTheWindow: a limiter restored with a full minute's
// sends, made in the last 10 seconds, lets the next event go only once the
// oldest of them is a window old, as a server counting them would.
func TestLimiterRestoreHoldsTheWindow(t *testing.T) {
	const perMinute = 120
	s := newLimiterSim(t, perMinute, 10)
	now := s.clock.Now()
	sends := make([]time.Time, perMinute)
	for i := range sends {
		sends[i] = now.Add(-10*time.Second + time.Duration(i)*10*time.Second/perMinute)
	}
	s.l.Restore(simKey, sends)
	assert.Equal(t, unixNanos(sends), unixNanos(s.l.Sends(simKey)))

	waited, err := s.l.Wait(context.Background(), "another key", 0, time.Time{})
	require.NoError(t, err)
	assert.Zero(t, waited, "other keys are not held back")
	s.wait("after restart", 0, time.Time{})
	g := s.next()
	assert.Equal(t, sends[0].Add(window), g.at, "granted %v after the restore", g.at.Sub(now))
}

// TestLimiterRestoreDrainsTheBucket: sends restored within the window still
// spend the bucket, whether or not a log is kept.
func TestLimiterRestoreDrainsTheBucket(t *testing.T) {
	for _, tc := range []struct {
		perMinute, burst int
		next             time.Duration // after the restore, when the next slot comes
	}{
		{120, 10, 500 * time.Millisecond},                    // a token every 0.5 s
		{2 * MaxSendLog, 100, window / (2*MaxSendLog - 100)}, // no log: the bucket alone, over 61 s
	} {
		t.Run(strconv.Itoa(tc.perMinute), func(t *testing.T) {
			s := newLimiterSim(t, tc.perMinute, tc.burst)
			now := s.clock.Now()
			s.l.Restore(simKey, slices.Repeat([]time.Time{now}, tc.burst))
			s.wait("after restart", 0, time.Time{})
			assert.InDelta(t, tc.next.Seconds(), s.next().at.Sub(now).Seconds(), 1e-6)
		})
	}
}

// TestLimiterRestoreAddsToRecentSends: restored times join the sends the key
// made since the start; those a window old are dropped, and future ones
// count as now.
func TestLimiterRestoreAddsToRecentSends(t *testing.T) {
	s := newLimiterSim(t, 3, 3)
	t0 := s.clock.Now()
	s.spend()
	s.l.Restore(simKey, []time.Time{t0.Add(-2 * time.Minute), t0.Add(-30 * time.Second), t0.Add(time.Hour)})
	assert.Equal(t, unixNanos([]time.Time{t0.Add(-30 * time.Second), t0, t0}), unixNanos(s.l.Sends(simKey)))
	s.wait("next", 0, time.Time{})
	assert.Equal(t, t0.Add(-30*time.Second).Add(window), s.next().at, "three sends in the window: the next waits for the oldest")
}

// TestLimiterSendsOldestFirst: Sends lists what still counts against the
// limit, in order, also once the log has wrapped around.
func TestLimiterSendsOldestFirst(t *testing.T) {
	s := newLimiterSim(t, 6, 1)
	sent := []time.Time{s.clock.Now()}
	s.spend()
	for range 8 {
		s.wait("event", 0, time.Time{})
		sent = append(sent, s.next().at)
	}
	now := s.clock.Now()
	var want []time.Time
	for _, at := range sent {
		if now.Sub(at) < window {
			want = append(want, at)
		}
	}
	require.Len(t, want, 6)
	assert.Equal(t, unixNanos(want), unixNanos(s.l.Sends(simKey)))

	s.clock.advance(window)
	assert.Empty(t, s.l.Sends(simKey), "a window later nothing counts")
	assert.Nil(t, s.l.Sends("never used"))
	assert.NotContains(t, s.l.keys, "never used", "asking keeps no state")

	off := NewLimiter(0, 0)
	off.Restore("k", sent)
	assert.Nil(t, off.Sends("k"))
}

func unixNanos(ts []time.Time) []int64 {
	out := make([]int64, len(ts))
	for i, t := range ts {
		out[i] = t.UnixNano()
	}
	return out
}
