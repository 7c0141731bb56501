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
