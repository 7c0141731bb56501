package dedup

import (
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.opentelemetry.io/collector/extension/xextension/storage"
)

// store is where the cache writes through every change, so that it can be
// refilled after a restart.
type store interface {
	// load returns the stored entry of a key the cache does not hold, nil
	// when there is none.
	load(ctx context.Context, dedupKey string) (*entry, error)
	save(ctx context.Context, e *entry) error
	delete(ctx context.Context, dedupKeys []string) error
	close(ctx context.Context) error
}

// noStore is the store of a cache kept in memory only.
type noStore struct{}

func (noStore) load(context.Context, string) (*entry, error) { return nil, nil }
func (noStore) save(context.Context, *entry) error           { return nil }
func (noStore) delete(context.Context, []string) error       { return nil }
func (noStore) close(context.Context) error                  { return nil }

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
	// Client is the storage extension's client. When it is also a
	// storage.Walker, Open loads every entry at once.
	Client storage.Client
	// Route returns the name of the route of routingKey, stored in its place.
	Route func(routingKey string) string
	// Key returns the routing key of a route, "" when no route of that name
	// is configured any more: the cache then uses the record's own key.
	Key func(route string) string
	// ReadBackToCount is true when records an earlier run left queued may
	// remain, not yet counted: the cache then holds one in their count (see
	// Cache.ReadBack) until the caller lets it go with ReadBack(-1), once it
	// has counted them. Until then, as while any is left, nothing is
	// expired or evicted, not even what Open reads.
	ReadBackToCount bool
}

// Open returns a cache kept in p's storage, refilled from it. Entries that
// expired while the collector was down, and entries that cannot be read, are
// deleted. The error reports what could not be loaded; the cache is usable
// all the same, since a partly empty cache only costs suppressions.
func Open(ctx context.Context, cfg Config, now func() time.Time, p Persistence) (*Cache, error) {
	s := &storageStore{Persistence: p}
	s.walker, s.walks = p.Client.(storage.Walker)
	c := newCache(cfg, now, s)
	s.keys = c.keys
	if p.ReadBackToCount {
		c.readBack.Store(1)
	}
	if !s.walks {
		return c, nil
	}
	nowNanos := c.now().UnixNano()
	var loaded []*entry
	var errs []error
	err := s.walker.Walk(ctx, func(key string, value []byte) ([]*storage.Operation, error) {
		if owedKey, owed := strings.CutPrefix(key, owedPrefix); owed {
			o, err := decodeOwed(owedKey, value)
			if err != nil {
				errs = append(errs, err)
				return []*storage.Operation{storage.DeleteOperation(key)}, nil
			}
			c.owed[owedKey] = o
			return nil, nil
		}
		dedupKey, ours := strings.CutPrefix(key, entryPrefix)
		if !ours {
			return nil, nil
		}
		e, err := s.decode(dedupKey, value)
		if err != nil || c.lru.expired(e, nowNanos) {
			errs = append(errs, err)
			return []*storage.Operation{storage.DeleteOperation(key)}, nil
		}
		loaded = append(loaded, e)
		return nil, nil
	})
	if err != nil {
		return c, fmt.Errorf("loading the dedup cache: %w", err)
	}
	// Insert oldest first, so that a smaller max_entries keeps the newest.
	slices.SortFunc(loaded, func(a, b *entry) int { return cmp.Compare(a.updatedAt, b.updatedAt) })
	for _, e := range loaded {
		c.newest = max(c.newest, e.updatedAt, e.firingAt, e.autoAt)
	}
	var victims []string
	for _, e := range loaded {
		victims = append(victims, c.lru.insert(e, nowNanos)...)
		c.lru.quiet.start(e)
	}
	for key := range c.owed {
		if e := c.lru.entries[key]; e != nil {
			c.settleOwed(key, e)
		}
	}
	errs = append(errs, s.delete(ctx, victims))
	return c, errors.Join(errs...)
}

// storageStore is the store in a storage extension.
type storageStore struct {
	Persistence
	walker storage.Walker
	walks  bool      // Open loaded everything there was: no lookups needed
	keys   *keyTable // the cache's
}

// entryPrefix namespaces entries in the storage.
const entryPrefix = "dedup/"

// entryVersion leads every stored entry, so that a future layout can tell.
// Version 2 added the quiet period; a version 1 entry reads as an alert
// never auto-resolved, until its next firing record says otherwise. Version
// 3 added the newest intent's places (alert.firingAt, alert.autoAt,
// alert.incidentTime and alert.resolvedTime) and whether an outcome is unknown (alert.uncertain);
// a version 2 entry reads with none.
const (
	entryVersion   = 3
	entryVersionV2 = 2
	entryVersionV1 = 1
)

// fixedSizeV1 is the encoded size of everything but the route name in
// version 1; fixedSizeV2 in version 2, which adds the quiet period;
// fixedSize in version 3.
const (
	fixedSizeV1 = 1 + 1 + 8*4
	fixedSizeV2 = fixedSizeV1 + 4
	fixedSize   = fixedSizeV2 + 8*4 + 1
)

func (s *storageStore) load(ctx context.Context, dedupKey string) (*entry, error) {
	if s.walks {
		return nil, nil
	}
	b, err := s.Client.Get(ctx, entryPrefix+dedupKey)
	if err != nil || b == nil {
		return nil, err
	}
	return s.decode(dedupKey, b)
}

func (s *storageStore) save(ctx context.Context, e *entry) error {
	return s.Client.Set(ctx, entryPrefix+e.key, s.encode(e))
}

func (s *storageStore) delete(ctx context.Context, dedupKeys []string) error {
	if len(dedupKeys) == 0 {
		return nil
	}
	ops := make([]*storage.Operation, len(dedupKeys))
	for i, k := range dedupKeys {
		ops[i] = storage.DeleteOperation(entryPrefix + k)
	}
	return s.Client.Batch(ctx, ops...)
}

func (s *storageStore) close(ctx context.Context) error { return s.Client.Close(ctx) }

func (s *storageStore) encode(e *entry) []byte {
	route := s.Route(s.keys.key(e.route))
	b := make([]byte, fixedSize, fixedSize+len(route))
	b[0], b[1] = entryVersion, byte(e.state)
	binary.LittleEndian.PutUint64(b[2:], e.payloadHash)
	putNanos(b[10:], e.sentAt)
	putNanos(b[18:], e.eventTime)
	putNanos(b[26:], e.updatedAt)
	binary.LittleEndian.PutUint32(b[34:], e.quietFor)
	putNanos(b[38:], e.firingAt)
	putNanos(b[46:], e.autoAt)
	putNanos(b[54:], e.incidentTime)
	putNanos(b[62:], e.resolvedTime)
	if e.uncertain {
		b[70] = 1
	}
	return append(b, route...)
}

func (s *storageStore) decode(key string, b []byte) (*entry, error) {
	size := fixedSize
	switch {
	case len(b) > 0 && b[0] == entryVersionV1:
		size = fixedSizeV1
	case len(b) > 0 && b[0] == entryVersionV2:
		size = fixedSizeV2
	case len(b) > 0 && b[0] == entryVersion:
	default:
		return nil, fmt.Errorf("dedup entry %q: unknown layout", key)
	}
	if len(b) < size {
		return nil, fmt.Errorf("dedup entry %q: unknown layout", key)
	}
	state := State(b[1])
	if state != Triggered && state != Acknowledged && state != Resolved {
		return nil, fmt.Errorf("dedup entry %q: unknown state %d", key, b[1])
	}
	e := &entry{
		alert: alert{
			state:       state,
			payloadHash: binary.LittleEndian.Uint64(b[2:]),
			sentAt:      nanos(b[10:]),
			eventTime:   nanos(b[18:]),
		},
		key:       key,
		updatedAt: nanos(b[26:]),
		route:     s.keys.id(s.Key(string(b[size:]))),
	}
	if size >= fixedSizeV2 {
		e.quietFor = binary.LittleEndian.Uint32(b[fixedSizeV1:])
	}
	if size == fixedSize {
		e.firingAt, e.autoAt, e.incidentTime, e.resolvedTime, e.uncertain = nanos(b[38:]), nanos(b[46:]), nanos(b[54:]), nanos(b[62:]), b[70] == 1
	}
	return e, nil
}

// putNanos stores a time in Unix nanoseconds as the eight little-endian
// bytes of its two's complement, which nanos reads back. Converting between
// int64 and uint64 keeps every bit, so the round trip returns the time
// exactly, whatever its value: nothing can overflow.
func putNanos(b []byte, ns int64) {
	binary.LittleEndian.PutUint64(b, uint64(ns)) //nolint:gosec // G115: a bit-for-bit reinterpretation that nanos undoes
}

// nanos reads a time stored by putNanos.
func nanos(b []byte) int64 {
	return int64(binary.LittleEndian.Uint64(b)) //nolint:gosec // G115: undoes putNanos's bit-for-bit reinterpretation
}
