package road

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"go.opentelemetry.io/collector/pdata/plog"
)

func noGiveUp(plog.Logs) {}

func TestBacklogSettlesWhatTheRetrySenderGaveUp(t *testing.T) {
	b := newBacklog([]string{"checkout", "default"}, time.Minute, noGiveUp)
	now := time.Unix(1_700_000_000, 0)
	observe := func(at time.Time) map[string]int64 {
		got := map[string]int64{}
		b.observe(at, func(route string, n int64) { got[route] = n })
		return got
	}
	b.add("checkout", 5)
	assert.Equal(t, map[string]int64{"checkout": 5, "default": 0}, observe(now))

	// Two settled; three handed back for a retry.
	b.settle("checkout", 2)
	held := plog.NewLogs()
	lrs := held.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords()
	for range 3 {
		lrs.AppendEmpty()
	}
	b.retrying(held, "checkout", now)
	assert.Equal(t, int64(3), observe(now.Add(time.Minute))["checkout"], "still within the retry window")

	// Taken back by the retry sender: no longer a candidate to give up.
	b.taken(held)
	assert.Equal(t, int64(3), observe(now.Add(time.Hour))["checkout"])

	// Handed back again and never seen since: given up.
	b.retrying(held, "checkout", now)
	assert.Equal(t, int64(0), observe(now.Add(time.Minute + time.Second))["checkout"])
	// Reported never below zero, whatever is settled.
	b.settle("default", 7)
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
	b.add("payments", 4)
	b.settle("checkout", 3) // a fast consumer, before the add
	assert.Equal(t, map[string]int64{"checkout": 0, "payments": 4}, observe(), "reported as zero meanwhile; other routes unchanged")
	b.add("checkout", 3)
	assert.Equal(t, map[string]int64{"checkout": 0, "payments": 4}, observe(), "settled and added: nothing held")
	b.add("checkout", 2)
	assert.Equal(t, int64(2), observe()["checkout"])
	b.settle("checkout", 2)
	assert.Equal(t, int64(0), observe()["checkout"])
}

// TestBacklogForgetsGivenUpRequestsWithoutAReader: with no metric reader,
// a request handed back and never taken again is still let go, with its
// records, once the next request is handed back after the give-up time.
func TestBacklogForgetsGivenUpRequestsWithoutAReader(t *testing.T) {
	b := newBacklog([]string{"checkout"}, time.Minute, noGiveUp)
	now := time.Unix(1_700_000_000, 0)
	b.add("checkout", 2)
	first, second := plog.NewLogs(), plog.NewLogs()
	first.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
	second.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
	b.retrying(first, "checkout", now)
	b.retrying(second, "checkout", now.Add(2*time.Minute))
	b.mu.Lock()
	defer b.mu.Unlock()
	assert.Len(t, b.retries, 1, "the first request was given up")
	assert.Equal(t, int64(1), b.records["checkout"])
}
