package road // import "github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/road"

import (
	"sync"
	"time"

	"go.opentelemetry.io/collector/config/configretry"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/routes"
)

// backlog counts, per route and priority, the log records the exporter
// holds and has not settled: added when a record is queued, taken off when
// its event is accepted, suppressed or rejected, or when the retry sender
// gives up on it.
//
// The retry sender does not say when it gives up, so records handed back for
// a retry are remembered with the time they were; a request not seen again
// within retry_on_failure.max_elapsed_time plus max_interval was given up.
//
// Records are added before their queue takes them (Road.enqueue), so a
// consumer that settles them at once never takes the count below what is
// queued; a queue that refuses them takes them off again. A count may still
// go below zero for a moment (a queue whose count could not be read at
// start, below), and is then reported as zero: a count that stopped at zero
// instead would creep up for good.
//
// At start, the records a persistent queue holds from before are added
// before it delivers any (Road.Start), so the gauge counts them from
// the start. A queue whose count could not be read is added as holding
// none: its records, once settled, leave the route's count that much low.
//
// While a route holds records, the backlog also keeps the summaries of the
// first maxNames records queued on it, for the storm digest (Waiting).
type backlog struct {
	giveUpAfter time.Duration // 0: never given up
	// gaveUp is told of each request the retry sender gave up on.
	gaveUp func(plog.Logs)

	mu      sync.Mutex
	records map[string]*[routes.NumPriorities]int64
	names   map[string][]string
	retries map[plog.Logs]retry
}

// maxNames bounds how many summaries a route's backlog keeps.
const maxNames = 10

// retry is a request handed back to the retry sender.
type retry struct {
	queue   routes.Queue
	records int
	at      time.Time
}

// newBacklog counts the records of routes, and settles those handed back
// for a retry once giveUpAfter has passed (0: never; see GiveUpAfter),
// telling gaveUp of each.
func newBacklog(names []string, giveUpAfter time.Duration, gaveUp func(plog.Logs)) *backlog {
	b := &backlog{
		giveUpAfter: giveUpAfter, gaveUp: gaveUp,
		records: make(map[string]*[routes.NumPriorities]int64, len(names)),
		names:   map[string][]string{},
		retries: map[plog.Logs]retry{},
	}
	for _, rt := range names {
		b.records[rt] = new([routes.NumPriorities]int64)
	}
	return b
}

// GiveUpAfter is when the retry sender has surely given up on a request it
// was handed back; 0 when it never does.
func GiveUpAfter(backOff configretry.BackOffConfig) time.Duration {
	switch {
	case !backOff.Enabled:
		return time.Nanosecond
	case backOff.MaxElapsedTime == 0:
		return 0
	}
	return backOff.MaxElapsedTime + backOff.MaxInterval
}

// add counts n records queued on key; summaries, when not nil, yields
// the summaries of the records for the route's first names.
func (b *backlog) add(key routes.Queue, n int, summaries func(yield func(string) bool)) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.of(key.Route)[key.Priority] += int64(n)
	if summaries == nil || len(b.names[key.Route]) >= maxNames {
		return
	}
	for summary := range summaries {
		b.names[key.Route] = append(b.names[key.Route], summary)
		if len(b.names[key.Route]) == maxNames {
			return
		}
	}
}

func (b *backlog) settle(key routes.Queue, n int) {
	if n == 0 {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.take(key, int64(n))
}

// take takes n records of key off the backlog, forgetting the route's
// summaries once it holds none. b.mu must be held.
func (b *backlog) take(key routes.Queue, n int64) {
	counts := b.of(key.Route)
	counts[key.Priority] -= n // below zero until their add follows: see backlog
	var held int64
	for _, c := range counts {
		held += max(c, 0)
	}
	if held == 0 {
		delete(b.names, key.Route)
	}
}

// of returns the counts of route, a route no longer configured (read back
// from a persistent queue) included. b.mu must be held.
func (b *backlog) of(route string) *[routes.NumPriorities]int64 {
	counts, ok := b.records[route]
	if !ok {
		counts = new([routes.NumPriorities]int64)
		b.records[route] = counts
	}
	return counts
}

// retrying notes that ld goes back to the retry sender; taken forgets it
// when the retry sender hands it back.
func (b *backlog) retrying(ld plog.Logs, key routes.Queue, now time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	// Swept here too, not only when observed: without a metric reader the
	// requests given up on would stay, data and all.
	b.settleGivenUp(now)
	b.retries[ld] = retry{queue: key, records: ld.LogRecordCount(), at: now}
}

func (b *backlog) taken(ld plog.Logs) {
	b.mu.Lock()
	delete(b.retries, ld)
	b.mu.Unlock()
}

// observe calls fn with each route's count, never below zero, first
// settling the requests the retry sender gave up on.
func (b *backlog) observe(now time.Time, fn func(route string, records int64)) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.settleGivenUp(now)
	for rt, counts := range b.records {
		var n int64
		for _, c := range counts {
			n += c
		}
		fn(rt, max(n, 0))
	}
}

// settleGivenUp settles the requests the retry sender has surely given up
// on by now. b.mu must be held.
func (b *backlog) settleGivenUp(now time.Time) {
	if b.giveUpAfter == 0 {
		return
	}
	for ld, r := range b.retries {
		if now.Sub(r.at) > b.giveUpAfter {
			b.take(r.queue, int64(r.records))
			delete(b.retries, ld)
			if b.gaveUp != nil {
				b.gaveUp(ld)
			}
		}
	}
}

// ObserveBacklog calls fn with each route's count of the records the road
// holds, never below zero, as of now.
func (r *Road) ObserveBacklog(now time.Time, fn func(route string, records int64)) {
	r.backlog.observe(now, fn)
}

// Waiting is what a route's backlog holds: its records by priority, never
// below zero, and the summaries of the first of them (at most 10).
type Waiting struct {
	Records [routes.NumPriorities]int64
	Names   []string
}

// Total is how many records are waiting.
func (w Waiting) Total() int64 {
	var n int64
	for _, c := range w.Records {
		n += c
	}
	return n
}

// Waiting returns what route's backlog holds now; like the backlog gauge,
// it first settles the requests the retry sender gave up on.
func (r *Road) Waiting(route string) Waiting {
	b := r.backlog
	b.mu.Lock()
	defer b.mu.Unlock()
	b.settleGivenUp(time.Now())
	var w Waiting
	for p, c := range b.of(route) {
		w.Records[p] = max(c, 0)
	}
	w.Names = append([]string(nil), b.names[route]...)
	return w
}
