package dedup

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/eventsapi"
)

const (
	keyA = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	keyB = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }
func newClock() *clock                   { return &clock{t: time.Unix(1_700_000_000, 0)} }
func ev(a eventsapi.Action, rk string, hash uint64) Event {
	return Event{Action: a, RoutingKey: rk, PayloadHash: hash}
}

// step is one event offered to the cache: the decision expected and, when
// sent, recorded as accepted.
type step struct {
	event  Event
	wait   time.Duration
	send   bool
	key    string
	reason string
}

func TestDecideLifecycle(t *testing.T) {
	trig := func(rk string, hash uint64) Event { return ev(eventsapi.Trigger, rk, hash) }
	ack := func(rk string) Event { return ev(eventsapi.Acknowledge, rk, 0) }
	res := func(rk string) Event { return ev(eventsapi.Resolve, rk, 0) }
	tests := []struct {
		name  string
		steps []step
	}{
		{"duplicate trigger is suppressed", []step{
			{event: trig(keyA, 1), send: true, key: keyA},
			{event: trig(keyA, 1), key: keyA, reason: ReasonDuplicate},
		}},
		{"changed severity or summary is sent at once", []step{
			{event: trig(keyA, 1), send: true, key: keyA},
			{event: trig(keyA, 2), send: true, key: keyA},
			{event: trig(keyA, 2), key: keyA, reason: ReasonDuplicate},
		}},
		{"identical trigger is repeated after repeat_interval", []step{
			{event: trig(keyA, 1), send: true, key: keyA},
			{event: trig(keyA, 1), wait: time.Hour - time.Second, key: keyA, reason: ReasonDuplicate},
			{event: trig(keyA, 1), wait: time.Second, send: true, key: keyA},
			{event: trig(keyA, 1), wait: time.Minute, key: keyA, reason: ReasonDuplicate},
		}},
		{"acknowledge and resolve follow the routing key that opened the incident", []step{
			{event: trig(keyA, 1), send: true, key: keyA},
			{event: ack(keyB), send: true, key: keyA},
			{event: res(keyB), send: true, key: keyA},
		}},
		{"a trigger for an open incident stays on its key", []step{
			{event: trig(keyA, 1), send: true, key: keyA},
			{event: trig(keyB, 2), send: true, key: keyA},
		}},
		{"a new incident after resolve may open under another key", []step{
			{event: trig(keyA, 1), send: true, key: keyA},
			{event: res(keyA), send: true, key: keyA},
			{event: trig(keyB, 1), send: true, key: keyB},
			{event: res(keyA), send: true, key: keyB},
		}},
		{"repeated acknowledge and resolve are suppressed", []step{
			{event: trig(keyA, 1), send: true, key: keyA},
			{event: ack(keyA), send: true, key: keyA},
			{event: ack(keyA), key: keyA, reason: ReasonAlreadyApplied},
			{event: trig(keyA, 1), key: keyA, reason: ReasonDuplicate},
			{event: res(keyA), send: true, key: keyA},
			{event: res(keyA), key: keyA, reason: ReasonAlreadyApplied},
			{event: ack(keyA), key: keyA, reason: ReasonAlreadyApplied},
		}},
		{"resolve for an unknown key is still sent", []step{
			{event: res(keyB), send: true, key: keyB},
			{event: res(keyB), key: keyB, reason: ReasonAlreadyApplied},
			{event: trig(keyA, 1), send: true, key: keyA},
		}},
		{"acknowledge for an unknown key is sent and does not hide the trigger", []step{
			{event: ack(keyA), send: true, key: keyA},
			{event: trig(keyA, 1), send: true, key: keyA},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clk := newClock()
			c := New(Config{TTL: 24 * time.Hour, MaxEntries: 100, RepeatInterval: time.Hour}, clk.now)
			for i, s := range tc.steps {
				clk.advance(s.wait)
				d := decide(c, "dk", s.event)
				assert.Equal(t, Decision{RoutingKey: s.key, Reason: s.reason}, d, "step %d", i)
				assert.Equal(t, s.send, d.Reason == "", "step %d sends", i)
				if d.Reason == "" {
					s.event.RoutingKey = d.RoutingKey
					record(c, "dk", s.event)
				}
			}
		})
	}
}

func TestStaleEventsAreSuppressed(t *testing.T) {
	c := New(Config{RepeatInterval: time.Hour}, nil)
	trigger := Event{Action: eventsapi.Trigger, RoutingKey: keyA, PayloadHash: 1, Time: 100}
	resolve := Event{Action: eventsapi.Resolve, RoutingKey: keyA, Time: 200}
	// The resolve lands first (say the trigger was retried): the late trigger
	// must not reopen the incident.
	require.Empty(t, decide(c, "dk", resolve).Reason)
	record(c, "dk", resolve)
	assert.Equal(t, Decision{RoutingKey: keyA, Reason: ReasonStale}, decide(c, "dk", trigger))
	// A newer trigger opens a new incident; an unknown time is never stale.
	assert.Empty(t, decide(c, "dk", Event{Action: eventsapi.Trigger, RoutingKey: keyA, Time: 300}).Reason)
	assert.Empty(t, decide(c, "dk", Event{Action: eventsapi.Trigger, RoutingKey: keyA}).Reason)
}

func TestTTL(t *testing.T) {
	clk := newClock()
	c := New(Config{TTL: time.Hour, RepeatInterval: 4 * time.Hour}, clk.now)
	record(c, "dk", ev(eventsapi.Trigger, keyA, 1))
	clk.advance(59 * time.Minute)
	assert.NotEmpty(t, decide(c, "dk", ev(eventsapi.Trigger, keyA, 1)).Reason)
	clk.advance(time.Minute)
	// Forgotten: the trigger goes out again, under the record's own key.
	assert.Equal(t, Decision{RoutingKey: keyB}, decide(c, "dk", ev(eventsapi.Trigger, keyB, 1)))
	assert.Zero(t, c.Stats().Entries)

	// Expired entries are also swept when new ones arrive.
	record(c, "old", ev(eventsapi.Trigger, keyA, 1))
	clk.advance(2 * time.Hour)
	record(c, "new", ev(eventsapi.Trigger, keyA, 1))
	assert.Equal(t, Stats{Entries: 1, Open: 1}, c.Stats())
}

// TestDecidedAtTheEventsTime: an event that says when it is decided (At)
// is decided at that time, not by the cache's clock.
func TestDecidedAtTheEventsTime(t *testing.T) {
	clk := newClock()
	c := New(Config{TTL: time.Hour, RepeatInterval: 4 * time.Hour}, clk.now)
	record(c, "dk", ev(eventsapi.Trigger, keyA, 1))
	repeat := ev(eventsapi.Trigger, keyA, 1)
	repeat.At = clk.t.Add(59 * time.Minute).UnixNano()
	assert.Equal(t, ReasonDuplicate, decide(c, "dk", repeat).Reason, "within the TTL")
	repeat.At = clk.t.Add(61 * time.Minute).UnixNano()
	assert.Equal(t, Decision{RoutingKey: keyA}, decide(c, "dk", repeat), "past the TTL at At, though not by the clock")
}

func TestBoundEvictsResolvedFirst(t *testing.T) {
	clk := newClock()
	c := New(Config{MaxEntries: 3, RepeatInterval: time.Hour}, clk.now)
	record(c, "open-1", ev(eventsapi.Trigger, keyA, 1))
	record(c, "resolved-1", ev(eventsapi.Resolve, keyA, 0))
	record(c, "open-2", ev(eventsapi.Trigger, keyA, 1))
	record(c, "open-3", ev(eventsapi.Trigger, keyA, 1))
	assert.Equal(t, Stats{Entries: 3, Open: 3, Evictions: 1}, c.Stats())
	// The resolved entry went, though it was newer than open-1.
	assert.NotEmpty(t, decide(c, "open-1", ev(eventsapi.Trigger, keyA, 1)).Reason)
	assert.Equal(t, Decision{RoutingKey: keyB}, decide(c, "resolved-1", ev(eventsapi.Resolve, keyB, 0)))

	// With no resolved entries left, the least recently updated open one goes.
	record(c, "open-1", ev(eventsapi.Trigger, keyA, 2)) // refreshes open-1
	record(c, "open-4", ev(eventsapi.Trigger, keyA, 1))
	assert.Equal(t, Stats{Entries: 3, Open: 3, Evictions: 2}, c.Stats())
	assert.Empty(t, decide(c, "open-2", ev(eventsapi.Trigger, keyA, 1)).Reason, "open-2 was the oldest")
	assert.NotEmpty(t, decide(c, "open-1", ev(eventsapi.Trigger, keyA, 2)).Reason)
}

func TestStatsCountOpenIncidents(t *testing.T) {
	c := New(Config{RepeatInterval: time.Hour}, nil)
	record(c, "a", ev(eventsapi.Trigger, keyA, 1))
	record(c, "b", ev(eventsapi.Trigger, keyA, 1))
	record(c, "b", ev(eventsapi.Acknowledge, keyA, 0))
	record(c, "c", ev(eventsapi.Resolve, keyA, 0))
	assert.Equal(t, Stats{Entries: 3, Open: 2}, c.Stats())
	record(c, "a", ev(eventsapi.Resolve, keyA, 0))
	assert.Equal(t, Stats{Entries: 3, Open: 1}, c.Stats())
}

func TestConcurrentUse(t *testing.T) {
	c := New(Config{TTL: time.Hour, MaxEntries: 500, RepeatInterval: time.Hour}, nil)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 2000 {
				dk := fmt.Sprintf("alert-%d", (g*7919+i)%1000)
				actions := []eventsapi.Action{eventsapi.Trigger, eventsapi.Acknowledge, eventsapi.Resolve}
				e := ev(actions[i%3], keyA, uint64(i%5))
				if d := decide(c, dk, e); d.Reason == "" {
					record(c, dk, e)
				}
				_ = c.Stats()
			}
		})
	}
	wg.Wait()
	s := c.Stats()
	assert.LessOrEqual(t, s.Entries, 500)
	assert.LessOrEqual(t, s.Open, s.Entries)
	assert.Positive(t, s.Evictions)
}

// BenchmarkEntryBytes reports the heap held per cache entry, with 40-byte
// dedup keys, the size of a typical fingerprint.
func BenchmarkEntryBytes(b *testing.B) {
	const n = 200_000
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("%040d", i)
	}
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	c := New(Config{MaxEntries: n, RepeatInterval: time.Hour}, nil)
	for _, k := range keys {
		record(c, k, ev(eventsapi.Trigger, keyA, 1))
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(c)
	for b.Loop() {
		decide(c, keys[0], ev(eventsapi.Trigger, keyA, 1))
	}
	b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "bytes/entry")
}

func BenchmarkDecideRecord(b *testing.B) {
	c := New(Config{MaxEntries: 10_000, RepeatInterval: time.Hour}, nil)
	keys := make([]string, 1000)
	for i := range keys {
		keys[i] = fmt.Sprintf("alert-%d", i)
	}
	b.Run("serial", func(b *testing.B) {
		i := 0
		for b.Loop() {
			k := keys[i%len(keys)]
			e := ev(eventsapi.Trigger, keyA, uint64(i%3))
			if decide(c, k, e).Reason == "" {
				record(c, k, e)
			}
			i++
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				k := keys[i%len(keys)]
				e := ev(eventsapi.Trigger, keyA, uint64(i%3))
				if decide(c, k, e).Reason == "" {
					record(c, k, e)
				}
				i++
			}
		})
	})
}

// TestMillionDistinctKeys: a storm of 1,000,000 distinct keys against a bound
// of 1,000 keeps the cache at its bound, evicting resolved entries before
// open ones, with every eviction counted.
func TestMillionDistinctKeys(t *testing.T) {
	const total, bound = 1_000_000, 1000
	c := New(Config{MaxEntries: bound, RepeatInterval: time.Hour}, nil)
	// An open incident recorded first must survive the whole storm of
	// resolved entries.
	record(c, "keep-open", ev(eventsapi.Trigger, keyA, 1))
	var ms runtime.MemStats
	peak := uint64(0)
	for i := range total {
		record(c, fmt.Sprintf("storm-%d", i), ev(eventsapi.Resolve, keyA, 0))
		if i%100_000 == 0 {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapAlloc)
		}
	}
	s := c.Stats()
	assert.Equal(t, bound, s.Entries)
	assert.Equal(t, 1, s.Open)
	assert.Equal(t, int64(total+1-bound), s.Evictions)
	assert.NotEmpty(t, decide(c, "keep-open", ev(eventsapi.Trigger, keyA, 1)).Reason, "the open incident is still known")
	assert.Less(t, peak, uint64(64<<20), "heap stays small: the bound holds")
}

// decide and record go through the transaction the exporter uses.
func decide(c *Cache, dedupKey string, e Event) Decision {
	turn, err := c.Begin(context.Background(), dedupKey, e)
	if err != nil {
		panic(err)
	}
	defer turn.Release()
	return turn.Decision
}

// record commits e as accepted, under its own routing key when the cache
// knows none for dedupKey, else under the incident's.
func record(c *Cache, dedupKey string, e Event) {
	turn, err := c.Begin(context.Background(), dedupKey, e)
	if err != nil {
		panic(err)
	}
	defer turn.Release()
	turn.Commit(context.Background())
}

// TestSuppressedCommitAdvancesTime: committing a suppressed duplicate makes
// an older record of the key stale, but a turn released without a commit
// (a record held for a retry) changes nothing.
func TestSuppressedCommitAdvancesTime(t *testing.T) {
	ctx := context.Background()
	c := New(Config{RepeatInterval: time.Hour}, nil)
	trigger := Event{Action: eventsapi.Trigger, RoutingKey: keyA, PayloadHash: 1, Time: 100}
	record(c, "dk", trigger)

	later := trigger
	later.Time = 300
	turn, err := c.Begin(ctx, "dk", later)
	require.NoError(t, err)
	require.Equal(t, ReasonDuplicate, turn.Reason)
	turn.Release() // held, not settled
	assert.Empty(t, decide(c, "dk", Event{Action: eventsapi.Resolve, RoutingKey: keyA, Time: 200}).Reason,
		"an unsettled duplicate changes nothing")

	turn, err = c.Begin(ctx, "dk", later)
	require.NoError(t, err)
	turn.Commit(ctx)
	turn.Release()
	turn.Release() // a second release does nothing
	assert.Equal(t, ReasonStale, decide(c, "dk", Event{Action: eventsapi.Resolve, RoutingKey: keyA, Time: 200}).Reason,
		"the resolve is older than the duplicate PagerDuty already showed")
}

func TestIncidentKeyAndUntracked(t *testing.T) {
	c := New(Config{RepeatInterval: time.Hour}, nil)
	key, open := c.IncidentKey("dk")
	assert.Empty(t, key)
	assert.False(t, open)
	record(c, "dk", ev(eventsapi.Trigger, keyA, 1))
	key, open = c.IncidentKey("dk")
	assert.Equal(t, keyA, key)
	assert.True(t, open)
	record(c, "dk", ev(eventsapi.Resolve, keyB, 0))
	key, open = c.IncidentKey("dk")
	assert.Equal(t, keyA, key, "the resolve went to the opening key")
	assert.False(t, open)

	turn := Untracked(keyB)
	assert.Equal(t, Decision{RoutingKey: keyB}, turn.Decision, "sent, under the key it was given")
	turn.Commit(context.Background()) // a turn of no cache: nothing to record, nothing to end
	turn.Release()
}

func TestBeginHonoursContext(t *testing.T) {
	c := New(Config{}, nil)
	held, err := c.Begin(context.Background(), "dk", ev(eventsapi.Trigger, keyA, 1))
	require.NoError(t, err)
	defer held.Release()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = c.Begin(ctx, "dk", ev(eventsapi.Trigger, keyA, 1))
	require.ErrorIs(t, err, context.Canceled)
}
