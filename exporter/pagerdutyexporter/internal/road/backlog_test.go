package road

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/routes"
)

func noGiveUp(plog.Logs) {}

// q is the error queue of route.
func q(route string) routes.Queue { return routes.Queue{Route: route, Priority: routes.PriorityError} }

func TestBacklogSettlesWhatTheRetrySenderGaveUp(t *testing.T) {
	b := newBacklog([]string{"checkout", "default"}, time.Minute, noGiveUp)
	now := time.Unix(1_700_000_000, 0)
	observe := func(at time.Time) map[string]int64 {
		got := map[string]int64{}
		b.observe(at, func(route string, n int64) { got[route] = n })
		return got
	}
	b.add(q("checkout"), 5, nil)
	assert.Equal(t, map[string]int64{"checkout": 5, "default": 0}, observe(now))

	// Two settled; three handed back for a retry.
	b.settle(q("checkout"), 2)
	held := plog.NewLogs()
	lrs := held.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords()
	for range 3 {
		lrs.AppendEmpty()
	}
	b.retrying(held, q("checkout"), now)
	assert.Equal(t, int64(3), observe(now.Add(time.Minute))["checkout"], "still within the retry window")

	// Taken back by the retry sender: no longer a candidate to give up.
	b.taken(held)
	assert.Equal(t, int64(3), observe(now.Add(time.Hour))["checkout"])

	// Handed back again and never seen since: given up.
	b.retrying(held, q("checkout"), now)
	assert.Equal(t, int64(0), observe(now.Add(time.Minute + time.Second))["checkout"])
	// Reported never below zero, whatever is settled.
	b.settle(q("default"), 7)
	assert.Equal(t, int64(0), observe(now)["default"])
}

// TestBacklogCountsRecordsSettledBeforeTheirAdmission: a consumer may settle
// records before admission adds them; once added, they are no longer held,
// and the count is back where it was, instead of creeping up for good.
func TestBacklogCountsRecordsSettledBeforeTheirAdmission(t *testing.T) {
	b := newBacklog([]string{"checkout", "payments"}, 0, noGiveUp)
	observe := func() map[string]int64 {
		got := map[string]int64{}
		b.observe(time.Now(), func(route string, n int64) { got[route] = n })
		return got
	}
	b.add(q("payments"), 4, nil)
	b.settle(q("checkout"), 3) // a fast consumer, before the add
	assert.Equal(t, map[string]int64{"checkout": 0, "payments": 4}, observe(), "reported as zero meanwhile; other routes unchanged")
	b.add(q("checkout"), 3, nil)
	assert.Equal(t, map[string]int64{"checkout": 0, "payments": 4}, observe(), "settled and added: nothing held")
	b.add(q("checkout"), 2, nil)
	assert.Equal(t, int64(2), observe()["checkout"])
	b.settle(q("checkout"), 2)
	assert.Equal(t, int64(0), observe()["checkout"])
}

// TestBacklogForgetsGivenUpRequestsWithoutAReader: with no metric reader,
// a request handed back and never taken again is still let go, with its
// records, once the next request is handed back after the give-up time.
func TestBacklogForgetsGivenUpRequestsWithoutAReader(t *testing.T) {
	b := newBacklog([]string{"checkout"}, time.Minute, noGiveUp)
	now := time.Unix(1_700_000_000, 0)
	b.add(q("checkout"), 2, nil)
	first, second := plog.NewLogs(), plog.NewLogs()
	first.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
	second.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
	b.retrying(first, q("checkout"), now)
	b.retrying(second, q("checkout"), now.Add(2*time.Minute))
	b.mu.Lock()
	defer b.mu.Unlock()
	assert.Len(t, b.retries, 1, "the first request was given up")
	assert.Equal(t, int64(1), b.records["checkout"][routes.PriorityError])
}

// TestWaitingByPriorityWithTheFirstNames: a route's waiting records are
// counted by priority, with the summaries of the first 10 queued while it
// held records, forgotten once it holds none.
func TestWaitingByPriorityWithTheFirstNames(t *testing.T) {
	r := &Road{backlog: newBacklog([]string{"checkout"}, 0, noGiveUp)}
	summaries := func(prefix string, n int) func(yield func(string) bool) {
		return func(yield func(string) bool) {
			for i := range n {
				if !yield(fmt.Sprint(prefix, i)) {
					return
				}
			}
		}
	}
	critical := routes.Queue{Route: "checkout", Priority: routes.PriorityCritical}
	r.backlog.add(q("checkout"), 8, summaries("error-", 8))
	r.backlog.add(critical, 5, summaries("critical-", 5))
	w := r.Waiting("checkout")
	assert.Equal(t, int64(13), w.Total())
	assert.Equal(t, int64(5), w.Records[routes.PriorityCritical])
	assert.Equal(t, int64(8), w.Records[routes.PriorityError])
	assert.Equal(t, []string{"error-0", "error-1", "error-2", "error-3", "error-4", "error-5", "error-6", "error-7", "critical-0", "critical-1"}, w.Names)

	r.backlog.settle(q("checkout"), 8)
	assert.Len(t, r.Waiting("checkout").Names, 10, "kept while records wait")
	r.backlog.settle(critical, 5)
	w = r.Waiting("checkout")
	assert.Zero(t, w.Total())
	assert.Empty(t, w.Names, "forgotten once the route holds none")
	r.backlog.add(q("checkout"), 1, summaries("next-", 1))
	assert.Equal(t, []string{"next-0"}, r.Waiting("checkout").Names, "the next storm's own")
	assert.Zero(t, r.Waiting("payments").Total(), "a route with nothing held")
}
