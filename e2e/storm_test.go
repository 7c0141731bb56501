package e2e

// Load: an alert storm the dedup cache must absorb, and a noisy routing key
// whose rate limit must not hold up a quiet one (see also priority_test.go).
// PAGERDUTY_E2E_FULL=1 (`make e2e-full`) runs them at full size.

import (
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-pagerduty/pagerduty/internal/e2etest"
)

// TestAlertStorm: 10 OTLP requests posted back to back, each holding the
// same 1,000 firing alerts (identical summary and severity each time, in a
// different order per request): 10,000 records. With no rate limit, the
// dedup cache lets exactly one trigger per alert through, whichever of the
// ten consumers gets there first, and suppresses the other 9,000 as
// duplicates (or as stale, when an older copy comes after a newer one was
// sent). The collector's peak RSS is logged. Full size: 10,000 alerts,
// 100,000 records.
func TestAlertStorm(t *testing.T) {
	requireE2E(t)
	t.Parallel()
	alerts, repeats := 1000, 10
	timeout := 60 * time.Second
	if fullSize() {
		alerts, timeout = 10000, 5*time.Minute
	}
	total := alerts * repeats
	sim, col := startPair(t, exporterConfig{}, "-rate-limit", "0", "-quiet")

	services := []string{"checkout", "payments", "search"}
	keys := map[string]string{"checkout": keyCheckout, "payments": keyPayments, "search": keyDefault}
	fp := func(i int) string { return fmt.Sprintf("storm-%05d", i) }
	severities := []string{"critical", "error", "warning", "info"}
	var bodies [][]byte
	for r := range repeats {
		p := e2etest.NewPayload()
		for si, svc := range services {
			p.Service(svc)
			for k := range alerts {
				i := (r*alerts/repeats + k) % alerts
				if i%len(services) == si {
					p.Add(firing(fp(i), severities[i%len(severities)], "storm alert "+fp(i)))
				}
			}
		}
		body, err := (&plog.JSONMarshaler{}).MarshalLogs(p.Logs())
		require.NoError(t, err)
		bodies = append(bodies, body)
	}

	start := time.Now()
	for _, b := range bodies {
		col.SendJSON(t, b)
	}
	posted := time.Since(start)
	e2etest.Eventually(t, timeout, func() bool {
		return col.Metric(t, metricEvents, "outcome=accepted")+col.Metric(t, metricSuppressed) == float64(total)
	}, "all %d records sent or suppressed", total)
	took := time.Since(start)
	rss, rssErr := peakRSS(col.Proc.Pid())

	s := sim.Snapshot(t)
	assert.Equal(t, alerts, s.Requests.Total, "Events API requests")
	assert.Equal(t, map[string]int{"202": alerts}, s.Requests.ByEndpoint[e2etest.EnqueuePath])
	require.Len(t, s.Incidents, alerts)
	require.Len(t, s.Events, alerts)
	seen := make(map[string]int, alerts)
	for _, inc := range s.Incidents {
		seen[inc.DedupKey]++
		assert.Equal(t, []string{"trigger"}, e2etest.Actions(inc.Events), inc.DedupKey)
	}
	for i := range alerts {
		assert.Equal(t, 1, seen[fp(i)], "incidents of %s", fp(i))
	}
	for _, inc := range s.Incidents {
		var i int
		_, err := fmt.Sscanf(inc.DedupKey, "storm-%d", &i)
		require.NoError(t, err, inc.DedupKey)
		assert.Equal(t, keys[services[i%len(services)]], inc.RoutingKey, inc.DedupKey)
	}

	duplicate := col.Count(t, metricSuppressed, "reason=duplicate")
	stale := col.Count(t, metricSuppressed, "reason=stale")
	assert.Equal(t, total-alerts, col.Count(t, metricSuppressed), "suppressed records")
	assert.Equal(t, total-alerts, duplicate+stale, "suppressed as duplicate or stale")
	assert.Equal(t, alerts, col.Count(t, metricEvents, "outcome=accepted"))
	assert.Equal(t, alerts, col.Count(t, metricEvents), "events sent")
	// Repeats of an alert already sent are suppressed before they are
	// queued; the others reach a queue and are suppressed there.
	queued := col.Count(t, metricSent)
	assert.GreaterOrEqual(t, queued, alerts, "records queued (exporterhelper's sent)")
	assert.LessOrEqual(t, queued, total, "records queued (exporterhelper's sent)")
	assert.Zero(t, col.Metric(t, metricSendFailed))

	if rssErr != nil {
		rss = "unknown (" + rssErr.Error() + ")"
	}
	t.Logf("storm: %d records for %d alerts in %d OTLP requests (posted in %v), all processed after %v: "+
		"%d trigger requests, %v suppressed (%v duplicate, %v stale); collector peak RSS (VmHWM) %s",
		total, alerts, repeats, posted.Round(time.Millisecond), took.Round(time.Millisecond),
		s.Requests.Total, duplicate+stale, duplicate, stale, rss)
}

// assertSlidingWindow checks that no 60-second window holds more than
// limit of the (sorted) times.
func assertSlidingWindow(t *testing.T, times []time.Time, limit int) {
	t.Helper()
	sorted := append([]time.Time(nil), times...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Before(sorted[j]) })
	for i := range sorted {
		if j := i + limit; j < len(sorted) && sorted[j].Sub(sorted[i]) < time.Minute {
			t.Errorf("%d events within %v (from %s): over %d per minute",
				limit+1, sorted[j].Sub(sorted[i]), sorted[i].Format(time.StampMilli), limit)
			return
		}
	}
}

// TestRateLimitWaitHoldsUpNoOtherKey: an event waiting for its routing
// key's rate limiter must not hold up the events of other routing keys,
// which have limiters of their own. The exporter holds an event's dedup key
// while it waits on the limiter; events of other dedup keys must never wait
// for that (an earlier design striped the keys over 1,024 locks, which made
// them). Here 400 noisy events wait at once, each on a consumer of its own
// (100, the most a queue may have, in each of the route's queues of the
// four trigger severities); ten alerts for two other keys (each with a burst
// of 5) must all arrive at once.
func TestRateLimitWaitHoldsUpNoOtherKey(t *testing.T) {
	requireE2E(t)
	t.Parallel()
	const perQueue, perQuietKey = 100, 5
	severities := []string{"critical", "error", "warning", "info"}
	noisy := perQueue * len(severities)
	sim, col := startPair(t, exporterConfig{eventsPerMinute: 60, burst: perQuietKey, numConsumers: perQueue},
		"-rate-limit", "60", "-quiet")
	for _, severity := range severities {
		for _, fp := range fingerprints("held-"+severity, perQueue) {
			col.Send(t, records("checkout", firing(fp, severity, "down: "+fp)))
		}
	}
	// The first five are sent; every other noisy request is with a
	// consumer, waiting for its slot.
	e2etest.Eventually(t, e2etest.LandTimeout, func() bool {
		return col.Metric(t, "otelcol_exporter_in_flight_requests") == float64(noisy-perQuietKey)
	}, "every noisy request taken by a consumer")

	var quiet []string
	sent := time.Now()
	for _, svc := range []string{"payments", "search"} {
		fps := fingerprints("quiet-"+svc, perQuietKey)
		quiet = append(quiet, fps...)
		sendEach(t, col, svc, fps)
	}
	const within = 5 * time.Second
	var s e2etest.Snapshot
	deadline := time.Now().Add(within)
	for {
		s = sim.Snapshot(t)
		if s.Has(quiet...) || time.Now().After(deadline) {
			break
		}
		time.Sleep(e2etest.PollInterval)
	}
	var late []string
	var slowest time.Duration
	for _, fp := range quiet {
		evs := s.EventsFor(fp)
		if len(evs) == 0 {
			late = append(late, fp)
			continue
		}
		slowest = max(slowest, evs[0].Time.Sub(sent))
	}
	t.Logf("%d of %d alerts of the quiet keys arrived within %v (slowest %v); not arrived: %v",
		len(quiet)-len(late), len(quiet), within, slowest.Round(time.Millisecond), late)
	assert.Empty(t, late, "alerts of other routing keys held up behind events waiting on the noisy key's limiter")
	assert.Zero(t, s.Requests.Throttled)
	col.Proc.Kill(t) // a SIGTERM would drain the noisy backlog at one event per second
}
