package road // import "github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/road"

import (
	"sync"
	"time"

	"go.opentelemetry.io/collector/config/configretry"
	"go.opentelemetry.io/collector/pdata/plog"
)

// backlog counts, per route, the log records the exporter holds and has not
// settled: added when a record is queued, taken off when its event is
// accepted, suppressed or rejected, or when the retry sender gives up on it.
//
// The retry sender does not say when it gives up, so records handed back for
// a retry are remembered with the time they were; a request not seen again
// within retry_on_failure.max_elapsed_time plus max_interval was given up.
//
// Records are added before their queue takes them (Road.enqueuing), so a
// consumer that settles them at once never takes the count below what is
// queued; a queue that refuses them takes them off again. A route's count
// may still go below zero for a moment (a queue whose count could not be
// read at start, below), and is then reported as zero: a count that stopped
// at zero instead would creep up for good.
//
// At start, the records a persistent queue holds from before are added
// before it delivers any (Road.Start), so the gauge counts them from
// the start. A queue whose count could not be read is added as holding
// none: its records, once settled, leave the route's count that much low.
type backlog struct {
	giveUpAfter time.Duration // 0: never given up
	// gaveUp is told of each request the retry sender gave up on.
	gaveUp func(plog.Logs)

	mu      sync.Mutex
	records map[string]int64
	retries map[plog.Logs]retry
}

// retry is a request handed back to the retry sender.
type retry struct {
	route   string
	records int
	at      time.Time
}

// newBacklog counts the records of routes, and settles those handed back
// for a retry once giveUpAfter has passed (0: never; see GiveUpAfter),
// telling gaveUp of each.
func newBacklog(routes []string, giveUpAfter time.Duration, gaveUp func(plog.Logs)) *backlog {
	b := &backlog{giveUpAfter: giveUpAfter, gaveUp: gaveUp, records: make(map[string]int64, len(routes)), retries: map[plog.Logs]retry{}}
	for _, rt := range routes {
		b.records[rt] = 0
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

func (b *backlog) add(rt string, n int) {
	b.mu.Lock()
	b.records[rt] += int64(n)
	b.mu.Unlock()
}

func (b *backlog) settle(rt string, n int) {
	if n == 0 {
		return
	}
	b.mu.Lock()
	b.records[rt] -= int64(n) // below zero until their add follows: see backlog
	b.mu.Unlock()
}

// retrying notes that ld goes back to the retry sender; taken forgets it
// when the retry sender hands it back.
func (b *backlog) retrying(ld plog.Logs, rt string, now time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	// Swept here too, not only when observed: without a metric reader the
	// requests given up on would stay, data and all.
	b.settleGivenUp(now)
	b.retries[ld] = retry{route: rt, records: ld.LogRecordCount(), at: now}
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
	for rt, n := range b.records {
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
			b.records[r.route] -= int64(r.records)
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
