package dedup

import "context"

// unsave notes that dedupKey's entry changed in a way Flush writes, when
// the cache has a storage. c.mu must be held.
func (c *Cache) unsave(dedupKey string) {
	if _, memoryOnly := c.store.(noStore); !memoryOnly {
		c.unsaved[dedupKey] = struct{}{}
	}
}

// Flush writes to the storage the entries whose newest firing record
// changed since they were last written: a firing record suppressed as a
// repeat is not written through, as a storm of them would cost a write
// each. The caller flushes once a tick and before Close, so that after a
// clean stop the quiet time an alert had counts (see Resume).
func (c *Cache) Flush(ctx context.Context) {
	c.mu.Lock()
	keys := c.unsaved
	c.unsaved = map[string]struct{}{}
	c.mu.Unlock()
	for key := range keys {
		c.persist(ctx, key)
	}
}

// persist writes dedupKey's entry, as it is now, to the storage.
func (c *Cache) persist(ctx context.Context, dedupKey string) {
	if _, memoryOnly := c.store.(noStore); memoryOnly {
		return
	}
	c.saving.Lock()
	defer c.saving.Unlock()
	c.mu.Lock()
	e, ok := c.lru.entries[dedupKey]
	var saved entry
	if ok {
		saved = *e
		e.dirty = false
	}
	c.mu.Unlock()
	if ok {
		c.report(c.store.save(ctx, &saved))
	}
}

func (c *Cache) loadStored(ctx context.Context, dedupKey string) *entry {
	loaded, err := c.store.load(ctx, dedupKey)
	c.report(err)
	if loaded == nil {
		return nil
	}
	c.mu.Lock()
	now := c.now().UnixNano()
	if c.lru.expired(loaded, now) {
		c.mu.Unlock()
		c.deleteStored(ctx, []string{dedupKey})
		return nil
	}
	if p := c.lru.pinned[dedupKey]; p != nil && p.firing.firingAt > loaded.firingAt {
		loaded.firingAt, loaded.quietFor = p.firing.firingAt, p.firing.quietFor
	}
	victims := c.lru.insert(loaded, now)
	c.lru.quiet.start(loaded)
	c.mu.Unlock()
	c.deleteStored(ctx, victims)
	return loaded
}

func (c *Cache) deleteStored(ctx context.Context, keys []string) {
	if len(keys) > 0 {
		c.report(c.store.delete(ctx, keys))
	}
}

func (c *Cache) report(err error) {
	if err != nil {
		c.cfg.StoreError(err)
	}
}
