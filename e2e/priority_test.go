package e2e

// Pages that matter never wait: a backlog on one route does not hold up
// another route, and within a route the most urgent events go first. The
// simulator enforces the same rate limit as the exporter, so any event sent
// ahead of its turn would show as a 429.

import (
	"fmt"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-pagerduty/pagerduty/internal/e2etest"
)

const (
	metricBacklog   = "otelcol_exporter_pagerduty_backlog"
	metricEventWait = "otelcol_exporter_pagerduty_event_wait"
)

// stormCheckout posts alerts for the checkout service in OTLP requests of
// perRequest records each, every alert firing at severity.
func stormCheckout(t *testing.T, col *e2etest.Collector, severity string, fps []string, perRequest int) {
	t.Helper()
	for start := 0; start < len(fps); start += perRequest {
		p := e2etest.NewPayload().Service("checkout")
		for _, fp := range fps[start:min(start+perRequest, len(fps))] {
			p.Add(firing(fp, severity, "storm "+fp))
		}
		col.Send(t, p.Logs())
	}
}

// pagedAfter returns when fp's first event reached the simulator, and how
// many events of routingKey reached it between sent and that event.
func pagedAfter(t *testing.T, s e2etest.Snapshot, fp, routingKey string, sent time.Time) (time.Duration, int) {
	t.Helper()
	evs := s.EventsFor(fp)
	require.NotEmpty(t, evs, "events of %s", fp)
	paged := evs[0].Time
	ahead := 0
	for _, ev := range s.Events {
		if ev.RoutingKey == routingKey && ev.Time.After(sent) && ev.Time.Before(paged) {
			ahead++
		}
	}
	return paged.Sub(sent), ahead
}

// checkoutTimes returns when each event of the checkout routing key reached
// the simulator.
func checkoutTimes(s e2etest.Snapshot) []time.Time {
	var times []time.Time
	for _, ev := range s.Events {
		if ev.RoutingKey == keyCheckout {
			times = append(times, ev.Time)
		}
	}
	return times
}

// TestQuietRouteDuringStorm: 1,000 distinct critical alerts on checkout,
// limited to 60 per minute, then one critical alert on payments: payments is
// paged within a second, with the default 10 consumers, while checkout
// drains at its limit with no 429.
func TestQuietRouteDuringStorm(t *testing.T) {
	requireE2E(t)
	t.Parallel()
	const perMinute, burst, storm = 60, 5, 1000
	sim, col := startPair(t, exporterConfig{eventsPerMinute: perMinute, burst: burst}, "-rate-limit", strconv.Itoa(perMinute), "-quiet")

	stormCheckout(t, col, "critical", fingerprints("storm", storm), 100)
	sim.WaitFor(t, "the storm's first burst", func(s e2etest.Snapshot) bool { return len(s.Events) >= burst })
	time.Sleep(2 * time.Second)

	sent := time.Now()
	col.Send(t, records("payments", firing("quiet", "critical", "the quiet route's page")))
	s := sim.WaitFor(t, "the quiet route's page", func(s e2etest.Snapshot) bool { return s.Has("quiet") })
	latency, _ := pagedAfter(t, s, "quiet", keyPayments, sent)
	t.Logf("quiet route paged %v after it was sent, with %d of %d storm alerts still waiting on checkout",
		latency.Round(time.Millisecond), storm-len(checkoutTimes(s)), storm)
	assert.LessOrEqual(t, latency, time.Second, "time to page on the quiet route")
	assertOnce(t, s, keyPayments, "quiet")
	assert.Zero(t, s.Requests.Throttled, "429s")
	assert.Zero(t, s.Requests.RateLimited, "429s from the simulator's rate limit")
	assertSlidingWindow(t, checkoutTimes(s), perMinute)
	assert.Positive(t, col.Metric(t, metricBacklog, "routing=checkout"), "the storm shows as checkout's backlog")
	assert.Zero(t, col.Metric(t, metricBacklog, "routing=payments"), "payments has nothing left")
	assert.Positive(t, col.Metric(t, metricEventWait+"_count", "routing=payments", "priority=critical"))
	col.Proc.Kill(t) // a SIGTERM would drain the storm at one event per second
}

// TestCriticalJumpsItsRoutesBacklog: 200 info alerts on checkout, limited to
// 60 per minute, then one critical alert on checkout: it is among the next
// two events checkout sends, within 3 s, and the info alerts keep draining.
func TestCriticalJumpsItsRoutesBacklog(t *testing.T) {
	requireE2E(t)
	t.Parallel()
	const perMinute, burst, backlog = 60, 5, 200
	sim, col := startPair(t, exporterConfig{eventsPerMinute: perMinute, burst: burst}, "-rate-limit", strconv.Itoa(perMinute), "-quiet")

	stormCheckout(t, col, "info", fingerprints("info", backlog), 50)
	sim.WaitFor(t, "the backlog's first burst", func(s e2etest.Snapshot) bool { return len(s.Events) >= burst })
	time.Sleep(1500 * time.Millisecond)

	sent := time.Now()
	col.Send(t, records("checkout", firing("urgent", "critical", "the page that matters")))
	s := sim.WaitWithin(t, 10*time.Second, "the critical alert", func(s e2etest.Snapshot) bool { return s.Has("urgent") })
	latency, ahead := pagedAfter(t, s, "urgent", keyCheckout, sent)
	t.Logf("critical paged %v after it was sent, %d info events ahead of it, %d info alerts still waiting",
		latency.Round(time.Millisecond), ahead, backlog-len(checkoutTimes(s))+1)
	assert.LessOrEqual(t, ahead, 1, "the critical is among the next two events sent")
	assert.LessOrEqual(t, latency, 3*time.Second, "time to page behind a backlog")
	assertOnce(t, s, keyCheckout, "urgent")

	// The info backlog keeps draining after it, at the limit.
	before := len(checkoutTimes(s))
	s = sim.WaitFor(t, "more info alerts", func(s e2etest.Snapshot) bool { return len(checkoutTimes(s)) >= before+3 })
	assert.Zero(t, s.Requests.Throttled+s.Requests.RateLimited, "429s")
	assertSlidingWindow(t, checkoutTimes(s), perMinute)
	col.Proc.Kill(t)
}

// TestStormSurvivesKill9: both of the above with a persistent queue, and a
// kill -9 in the middle of the storm. Checkout holds 300 info alerts at 600
// per minute; a critical alert for checkout and one for payments are paged
// at once; the collector is killed with most of the storm queued, started
// again on the same storage, and then every alert is delivered at least
// once and open exactly once.
func TestStormSurvivesKill9(t *testing.T) {
	requireE2E(t)
	t.Parallel()
	const perMinute, burst = 600, 10
	storm := 300
	if fullSize() {
		storm = 1000
	}
	// The simulator does not limit: the restarted collector's limiter does
	// not know what its predecessor sent in the last minute.
	sim := e2etest.StartSim(t, "-rate-limit", "0", "-quiet")
	spec := collectorSpec{config: testConfig(sim.URL, exporterConfig{eventsPerMinute: perMinute, burst: burst, storageDir: t.TempDir()})}
	col := startCollector(t, spec)

	fps := fingerprints("kill9-storm", storm)
	stormCheckout(t, col, "info", fps, 50)
	sim.WaitFor(t, "the storm under way", func(s e2etest.Snapshot) bool { return len(s.Events) >= burst+5 })
	sent := time.Now()
	col.Send(t, e2etest.NewPayload().
		Service("payments").Add(firing("kill9-quiet", "critical", "the other route's page")).
		Service("checkout").Add(firing("kill9-urgent", "critical", "the page that matters")).
		Logs())
	s := sim.WaitWithin(t, 5*time.Second, "both critical alerts", func(s e2etest.Snapshot) bool { return s.Has("kill9-quiet", "kill9-urgent") })
	quiet, _ := pagedAfter(t, s, "kill9-quiet", keyPayments, sent)
	urgent, ahead := pagedAfter(t, s, "kill9-urgent", keyCheckout, sent)
	assert.LessOrEqual(t, quiet, time.Second, "time to page on the quiet route")
	assert.LessOrEqual(t, ahead, 1, "the critical is among the next two events sent")
	assert.LessOrEqual(t, urgent, 3*time.Second, "time to page behind a backlog")

	col.Proc.Kill(t)
	killed := sim.Snapshot(t)
	sentBefore := len(checkoutTimes(killed))
	require.Less(t, sentBefore, storm, "killed in the middle of the storm")

	restarted := time.Now()
	startCollector(t, spec)
	all := append([]string{"kill9-quiet", "kill9-urgent"}, fps...)
	// The rest drains at the limit: 10 events a second.
	sim.WaitWithin(t, time.Duration(storm/10+30)*time.Second, "the rest of the storm", func(s e2etest.Snapshot) bool { return s.Has(all...) })
	s = waitDelivered(t, sim, all...)
	t.Logf("killed with %d of %d storm alerts sent; the restarted collector delivered the rest in %v",
		sentBefore, storm, time.Since(restarted).Round(time.Millisecond))
	for _, fp := range all {
		incs := s.IncidentsFor(fp)
		if assert.Len(t, incs, 1, "incidents of %s", fp) {
			assert.Equal(t, "triggered", incs[0].State, fp)
			assert.NotEmpty(t, incs[0].Events, fp)
		}
	}
	assert.Zero(t, s.Dropped)
}

// TestPriorityKeepsNewestIntentUnderFailures: trigger and resolve pairs of
// every severity, each record in its own OTLP request, while a fifth of the
// Events API requests fail: whichever of a pair reaches PagerDuty first,
// through its priority or a retry, no alert is left open.
func TestPriorityKeepsNewestIntentUnderFailures(t *testing.T) {
	requireE2E(t)
	t.Parallel()
	sim, col := startPair(t, exporterConfig{eventsPerMinute: 600, burst: 5}, "-fail-rate", "0.2", "-rate-limit", "0", "-quiet")

	severities := []string{"critical", "error", "warning", "info"}
	const n = 40
	for i := range n {
		fp := fmt.Sprintf("intent-%d", i)
		col.Send(t, records("checkout", firing(fp, severities[i%len(severities)], "flapping "+fp)))
		col.Send(t, records("checkout", resolved(fp)))
	}
	e2etest.Eventually(t, 60*time.Second, func() bool {
		return col.Metric(t, metricEvents, "outcome=accepted")+col.Metric(t, metricSuppressed) == 2*n
	}, "every record accepted or suppressed")
	s := sim.Snapshot(t)
	var open []string
	for _, inc := range s.Incidents {
		if inc.State != "resolved" {
			open = append(open, fmt.Sprintf("%s %v", inc.DedupKey, e2etest.Actions(inc.Events)))
		}
	}
	sort.Strings(open)
	assert.Empty(t, open, "incidents left open")
	assert.Positive(t, s.Requests.InjectedFailures, "failures were injected")
	t.Logf("%d pairs, %d injected failures, %v suppressed as stale", n, s.Requests.InjectedFailures, col.Metric(t, metricSuppressed, "reason=stale"))
}

// TestNothingStarvesUnderASteadyUrgentStream (full size only: it lasts
// about six minutes): 100 info alerts in one OTLP request, then one
// critical alert a second, on a route limited to 60 a minute. An event ages
// from its record's arrival, 1 minute per priority step: from 4 minutes
// after they arrived, the info alerts take the slots the critical stream
// would have taken, one a second, however they were batched.
func TestNothingStarvesUnderASteadyUrgentStream(t *testing.T) {
	requireE2E(t)
	if !fullSize() {
		t.Skip("lasts about six minutes: set " + envFull + "=1 (make e2e-full)")
	}
	t.Parallel()
	const perMinute, burst, infos = 60, 10, 100
	sim, col := startPair(t, exporterConfig{eventsPerMinute: perMinute, burst: burst}, "-rate-limit", strconv.Itoa(perMinute), "-quiet")
	fps := fingerprints("starve-info", infos)
	arrived := time.Now()
	stormCheckout(t, col, "info", fps, infos)
	// The critical stream runs in a goroutine of its own, which must not
	// stop the test: it stops itself at its first failed send and reports
	// it, with how many it sent, to the test's goroutine.
	type streamEnd struct {
		sent int
		err  error
	}
	stop := make(chan struct{})
	stopStream := sync.OnceFunc(func() { close(stop) })
	defer stopStream()
	ended := make(chan streamEnd, 1)
	go func() {
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for n := 0; ; n++ {
			select {
			case <-stop:
				ended <- streamEnd{sent: n}
				return
			case <-tick.C:
				if err := col.TrySend(records("checkout", firing(fmt.Sprintf("starve-critical-%d", n), "critical", "urgent"))); err != nil {
					ended <- streamEnd{sent: n, err: fmt.Errorf("sending critical alert %d: %w", n, err)}
					return
				}
			}
		}
	}()
	// Before stop, the stream ends only when a send failed.
	requireStreaming := func() {
		select {
		case end := <-ended:
			t.Fatalf("the critical stream stopped after %d alerts: %v", end.sent, end.err)
		default:
		}
	}
	bound := arrived.Add(4*time.Minute + infos*time.Second + 20*time.Second)
	s := sim.WaitWithin(t, time.Until(bound), "every info alert, under the critical stream", func(s e2etest.Snapshot) bool {
		requireStreaming()
		return s.Has(fps...)
	})
	stopStream()
	end := <-ended
	require.NoError(t, end.err, "the critical stream")
	n := end.sent
	last := arrived
	for _, fp := range fps {
		if at := s.EventsFor(fp)[0].Time; at.After(last) {
			last = at
		}
	}
	t.Logf("100 info alerts under %d critical ones at 1/s: the last info paged %v after arriving", n, last.Sub(arrived).Round(time.Second))
	assert.Zero(t, s.Requests.Throttled)
}
