package dedup

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSequencerSerializesOneKey(t *testing.T) {
	s := newSequencer()
	var (
		mu      sync.Mutex
		inside  int
		maxSeen int
		wg      sync.WaitGroup
	)
	for range 20 {
		wg.Go(func() {
			release, err := s.acquire(context.Background(), "same-key")
			require.NoError(t, err)
			mu.Lock()
			inside++
			maxSeen = max(maxSeen, inside)
			mu.Unlock()
			time.Sleep(time.Millisecond)
			mu.Lock()
			inside--
			mu.Unlock()
			release()
		})
	}
	wg.Wait()
	assert.Equal(t, 1, maxSeen)
	assert.Zero(t, s.inFlight(), "a key no one holds takes no memory")
}

func TestSequencerOtherKeysProceed(t *testing.T) {
	s := newSequencer()
	release, err := s.acquire(context.Background(), "held")
	require.NoError(t, err)
	defer release()
	// No other key ever waits for the held one.
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	for i := range 10_000 {
		r, err := s.acquire(ctx, fmt.Sprintf("other-%d", i))
		require.NoError(t, err)
		r()
	}
	assert.Equal(t, 1, s.inFlight())
}

func TestSequencerAcquireHonoursContext(t *testing.T) {
	s := newSequencer()
	release, err := s.acquire(context.Background(), "k")
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	_, err = s.acquire(ctx, "k")
	require.ErrorIs(t, err, context.DeadlineExceeded)
	release()
	assert.Zero(t, s.inFlight(), "the waiter that gave up left nothing behind")
	release, err = s.acquire(context.Background(), "k")
	require.NoError(t, err)
	release()
}
