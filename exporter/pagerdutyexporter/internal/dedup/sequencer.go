package dedup

import (
	"context"
	"sync"
)

// sequencer serializes the work done for one dedup key: deciding, sending and
// recording an event happen as one step, so that two queue consumers holding
// records for the same key never both act on a stale view of the cache.
// Different keys never wait for each other, even while one waits on a rate
// limiter; memory grows only with the keys in flight.
type sequencer struct {
	mu    sync.Mutex
	slots map[string]*slot
	free  sync.Pool
}

// slot is the turn of one dedup key; refs counts its holder and waiters.
type slot struct {
	turn chan struct{}
	refs int
}

func newSequencer() sequencer {
	return sequencer{slots: make(map[string]*slot)}
}

// acquire waits for dedupKey's turn and returns the function that ends it. It
// fails only when ctx ends first.
func (s *sequencer) acquire(ctx context.Context, dedupKey string) (release func(), err error) {
	s.mu.Lock()
	sl, ok := s.slots[dedupKey]
	if !ok {
		sl, _ = s.free.Get().(*slot)
		if sl == nil {
			sl = &slot{turn: make(chan struct{}, 1)}
		}
		s.slots[dedupKey] = sl
	}
	sl.refs++
	s.mu.Unlock()

	select {
	case sl.turn <- struct{}{}:
		return func() {
			<-sl.turn
			s.leave(dedupKey, sl)
		}, nil
	case <-ctx.Done():
		s.leave(dedupKey, sl)
		return nil, ctx.Err()
	}
}

func (s *sequencer) leave(dedupKey string, sl *slot) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sl.refs--
	if sl.refs == 0 {
		delete(s.slots, dedupKey)
		s.free.Put(sl)
	}
}

// inFlight is the number of keys held or awaited.
func (s *sequencer) inFlight() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.slots)
}
