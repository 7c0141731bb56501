package dedup

// Pin notes that a record of dedupKey waits in a queue: until Unpin, the
// key's entry is neither expired nor evicted, so that the ordering of the
// key's records never depends on the cache's TTL or bound.
func (c *Cache) Pin(dedupKey string) {
	c.mu.Lock()
	c.lru.pinned[dedupKey]++
	c.mu.Unlock()
}

// Unpin notes that a record Pin was told of has settled; a key not pinned
// is left as it is.
func (c *Cache) Unpin(dedupKey string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch n := c.lru.pinned[dedupKey]; {
	case n > 1:
		c.lru.pinned[dedupKey] = n - 1
	case n == 1:
		delete(c.lru.pinned, dedupKey)
	}
}
