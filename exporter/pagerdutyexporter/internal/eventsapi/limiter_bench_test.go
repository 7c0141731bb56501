package eventsapi

import (
	"context"
	"fmt"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

// limiterBudget is how many events a benchmark limiter allows per key at
// once: events_per_minute and burst are both this, so a key can take this
// many events back to back before Wait would ever have to sleep.
const limiterBudget = 1 << 17

// BenchmarkLimiterWait measures what Limiter.Wait costs an event that may go
// at once: the cost paid by every event when the rate limit is on but a key
// is below its budget. It never sleeps (an op that waited fails the
// benchmark), so ns/op is the acquire cost alone.
//
//   - off: rate limiting disabled (events_per_minute 0), the baseline.
//   - unthrottled: one goroutine, one key.
//   - unthrottled-parallel: GOMAXPROCS goroutines on one shared limiter, each
//     with its own key (the limiter's key map is shared, as between the
//     queue's consumers).
//
// A key's log of send times grows by one entry per event until it holds
// events_per_minute, so an op count larger than the budget would either wait
// or need memory in proportion to b.N. Each goroutine therefore moves to a
// fresh limiter (and so fresh, empty keys) after half the budget: the switch
// costs one allocation per 65,536 ops and keeps memory bounded.
func BenchmarkLimiterWait(b *testing.B) {
	ctx := context.Background()
	b.Run("off", func(b *testing.B) {
		l := NewLimiter(0, 0)
		b.ReportAllocs()
		for b.Loop() {
			if d, err := l.Wait(ctx, "k", 0, time.Time{}); d != 0 || err != nil {
				b.Fatalf("disabled limiter waited %v, err %v", d, err)
			}
		}
	})
	b.Run("unthrottled", func(b *testing.B) {
		var shared atomic.Pointer[Limiter]
		shared.Store(NewLimiter(limiterBudget, limiterBudget))
		a := acquirer{shared: &shared, key: "routing-key-0"}
		b.ReportAllocs()
		for b.Loop() {
			a.acquire(ctx, b)
		}
	})
	b.Run("unthrottled-parallel", func(b *testing.B) {
		var shared atomic.Pointer[Limiter]
		shared.Store(NewLimiter(limiterBudget, limiterBudget))
		var ids atomic.Int64
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			a := acquirer{shared: &shared, key: "routing-key-" + strconv.FormatInt(ids.Add(1), 10)}
			for pb.Next() {
				a.acquire(ctx, b)
			}
		})
	})
}

// acquirer is one goroutine's use of a shared limiter under its own key.
type acquirer struct {
	shared *atomic.Pointer[Limiter]
	key    string
	cur    *Limiter
	used   int // events this goroutine sent under key on cur
}

func (a *acquirer) acquire(ctx context.Context, b *testing.B) {
	l := a.shared.Load()
	if l != a.cur {
		a.cur, a.used = l, 0
	}
	if a.used == limiterBudget/2 {
		// Every goroutine has used at most half of its key's budget on
		// the current limiter; a fresh one starts all keys empty again.
		l = NewLimiter(limiterBudget, limiterBudget)
		a.shared.Store(l)
		a.cur, a.used = l, 0
	}
	a.used++
	if d, err := l.Wait(ctx, a.key, 0, time.Time{}); d != 0 || err != nil {
		// Errorf, not Fatalf: this may run on a RunParallel goroutine.
		b.Errorf("acquire on an unthrottled key waited %v, err %v", d, err)
	}
}

// BenchmarkLimiterMemoryPerKey reports the heap one routing key's limiter
// holds after 200,000 events, whatever events_per_minute is: the send log is
// bounded by MaxSendLog.
//
//	go test -run '^$' -bench LimiterMemoryPerKey -benchtime 1x ./exporter/pagerdutyexporter/internal/eventsapi/
func BenchmarkLimiterMemoryPerKey(b *testing.B) {
	for _, perMinute := range []int{120, MaxSendLog, 100_000, 2_000_000} {
		b.Run(fmt.Sprintf("events_per_minute=%d", perMinute), func(b *testing.B) {
			for b.Loop() {
				var before, after runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&before)
				l := NewLimiter(perMinute, 10)
				now := time.Unix(1_700_000_000, 0)
				for range 200_000 {
					now = now.Add(reserve(l, "k", now))
				}
				runtime.GC()
				runtime.ReadMemStats(&after)
				b.ReportMetric(float64(after.HeapAlloc)-float64(before.HeapAlloc), "bytes/key")
				runtime.KeepAlive(l)
			}
		})
	}
}
