package dedup

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/eventsapi"
)

// BenchmarkEntryBytesMillion reports the heap held per cache entry with
// 1,000,000 entries (40-byte dedup keys, open incidents): BenchmarkEntryBytes
// at ten times the default max_entries. It reports bytes/entry on top of the
// keys themselves (the keys are allocated before the first reading) and
// key+entry bytes/entry including them. The timed loop is a lookup of a
// known key in the full cache.
func BenchmarkEntryBytesMillion(b *testing.B) {
	const n, keyLen = 1_000_000, 40
	ctx := context.Background()
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("%0*d", keyLen, i)
	}
	e := Event{Action: eventsapi.Trigger, RoutingKey: "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", PayloadHash: 1}
	c, perEntry := filledCache(keys, e)
	if got := c.Stats().Entries; got != n {
		b.Fatalf("cache holds %d entries, want %d", got, n)
	}
	i := 0
	for b.Loop() {
		_ = c.decide(ctx, keys[i%n], e, false)
		i += 7919
	}
	runtime.KeepAlive(c)
	runtime.KeepAlive(keys)
	b.ReportMetric(perEntry, "bytes/entry")
	b.ReportMetric(perEntry+keyLen, "key+entry-bytes/entry")
}

// filledCache returns a cache of the given keys, each recorded as ev, and
// the heap it took per key, the keys themselves not counted.
func filledCache(keys []string, ev Event) (*Cache, float64) {
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	c := New(Config{MaxEntries: len(keys), RepeatInterval: time.Hour}, nil)
	for _, k := range keys {
		c.record(context.Background(), k, ev, false)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	return c, float64(after.HeapAlloc-before.HeapAlloc) / float64(len(keys))
}
