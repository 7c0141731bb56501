package dedup

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"

	"go.opentelemetry.io/collector/extension/xextension/storage"
)

// Persistence keeps the cache in a collector storage extension, so that after
// a restart acknowledge and resolve still reach the routing key that opened
// each incident, and duplicates are still suppressed.
//
// Every accepted event writes its entry through; evicted and expired entries
// are deleted. At start the cache is refilled by walking the storage when the
// extension can walk (file_storage can); otherwise each unknown dedup key is
// looked up once, on first sight.
//
// The storage never holds an integration key: Route turns a key into the
// name of its route and Key turns the name back, so a rotated key applies to
// the incidents opened under its route.
type Persistence struct {
	Client storage.Client
	Route  func(routingKey string) string
	Key    func(route string) string
}

// entryPrefix namespaces entries in the storage.
const entryPrefix = "dedup/"

// entryVersion leads every stored entry, so that a future layout can tell.
const entryVersion = 1

// fixedSize is the encoded size of everything but the route name.
const fixedSize = 1 + 1 + 8*4

func (p *Persistence) encode(e *entry) []byte {
	route := p.Route(e.routingKey)
	b := make([]byte, fixedSize, fixedSize+len(route))
	b[0], b[1] = entryVersion, byte(e.state)
	binary.LittleEndian.PutUint64(b[2:], e.payloadHash)
	binary.LittleEndian.PutUint64(b[10:], uint64(e.sentAt))
	binary.LittleEndian.PutUint64(b[18:], uint64(e.eventTime))
	binary.LittleEndian.PutUint64(b[26:], uint64(e.updatedAt))
	return append(b, route...)
}

func (p *Persistence) decode(key string, b []byte) (*entry, error) {
	if len(b) < fixedSize || b[0] != entryVersion {
		return nil, fmt.Errorf("dedup entry %q: unknown layout", key)
	}
	state := State(b[1])
	if state != Triggered && state != Acknowledged && state != Resolved {
		return nil, fmt.Errorf("dedup entry %q: unknown state %d", key, b[1])
	}
	return &entry{
		key:         key,
		state:       state,
		payloadHash: binary.LittleEndian.Uint64(b[2:]),
		sentAt:      int64(binary.LittleEndian.Uint64(b[10:])),
		eventTime:   int64(binary.LittleEndian.Uint64(b[18:])),
		updatedAt:   int64(binary.LittleEndian.Uint64(b[26:])),
		routingKey:  p.Key(string(b[fixedSize:])),
	}, nil
}

// Attach makes p the cache's persistence and refills the cache from it.
// Entries that expired while the collector was down are deleted.
func (c *Cache) Attach(ctx context.Context, p *Persistence) error {
	c.mu.Lock()
	c.persist = p
	c.mu.Unlock()
	walker, ok := p.Client.(storage.Walker)
	if !ok {
		return nil
	}
	now := c.now().UnixNano()
	var loaded []*entry
	var errs []error
	err := walker.Walk(ctx, func(key string, value []byte) ([]*storage.Operation, error) {
		dedupKey, ours := strings.CutPrefix(key, entryPrefix)
		if !ours {
			return nil, nil
		}
		e, err := p.decode(dedupKey, value)
		if err != nil || c.expired(e, now) {
			errs = append(errs, err)
			return []*storage.Operation{storage.DeleteOperation(key)}, nil
		}
		loaded = append(loaded, e)
		return nil, nil
	})
	if err != nil {
		return fmt.Errorf("loading the dedup cache: %w", err)
	}
	// Insert oldest first, so that a smaller max_entries keeps the newest.
	slices.SortFunc(loaded, func(a, b *entry) int { return int(a.updatedAt - b.updatedAt) })
	c.mu.Lock()
	var victims []string
	for _, e := range loaded {
		victims = append(victims, c.makeRoom(now)...)
		c.entries[e.key] = e
		c.listOf(e.state).pushBack(e)
	}
	c.mu.Unlock()
	errs = append(errs, c.deleteStored(ctx, p, victims))
	return errors.Join(errs...)
}

// load looks dedupKey up in the storage, for a cache whose storage cannot be
// walked. It is called without c.mu held.
func (c *Cache) load(ctx context.Context, p *Persistence, dedupKey string) (*entry, error) {
	if _, walks := p.Client.(storage.Walker); walks {
		return nil, nil // Attach loaded everything there was
	}
	b, err := p.Client.Get(ctx, entryPrefix+dedupKey)
	if err != nil || b == nil {
		return nil, err
	}
	return p.decode(dedupKey, b)
}

func (c *Cache) deleteStored(ctx context.Context, p *Persistence, keys []string) error {
	if p == nil || len(keys) == 0 {
		return nil
	}
	ops := make([]*storage.Operation, len(keys))
	for i, k := range keys {
		ops[i] = storage.DeleteOperation(entryPrefix + k)
	}
	return p.Client.Batch(ctx, ops...)
}

// Close releases the storage client, if any.
func (c *Cache) Close(ctx context.Context) error {
	c.mu.Lock()
	p := c.persist
	c.persist = nil
	c.mu.Unlock()
	if p == nil {
		return nil
	}
	return p.Client.Close(ctx)
}
