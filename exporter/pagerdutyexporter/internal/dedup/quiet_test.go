package dedup

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/eventsapi"
)

func firing(rk string, quietFor time.Duration) Event {
	return Event{Action: eventsapi.Trigger, RoutingKey: rk, PayloadHash: 1, QuietFor: quietFor}
}

// firingArrives is the arrival of a firing record of dedupKey that is
// queued, then settles without being sent (a repeat in a queue).
func firingArrives(c *Cache, dedupKey string, quietFor time.Duration) {
	_, settled := c.Arrive(context.Background(), dedupKey, firing(keyA, quietFor), false)
	if !settled {
		c.Unpin(dedupKey, 0)
	}
}

func autoResolve() Event { return Event{Action: eventsapi.Resolve, Auto: true} }

func quietKeys(c *Cache, at time.Time) []string {
	var keys []string
	for _, q := range c.Quiet(context.Background(), at) {
		keys = append(keys, q.DedupKey)
	}
	return keys
}

// TestQuietClock: the clock of an accepted trigger runs for its quiet period
// and restarts on every firing record, sent or not; a sweep returns an
// alert once; an acknowledge neither stops nor restarts it; a resolve
// stops it.
func TestQuietClock(t *testing.T) {
	clk := newClock()
	c := New(Config{RepeatInterval: time.Hour}, clk.now)
	start := clk.now()
	record(c, "a", firing(keyA, 10*time.Second))
	record(c, "b", firing(keyB, 10*time.Second))
	record(c, "never", firing(keyA, 0))
	assert.Equal(t, 2, c.Stats().Quiet)

	assert.Empty(t, quietKeys(c, start.Add(9*time.Second)), "never sooner than the quiet period")
	clk.advance(6 * time.Second)
	firingArrives(c, "a", 10*time.Second) // a suppressed repeat restarts the clock too
	record(c, "b", ev(eventsapi.Acknowledge, keyB, 0))
	assert.Equal(t, []string{"b"}, quietKeys(c, start.Add(11*time.Second)), "acknowledged, still quiet")
	assert.Empty(t, quietKeys(c, start.Add(12*time.Second)), "returned once")
	assert.Empty(t, quietKeys(c, start.Add(15*time.Second)))
	assert.Equal(t, []string{"a"}, quietKeys(c, start.Add(17*time.Second)))

	record(c, "c", firing(keyA, 5*time.Second))
	record(c, "c", ev(eventsapi.Resolve, keyA, 0))
	assert.Empty(t, quietKeys(c, start.Add(time.Hour)), "a resolve stops the clock")
	firingArrives(c, "c", 5*time.Second)
	assert.Empty(t, quietKeys(c, start.Add(2*time.Hour)), "a firing record of a resolved alert starts nothing: its trigger will")
	assert.Zero(t, c.Stats().Quiet)
}

// TestAutoResolveLosesToALaterFiringRecord: an auto-resolve decided when the
// clock ran out is sent only if no firing record came since; one that came
// (a repeat, or an opt-out) makes it stale. After it is accepted, the next
// trigger opens a new incident.
func TestAutoResolveLosesToALaterFiringRecord(t *testing.T) {
	for _, tc := range []struct {
		name   string
		firing func(c *Cache)
		want   string
	}{
		{"quiet", func(*Cache) {}, ""},
		{"a repeat after the decision", func(c *Cache) { firingArrives(c, "a", 10*time.Second) }, ReasonStale},
		{"an opt-out after the decision", func(c *Cache) { firingArrives(c, "a", 0) }, ReasonStale},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk := newClock()
			c := New(Config{RepeatInterval: time.Hour}, clk.now)
			record(c, "a", firing(keyA, 10*time.Second))
			clk.advance(11 * time.Second)
			quiet := c.Quiet(context.Background(), clk.now())
			require.Equal(t, []QuietAlert{{DedupKey: "a", QuietFor: 10 * time.Second, At: clk.now().UnixNano()}}, quiet)
			tc.firing(c)
			d := decide(c, "a", autoResolve())
			assert.Equal(t, tc.want, d.Reason)
			assert.Equal(t, keyA, d.RoutingKey, "to the key that opened the incident")
			if d.Reason != "" {
				return
			}
			record(c, "a", autoResolve())
			assert.Equal(t, Decision{RoutingKey: keyA}, decide(c, "a", firing(keyA, 10*time.Second)), "the next firing record is a trigger, not a repeat")
		})
	}
	c := New(Config{}, nil)
	assert.Equal(t, ReasonStale, decide(c, "unknown", autoResolve()).Reason, "an alert the cache forgot is not resolved")
}

// TestQuietClockKeepsItsEntry: an entry whose clock runs outlives its TTL,
// however long the quiet period, until its clock runs out; then it expires.
func TestQuietClockKeepsItsEntry(t *testing.T) {
	clk := newClock()
	c := New(Config{TTL: time.Minute}, clk.now)
	record(c, "a", firing(keyA, 25*time.Hour)) // a daily job's period
	record(c, "b", firing(keyA, 0))
	clk.advance(2 * time.Hour)
	record(c, "c", firing(keyA, 0)) // makes room: expired entries go
	assert.Equal(t, 2, c.Stats().Entries, "b expired, a's clock runs")
	clk.advance(23*time.Hour + time.Second)
	assert.Equal(t, []string{"a"}, quietKeys(c, clk.now()))
	resolve := autoResolve()
	resolve.Arrival = clk.now().UnixNano() // as decided
	record(c, "a", resolve)
	clk.advance(time.Hour)
	record(c, "d", firing(keyA, 0))
	assert.Equal(t, 1, c.Stats().Entries, "resolved, a expired with c")
}

// TestQuietClockGoesWithItsEntry: an entry evicted when every entry's clock
// runs takes its clock with it; one without a running clock goes first.
func TestQuietClockGoesWithItsEntry(t *testing.T) {
	clk := newClock()
	c := New(Config{TTL: time.Minute, MaxEntries: 2}, clk.now)
	record(c, "a", firing(keyA, 30*time.Second))
	record(c, "b", firing(keyA, 30*time.Second))
	record(c, "c", firing(keyA, 30*time.Second)) // evicts a
	assert.Equal(t, 2, c.Stats().Quiet)
	assert.ElementsMatch(t, []string{"b", "c"}, quietKeys(c, clk.now().Add(31*time.Second)))
}

// TestFiringKeepsAQuietAlertKnown: while its clock runs, a firing record
// refreshes the entry's TTL, so that the quiet period counts from the last
// firing record even when the last send was longer ago than the TTL.
func TestFiringKeepsAQuietAlertKnown(t *testing.T) {
	clk := newClock()
	c := New(Config{TTL: time.Hour, RepeatInterval: 24 * time.Hour}, clk.now)
	record(c, "a", firing(keyA, 30*time.Minute))
	for range 4 {
		clk.advance(20 * time.Minute)
		firingArrives(c, "a", 30*time.Minute)
	}
	clk.advance(31 * time.Minute)
	assert.Equal(t, []string{"a"}, quietKeys(c, clk.now()), "80 minutes after the last send, still known")
}

// TestQuietSweepAfterALongSleep: a sweep after a gap longer than the number
// of buckets still finds every clock run out.
func TestQuietSweepAfterALongSleep(t *testing.T) {
	clk := newClock()
	c := New(Config{}, clk.now)
	record(c, "a", firing(keyA, 3*time.Second))
	record(c, "b", firing(keyA, time.Hour))
	assert.ElementsMatch(t, []string{"a", "b"}, quietKeys(c, clk.now().Add(48*time.Hour)))
}

// TestQuietClockAcrossRestart: with storage, an open alert's clock restarts
// from the start for its whole quiet period, so that time the collector was
// down never counts; a resolved alert gets none; an entry written before the
// quiet period was stored (version 1) is not auto-resolved.
func TestQuietClockAcrossRestart(t *testing.T) {
	ctx := context.Background()
	mem := &memStorage{data: map[string][]byte{}}
	client := walkingStorage{mem}
	clk := newClock()
	cfg := Config{TTL: 24 * time.Hour, StoreError: failOn(t)}
	before, err := Open(ctx, cfg, clk.now, persistence(client))
	require.NoError(t, err)
	record(before, "open", firing(keyA, 10*time.Second))
	record(before, "closed", firing(keyA, 10*time.Second))
	record(before, "closed", ev(eventsapi.Resolve, keyA, 0))
	keys := newKeyTable()
	v1 := (&storageStore{Persistence: persistence(client), keys: keys}).encode(&entry{key: "old", alert: alert{state: Triggered}, route: keys.id(keyA), updatedAt: clk.now().UnixNano()})
	v1 = append([]byte{entryVersionV1}, append(v1[1:fixedSizeV1], v1[fixedSize:]...)...)
	mem.data[entryPrefix+"old"] = v1
	require.NoError(t, before.Close(ctx))

	clk.advance(time.Hour) // down for longer than the quiet period
	after, err := Open(ctx, cfg, clk.now, persistence(client))
	require.NoError(t, err)
	assert.Equal(t, 3, after.Stats().Entries)
	assert.Empty(t, quietKeys(after, clk.now().Add(9*time.Second)), "not resolved at once after the restart")
	assert.Equal(t, []string{"open"}, quietKeys(after, clk.now().Add(11*time.Second)))
}

// BenchmarkQuietClockMillion reports the heap held per open alert with
// 1,000,000 alerts (40-byte dedup keys, not counted) whose 15-minute clocks
// run: BenchmarkEntryBytesMillion with auto-resolution on. The timed loop is
// an idle sweep (nothing has run out): at one sweep a second, its ns/op
// over 1e9 is the fraction of a core an idle exporter spends on its clocks.
func BenchmarkQuietClockMillion(b *testing.B) {
	const n = 1_000_000
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("%040d", i)
	}
	c, perAlert := filledCache(keys, Event{Action: eventsapi.Trigger, RoutingKey: keyA, PayloadHash: 1, QuietFor: 15 * time.Minute})
	if got := c.Stats().Quiet; got != n {
		b.Fatalf("%d clocks run, want %d", got, n)
	}
	now := time.Now().Add(10 * time.Minute)
	second := c.lru.quiet.floorSecond(now.UnixNano())
	for b.Loop() {
		// The same idle second, swept afresh each time: the work of one
		// tick of an idle exporter.
		c.mu.Lock()
		c.lru.quiet.next = second
		c.mu.Unlock()
		if q := c.Quiet(context.Background(), now); len(q) > 0 {
			b.Fatalf("%d alerts ran out in an idle sweep", len(q))
		}
	}
	runtime.KeepAlive(c)
	runtime.KeepAlive(keys)
	b.ReportMetric(perAlert, "bytes/alert")
}

// TestPinnedEntriesOutliveTTLAndBound: while a record of a key waits in a
// queue, its entry is neither expired by a tiny TTL nor evicted by a tiny
// bound, so that the record is still judged against the key's newest event.
func TestPinnedEntriesOutliveTTLAndBound(t *testing.T) {
	clk := newClock()
	c := New(Config{TTL: time.Nanosecond, MaxEntries: 1}, clk.now)
	_, settled := c.Arrive(context.Background(), "x", Event{Action: eventsapi.Resolve, RoutingKey: keyA, Time: 20, Arrival: 1}, false)
	require.False(t, settled, "queued, pinned")
	record(c, "x", Event{Action: eventsapi.Resolve, RoutingKey: keyA, Time: 20})
	clk.advance(time.Hour)
	record(c, "y", firing(keyA, 0)) // over the bound, and x is an hour past its TTL
	assert.Equal(t, ReasonStale, decide(c, "x", Event{Action: eventsapi.Trigger, RoutingKey: keyA, Time: 10}).Reason,
		"the trigger queued before the resolve is stale")
	c.Unpin("x", 1)
	c.Unpin("x", 1) // more than pinned: nothing
	clk.advance(time.Hour)
	assert.Empty(t, decide(c, "x", Event{Action: eventsapi.Trigger, RoutingKey: keyA, Time: 10}).Reason, "once settled, the TTL applies again")
}
