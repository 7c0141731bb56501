package dedup

import (
	"sync/atomic"
	"time"
)

// entry is what the cache holds for one dedup key.
type entry struct {
	alert
	key       string
	updatedAt int64
	route     uint16 // the incident's routing key, in the cache's keyTable; 0: none
	// quietUntil is the second the alert's quiet clock runs out (see
	// quietClocks), 0 while it is stopped.
	quietUntil           uint32
	prev, next           *entry
	timerPrev, timerNext *entry
}

// lru is the cache's bounded map: entries expire ttl after their last update
// and, beyond maxEntries, the least recently updated go, resolved ones first.
// It is not safe for concurrent use; Cache guards it.
type lru struct {
	ttl        int64 // nanoseconds; 0: never expire
	maxEntries int   // 0: no bound

	entries  map[string]*entry
	open     list // Triggered and Acknowledged entries, least recently updated first
	resolved list // Resolved entries, least recently updated first
	evicted  int64
	quiet    quietClocks
	// pinned holds, per dedup key, the records still queued or in flight:
	// their entry, ordering state and all, is neither expired nor evicted
	// until they settle, however small the TTL or the bound.
	pinned map[string]*pin
	// readBack is the cache's count of records an earlier run left queued:
	// their dedup keys cannot be pinned, so while any is left, no entry is
	// expired or evicted (see Cache.ReadBack).
	readBack *atomic.Int64
}

func newLRU(ttl time.Duration, maxEntries int, now int64) lru {
	return lru{ttl: int64(ttl), maxEntries: maxEntries, entries: make(map[string]*entry), quiet: newQuietClocks(now), pinned: map[string]*pin{}}
}

// lookup returns the live entry for key at now (Unix nanoseconds). An entry
// whose TTL has passed is dropped, and its key returned for deletion from
// the storage.
func (l *lru) lookup(key string, now int64) (*entry, []string) {
	e, ok := l.entries[key]
	if !ok {
		return nil, nil
	}
	if l.expired(e, now) {
		l.delete(e)
		return nil, []string{key}
	}
	return e, nil
}

// insert adds e, a key not held, making room first; it returns the keys it
// dropped.
func (l *lru) insert(e *entry, now int64) []string {
	dropped := l.makeRoom(now)
	l.entries[e.key] = e
	l.listOf(e.state).pushBack(e)
	return dropped
}

// unlink takes e off its state's list, before its state changes; link puts
// it back, as updated at now.
func (l *lru) unlink(e *entry) { l.listOf(e.state).remove(e) }

func (l *lru) link(e *entry, now int64) {
	e.updatedAt = now
	l.listOf(e.state).pushBack(e)
}

// expired reports whether e's TTL has passed at now. An entry whose records
// wait (pinned), or whose quiet clock runs, never expires: its alert's
// auto-resolve, however long its period, needs it.
func (l *lru) expired(e *entry, now int64) bool {
	return l.ttl > 0 && now-e.updatedAt >= l.ttl && l.pinned[e.key] == nil && !e.awaitsAutoResolve() && l.readBack.Load() == 0
}

// makeRoom drops expired entries, then, if the map is still full, the least
// recently updated resolved entry, or failing that the least recently
// updated open one, never a pinned one. It returns the dropped keys.
func (l *lru) makeRoom(now int64) []string {
	var dropped []string
	for _, lst := range []*list{&l.resolved, &l.open} {
		// In update order: past the first entry whose TTL has not passed,
		// none has; a pinned entry, or one whose clock runs, stays.
		for e := lst.head; e != nil && l.ttl > 0 && now-e.updatedAt >= l.ttl && l.readBack.Load() == 0; {
			next := e.next
			if l.expired(e, now) {
				dropped = append(dropped, e.key)
				l.delete(e)
			}
			e = next
		}
	}
	for l.maxEntries > 0 && len(l.entries) >= l.maxEntries && l.readBack.Load() == 0 {
		victim := l.victim()
		if victim == nil {
			// Every entry is pinned: the bound gives way until one settles.
			break
		}
		dropped = append(dropped, victim.key)
		l.delete(victim)
		l.evicted++
	}
	return dropped
}

// victim is the least recently updated resolved entry that is not pinned,
// else the least recently updated open one whose quiet clock does not run,
// else the least recently updated open one (its auto-resolve is lost: the
// bound is what the user asked for); nil when all are pinned.
func (l *lru) victim() *entry {
	var clocked *entry
	for _, lst := range []*list{&l.resolved, &l.open} {
		for e := lst.head; e != nil; e = e.next {
			switch {
			case l.pinned[e.key] != nil:
			case !e.awaitsAutoResolve():
				return e
			case clocked == nil:
				clocked = e
			}
		}
	}
	return clocked
}

func (l *lru) delete(e *entry) {
	l.quiet.stop(e)
	l.unlink(e)
	delete(l.entries, e.key)
}

func (l *lru) listOf(s State) *list {
	if s == Resolved {
		return &l.resolved
	}
	return &l.open
}

// list is an intrusive doubly linked list ordered by update time; it saves
// the allocation and interface boxing of container/list on every entry.
type list struct {
	head, tail *entry
	len        int
}

func (l *list) pushBack(e *entry) {
	e.prev, e.next = l.tail, nil
	if l.tail != nil {
		l.tail.next = e
	} else {
		l.head = e
	}
	l.tail = e
	l.len++
}

func (l *list) remove(e *entry) {
	if e.prev != nil {
		e.prev.next = e.next
	} else {
		l.head = e.next
	}
	if e.next != nil {
		e.next.prev = e.prev
	} else {
		l.tail = e.prev
	}
	e.prev, e.next = nil, nil
	l.len--
}
