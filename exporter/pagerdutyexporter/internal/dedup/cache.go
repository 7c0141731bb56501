// Package dedup is the exporter's memory of what PagerDuty already knows: per
// dedup key, the routing key that opened the incident, its state, a hash of
// the last payload sent and when. From it the exporter decides whether a
// record would change anything in PagerDuty, and under which routing key its
// acknowledge or resolve must go.
//
// Delivering one event is a transaction on its dedup key: Begin takes the
// key's turn and decides, Turn.Commit records what PagerDuty accepted, and
// Turn.Release ends the turn. Two consumers holding records for one key thus
// never act on a stale view; different keys never wait for each other.
package dedup // import "github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/dedup"

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/eventsapi"
)

// State is what PagerDuty last accepted for a dedup key. The zero State is
// none: no event of the key was accepted.
type State uint8

const (
	// Triggered: the incident is open and has not been acknowledged.
	Triggered State = iota + 1
	// Acknowledged: the incident is open and acknowledged. A trigger does
	// not take it back to Triggered, as PagerDuty keeps it acknowledged.
	Acknowledged
	// Resolved: the incident is closed. PagerDuty drops an acknowledge or a
	// resolve for it, and a trigger opens a new incident
	// (https://developer.pagerduty.com/docs/send-alert-event#alert-de-duplication).
	Resolved
)

func (s State) open() bool { return s == Triggered || s == Acknowledged }

// Config bounds the cache and sets the repeat window.
type Config struct {
	// TTL is how long an entry lives after its last update; 0 keeps entries
	// until they are evicted.
	TTL time.Duration
	// MaxEntries bounds the number of entries; resolved entries are evicted
	// first, oldest first. 0 means no bound.
	MaxEntries int
	// RepeatInterval is how long an identical trigger stays suppressed; 0
	// sends every trigger.
	RepeatInterval time.Duration
	// StoreError is told of every failed storage access; the cache carries
	// on with what it holds in memory. nil ignores them.
	StoreError func(error)
}

// Event is what the cache needs to know of an alert event.
type Event struct {
	// Action is Trigger, Acknowledge or Resolve; change events are not
	// tracked.
	Action eventsapi.Action
	// RoutingKey is the key the record routes to: the key the event goes
	// under unless the cache knows the incident's own.
	RoutingKey string
	// PayloadHash identifies the parts of the payload whose change must reach
	// PagerDuty at once (severity and summary).
	PayloadHash uint64
	// Time is the record's time in Unix nanoseconds, 0 when unknown. An event
	// older than the last one applied for its key is stale.
	Time int64
	// QuietFor is a trigger's quiet period: once PagerDuty accepts it, the
	// alert's auto-resolve clock runs for QuietFor, restarted by Firing. 0
	// means the alert is never auto-resolved. Rounded up to whole seconds.
	QuietFor time.Duration
	// At is when the event is decided, in Unix nanoseconds; 0: now, by the
	// cache's clock. A caller deciding many records of one request passes
	// the request's arrival and saves a clock read for each.
	At int64
	// Arrival is the intent's place in its alert's order, in Unix
	// nanoseconds of the exporter's arrival clock: when its record reached
	// the exporter (every record of a request shares it), or when the cache
	// decided an auto-resolve (QuietAlert.At). 0: before any other.
	Arrival int64
	// Auto marks an event of the exporter's own: a resolve the cache
	// decided when the alert's clock ran out (see Quiet), stale once a
	// firing record arrived after it was decided, or when the cache no
	// longer knows the alert, whose Time is 0: it never makes a later
	// record stale; or an acknowledge it owes (see Owed), with its
	// record's Time and Arrival.
	Auto bool
}

// Reasons a Decision suppresses an event.
const (
	// ReasonDuplicate: a trigger of an open incident with the payload hash
	// last sent for it, within Config.RepeatInterval of the last event
	// PagerDuty accepted for its dedup key.
	ReasonDuplicate = "duplicate"
	// ReasonAlreadyApplied: an acknowledge of an incident already
	// acknowledged or resolved, or a resolve of one already resolved: it
	// would change nothing in PagerDuty.
	ReasonAlreadyApplied = "already_applied"
	// ReasonStale: an event older (by Event.Time) than the last one applied
	// to its dedup key, such as a retried resolve overtaken by a newer
	// trigger; sending it would undo the newer event.
	ReasonStale = "stale"
	// ReasonDeferred: an acknowledge that older records of its alert are
	// still ahead of, in a queue (a resolve and a new trigger, say): the
	// exporter sends it itself once they are delivered and its incident is
	// open (see Owed).
	ReasonDeferred = "deferred"
)

// Reasons lists every suppression reason, for telemetry prepared ahead.
var Reasons = [...]string{ReasonDuplicate, ReasonAlreadyApplied, ReasonStale, ReasonDeferred}

// Decision says whether to send an event and under which routing key.
type Decision struct {
	// RoutingKey is the key that opened the incident when the cache knows it,
	// else the event's own.
	RoutingKey string
	// Reason names why the event is suppressed; "" means send it.
	Reason string
}

// Cache is safe for concurrent use. Its memory is bounded by
// Config.MaxEntries: one entry per dedup key, whose heap cost in bytes, on
// top of the key itself, BenchmarkEntryBytes measures. Use New or Open: the
// zero Cache is not usable.
type Cache struct {
	cfg   Config
	now   func() time.Time
	turns sequencer
	store store     // written through on every change; noStore when memory only
	keys  *keyTable // the routing keys entries refer to

	mu  sync.Mutex
	lru lru
	// newest is the newest time on the cache's clock that Open read from the
	// storage (see Newest).
	newest int64
	// unsaved holds the dedup keys whose newest firing record changed since
	// their entry was last written to the storage (see Flush).
	unsaved map[string]struct{}
	// owed holds the acknowledges owed, by dedup key (see owedAck).
	owed map[string]*owedAck
	// readBack counts the records an earlier run left queued (see ReadBack).
	readBack atomic.Int64
	// saving orders the writes to the storage of one cache, so that an
	// entry is stored as of its last change, whoever changed it.
	saving sync.Mutex
}

// New returns an empty cache kept in memory only. now is the clock; nil
// means time.Now.
func New(cfg Config, now func() time.Time) *Cache {
	return newCache(cfg, now, noStore{})
}

func newCache(cfg Config, now func() time.Time, s store) *Cache {
	if now == nil {
		now = time.Now
	}
	if cfg.StoreError == nil {
		cfg.StoreError = func(error) {}
	}
	c := &Cache{cfg: cfg, now: now, store: s, keys: newKeyTable(), turns: newSequencer(), lru: newLRU(cfg.TTL, cfg.MaxEntries, now().UnixNano()), owed: map[string]*owedAck{}, unsaved: map[string]struct{}{}}
	c.lru.readBack = &c.readBack
	return c
}

// Turn is one dedup key's exclusive turn, from Begin to Release. Decision is
// what the cache decided for the event offered to Begin.
type Turn struct {
	Decision

	c        *Cache
	dedupKey string
	event    Event
	slot     *slot // nil once released, and for an untracked event
}

// Begin waits for dedupKey's turn and decides whether ev would change
// anything in PagerDuty. It fails only when ctx ends first. Every Turn must
// be released; commit it once the event is settled.
func (c *Cache) Begin(ctx context.Context, dedupKey string, ev Event) (Turn, error) {
	sl, err := c.turns.acquire(ctx, dedupKey)
	if err != nil {
		return Turn{}, err
	}
	return c.begun(ctx, dedupKey, ev, sl), nil
}

// TryBegin is Begin for a caller that must not wait: it reports false, and
// decides nothing, when another holds dedupKey's turn.
func (c *Cache) TryBegin(ctx context.Context, dedupKey string, ev Event) (Turn, bool) {
	sl, ok := c.turns.tryAcquire(dedupKey)
	if !ok {
		return Turn{}, false
	}
	return c.begun(ctx, dedupKey, ev, sl), true
}

func (c *Cache) begun(ctx context.Context, dedupKey string, ev Event, sl *slot) Turn {
	if ev.Arrival == 0 {
		ev.Arrival = c.now().UnixNano()
	}
	d := c.decide(ctx, dedupKey, ev, false)
	ev.RoutingKey = d.RoutingKey
	return Turn{Decision: d, c: c, dedupKey: dedupKey, event: ev, slot: sl}
}

// Untracked returns a turn for an event the cache does not track, such as a
// change event: its decision is to send under routingKey, and Commit and
// Release do nothing.
func Untracked(routingKey string) Turn {
	return Turn{Decision: Decision{RoutingKey: routingKey}}
}

// IncidentKey returns the routing key of dedupKey's incident as the cache
// holds it in memory, and whether the incident is open; "" when unknown. It
// takes no turn, so the answer may be overtaken: it serves to pick a queue,
// not to decide.
func (c *Cache) IncidentKey(dedupKey string) (routingKey string, open bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.lru.entries[dedupKey]
	if !ok {
		return "", false
	}
	return c.keys.key(e.route), e.state.open()
}

// Commit records what PagerDuty shows once the turn's event is settled: when
// it was sent, that PagerDuty accepted it under Decision.RoutingKey (written
// through to the storage); when it was suppressed as a duplicate or as
// already applied, that its effect holds as of its time, so that an older
// record, such as a resolve still being retried, is stale; and a firing
// record's quiet period, sent or not (see alert.suppressed).
func (t *Turn) Commit(ctx context.Context) {
	switch {
	case t.c == nil:
	case t.Reason == "":
		t.c.record(ctx, t.dedupKey, t.event, false)
	default:
		t.c.suppressed(ctx, t.dedupKey, t.event, t.Reason)
	}
}

// Unknown records that the turn's event was sent and its outcome is not
// known: the request failed in a way that PagerDuty may have applied it. It
// is taken for applied, for the order of the key's records (an older
// record is stale: the event is retried until it settles, and would undo
// it), but the key's next events are sent, not suppressed as already shown,
// until one is accepted.
func (t *Turn) Unknown(ctx context.Context) {
	if t.c != nil && t.Reason == "" {
		t.c.record(ctx, t.dedupKey, t.event, true)
	}
}

// Release ends the turn; later calls do nothing.
func (t *Turn) Release() {
	if t.slot != nil {
		t.c.turns.release(t.dedupKey, t.slot)
		t.slot = nil
	}
}

// decide is Begin's decision, made while the caller holds dedupKey's turn:
// the turn, not c.mu, keeps the key's entry from changing while the storage
// is read.
//
// arriving: ev is a record on its way in (see Arrive), which is not decided
// while an earlier record of its alert waits: the decision is then
// reasonWaits.
func (c *Cache) decide(ctx context.Context, dedupKey string, ev Event, arriving bool) Decision {
	now := ev.At
	if now == 0 {
		now = c.now().UnixNano()
	}
	c.mu.Lock()
	if arriving && c.lru.pinned[dedupKey] != nil {
		c.mu.Unlock()
		return Decision{Reason: reasonWaits}
	}
	e, expired := c.lru.lookup(dedupKey, now)
	if e != nil {
		// Known: decided at once, under the one lock.
		defer c.mu.Unlock()
		return c.rules(dedupKey, e, ev, now)
	}
	c.mu.Unlock()
	c.deleteStored(ctx, expired)
	if expired == nil {
		e = c.loadStored(ctx, dedupKey)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.rules(dedupKey, e, ev, now)
}

// reasonWaits is the decision of decide for a record on its way in while an
// earlier record of its alert waits: none yet.
const reasonWaits = "\x00waits"

// rules is the decision itself, on the entry e (nil when unknown), at now
// (Unix nanoseconds): the alert's decision (alert.decide) and the routing
// key it goes under.
func (c *Cache) rules(dedupKey string, e *entry, ev Event, now int64) Decision {
	// Only an acknowledge asks whether older records of its alert wait.
	olderWaits := ev.Action == eventsapi.Acknowledge && !ev.Auto && c.olderWaits(dedupKey, ev.Arrival)
	if e == nil {
		return Decision{RoutingKey: ev.RoutingKey, Reason: decideUnknown(&ev, olderWaits)}
	}
	routingKey := c.keys.key(e.route)
	if routingKey == "" || (ev.Action == eventsapi.Trigger && !e.state.open()) {
		// Stored under a route the configuration no longer has, or a new
		// incident, which may open under the key the record asks for.
		routingKey = ev.RoutingKey
	}
	return Decision{RoutingKey: routingKey, Reason: e.decide(&ev, now, int64(c.cfg.RepeatInterval), olderWaits)}
}

// record notes that PagerDuty accepted ev for dedupKey under ev.RoutingKey,
// or, uncertain, may have.
func (c *Cache) record(ctx context.Context, dedupKey string, ev Event, uncertain bool) {
	c.mu.Lock()
	now := c.now().UnixNano()
	e, victims := c.lru.lookup(dedupKey, now)
	if e == nil {
		// An acknowledge for an incident we never saw opened nothing in
		// PagerDuty: remembering it as open would suppress the real trigger.
		if ev.Action == eventsapi.Acknowledge {
			// It may be owed to a trigger still to come.
			owed := c.owe(dedupKey, &ev, false)
			c.mu.Unlock()
			c.deleteStored(ctx, victims)
			if owed {
				c.persistOwed(ctx, dedupKey)
			}
			return
		}
		e = &entry{key: dedupKey}
		if p := c.lru.pinned[dedupKey]; p != nil {
			// The newest firing record of those waiting.
			e.firingAt, e.quietFor = p.firing.firingAt, p.firing.quietFor
		}
		victims = append(victims, c.lru.insert(e, now)...)
	}
	c.lru.unlink(e)
	owedChanged := false
	if ev.Action == eventsapi.Acknowledge && (e.uncertain || uncertain) {
		// It may have found no incident: owed until one is sure to be open.
		owedChanged = c.owe(dedupKey, &ev, false)
	}
	if uncertain && ev.Action == eventsapi.Acknowledge {
		e.unknown() // first: it may not have acknowledged anything
	}
	e.accepted(&ev, now)
	if uncertain {
		e.unknown()
	}
	owedChanged = c.settleOwed(dedupKey, e) || owedChanged
	if ev.Action == eventsapi.Trigger || e.route == 0 {
		e.route = c.keys.id(ev.RoutingKey)
	}
	c.lru.quiet.start(e)
	c.lru.link(e, now)
	c.mu.Unlock()

	c.persist(ctx, dedupKey)
	c.deleteStored(ctx, victims)
	if owedChanged {
		c.persistOwed(ctx, dedupKey)
	}
}

// suppressed notes that ev was suppressed for reason (see alert.suppressed).
// The storage learns it when a field it keeps changed, or when the record
// time applied moved while records of the key wait, which it may make
// stale after a restart.
func (c *Cache) suppressed(ctx context.Context, dedupKey string, ev Event, reason string) {
	c.mu.Lock()
	e, ok := c.lru.entries[dedupKey]
	if !ok {
		owed := reason == ReasonDeferred && c.owe(dedupKey, &ev, true)
		c.mu.Unlock()
		if owed {
			c.persistOwed(ctx, dedupKey)
		}
		return
	}
	applied := e.eventTime
	if e.suppressed(&ev, reason) {
		c.unsave(dedupKey)
		c.lru.quiet.start(e)
	}
	owedChanged := false
	if ev.Action == eventsapi.Acknowledge && !ev.Auto && (e.state != Acknowledged || reason == ReasonDeferred) && ev.Time >= e.resolvedTime {
		// It found no incident to acknowledge, or one it seemed too old
		// for: a trigger still to come may open it.
		owedChanged = c.owe(dedupKey, &ev, reason == ReasonDeferred)
	}
	owedChanged = c.settleOwed(dedupKey, e) || owedChanged
	dirty := e.dirty || (e.eventTime != applied && (c.lru.pinned[dedupKey] != nil || c.readBack.Load() > 0))
	c.mu.Unlock()
	if owedChanged {
		c.persistOwed(ctx, dedupKey)
	}
	if dirty {
		c.persist(ctx, dedupKey)
	}
}

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

// Stats is a snapshot of the cache's size.
type Stats struct {
	// Entries is the number of dedup keys held in memory.
	Entries int
	// Open is how many of them are Triggered or Acknowledged.
	Open int
	// Evictions counts the entries dropped, since the cache was made, to
	// stay within Config.MaxEntries; expired entries are not counted.
	Evictions int64
	// Quiet is how many open alerts have an auto-resolve clock running.
	Quiet int
	// Pinned is how many dedup keys have records still queued or in flight.
	Pinned int
	// ReadBack is how many records an earlier run queued are left (see
	// ReadBack).
	ReadBack int64
}

// Stats returns the current counts.
func (c *Cache) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return Stats{Entries: len(c.lru.entries), Open: c.lru.open.len, Evictions: c.lru.evicted, Quiet: c.lru.quiet.running, Pinned: len(c.lru.pinned), ReadBack: c.readBack.Load()}
}

// Newest returns the newest time, in Unix nanoseconds of the cache's clock,
// that Open read from the storage, 0 for none: the clock of a new run must
// not be behind it, or its records would be ordered before the earlier
// run's.
func (c *Cache) Newest() int64 { return c.newest }

// Close releases the storage, if any.
func (c *Cache) Close(ctx context.Context) error { return c.store.close(ctx) }
