package eventsapi

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestLimiterNeverExceedsSlidingWindow drives the per-key bucket greedily on
// a simulated clock and checks every 60-second window, as PagerDuty counts.
func TestLimiterNeverExceedsSlidingWindow(t *testing.T) {
	for _, tc := range []struct{ perMinute, burst int }{
		{120, 10}, {120, 1}, {120, 120}, {6, 5}, {10000, 100},
	} {
		l := NewLimiter(tc.perMinute, tc.burst)
		start := time.Unix(1_700_000_000, 0)
		now := start
		var sent []time.Time
		for now.Sub(start) < 5*time.Minute {
			now = now.Add(l.reserve("k", now))
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
	waited, err := l.Wait(ctx, "a")
	require.NoError(t, err)
	assert.Zero(t, waited)
	// "a" has used its burst; "b" has not.
	waited, err = l.Wait(ctx, "b")
	require.NoError(t, err)
	assert.Zero(t, waited)

	canceled, cancel := context.WithCancel(ctx)
	cancel()
	_, err = l.Wait(canceled, "a")
	require.ErrorIs(t, err, context.Canceled)
}

func TestLimiterDisabled(t *testing.T) {
	l := NewLimiter(0, 0)
	for range 1000 {
		waited, err := l.Wait(context.Background(), "k")
		require.NoError(t, err)
		require.Zero(t, waited)
	}
	assert.Nil(t, l.keys, "a disabled limiter keeps no per-key state")
}
