package e2e

// Incidents opened from logs close themselves: an alert whose firing
// records stop is resolved after its quiet period, never because the
// collector was down, and never when its records say it must not be.

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-pagerduty/pagerduty/internal/e2etest"
)

// states returns the states of fp's incidents, oldest first.
func states(s e2etest.Snapshot, fp string) []string {
	var out []string
	for _, inc := range s.IncidentsFor(fp) {
		out = append(out, inc.State)
	}
	return out
}

// resolvedOnce reports whether fp has exactly one incident, resolved.
func resolvedOnce(fp string) func(e2etest.Snapshot) bool {
	return func(s e2etest.Snapshot) bool {
		st := states(s, fp)
		return len(st) == 1 && st[0] == "resolved"
	}
}

// TestAutoResolveAfterQuietPeriod: with auto_resolve.after 3s, repeats that
// the cache suppresses restart the clock; the alert is resolved, once, about
// 3 s after the last of them, under the key that opened it; an alert that
// opts out stays open; after the auto-resolve the next firing record opens a
// new incident.
func TestAutoResolveAfterQuietPeriod(t *testing.T) {
	requireE2E(t)
	t.Parallel()
	sim, col := startPair(t, exporterConfig{autoResolve: "3s"}, "-quiet")

	optOut := firing("ar-heartbeat", "critical", "heartbeat missing")
	optOut.Attrs = map[string]any{"alert.resolve_after": "0s"}
	col.Send(t, records("checkout", firing("ar-declines", "error", "card declined"), optOut))
	sim.WaitFor(t, "both triggers", func(s e2etest.Snapshot) bool { return s.Has("ar-declines", "ar-heartbeat") })
	var last time.Time
	for range 3 {
		time.Sleep(time.Second)
		col.Send(t, records("checkout", firing("ar-declines", "error", "card declined")))
		last = time.Now()
	}
	e2etest.Consistently(t, 2500*time.Millisecond, func() bool {
		return sim.Snapshot(t).IncidentsFor("ar-declines")[0].State == "triggered"
	}, "the suppressed repeats restarted the clock")
	s := sim.WaitWithin(t, 5*time.Second, "the auto-resolve", resolvedOnce("ar-declines"))
	evs := s.EventsFor("ar-declines")
	require.Equal(t, []string{"trigger", "resolve"}, e2etest.Actions(evs), "the repeats were suppressed, the resolve sent once")
	quiet := evs[1].Time.Sub(last)
	t.Logf("resolved %v after the last firing record", quiet.Round(time.Millisecond))
	assert.GreaterOrEqual(t, quiet, 3*time.Second, "never sooner than the quiet period")
	// docs/auto-resolve.md's bound: the period and two sweeps of a second, plus a
	// second for the send on a loaded machine.
	assert.LessOrEqual(t, quiet, 6*time.Second, "at most the quiet period and two sweeps later")
	assert.Equal(t, keyCheckout, evs[1].RoutingKey)
	assert.Equal(t, []string{"triggered"}, states(s, "ar-heartbeat"), "opted out")

	col.Send(t, records("checkout", firing("ar-declines", "error", "card declined")))
	s = sim.WaitFor(t, "a new incident", func(s e2etest.Snapshot) bool { return len(s.IncidentsFor("ar-declines")) == 2 })
	assert.Equal(t, []string{"resolved", "triggered"}, states(s, "ar-declines"))
	assert.InDelta(t, 1.0, col.Metric(t, "otelcol_exporter_pagerduty_auto_resolved", "routing=checkout"), 0)
}

// TestFiringRecordRacingAnAutoResolve: firing records sent around the moment
// the quiet period runs out leave the alert triggered, whichever came
// first: a resolve not yet sent is dropped, and one already sent is
// followed by a new incident. Six alerts go quiet together and fire again
// from 300 ms apart, over more than the second the sweep decides in, so
// that some fire again before the decision and some after it: the race is
// run, and at least one resolve is decided.
func TestFiringRecordRacingAnAutoResolve(t *testing.T) {
	requireE2E(t)
	t.Parallel()
	sim, col := startPair(t, exporterConfig{autoResolve: "2s"}, "-quiet")
	const alerts = 6
	var all []e2etest.Alert
	for i := range alerts {
		all = append(all, firing(fmt.Sprintf("ar-race-%d", i), "error", "card declined"))
	}
	col.Send(t, records("checkout", all...))
	sim.WaitFor(t, "the triggers", func(s e2etest.Snapshot) bool {
		for i := range alerts {
			if !s.Has(fmt.Sprintf("ar-race-%d", i)) {
				return false
			}
		}
		return true
	})
	// Alert i fires again every 100 ms from 1.9 s + i × 300 ms after its
	// trigger to the end, so that none is quiet for its period at the end.
	sent := time.Now()
	for tick := 19; tick < 19+3*alerts; tick++ {
		time.Sleep(time.Until(sent.Add(time.Duration(tick) * 100 * time.Millisecond)))
		var again []e2etest.Alert
		for i := range alerts {
			if tick >= 19+3*i {
				again = append(again, firing(fmt.Sprintf("ar-race-%d", i), "error", "card declined"))
			}
		}
		col.Send(t, records("checkout", again...))
	}
	time.Sleep(700 * time.Millisecond) // the last resolves decided go out or are dropped
	s := sim.Snapshot(t)
	decided := col.Count(t, metricSuppressed, "event_action=resolve", "reason=stale")
	for i := range alerts {
		fp := fmt.Sprintf("ar-race-%d", i)
		st := states(s, fp)
		require.NotEmpty(t, st)
		assert.Equal(t, "triggered", st[len(st)-1], "%s: the newest intent, firing, wins: %v", fp, e2etest.Actions(s.EventsFor(fp)))
		if len(st) > 1 {
			decided++ // the resolve went out first
		}
	}
	t.Logf("resolves decided in the race: %d of %d alerts", decided, alerts)
	assert.Positive(t, decided, "no resolve was decided: the race was not run")
}

// TestAutoResolveNeverBecauseTheCollectorWasDown: with file_storage, an
// open alert survives a kill -9 and a downtime longer than its quiet
// period: after the restart it is not resolved at once, and is resolved
// exactly once, a quiet period later.
func TestAutoResolveNeverBecauseTheCollectorWasDown(t *testing.T) {
	requireE2E(t)
	t.Parallel()
	sim := e2etest.StartSim(t, "-quiet")
	spec := collectorSpec{config: testConfig(sim.URL, exporterConfig{autoResolve: "3s", storageDir: t.TempDir()})}
	col := startCollector(t, spec)
	col.Send(t, records("checkout", firing("ar-kill", "error", "card declined")))
	sim.WaitFor(t, "the trigger", func(s e2etest.Snapshot) bool { return s.Has("ar-kill") })
	// Killed once the cache holds the accepted trigger (its wait is recorded
	// after): a kill between PagerDuty's answer and that would have the
	// record sent again at the restart, at least once being the guarantee.
	e2etest.Eventually(t, e2etest.StartTimeout, func() bool {
		return col.Count(t, "otelcol_exporter_pagerduty_event_wait_count") == 1
	}, "the trigger settled")
	col.Proc.Kill(t)
	time.Sleep(5 * time.Second) // down for longer than the quiet period

	restarted := time.Now()
	startCollector(t, spec)
	e2etest.Consistently(t, 2500*time.Millisecond, func() bool {
		return states(sim.Snapshot(t), "ar-kill")[0] == "triggered"
	}, "not resolved at once: the downtime was not quiet time")
	s := sim.WaitWithin(t, 5*time.Second, "the auto-resolve after the restart", resolvedOnce("ar-kill"))
	evs := s.EventsFor("ar-kill")
	require.Equal(t, []string{"trigger", "resolve"}, e2etest.Actions(evs))
	t.Logf("resolved %v after the restart", evs[1].Time.Sub(restarted).Round(time.Millisecond))
	assert.GreaterOrEqual(t, evs[1].Time.Sub(restarted), 3*time.Second)
	assert.Equal(t, keyCheckout, evs[1].RoutingKey)
	time.Sleep(2 * time.Second)
	assert.Equal(t, []string{"trigger", "resolve"}, e2etest.Actions(sim.Snapshot(t).EventsFor("ar-kill")), "resolved exactly once")
}

// TestAutoResolveWithoutStorage: without storage, an alert opened before a
// restart is never auto-resolved, and the start says so.
func TestAutoResolveWithoutStorage(t *testing.T) {
	requireE2E(t)
	t.Parallel()
	sim := e2etest.StartSim(t, "-quiet")
	spec := collectorSpec{config: testConfig(sim.URL, exporterConfig{autoResolve: "2s"})}
	col := startCollector(t, spec)
	col.Send(t, records("checkout", firing("ar-memory", "error", "card declined")))
	sim.WaitFor(t, "the trigger", func(s e2etest.Snapshot) bool { return s.Has("ar-memory") })
	col.Proc.Kill(t)
	col = startCollector(t, spec)
	e2etest.Consistently(t, 4*time.Second, func() bool {
		return states(sim.Snapshot(t), "ar-memory")[0] == "triggered"
	}, "forgotten, so never auto-resolved")
	assert.Equal(t, 1, strings.Count(col.Proc.Output(), "alerts opened before a restart are never auto-resolved"), "one warning line at start")
}

// TestAutoResolvesWaitTheirTurnInAStorm: 20 alerts triggered at once on a
// route limited to 120 a minute go quiet together: their resolves queue
// behind the rate limit like any resolve, and none is lost or refused.
func TestAutoResolvesWaitTheirTurnInAStorm(t *testing.T) {
	requireE2E(t)
	t.Parallel()
	const n = 20
	sim, col := startPair(t, exporterConfig{autoResolve: "2s", eventsPerMinute: 120, burst: 10}, "-rate-limit", "120", "-quiet")
	fps := fingerprints("ar-storm", n)
	col.Send(t, records("checkout", firingAll(fps)...))
	s := sim.WaitWithin(t, 60*time.Second, "every alert auto-resolved", func(s e2etest.Snapshot) bool {
		for _, fp := range fps {
			if !resolvedOnce(fp)(s) {
				return false
			}
		}
		return true
	})
	for _, fp := range fps {
		assert.Equal(t, []string{"trigger", "resolve"}, e2etest.Actions(s.EventsFor(fp)), fp)
	}
	assert.Zero(t, s.Requests.Throttled, "no 429: the resolves waited for the limiter")
	assert.InDelta(t, float64(n), col.Metric(t, "otelcol_exporter_pagerduty_auto_resolved", "routing=checkout"), 0)
}
