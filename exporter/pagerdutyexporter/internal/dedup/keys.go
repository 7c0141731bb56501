package dedup

import (
	"sync"
	"sync/atomic"
)

// keyTable holds the routing keys entries refer to, each once: they are a
// handful (the configured keys), so an entry costs two bytes for its key
// rather than a string header. Lookups read a snapshot without a lock;
// adding a key copies the table.
type keyTable struct {
	mu    sync.Mutex // serializes id's additions
	keys  atomic.Pointer[[]string]
	index map[string]uint16
}

func newKeyTable() *keyTable {
	t := &keyTable{index: map[string]uint16{"": 0}}
	keys := []string{""}
	t.keys.Store(&keys)
	return t
}

// id returns the number of key, adding it when new; 0 for "", and for a key
// beyond the 65,535th, which the cache then takes for unknown.
func (t *keyTable) id(key string) uint16 {
	t.mu.Lock()
	defer t.mu.Unlock()
	if id, ok := t.index[key]; ok {
		return id
	}
	old := *t.keys.Load()
	if len(old) > 0xffff {
		return 0
	}
	id := uint16(len(old)) //nolint:gosec // G115: bounded just above
	keys := make([]string, len(old), len(old)+1)
	copy(keys, old)
	keys = append(keys, key)
	t.keys.Store(&keys)
	t.index[key] = id
	return id
}

// key returns the key numbered id.
func (t *keyTable) key(id uint16) string { return (*t.keys.Load())[id] }
