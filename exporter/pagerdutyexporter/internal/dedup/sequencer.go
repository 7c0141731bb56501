package dedup

import (
	"context"
	"hash/maphash"
)

// Sequencer serializes the work done for one dedup key: deciding, sending and
// recording an event happen as one step, so that two queue consumers holding
// records for the same key never both act on a stale view of the cache. Keys
// share a fixed set of stripes, so memory does not grow with the number of
// keys; two keys on one stripe merely wait for each other.
type Sequencer struct {
	seed    maphash.Seed
	stripes []chan struct{}
}

// NewSequencer returns a sequencer with n stripes.
func NewSequencer(n int) *Sequencer {
	s := &Sequencer{seed: maphash.MakeSeed(), stripes: make([]chan struct{}, n)}
	for i := range s.stripes {
		s.stripes[i] = make(chan struct{}, 1)
	}
	return s
}

// Acquire waits for dedupKey's turn and returns the function that ends it. It
// fails only when ctx ends first.
func (s *Sequencer) Acquire(ctx context.Context, dedupKey string) (release func(), err error) {
	stripe := s.stripes[maphash.String(s.seed, dedupKey)%uint64(len(s.stripes))]
	select {
	case stripe <- struct{}{}:
		return func() { <-stripe }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
