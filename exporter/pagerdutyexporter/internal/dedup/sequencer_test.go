package dedup

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSequencerSerializesOneKey(t *testing.T) {
	s := NewSequencer(4)
	var (
		mu      sync.Mutex
		inside  int
		maxSeen int
		wg      sync.WaitGroup
	)
	for range 20 {
		wg.Go(func() {
			release, err := s.Acquire(context.Background(), "same-key")
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
}

func TestSequencerOtherKeysProceed(t *testing.T) {
	s := NewSequencer(1024)
	release, err := s.Acquire(context.Background(), "held")
	require.NoError(t, err)
	defer release()
	// Some key lands on another stripe and must not wait.
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	for _, k := range []string{"a", "b", "c"} {
		r, err := s.Acquire(ctx, k)
		if err == nil {
			r()
			return
		}
	}
	t.Fatal("every other key waited for the held one")
}

func TestSequencerAcquireHonoursContext(t *testing.T) {
	s := NewSequencer(1)
	release, err := s.Acquire(context.Background(), "k")
	require.NoError(t, err)
	defer release()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	_, err = s.Acquire(ctx, "k")
	require.ErrorIs(t, err, context.DeadlineExceeded)
}
