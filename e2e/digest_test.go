package e2e

import (
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-pagerduty/pagerduty/internal/e2etest"
)

const (
	metricDigests  = "otelcol_exporter_pagerduty_storm_digests"
	checkoutDigest = "otelcol-pagerduty/storm/checkout"
)

// digestCount reads the number of alerts waiting from a digest's summary.
var digestCount = regexp.MustCompile(`^Alert storm on checkout: (\d+) alerts waiting, about \S+ to deliver at 60/min$`)

// TestStormDigest: info alerts on checkout, limited to 60 a minute with
// storm.digest_after 30s (100 of them, about a minute and a half to drain;
// 300 with PAGERDUTY_E2E_FULL=1). One digest incident opens within 5 s of
// the storm's arrival, with the count the backlog holds; it is updated at
// most once a minute and resolved once the backlog has drained; every alert
// still pages once; a critical alert arriving mid-storm still goes next;
// payments, without a storm, never sends a digest.
func TestStormDigest(t *testing.T) {
	requireE2E(t)
	t.Parallel()
	const perMinute, burst = 60, 5
	storm := 100
	if fullSize() {
		storm = 300
	}
	sim, col := startPair(t, exporterConfig{eventsPerMinute: perMinute, burst: burst, digestAfter: "30s"},
		"-rate-limit", strconv.Itoa(perMinute), "-quiet")
	col.Send(t, records("payments", firing("digest-calm", "error", "no storm here")))

	arrived := time.Now()
	fps := fingerprints("digest", storm)
	stormCheckout(t, col, "info", fps, 50)
	s := sim.WaitWithin(t, 5*time.Second, "the storm digest", func(s e2etest.Snapshot) bool {
		return len(s.IncidentsFor(checkoutDigest)) == 1
	})
	t.Logf("digest opened %v after the storm arrived", time.Since(arrived).Round(time.Millisecond))
	digest := s.IncidentsFor(checkoutDigest)[0]
	m := digestCount.FindStringSubmatch(digest.Summary)
	require.NotNil(t, m, "digest summary: %q", digest.Summary)
	told, _ := strconv.Atoi(m[1])
	// The digest counts what the backlog held when it was built: every
	// alert of the storm, less those sent by then (at most the ones sent
	// before it reached PagerDuty, the first burst among them).
	paged := len(checkoutTimes(s)) - 1
	assert.LessOrEqual(t, told, storm, "the digest counts what the backlog holds")
	assert.GreaterOrEqual(t, told, storm-paged, "the digest counts what the backlog holds")
	assert.Equal(t, "info", digest.Severity)

	// A critical alert mid-storm still goes next.
	time.Sleep(2 * time.Second)
	sent := time.Now()
	col.Send(t, records("checkout", firing("digest-urgent", "critical", "the page that matters")))
	s = sim.WaitWithin(t, 10*time.Second, "the critical alert", func(s e2etest.Snapshot) bool { return s.Has("digest-urgent") })
	_, ahead := pagedAfter(t, s, "digest-urgent", keyCheckout, sent)
	assert.LessOrEqual(t, ahead, 1, "the critical is among the next two events sent")

	drained := time.Duration(storm/perMinute+1) * time.Minute
	s = sim.WaitWithin(t, drained+30*time.Second, "the digest resolved once the storm drained", func(s e2etest.Snapshot) bool {
		incs := s.IncidentsFor(checkoutDigest)
		return len(incs) == 1 && incs[0].State == "resolved"
	})
	for _, fp := range append(fps, "digest-urgent") {
		assertOnce(t, s, keyCheckout, fp)
	}
	var triggers []time.Time
	for _, ev := range s.IncidentsFor(checkoutDigest)[0].Events {
		if ev.Action == "trigger" {
			triggers = append(triggers, ev.Time)
		}
	}
	require.NotEmpty(t, triggers)
	t.Logf("digest: %d triggers (an opening and its updates), resolved %v after the storm arrived", len(triggers), time.Since(arrived).Round(time.Second))
	for i := 1; i < len(triggers); i++ {
		assert.GreaterOrEqual(t, triggers[i].Sub(triggers[i-1]), 59*time.Second, "digest updates at most once a minute")
	}
	assert.GreaterOrEqual(t, len(triggers), storm/perMinute, "the digest is updated while the storm lasts")
	last := s.EventsFor(checkoutDigest)
	assert.Equal(t, "resolve", last[len(last)-1].Action)
	resolvedAt := last[len(last)-1].Time
	for _, ev := range s.Events {
		if ev.RoutingKey == keyCheckout && ev.DedupKey != checkoutDigest {
			assert.False(t, ev.Time.After(resolvedAt), "an alert of the storm arrived after the digest was resolved")
		}
	}
	for _, key := range []string{"otelcol-pagerduty/storm/payments", "otelcol-pagerduty/storm/default"} {
		assert.Empty(t, s.IncidentsFor(key), "a route without a storm sent a digest")
	}
	assert.Equal(t, 1, col.Count(t, metricDigests, "routing=checkout", "event_action=resolve"))
	assert.Equal(t, len(triggers), col.Count(t, metricDigests, "routing=checkout", "event_action=trigger"))
	assert.Zero(t, col.Count(t, metricDigests, "routing=payments"))
	assert.Zero(t, s.Requests.Throttled+s.Requests.RateLimited, "the digest counts against the rate limit: no 429s")
	assertSlidingWindow(t, checkoutTimes(s), perMinute)
}
