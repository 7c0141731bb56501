// Package dedup is the exporter's memory of what PagerDuty already knows: per
// dedup key, the routing key that opened the incident, its state, a hash of
// the last payload sent and when. From it the exporter decides whether a
// record would change anything in PagerDuty, and under which routing key its
// acknowledge or resolve must go.
package dedup // import "github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/dedup"

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/eventsapi"
)

// State is what PagerDuty last accepted for a dedup key.
type State uint8

const (
	Triggered State = iota + 1
	Acknowledged
	Resolved
)

func (s State) open() bool { return s == Triggered || s == Acknowledged }

// Config bounds the cache and sets the repeat window.
type Config struct {
	// TTL is how long an entry lives after its last update.
	TTL time.Duration
	// MaxEntries bounds the number of entries; resolved entries are evicted
	// first, oldest first.
	MaxEntries int
	// RepeatInterval is how long an identical trigger stays suppressed.
	RepeatInterval time.Duration
}

// Event is what the cache needs to know of an alert event.
type Event struct {
	Action     eventsapi.Action
	RoutingKey string
	// PayloadHash identifies the parts of the payload whose change must reach
	// PagerDuty at once (severity and summary).
	PayloadHash uint64
	// Time is the record's time in Unix nanoseconds, 0 when unknown. An event
	// older than the last one applied for its key is stale.
	Time int64
}

// Reasons a Decision suppresses an event.
const (
	ReasonDuplicate      = "duplicate"
	ReasonAlreadyApplied = "already_applied"
	ReasonStale          = "stale"
)

// Decision says whether to send an event and under which routing key.
type Decision struct {
	Send bool
	// RoutingKey is the key that opened the incident when the cache knows it,
	// else the event's own.
	RoutingKey string
	// Reason names why the event is suppressed; empty when Send is true.
	Reason string
}

// Cache is safe for concurrent use. Its memory is bounded by MaxEntries; see
// EntryOverhead.
type Cache struct {
	cfg Config
	now func() time.Time

	mu       sync.Mutex
	entries  map[string]*entry
	open     list // Triggered and Acknowledged entries, least recently updated first
	resolved list // Resolved entries, least recently updated first
	evicted  int64
	persist  *Persistence
}

type entry struct {
	key         string
	routingKey  string // shares memory with the configured key: costs a header, not a copy
	payloadHash uint64
	sentAt      int64 // Unix nanoseconds of the last send
	eventTime   int64
	updatedAt   int64
	state       State
	prev, next  *entry
}

// New returns an empty cache. now is the clock; nil means time.Now.
func New(cfg Config, now func() time.Time) *Cache {
	if now == nil {
		now = time.Now
	}
	return &Cache{cfg: cfg, now: now, entries: make(map[string]*entry)}
}

// Decide says whether ev, for dedupKey, would change anything in PagerDuty.
// It does not record ev: call Record once PagerDuty accepted the event. The
// error reports a failed storage access; the decision is still usable, made
// on what the cache could see.
func (c *Cache) Decide(ctx context.Context, dedupKey string, ev Event) (Decision, error) {
	c.mu.Lock()
	e, expired := c.lookup(dedupKey)
	p := c.persist
	if p == nil {
		defer c.mu.Unlock()
		return c.decide(e, ev), nil
	}
	c.mu.Unlock()
	err := c.deleteStored(ctx, p, expired)
	if e == nil && expired == nil {
		var loaded *entry
		if loaded, err = c.load(ctx, p, dedupKey); loaded != nil {
			e = c.insertLoaded(ctx, p, loaded)
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.decide(e, ev), err
}

func (c *Cache) decide(e *entry, ev Event) Decision {
	if e == nil {
		return Decision{Send: true, RoutingKey: ev.RoutingKey}
	}
	routingKey := e.routingKey
	if routingKey == "" {
		// Stored under a route the configuration no longer has.
		routingKey = ev.RoutingKey
	}
	if ev.Time != 0 && ev.Time < e.eventTime {
		return Decision{RoutingKey: routingKey, Reason: ReasonStale}
	}
	switch ev.Action {
	case eventsapi.Trigger:
		if !e.state.open() {
			// A new incident may open under the key the record asks for.
			return Decision{Send: true, RoutingKey: ev.RoutingKey}
		}
		repeatDue := c.now().UnixNano()-e.sentAt >= int64(c.cfg.RepeatInterval)
		if e.payloadHash == ev.PayloadHash && !repeatDue {
			return Decision{RoutingKey: routingKey, Reason: ReasonDuplicate}
		}
	case eventsapi.Acknowledge:
		if e.state != Triggered {
			return Decision{RoutingKey: routingKey, Reason: ReasonAlreadyApplied}
		}
	case eventsapi.Resolve:
		if e.state == Resolved {
			return Decision{RoutingKey: routingKey, Reason: ReasonAlreadyApplied}
		}
	}
	return Decision{Send: true, RoutingKey: routingKey}
}

// Record notes that PagerDuty accepted ev for dedupKey under ev.RoutingKey,
// and writes the entry through to the storage, if any.
func (c *Cache) Record(ctx context.Context, dedupKey string, ev Event) error {
	c.mu.Lock()
	now := c.now().UnixNano()
	e, expired := c.lookup(dedupKey)
	victims := expired
	if e == nil {
		// An acknowledge for an incident we never saw opened nothing in
		// PagerDuty: remembering it as open would suppress the real trigger.
		if ev.Action == eventsapi.Acknowledge {
			p := c.persist
			c.mu.Unlock()
			return c.deleteStored(ctx, p, victims)
		}
		victims = append(victims, c.makeRoom(now)...)
		e = &entry{key: dedupKey}
		c.entries[dedupKey] = e
	} else {
		c.listOf(e.state).remove(e)
	}
	switch ev.Action {
	case eventsapi.Trigger:
		if e.state != Acknowledged {
			e.state = Triggered
		}
		e.payloadHash = ev.PayloadHash
		e.routingKey = ev.RoutingKey
	case eventsapi.Acknowledge:
		e.state = Acknowledged
	case eventsapi.Resolve:
		e.state = Resolved
		if e.routingKey == "" {
			e.routingKey = ev.RoutingKey
		}
	}
	e.sentAt = now
	e.updatedAt = now
	e.eventTime = max(e.eventTime, ev.Time)
	c.listOf(e.state).pushBack(e)
	p := c.persist
	var encoded []byte
	if p != nil {
		encoded = p.encode(e)
	}
	c.mu.Unlock()

	if p == nil {
		return nil
	}
	return errors.Join(
		p.Client.Set(ctx, entryPrefix+dedupKey, encoded),
		c.deleteStored(ctx, p, victims),
	)
}

// Stats is a snapshot of the cache's size.
type Stats struct {
	Entries   int
	Open      int
	Evictions int64
}

// Stats returns the current counts.
func (c *Cache) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return Stats{Entries: len(c.entries), Open: c.open.len, Evictions: c.evicted}
}

// lookup returns the live entry for key. An entry whose TTL has passed is
// dropped, and its key returned for deletion from the storage.
func (c *Cache) lookup(key string) (*entry, []string) {
	e, ok := c.entries[key]
	if !ok {
		return nil, nil
	}
	if c.expired(e, c.now().UnixNano()) {
		c.delete(e)
		return nil, []string{key}
	}
	return e, nil
}

// insertLoaded adds an entry read from the storage, unless it expired or the
// key was added meanwhile, and returns the key's entry.
func (c *Cache) insertLoaded(ctx context.Context, p *Persistence, loaded *entry) *entry {
	c.mu.Lock()
	now := c.now().UnixNano()
	if e, ok := c.entries[loaded.key]; ok {
		c.mu.Unlock()
		return e
	}
	if c.expired(loaded, now) {
		c.mu.Unlock()
		_ = c.deleteStored(ctx, p, []string{loaded.key})
		return nil
	}
	victims := c.makeRoom(now)
	c.entries[loaded.key] = loaded
	c.listOf(loaded.state).pushBack(loaded)
	c.mu.Unlock()
	_ = c.deleteStored(ctx, p, victims)
	return loaded
}

func (c *Cache) expired(e *entry, now int64) bool {
	return c.cfg.TTL > 0 && now-e.updatedAt >= int64(c.cfg.TTL)
}

// makeRoom drops expired entries, then, if the cache is still full, the least
// recently updated resolved entry, or failing that the least recently updated
// open one. It returns the dropped keys.
func (c *Cache) makeRoom(now int64) []string {
	var dropped []string
	for _, l := range []*list{&c.resolved, &c.open} {
		for l.head != nil && c.expired(l.head, now) {
			dropped = append(dropped, l.head.key)
			c.delete(l.head)
		}
	}
	for c.cfg.MaxEntries > 0 && len(c.entries) >= c.cfg.MaxEntries {
		victim := c.resolved.head
		if victim == nil {
			victim = c.open.head
		}
		dropped = append(dropped, victim.key)
		c.delete(victim)
		c.evicted++
	}
	return dropped
}

func (c *Cache) delete(e *entry) {
	c.listOf(e.state).remove(e)
	delete(c.entries, e.key)
}

func (c *Cache) listOf(s State) *list {
	if s == Resolved {
		return &c.resolved
	}
	return &c.open
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
