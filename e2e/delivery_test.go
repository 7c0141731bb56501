package e2e

// Delivery guarantees under failure: every fault the Events API (or the
// network in front of it) can show, a collector killed with SIGKILL, and a
// collector stopped with SIGTERM while events are queued. Each test runs
// its own simulator and collector and asserts the simulator's exact state
// and request counts against the collector's own metrics.

import (
	"fmt"
	"math"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-pagerduty/pagerduty/internal/e2etest"
)

// Further metric names (see e2e_test.go for the others).
const (
	metricSent          = "otelcol_exporter_sent_log_records"
	metricQueueSize     = "otelcol_exporter_queue_size"
	metricRequests      = "otelcol_exporter_pagerduty_requests"
	metricRateLimitWait = "otelcol_exporter_pagerduty_rate_limit_wait"
)

// envFull asks for the full-size variants of the load tests (`make e2e-full`).
const envFull = "PAGERDUTY_E2E_FULL"

func fullSize() bool { return os.Getenv(envFull) == "1" }

// dropMessage is what exporterhelper's queue sender logs, at level error,
// for a request it gives up on: retries exhausted (max_elapsed_time), a
// permanent error, or a failure while the collector shuts down. The line
// ends with the error and "dropped_items": the record count of the whole
// request as it was queued.
const dropMessage = "Exporting failed. Dropping data."

// dropLines returns the lines of a collector's output that report dropped
// data.
func dropLines(output string) []string {
	var out []string
	for _, line := range strings.Split(output, "\n") {
		if strings.Contains(line, dropMessage) {
			out = append(out, line)
		}
	}
	return out
}

var droppedItems = regexp.MustCompile(`"dropped_items": (\d+)`)

// droppedCount sums "dropped_items" over drop lines.
func droppedCount(t *testing.T, lines []string) int {
	t.Helper()
	n := 0
	for _, l := range lines {
		m := droppedItems.FindStringSubmatch(l)
		require.NotNil(t, m, "drop line without dropped_items: %s", l)
		k, err := strconv.Atoi(m[1])
		require.NoError(t, err)
		n += k
	}
	return n
}

// fingerprints returns n fingerprints prefix-0 … prefix-(n-1).
func fingerprints(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s-%d", prefix, i)
	}
	return out
}

// firingAll is one firing record per fingerprint; the summary is derived
// from the fingerprint, so that the same fingerprint always makes the same
// record (as a repeating alert does).
func firingAll(fps []string) []e2etest.Alert {
	out := make([]e2etest.Alert, len(fps))
	for i, fp := range fps {
		out[i] = firing(fp, "critical", "down: "+fp)
	}
	return out
}

// sendEach posts one OTLP request per fingerprint, each holding its one
// firing record, so that each becomes a queue entry of its own.
func sendEach(t *testing.T, col *e2etest.Collector, service string, fps []string) {
	t.Helper()
	for _, a := range firingAll(fps) {
		col.Send(t, records(service, a))
	}
}

// waitDelivered waits until each fingerprint has exactly one incident, then
// until no request has reached the simulator for retryQuiet: nothing is
// left to retry, and no abandoned request is still being answered. It
// returns that final state, whose exact counts the tests assert: a request
// that came late, such as a duplicate, shows there.
func waitDelivered(t *testing.T, sim *e2etest.Simulator, fps ...string) e2etest.Snapshot {
	t.Helper()
	s := sim.WaitFor(t, fmt.Sprintf("an incident for each of %d alerts", len(fps)), func(s e2etest.Snapshot) bool { return s.Has(fps...) })
	deadline := time.Now().Add(e2etest.LandTimeout)
	for quietSince := time.Now(); time.Since(quietSince) < retryQuiet; {
		if time.Now().After(deadline) {
			t.Fatalf("requests still arriving %v after every alert arrived; last state:\n%s", e2etest.LandTimeout, s)
		}
		time.Sleep(e2etest.PollInterval)
		next := sim.Snapshot(t)
		if next.Requests.Total != s.Requests.Total {
			quietSince = time.Now()
		}
		s = next
	}
	return s
}

// assertOnce checks that fp has exactly one incident, under routingKey,
// still triggered, opened by exactly one trigger event.
func assertOnce(t *testing.T, s e2etest.Snapshot, routingKey, fp string) {
	t.Helper()
	incs := s.IncidentsFor(fp)
	if !assert.Len(t, incs, 1, "incidents of %s", fp) {
		return
	}
	assert.Equal(t, routingKey, incs[0].RoutingKey, fp)
	assert.Equal(t, "triggered", incs[0].State, fp)
	assert.Equal(t, []string{"trigger"}, e2etest.Actions(incs[0].Events), "events of %s", fp)
}

// faultCase is one row of TestFaultMatrix. Each case sends two OTLP
// requests of perChain firing records, one for checkout and one for
// payments: two retry chains, each of which sends one event per attempt
// (once a routing key fails, its later records wait for the retry).
type faultCase struct {
	name string
	ec   exporterConfig
	// inject sets the fault through POST /control before the alerts are
	// sent; lift clears it once hold has passed since they were sent.
	inject, lift map[string]any
	hold         time.Duration
	// refused: no simulator listens at first; it is started on the
	// collector's endpoint port when the fault lifts.
	refused bool
	// code is the simulator's by_endpoint key for a failed attempt, or ""
	// when the simulator never answers one (refused, timed out).
	code string
	// statusClass and outcome are how the exporter counts a failed attempt
	// (otelcol_exporter_pagerduty_requests{status_class},
	// otelcol_exporter_pagerduty_events{outcome}).
	statusClass, outcome string
	// mayDuplicate: the simulator may apply an attempt the collector gave
	// up on, so an incident can see its trigger more than once.
	mayDuplicate bool
	// check makes case-specific assertions; failed is the number of failed
	// attempts the exporter counted, held how long the fault lasted.
	check func(t *testing.T, s e2etest.Snapshot, col *e2etest.Collector, failed int, held time.Duration)
}

const (
	perChain = 3
	chains   = 2
)

// retryAfterBound is the most 429s the chains can have had in held if
// each retry waited Retry-After (1 s): attempts at 0 s, ≥1 s, ≥2 s, …
func retryAfterBound(held time.Duration) int {
	return chains * (int(math.Floor(held.Seconds())) + 1)
}

// TestFaultMatrix: for every fault of the Events API or the network, N
// alerts sent during the fault arrive exactly once after it, and the
// request counts of the simulator match the collector's metrics exactly.
//
// A 400 for one routing key (permanent: not retried, and it blocks no
// other key) is TestRejectedKeyIsNotRetriedAndBlocksNothing in
// e2e_test.go; retries running out (max_elapsed_time) is
// TestRetriesExhausted below.
func TestFaultMatrix(t *testing.T) {
	requireE2E(t)
	t.Parallel()

	var cases []faultCase
	for _, status := range []int{500, 502, 503, 504} {
		cases = append(cases, faultCase{
			name:        strconv.Itoa(status),
			inject:      map[string]any{"fail_rate": 1, "fail_status": status},
			lift:        map[string]any{"fail_rate": 0},
			hold:        1500 * time.Millisecond,
			code:        strconv.Itoa(status),
			statusClass: "5xx",
			outcome:     "failed",
		})
	}
	cases = append(cases,
		faultCase{
			// Each retry waits at least the 1 s the server asked for,
			// although the backoff (100ms → 500ms) would come sooner.
			name:        "429 with Retry-After",
			ec:          exporterConfig{maxInterval: "5s"},
			inject:      map[string]any{"throttle_rate": 1, "retry_after": 1},
			lift:        map[string]any{"throttle_rate": 0},
			hold:        2500 * time.Millisecond,
			code:        "429",
			statusClass: "4xx",
			outcome:     "throttled",
			check: func(t *testing.T, s e2etest.Snapshot, col *e2etest.Collector, failed int, held time.Duration) {
				assert.LessOrEqual(t, s.Requests.Throttled, retryAfterBound(held),
					"more 429s in %v than Retry-After: 1 allows: Retry-After not honored", held)
				assert.Equal(t, failed, col.Count(t, metricThrottled))
			},
		},
		faultCase{
			// Without Retry-After a 429 is retried with the plain backoff.
			name:        "429 without Retry-After",
			inject:      map[string]any{"throttle_rate": 1, "retry_after": 0},
			lift:        map[string]any{"throttle_rate": 0},
			hold:        2500 * time.Millisecond,
			code:        "429",
			statusClass: "4xx",
			outcome:     "throttled",
			check: func(t *testing.T, s e2etest.Snapshot, col *e2etest.Collector, failed int, held time.Duration) {
				assert.Greater(t, s.Requests.Throttled, retryAfterBound(held),
					"retries came no faster than 1 s apart in %v: the backoff (100ms → 500ms) should apply", held)
				assert.Equal(t, failed, col.Count(t, metricThrottled))
			},
		},
		faultCase{
			// Nothing listens on the endpoint's port until the fault lifts.
			name:        "connection refused",
			refused:     true,
			hold:        1500 * time.Millisecond,
			statusClass: "transport",
			outcome:     "failed",
		},
		faultCase{
			// The simulator closes each connection (RST) without answering,
			// after it read the request's headers. Go's HTTP client does not
			// resend a POST that reached the server, so each reset is one
			// failed attempt of the exporter, as the counts show.
			name:        "connection reset",
			inject:      map[string]any{"reset_rate": 1},
			lift:        map[string]any{"reset_rate": 0},
			hold:        1500 * time.Millisecond,
			code:        "reset",
			statusClass: "transport",
			outcome:     "failed",
			check: func(t *testing.T, s e2etest.Snapshot, _ *e2etest.Collector, failed int, _ time.Duration) {
				assert.Equal(t, failed, s.Requests.Resets)
			},
		},
		faultCase{
			// Every answer comes after the client's timeout. The simulator
			// (as a real server may) still applies a request whose client has
			// given up: it sleeps before reading the body, so it does not
			// notice the closed connection. Each timed-out attempt is then
			// applied as well as its retry, and PagerDuty sees the trigger
			// more than once: at-least-once delivery, which the dedup_key
			// makes harmless (one incident, triggered). The simulator counts
			// those late attempts as 202s: its request counts cannot tell a
			// timeout from a success.
			name:         "response slower than the client timeout",
			ec:           exporterConfig{timeout: "200ms"},
			inject:       map[string]any{"latency": "500ms"},
			lift:         map[string]any{"latency": "0s"},
			hold:         1500 * time.Millisecond,
			statusClass:  "transport",
			outcome:      "failed",
			mayDuplicate: true,
		},
	)

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			runFaultCase(t, tc)
		})
	}
}

func runFaultCase(t *testing.T, tc faultCase) {
	var sim *e2etest.Simulator
	var col *e2etest.Collector
	var port int
	var release func()
	if tc.refused {
		port, release = reservePort(t)
		col = startCollector(t, collectorSpec{config: testConfig(fmt.Sprintf("http://127.0.0.1:%d", port), tc.ec)})
	} else {
		sim, col = startPair(t, tc.ec)
		sim.Control(t, tc.inject)
	}

	prefix := strings.NewReplacer(" ", "-").Replace(tc.name)
	checkoutFPs := fingerprints(prefix+"-checkout", perChain)
	paymentsFPs := fingerprints(prefix+"-payments", perChain)
	all := append(append([]string(nil), checkoutFPs...), paymentsFPs...)
	start := time.Now()
	col.Send(t, records("checkout", firingAll(checkoutFPs)...))
	col.Send(t, records("payments", firingAll(paymentsFPs)...))

	// More failed attempts than chains: the collector is retrying.
	e2etest.Eventually(t, e2etest.LandTimeout, func() bool {
		return col.Metric(t, metricEvents, "outcome="+tc.outcome) > chains
	}, "retries of the failed attempts")
	if sim != nil && !tc.mayDuplicate {
		require.Empty(t, sim.Snapshot(t).Incidents, "an event got through the fault")
	}
	time.Sleep(time.Until(start.Add(tc.hold)))

	if tc.refused {
		release()
		sim = e2etest.StartSim(t, "-addr", fmt.Sprintf("127.0.0.1:%d", port))
	} else {
		sim.Control(t, tc.lift)
	}
	held := time.Since(start)
	s := waitDelivered(t, sim, all...)

	// Each alert: one incident, triggered, under its key.
	require.Len(t, s.Incidents, len(all), "incidents:\n%s", s)
	triggers := 0
	for _, fps := range []struct {
		key string
		fps []string
	}{{keyCheckout, checkoutFPs}, {keyPayments, paymentsFPs}} {
		for _, fp := range fps.fps {
			if !tc.mayDuplicate {
				assertOnce(t, s, fps.key, fp)
				continue
			}
			incs := s.IncidentsFor(fp)
			require.Len(t, incs, 1, fp)
			assert.Equal(t, fps.key, incs[0].RoutingKey, fp)
			assert.Equal(t, "triggered", incs[0].State, fp)
			for _, a := range e2etest.Actions(incs[0].Events) {
				assert.Equal(t, "trigger", a, fp)
			}
			triggers += len(incs[0].Events)
		}
	}
	if tc.mayDuplicate {
		t.Logf("%s: %d trigger events applied for %d alerts (%d duplicates of attempts the client had given up on)",
			tc.name, triggers, len(all), triggers-len(all))
	}
	assert.Zero(t, s.Dropped)

	// The exporter's failed attempts, by its two counters, and the
	// simulator's view of them.
	failed := int(col.Metric(t, metricEvents, "outcome="+tc.outcome))
	assert.Equal(t, failed, col.Count(t, metricRequests, "status_class="+tc.statusClass),
		"failed attempts by status class vs by outcome")
	assert.Greater(t, failed, chains, "failed attempts")
	want := map[string]int{"202": len(s.Events)}
	if tc.code != "" {
		assert.Equal(t, failed, s.Requests.ByEndpoint[e2etest.EnqueuePath][tc.code],
			"failed attempts counted by the exporter vs %s answers of the simulator", tc.code)
		want[tc.code] = failed
	}
	if tc.mayDuplicate {
		assert.LessOrEqual(t, triggers-len(all), failed, "duplicates can only be attempts the client gave up on")
	} else {
		assert.Len(t, s.Events, len(all))
	}
	assert.Equal(t, want, s.Requests.ByEndpoint[e2etest.EnqueuePath])
	assert.Equal(t, len(s.Events)+want[tc.code], s.Requests.Total, "requests in all")
	assert.Equal(t, len(all), col.Count(t, metricEvents, "outcome=accepted"))
	assert.Equal(t, len(all), col.Count(t, metricRequests, "status_class=2xx"))
	assert.Equal(t, len(all), col.Count(t, metricSent), "records sent")
	assert.Zero(t, col.Metric(t, metricSendFailed), "records dropped")
	if tc.check != nil {
		tc.check(t, s, col, failed, held)
	}
	t.Logf("%s: %d alerts delivered once each after %d failed attempts over %v", tc.name, len(all), failed, held.Round(time.Millisecond))
}

// TestRetriesExhausted: with the Events API down longer than
// retry_on_failure.max_elapsed_time (2 s here, 4 s down), exporterhelper
// gives up: it logs dropMessage and counts the records in
// otelcol_exporter_send_failed_log_records, and they are never sent, even
// once the API is back. Records sent after the recovery are delivered,
// including a dropped alert sent again: a failed trigger is not
// remembered, so it is not suppressed.
func TestRetriesExhausted(t *testing.T) {
	requireE2E(t)
	t.Parallel()

	t.Run("whole API down", func(t *testing.T) {
		t.Parallel()
		sim, col := startPair(t, exporterConfig{maxElapsed: "2s"})
		sim.Control(t, map[string]any{"fail_rate": 1, "fail_status": 503})
		down := time.Now()
		lostCheckout := fingerprints("exhausted-checkout", 3)
		lostPayments := fingerprints("exhausted-payments", 2)
		col.Send(t, records("checkout", firingAll(lostCheckout)...))
		col.Send(t, records("payments", firingAll(lostPayments)...))

		e2etest.Eventually(t, e2etest.LandTimeout, func() bool {
			return col.Metric(t, metricSendFailed) == 5 && len(dropLines(col.Proc.Output())) == 2
		}, "both requests dropped after max_elapsed_time")
		droppedAfter := time.Since(down)
		atDrop := sim.Snapshot(t)
		require.Empty(t, atDrop.Incidents)
		if d := 4*time.Second - time.Since(down); d > 0 {
			e2etest.Consistently(t, d, func() bool {
				return sim.Snapshot(t).Requests.Total == atDrop.Requests.Total
			}, "no request after the drop")
		}
		sim.Control(t, map[string]any{"fail_rate": 0})
		e2etest.Consistently(t, retryQuiet, func() bool {
			return sim.Snapshot(t).Requests.Total == atDrop.Requests.Total
		}, "a dropped record was sent after the Events API recovered")

		later := fingerprints("exhausted-later", 2)
		again := lostCheckout[0]
		col.Send(t, records("checkout", firingAll(append(later, again))...))
		s := waitDelivered(t, sim, append(later, again)...)

		require.Len(t, s.Incidents, 3, "incidents:\n%s", s)
		for _, fp := range append(later, again) {
			assertOnce(t, s, keyCheckout, fp)
		}
		for _, fp := range append(lostCheckout[1:], lostPayments...) {
			assert.Empty(t, s.EventsFor(fp), "dropped alert %s was sent", fp)
		}
		failures := s.Requests.InjectedFailures
		assert.Equal(t, atDrop.Requests.Total, failures, "requests before the recovery were all failures")
		assert.Equal(t, map[string]int{"202": 3, "503": failures}, s.Requests.ByEndpoint[e2etest.EnqueuePath])
		assert.Equal(t, failures, col.Count(t, metricEvents, "outcome=failed"))
		assert.Equal(t, 3, col.Count(t, metricEvents, "outcome=accepted"))
		assert.Equal(t, 5, col.Count(t, metricSendFailed), "records dropped")
		assert.Equal(t, 3, col.Count(t, metricSent), "records sent")
		assert.Zero(t, col.Metric(t, metricSuppressed), "the dropped alert sent again was suppressed")

		lines := dropLines(col.Proc.Output())
		require.Len(t, lines, 2)
		assert.Equal(t, 5, droppedCount(t, lines))
		for _, l := range lines {
			assert.Contains(t, l, "\terror\t")
			assert.Contains(t, l, `"error": "no more retries left: routing \"`)
			assert.Contains(t, l, `events API responded 503 Service Unavailable`)
		}
		t.Logf("dropped %v after the outage began (max_elapsed_time 2s), after %d failed attempts; the collector logged:\n%s",
			droppedAfter.Round(time.Millisecond), failures, strings.Join(lines, "\n"))
	})

	// One key down: the records of the other key in the same OTLP request
	// are delivered at once, the failing key's are dropped when retries run
	// out. Each route has queues of its own, so exporterhelper counts
	// exactly the failing key's records as failed, and the others as sent.
	t.Run("one key down", func(t *testing.T) {
		t.Parallel()
		sim, col := startPair(t, exporterConfig{maxElapsed: "2s"})
		sim.Control(t, map[string]any{"reject_keys": map[string]int{keyPayments: 503}})
		col.Send(t, e2etest.NewPayload().
			Service("checkout").Add(firing("partial-chk-1", "error", "delivered")).
			Service("payments").Add(firing("partial-pay-1", "error", "dropped")).
			Service("checkout").Add(firing("partial-chk-2", "error", "delivered")).
			Service("payments").Add(firing("partial-pay-2", "error", "dropped")).
			Logs())

		e2etest.Eventually(t, e2etest.LandTimeout, func() bool {
			return len(dropLines(col.Proc.Output())) == 1
		}, "the request dropped after max_elapsed_time")
		sim.Control(t, map[string]any{"reject_keys": map[string]int{}})
		e2etest.Consistently(t, retryQuiet, func() bool {
			return len(sim.Snapshot(t).Events) == 2
		}, "only the checkout events, once each")

		s := sim.Snapshot(t)
		assertOnce(t, s, keyCheckout, "partial-chk-1")
		assertOnce(t, s, keyCheckout, "partial-chk-2")
		assert.Empty(t, s.EventsFor("partial-pay-1"))
		assert.Empty(t, s.EventsFor("partial-pay-2"))
		failures := s.Requests.Rejected
		assert.Equal(t, map[string]int{"202": 2, "503": failures}, s.Requests.ByEndpoint[e2etest.EnqueuePath])
		assert.Equal(t, failures, col.Count(t, metricEvents, "routing=payments", "outcome=failed"))
		assert.Equal(t, 2, col.Count(t, metricEvents, "routing=checkout", "outcome=accepted"))

		lines := dropLines(col.Proc.Output())
		assert.Equal(t, 2, droppedCount(t, lines), "dropped_items of:\n%s", strings.Join(lines, "\n"))
		assert.Equal(t, 2, col.Count(t, metricSendFailed), "records counted as failed")
		assert.Equal(t, 2, col.Count(t, metricSent), "records counted as sent")
		t.Logf("2 of 4 records delivered, 2 dropped; exporterhelper counted send_failed=%v sent=%v and logged:\n%s",
			col.Metric(t, metricSendFailed), col.Metric(t, metricSent), strings.Join(lines, "\n"))
	})
}

// TestPersistentQueueSurvivesKill9: with the sending queue on file_storage,
// alerts queued while the Events API fails survive a SIGKILL of the
// collector: a new collector on the same storage directory delivers each
// exactly once.
func TestPersistentQueueSurvivesKill9(t *testing.T) {
	requireE2E(t)
	t.Parallel()
	requests := 8
	if fullSize() {
		requests = 100
	}
	const consumers = 2
	sim := e2etest.StartSim(t)
	sim.Control(t, map[string]any{"fail_rate": 1, "fail_status": 503})
	spec := collectorSpec{config: testConfig(sim.URL, exporterConfig{storageDir: t.TempDir(), numConsumers: consumers})}
	col := startCollector(t, spec)

	// Each request: one alert for checkout, one for payments.
	checkoutFPs := fingerprints("kill9-checkout", requests)
	paymentsFPs := fingerprints("kill9-payments", requests)
	for i := range requests {
		col.Send(t, e2etest.NewPayload().
			Service("checkout").Add(firingAll(checkoutFPs[i:i+1])...).
			Service("payments").Add(firingAll(paymentsFPs[i:i+1])...).
			Logs())
	}
	// The persistent queue's size counts the requests being retried too;
	// each OTLP request became one request in each route's queue. Two
	// consumers of each fail once on the first attempt.
	e2etest.Eventually(t, e2etest.LandTimeout, func() bool {
		return col.Count(t, metricQueueSize) == 2*requests &&
			sim.Snapshot(t).Requests.InjectedFailures >= 2*consumers
	}, "%d requests queued and the first attempts failed", requests)
	col.Proc.Kill(t)

	before := sim.Snapshot(t)
	require.Empty(t, before.Incidents)
	sim.Control(t, map[string]any{"fail_rate": 0})
	col2 := startCollector(t, spec)
	s := waitDelivered(t, sim, append(append([]string(nil), checkoutFPs...), paymentsFPs...)...)

	require.Len(t, s.Incidents, 2*requests)
	for i := range requests {
		assertOnce(t, s, keyCheckout, checkoutFPs[i])
		assertOnce(t, s, keyPayments, paymentsFPs[i])
	}
	assert.Zero(t, s.Dropped)
	assert.Equal(t, map[string]int{"202": 2 * requests, "503": before.Requests.InjectedFailures}, s.Requests.ByEndpoint[e2etest.EnqueuePath])
	assert.Equal(t, 2*requests, col2.Count(t, metricEvents, "outcome=accepted"))
	assert.Zero(t, col2.Metric(t, metricEvents, "outcome=failed"))
	assert.Equal(t, 2*requests, col2.Count(t, metricSent))
	assert.Zero(t, col2.Metric(t, metricSendFailed))
	e2etest.Eventually(t, e2etest.LandTimeout, func() bool { return col2.Metric(t, metricQueueSize) == 0 }, "an empty queue")
	t.Logf("%d alerts queued in %d requests, %d failed attempts, SIGKILL; all delivered once by the restarted collector",
		2*requests, requests, before.Requests.InjectedFailures)
}

// shutdownBudget bounds a collector's exit after SIGTERM in these tests.
// The collector has no shutdown timeout of its own: exporterhelper's
// in-memory queue drains before the exporter stops.
const shutdownBudget = 15 * time.Second

// TestShutdownWithQueuedEvents: SIGTERM while the Events API answers slowly
// (300 ms) and events are queued behind two consumers. The collector exits
// 0 in every case; what happens to the queue depends on where it lives.
func TestShutdownWithQueuedEvents(t *testing.T) {
	requireE2E(t)
	t.Parallel()
	const n, consumers = 10, 2

	// In memory, the queue drains before the collector exits: every queued
	// event is sent, once, and nothing is lost while the API answers.
	t.Run("memory queue", func(t *testing.T) {
		t.Parallel()
		sim, col := startPair(t, exporterConfig{numConsumers: consumers}, "-latency", "300ms")
		fps := fingerprints("shutdown-mem", n)
		sendEach(t, col, "checkout", fps)
		sim.WaitFor(t, "the first events", func(s e2etest.Snapshot) bool { return len(s.Events) >= consumers })
		before := len(sim.Snapshot(t).Events)

		took, exited, err := col.Proc.Terminate(t, shutdownBudget)
		require.True(t, exited, "collector still running %v after SIGTERM", shutdownBudget)
		require.NoError(t, err, "collector exit status")
		s := sim.Snapshot(t)
		for _, fp := range fps {
			assertOnce(t, s, keyCheckout, fp)
		}
		assert.Equal(t, map[string]int{"202": n}, s.Requests.ByEndpoint[e2etest.EnqueuePath])
		assert.Empty(t, dropLines(col.Proc.Output()))
		t.Logf("memory queue: SIGTERM with %d of %d delivered; exit 0 after %v; %d delivered while draining, 0 lost",
			before, n, took.Round(time.Millisecond), len(s.Events)-before)
	})

	// In memory, with the API failing at shutdown: the drain gives each
	// queued request one attempt, without retries, then drops it. All is
	// lost, and logged.
	t.Run("memory queue, API failing", func(t *testing.T) {
		t.Parallel()
		sim, col := startPair(t, exporterConfig{numConsumers: consumers}, "-latency", "300ms", "-fail-rate", "1")
		fps := fingerprints("shutdown-fail", n)
		sendEach(t, col, "checkout", fps)
		sim.WaitFor(t, "the first failures", func(s e2etest.Snapshot) bool { return s.Requests.InjectedFailures >= consumers })

		took, exited, err := col.Proc.Terminate(t, shutdownBudget)
		require.True(t, exited, "collector still running %v after SIGTERM", shutdownBudget)
		require.NoError(t, err, "collector exit status")
		s := sim.Snapshot(t)
		assert.Empty(t, s.Events)
		failures := s.Requests.InjectedFailures
		assert.GreaterOrEqual(t, failures, n, "every queued request had one attempt")
		assert.Equal(t, map[string]int{"503": failures}, s.Requests.ByEndpoint[e2etest.EnqueuePath])
		lines := dropLines(col.Proc.Output())
		assert.Equal(t, n, droppedCount(t, lines), "records logged as dropped")
		for _, l := range lines {
			assert.Contains(t, l, "interrupted due to shutdown")
		}
		if len(lines) > 0 {
			t.Logf("one of the drop lines:\n%s", lines[0])
		}
		t.Logf("memory queue, API failing: exit 0 after %v; %d failed attempts; 0 of %d delivered, %d lost (logged)",
			took.Round(time.Millisecond), failures, n, n)
	})

	// On file_storage, the queue stops at SIGTERM: the events in flight
	// finish, the rest stay on disk and the next collector sends them, each
	// once. exporterhelper logs the requests handed back as dropped
	// ("interrupted due to shutdown"), though the queue keeps them.
	t.Run("file_storage queue", func(t *testing.T) {
		t.Parallel()
		sim := e2etest.StartSim(t, "-latency", "300ms")
		spec := collectorSpec{config: testConfig(sim.URL, exporterConfig{numConsumers: consumers, storageDir: t.TempDir()})}
		col := startCollector(t, spec)
		fps := fingerprints("shutdown-disk", n)
		sendEach(t, col, "checkout", fps)
		sim.WaitFor(t, "the first events", func(s e2etest.Snapshot) bool { return len(s.Events) >= consumers })
		before := len(sim.Snapshot(t).Events)

		took, exited, err := col.Proc.Terminate(t, shutdownBudget)
		require.True(t, exited, "collector still running %v after SIGTERM", shutdownBudget)
		require.NoError(t, err, "collector exit status")
		atExit := sim.Snapshot(t)
		delivered := len(atExit.Events)
		assert.Less(t, delivered, n, "everything was sent before the exit: nothing was left on disk to test")
		for _, l := range dropLines(col.Proc.Output()) {
			assert.Contains(t, l, "interrupted due to shutdown")
		}

		// The restarted collector counts what it read back in its backlog
		// from the start, while the Events API still fails it.
		sim.Control(t, map[string]any{"latency": "0s", "fail_rate": 1, "fail_status": 503})
		col2 := startCollector(t, spec)
		e2etest.Eventually(t, e2etest.StartTimeout, func() bool {
			return col2.Metric(t, "otelcol_exporter_pagerduty_backlog", "routing=checkout") == float64(n-delivered)
		}, "the backlog counts the %d records read back", n-delivered)
		sim.Control(t, map[string]any{"fail_rate": 0})
		s := waitDelivered(t, sim, fps...)
		for _, fp := range fps {
			assertOnce(t, s, keyCheckout, fp)
		}
		assert.Equal(t, n, s.Requests.ByEndpoint[e2etest.EnqueuePath]["202"])
		assert.Equal(t, n-delivered, col2.Count(t, metricEvents, "outcome=accepted"))
		assert.Zero(t, col2.Metric(t, "otelcol_exporter_pagerduty_backlog", "routing=checkout"))
		t.Logf("file_storage queue: SIGTERM with %d of %d delivered; exit 0 after %v with %d delivered, %d left on disk; "+
			"the restarted collector delivered those %d, each once",
			before, n, took.Round(time.Millisecond), delivered, n-delivered, n-delivered)
	})
}

// TestShutdownIsBounded: SIGTERM while the Events API answers slowly
// (300 ms) and large requests are queued. On file_storage the collector
// stops at once, the requests in flight included, and the next collector
// sends the rest, each alert once. In memory it drains for 10 s, then exits
// and logs how many records it could not send.
func TestShutdownIsBounded(t *testing.T) {
	requireE2E(t)
	t.Parallel()
	const consumers, requests, perRequest = 2, 4, 25
	n := requests * perRequest
	sendLarge := func(t *testing.T, col *e2etest.Collector, prefix string) []string {
		fps := fingerprints(prefix, n)
		stormCheckout(t, col, "critical", fps, perRequest)
		return fps
	}

	t.Run("file_storage queue", func(t *testing.T) {
		t.Parallel()
		sim := e2etest.StartSim(t, "-latency", "300ms", "-quiet")
		spec := collectorSpec{config: testConfig(sim.URL, exporterConfig{numConsumers: consumers, storageDir: t.TempDir()})}
		col := startCollector(t, spec)
		fps := sendLarge(t, col, "bounded-disk")
		sim.WaitFor(t, "the first events", func(s e2etest.Snapshot) bool { return len(s.Events) >= consumers })

		took, exited, err := col.Proc.Terminate(t, shutdownBudget)
		require.True(t, exited, "collector still running %v after SIGTERM", shutdownBudget)
		require.NoError(t, err, "collector exit status")
		assert.Less(t, took, 3*time.Second, "SIGTERM with %d alerts in %d requests in flight", n, consumers)
		delivered := len(sim.Snapshot(t).Events)
		assert.Contains(t, col.Proc.Output(), "Log records left in the persistent queue for the next start")

		sim.Control(t, map[string]any{"latency": "0s"})
		startCollector(t, spec)
		s := waitDelivered(t, sim, fps...)
		for _, fp := range fps {
			incs := s.IncidentsFor(fp)
			if assert.Len(t, incs, 1, fp) {
				assert.Equal(t, "triggered", incs[0].State, fp)
			}
		}
		t.Logf("file_storage queue: SIGTERM with %d of %d alerts delivered and %d requests of %d in flight: exit after %v; "+
			"the restarted collector delivered the rest, each alert open once",
			delivered, n, consumers, perRequest, took.Round(time.Millisecond))
	})

	t.Run("memory queue", func(t *testing.T) {
		t.Parallel()
		sim, col := startPair(t, exporterConfig{numConsumers: consumers}, "-latency", "300ms", "-quiet")
		sendLarge(t, col, "bounded-mem")
		sim.WaitFor(t, "the first events", func(s e2etest.Snapshot) bool { return len(s.Events) >= consumers })

		took, exited, err := col.Proc.Terminate(t, shutdownBudget)
		require.True(t, exited, "collector still running %v after SIGTERM", shutdownBudget)
		require.NoError(t, err, "collector exit status")
		assert.Less(t, took, 13*time.Second, "the drain lasts 10 s")
		delivered := len(sim.Snapshot(t).Events)
		require.Less(t, delivered, n, "everything was sent before the exit: the bound was not reached")
		var line string
		for _, l := range strings.Split(col.Proc.Output(), "\n") {
			if strings.Contains(l, "Log records not sent before shutdown") {
				line = l
			}
		}
		require.NotEmpty(t, line, "the loss is logged")
		var lost int
		_, records, found := strings.Cut(line, `"records": `)
		require.True(t, found, "the loss names its records: %s", line)
		_, err = fmt.Sscanf(records, "%d", &lost)
		require.NoError(t, err, line)
		// A request cancelled at the stop may have reached the API.
		assert.GreaterOrEqual(t, lost+delivered, n, "every record was sent or counted as lost")
		assert.LessOrEqual(t, lost+delivered, n+consumers)
		t.Logf("memory queue: SIGTERM with %d alerts queued at 300 ms each over %d consumers: exit after %v, %d delivered, %d logged as not sent",
			n, consumers, took.Round(time.Millisecond), delivered, lost)
	})

	// An API that never answers within the client's 30 s timeout: the
	// requests in flight are canceled at the shutdown's bound, 10 s for an
	// in-memory queue, 3 s for a persistent one, whose records are
	// delivered after the restart.
	for _, persistent := range []bool{false, true} {
		name := map[bool]string{false: "memory queue, an API that never answers", true: "file_storage queue, an API that never answers"}[persistent]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			sim := e2etest.StartSim(t, "-latency", "120s", "-quiet")
			ec := exporterConfig{numConsumers: consumers, timeout: "30s"}
			if persistent {
				ec.storageDir = t.TempDir()
			}
			spec := collectorSpec{config: testConfig(sim.URL, ec)}
			col := startCollector(t, spec)
			fps := fingerprints(fmt.Sprintf("hang-%v", persistent), 4)
			sendEach(t, col, "checkout", fps)
			e2etest.Eventually(t, 5*time.Second, func() bool {
				return col.Metric(t, "otelcol_exporter_pagerduty_backlog", "routing=checkout") == float64(len(fps))
			}, "the alerts queued")
			time.Sleep(500 * time.Millisecond) // the first requests in flight

			took, exited, err := col.Proc.Terminate(t, shutdownBudget)
			require.True(t, exited, "collector still running %v after SIGTERM", shutdownBudget)
			require.NoError(t, err, "collector exit status")
			bound := map[bool]time.Duration{false: 10 * time.Second, true: 3 * time.Second}[persistent]
			assert.Less(t, took, bound+2*time.Second, "the whole shutdown, requests in flight included, is bounded")
			t.Logf("%s: exit after %v (bound %v)", name, took.Round(time.Millisecond), bound)
			if !persistent {
				return
			}
			sim.Control(t, map[string]any{"latency": "0s"})
			startCollector(t, spec)
			s := waitDelivered(t, sim, fps...)
			for _, fp := range fps {
				assert.Len(t, s.IncidentsFor(fp), 1, fp)
			}
		})
	}
}

// TestRestartDoesNotReopenResolvedIncident: a request whose checkout
// trigger was accepted while its payments record kept failing waits, its
// payments part, in the persistent queue; meanwhile the checkout alert
// resolves. After a restart (a plain SIGTERM, as in a rolling update) the
// queue delivers the payments record, and the original request comes again
// (a source or a pipeline replaying what it sent: the checkout trigger's own
// queue was emptied when it was accepted, so only a replay brings it back).
// The dedup cache, kept in the queue's storage when dedup.storage is not
// set, knows the trigger as older than the resolve and the payments trigger
// as already sent: it must not reopen the resolved incident and page again,
// nor page payments twice. A cache that did not survive the restart would
// know neither.
func TestRestartDoesNotReopenResolvedIncident(t *testing.T) {
	requireE2E(t)
	t.Parallel()
	sim := e2etest.StartSim(t)
	sim.Control(t, map[string]any{"reject_keys": map[string]int{keyPayments: 503}})
	spec := collectorSpec{config: testConfig(sim.URL, exporterConfig{storageDir: t.TempDir()})}
	col := startCollector(t, spec)

	// Its records' timestamps are set here, once: the replay carries them.
	original := e2etest.NewPayload().
		Service("checkout").Add(firing("reopen-chk", "critical", "checkout down")).
		Service("payments").Add(firing("reopen-pay", "error", "payments slow")).
		Logs()
	col.Send(t, original)
	sim.WaitFor(t, "the checkout trigger and a failed payments attempt", func(s e2etest.Snapshot) bool {
		return s.Has("reopen-chk") && s.Requests.Rejected >= 1
	})
	col.Send(t, records("checkout", resolved("reopen-chk")))
	sim.WaitFor(t, "the resolve", func(s e2etest.Snapshot) bool { return s.IncidentsFor("reopen-chk")[0].State == "resolved" })

	_, exited, err := col.Proc.Terminate(t, shutdownBudget)
	require.True(t, exited, "collector still running %v after SIGTERM", shutdownBudget)
	require.NoError(t, err)
	sim.Control(t, map[string]any{"reject_keys": map[string]int{}})
	col = startCollector(t, spec)
	waitDelivered(t, sim, "reopen-pay")

	// The replay: both records settle, sent or suppressed.
	settled := func() float64 {
		return col.Metric(t, metricEvents, "outcome=accepted") + col.Metric(t, metricSuppressed)
	}
	before := settled()
	col.Send(t, original)
	e2etest.Eventually(t, e2etest.LandTimeout, func() bool { return settled() >= before+2 }, "the replayed request's two records to settle")
	s := waitDelivered(t, sim, "reopen-pay")

	assertOnce(t, s, keyPayments, "reopen-pay")
	incs := s.IncidentsFor("reopen-chk")
	var states []string
	for _, inc := range incs {
		states = append(states, inc.State)
	}
	assert.Equal(t, []string{"resolved"}, states,
		"incidents of reopen-chk: the replayed trigger reopened the resolved incident (the alert's last record resolved it)")
	assert.Equal(t, []string{"trigger", "resolve"}, e2etest.Actions(s.EventsFor("reopen-chk")), "events of reopen-chk")
	assert.Equal(t, 1, col.Count(t, metricSuppressed, "event_action=trigger", "reason=stale"), "the replayed checkout trigger is stale")
	assert.Equal(t, 1, col.Count(t, metricSuppressed, "event_action=trigger", "reason=duplicate"), "the replayed payments trigger is a duplicate")
}
