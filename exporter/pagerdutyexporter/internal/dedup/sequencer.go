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

// acquire waits for dedupKey's turn and returns the slot to release. It
// fails only when ctx ends first.
func (s *sequencer) acquire(ctx context.Context, dedupKey string) (*slot, error) {
	sl := s.enter(dedupKey)
	select {
	case sl.turn <- struct{}{}:
		return sl, nil
	case <-ctx.Done():
		s.leave(dedupKey, sl)
		return nil, ctx.Err()
	}
}

// tryAcquire takes dedupKey's turn if no one holds it, without waiting.
func (s *sequencer) tryAcquire(dedupKey string) (*slot, bool) {
	sl := s.enter(dedupKey)
	select {
	case sl.turn <- struct{}{}:
		return sl, true
	default:
		s.leave(dedupKey, sl)
		return nil, false
	}
}

// release ends the turn acquire or tryAcquire gave.
func (s *sequencer) release(dedupKey string, sl *slot) {
	<-sl.turn
	s.leave(dedupKey, sl)
}

func (s *sequencer) enter(dedupKey string) *slot {
	s.mu.Lock()
	defer s.mu.Unlock()
	sl, ok := s.slots[dedupKey]
	if !ok {
		sl, _ = s.free.Get().(*slot)
		if sl == nil {
			sl = &slot{turn: make(chan struct{}, 1)}
		}
		s.slots[dedupKey] = sl
	}
	sl.refs++
	return sl
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
