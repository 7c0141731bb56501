package eventsapi

import (
	"container/heap"
	"context"
	"fmt"
	"sync"
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
	waited, err := l.Wait(ctx, "a", 0)
	require.NoError(t, err)
	assert.Zero(t, waited)
	// "a" has used its burst; "b" has not.
	waited, err = l.Wait(ctx, "b", 0)
	require.NoError(t, err)
	assert.Zero(t, waited)

	canceled, cancel := context.WithCancel(ctx)
	cancel()
	_, err = l.Wait(canceled, "a", 0)
	require.ErrorIs(t, err, context.Canceled)
}

func TestLimiterDisabled(t *testing.T) {
	l := NewLimiter(0, 0)
	for range 1000 {
		waited, err := l.Wait(context.Background(), "k", 0)
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
// order it came.
func TestLimiterServesMostUrgentFirst(t *testing.T) {
	// 600/min, burst 1: a slot every 100 ms, none booked ahead.
	l := NewLimiter(600, 1)
	ctx := context.Background()
	_, err := l.Wait(ctx, "k", 4) // spends the burst
	require.NoError(t, err)

	order := make(chan string, 10)
	var wg sync.WaitGroup
	wait := func(name string, rank int) {
		defer wg.Done()
		_, err := l.Wait(ctx, "k", rank)
		assert.NoError(t, err)
		order <- name
	}
	for i := range 5 {
		wg.Add(1)
		go wait(fmt.Sprintf("info-%d", i), 4)
		waitFor(t, func() bool { return l.waiting("k") == i+1 })
	}
	wg.Add(1)
	go wait("critical", 0)
	wg.Wait()
	close(order)
	var got []string
	for name := range order {
		got = append(got, name)
	}
	assert.Equal(t, []string{"critical", "info-0", "info-1", "info-2", "info-3", "info-4"}, got)
}

// TestLimiterAgingBoundsStarvation: a rank-4 event that has waited longer
// than 4 aging steps goes before a rank-0 event that just came.
func TestLimiterAgingBoundsStarvation(t *testing.T) {
	var q waitQueue
	now := time.Unix(1_700_000_000, 0)
	heap.Push(&q, &waiter{deadline: now.Add(4 * AgingStep), seq: 0})             // info, began at now
	heap.Push(&q, &waiter{deadline: now.Add(4*AgingStep + time.Second), seq: 1}) // critical, 4m1s later
	heap.Push(&q, &waiter{deadline: now.Add(4*AgingStep - time.Second), seq: 2}) // critical, 3m59s later
	assert.Equal(t, uint64(2), heap.Pop(&q).(*waiter).seq, "the younger critical still overtakes")
	assert.Equal(t, uint64(0), heap.Pop(&q).(*waiter).seq, "the aged info goes before the older critical")
}

func TestLimiterCanceledWaiterTakesNoSlot(t *testing.T) {
	l := NewLimiter(600, 1)
	ctx := context.Background()
	_, err := l.Wait(ctx, "k", 0)
	require.NoError(t, err)
	canceled, cancel := context.WithCancel(ctx)
	done := make(chan error)
	go func() {
		_, err := l.Wait(canceled, "k", 0)
		done <- err
	}()
	waitFor(t, func() bool { return l.waiting("k") == 1 })
	cancel()
	require.ErrorIs(t, <-done, context.Canceled)
	assert.Zero(t, l.waiting("k"))
	assert.Empty(t, l.forKey("k").sent[1:], "only the first event took a slot")
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	require.Eventually(t, cond, 5*time.Second, time.Millisecond)
}
