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
			release, err := acquireFn(context.Background(), &s, "same-key")
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
	release, err := acquireFn(context.Background(), &s, "held")
	require.NoError(t, err)
	defer release()
	// No other key ever waits for the held one.
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	for i := range 10_000 {
		r, err := acquireFn(ctx, &s, fmt.Sprintf("other-%d", i))
		require.NoError(t, err)
		r()
	}
	assert.Equal(t, 1, s.inFlight())
}

func TestSequencerAcquireHonoursContext(t *testing.T) {
	s := newSequencer()
	release, err := acquireFn(context.Background(), &s, "k")
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	_, err = acquireFn(ctx, &s, "k")
	require.ErrorIs(t, err, context.DeadlineExceeded)
	release()
	assert.Zero(t, s.inFlight(), "the waiter that gave up left nothing behind")
	release, err = acquireFn(context.Background(), &s, "k")
	require.NoError(t, err)
	release()
}

// acquireFn acquires key's turn and returns the function that ends it.
func acquireFn(ctx context.Context, s *sequencer, key string) (func(), error) {
	sl, err := s.acquire(ctx, key)
	if err != nil {
		return nil, err
	}
	return func() { s.release(key, sl) }, nil
}

func TestSequencerTryAcquireNeverWaits(t *testing.T) {
	s := newSequencer()
	sl, ok := s.tryAcquire("k")
	require.True(t, ok)
	_, ok = s.tryAcquire("k")
	assert.False(t, ok, "the turn is held")
	assert.Equal(t, 1, s.inFlight(), "a failed try leaves nothing behind")
	s.release("k", sl)
	sl, ok = s.tryAcquire("k")
	require.True(t, ok)
	s.release("k", sl)
	assert.Zero(t, s.inFlight())
}

// inFlight is the number of keys held or awaited.
func (s *sequencer) inFlight() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.slots)
}
