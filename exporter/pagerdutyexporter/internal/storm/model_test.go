package storm

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/eventsapi"
)

// TestDigestModelCheck runs seeded schedules of backlogs rising and
// draining, ticks at random times, PagerDuty failing and recovering, and
// restarts with and without storage, and checks the digest of each route
// against its reference: open in PagerDuty exactly while a storm it saw
// lasts (opened when the backlog would take longer than digest_after to
// drain, closed once the backlog is empty), as of the last tick whose sends
// all went through; a new incident only where the reference opens one;
// updates at least a minute apart; never resolved while events wait; and,
// once everything drained, none left open.
func TestDigestModelCheck(t *testing.T) {
	for seed := range uint64(300) {
		t.Run(fmt.Sprint("seed=", seed), func(t *testing.T) { runDigestSchedule(t, seed) })
	}
}

func runDigestSchedule(t *testing.T, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 0))
	ctx := context.Background()
	names := []string{"checkout", "payments"}
	b := backlogs{}
	pd := &pagerDuty{}
	var store *memStore
	if rng.IntN(2) == 0 {
		store = newMemStore()
	}
	start := func() *Digests {
		if store == nil {
			d, _ := newTestDigests(t, b, pd, nil)
			return d
		}
		d, _ := newTestDigests(t, b, pd, store)
		return d
	}
	d := start()
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	stormOpen := map[string]bool{} // the reference
	var log []string
	fail := func(msg string, args ...any) {
		t.Helper()
		t.Fatalf("seed %d: "+msg+"\nschedule:\n%s", append(append([]any{}, seed), append(args, strings.Join(log, "\n"))...)...)
	}
	tick := func() {
		pd.now = now
		before := len(pd.events)
		err := d.Tick(ctx, now)
		log = append(log, fmt.Sprintf("tick at %v failing=%v err=%v", now.Format("15:04:05"), pd.failed, err))
		for _, ev := range pd.events[before:] {
			route := strings.TrimPrefix(ev.DedupKey, DedupKeyPrefix)
			total := b.waiting(route).Total()
			switch {
			case ev.Action == eventsapi.Resolve && total > 0:
				fail("%s resolved with %d events waiting", route, total)
			case ev.Action == eventsapi.Trigger && !stormOpen[route] && time.Duration(total)*time.Second <= 30*time.Second:
				fail("%s opened with %d events waiting, which drain within digest_after", route, total)
			}
		}
		if pd.failed {
			return
		}
		for _, route := range names {
			total := b.waiting(route).Total()
			stormOpen[route] = total > 0 && (stormOpen[route] || time.Duration(total)*time.Second > 30*time.Second)
			if pd.open(route) != stormOpen[route] {
				fail("%s: PagerDuty shows the digest open=%v, the reference %v", route, pd.open(route), stormOpen[route])
			}
		}
	}
	for range 40 {
		switch roll := rng.IntN(10); {
		case roll < 3:
			route := names[rng.IntN(len(names))]
			n := []int64{0, 0, 5, 40, 300}[rng.IntN(5)]
			b[route] = waitingInfo(n)
			log = append(log, fmt.Sprintf("%s holds %d", route, n))
		case roll < 4:
			pd.failed = !pd.failed
			log = append(log, fmt.Sprintf("PagerDuty failing=%v", pd.failed))
		case roll < 5 && !pd.failed:
			// A stop without storage resolves what is open; a new run
			// knows nothing of it, as the reference then does.
			require.NoError(t, d.Close(ctx))
			if store == nil {
				stormOpen = map[string]bool{}
			}
			d = start()
			log = append(log, "restart")
		default:
			now = now.Add(time.Duration(rng.IntN(90)) * time.Second)
			tick()
		}
	}
	pd.failed = false
	b = backlogs{}
	d.waiting = b.waiting
	now = now.Add(time.Minute)
	tick()
	for _, route := range names {
		if pd.open(route) {
			fail("%s: the digest is left open once everything drained", route)
		}
	}
	checkUpdatesApart(t, seed, pd)
}

// checkUpdatesApart: within one open digest, each trigger comes at least
// updateEvery after the one before it.
func checkUpdatesApart(t *testing.T, seed uint64, pd *pagerDuty) {
	t.Helper()
	last := map[string]time.Time{} // the open digests' last triggers
	for i, ev := range pd.events {
		if ev.Action == eventsapi.Resolve {
			delete(last, ev.DedupKey)
			continue
		}
		if prev, open := last[ev.DedupKey]; open && pd.at[i].Sub(prev) < updateEvery {
			t.Fatalf("seed %d: %s updated %v after the trigger before it", seed, ev.DedupKey, pd.at[i].Sub(prev))
		}
		last[ev.DedupKey] = pd.at[i]
	}
}
