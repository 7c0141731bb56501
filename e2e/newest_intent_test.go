package e2e

// The newest intent wins, also where a record waits in its queue: each test
// below is a plain use of the record contract whose records the exporter
// holds in a way that used to let an older decision win. Each forces its
// interleaving with the simulator's latency, the exporter's rate limiter or
// its queue's single consumer, and asserts what PagerDuty ends up showing.

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-pagerduty/pagerduty/internal/e2etest"
)

const metricAutoResolved = "otelcol_exporter_pagerduty_auto_resolved"

// settledCount is how many records of action the exporter has settled:
// events PagerDuty accepted and records the cache suppressed.
func settledCount(t *testing.T, col *e2etest.Collector, action string) int {
	t.Helper()
	return col.Count(t, metricEvents, "event_action="+action, "outcome=accepted") +
		col.Count(t, metricSuppressed, "event_action="+action)
}

// eventsSettled waits until the exporter has recorded n accepted events in
// its cache (event_wait is recorded once the cache holds the event).
func eventsSettled(t *testing.T, col *e2etest.Collector, n int, what string) {
	t.Helper()
	e2etest.Eventually(t, e2etest.LandTimeout, func() bool {
		return col.Count(t, metricEventWait+"_count") == n
	}, "%s: %d events accepted and recorded", what, n)
}

// TestAcknowledgeNeverErasesAQueuedRetrigger: an alert fired and was
// resolved; it fires again, and that firing record waits in its queue
// (sending_queue.num_consumers 1, busy with a neighbor's event that the
// simulator answers after 4 s); an acknowledge of the alert arrives in a
// later request while the firing record still waits. The newest intent is
// an open incident, acknowledged: the firing record opens a new incident and
// the acknowledge acknowledges it. The acknowledge must not be settled
// against the resolved incident the cache knows, nor make the firing record
// stale.
func TestAcknowledgeNeverErasesAQueuedRetrigger(t *testing.T) {
	requireE2E(t)
	t.Parallel()
	const fp, neighbor = "ni-ack", "ni-ack-neighbor"
	sim, col := startPair(t, exporterConfig{numConsumers: 1}, "-quiet")

	col.Send(t, records("checkout", firing(fp, "error", "card declined")))
	sim.WaitFor(t, "the first trigger", func(s e2etest.Snapshot) bool { return s.Has(fp) })
	col.Send(t, records("checkout", resolved(fp)))
	sim.WaitFor(t, "the resolve", resolvedOnce(fp))
	eventsSettled(t, col, 2, "the trigger and the resolve")

	// The neighbor takes the checkout error queue's one consumer for 4 s;
	// the alert's next firing record waits behind it, not yet decided.
	sim.Control(t, map[string]any{"latency": "4s"})
	col.Send(t, records("checkout", firing(neighbor, "error", "neighbor's page")))
	col.Send(t, records("checkout", firing(fp, "error", "card declined")))
	col.Send(t, records("checkout", acked(fp)))
	// The consumer takes the firing record only once the simulator has
	// answered the neighbor, which it records before answering: if the
	// neighbor is not there, the acknowledge arrived while the firing
	// record still waited in the queue.
	require.Empty(t, sim.Snapshot(t).EventsFor(neighbor),
		"precondition: the acknowledge must arrive while the neighbor holds the queue's consumer")
	sim.Control(t, map[string]any{"latency": "0s"})

	e2etest.Eventually(t, e2etest.LandTimeout, func() bool {
		return settledCount(t, col, "trigger") == 3 && settledCount(t, col, "acknowledge") == 1
	}, "the firing records and the acknowledge settled")
	s := waitDelivered(t, sim, neighbor)
	assertOnce(t, s, keyCheckout, neighbor)
	assert.Equal(t, []string{"resolved", "acknowledged"}, states(s, fp),
		"the queued firing record opens a new incident and the newer acknowledge acknowledges it; events of %s: %v; "+
			"suppressed: acknowledge already_applied %d, trigger stale %d", fp, e2etest.Actions(s.EventsFor(fp)),
		col.Count(t, metricSuppressed, "event_action=acknowledge", "reason=already_applied"),
		col.Count(t, metricSuppressed, "event_action=trigger", "reason=stale"))
}

// TestNoFalsePageAfterAutoResolve: with auto_resolve.after 2s and a rate
// limit of 6 events a minute (one every 10 s, burst 1) on a route whose
// error queue has one consumer, an open alert's next firing record waits in
// that queue behind a neighbor held at the limiter (the alert's trigger
// spent the burst: the next slot is 10 s later). The alert has been quiet
// since that record arrived, so the exporter resolves it 2-4 s later, and
// the resolve (priority ack_resolve) takes the limiter's next slot ahead of
// the neighbor (error). The firing record, older than the resolve's
// decision, must not open a second incident once it is delivered: the
// alert ends resolved, with exactly one incident ever opened.
func TestNoFalsePageAfterAutoResolve(t *testing.T) {
	requireE2E(t)
	t.Parallel()
	const fp, neighbor = "ni-quiet", "ni-quiet-neighbor"
	const quiet, sweepSlack = 2 * time.Second, 2 * time.Second
	sim, col := startPair(t, exporterConfig{autoResolve: "2s", eventsPerMinute: 6, burst: 1, numConsumers: 1}, "-quiet")

	col.Send(t, records("checkout", firing(fp, "error", "card declined")))
	sim.WaitFor(t, "the trigger", func(s e2etest.Snapshot) bool { return s.Has(fp) })
	eventsSettled(t, col, 1, "the trigger") // the alert is open in the cache: its clock runs

	// The trigger spent the burst: the neighbor waits at the limiter for
	// the next slot, 10 s after it, holding the queue's one consumer. It is
	// opted out of auto-resolution, so that no resolve of its own competes
	// for the limiter's slots.
	nb := firing(neighbor, "error", "neighbor's page")
	nb.Attrs = map[string]any{"alert.resolve_after": "0s"}
	col.Send(t, records("checkout", nb))
	// A changed summary: not a repeat settled on arrival, but queued behind
	// the neighbor. It restarts the alert's quiet clock, for the last time.
	col.Send(t, records("checkout", firing(fp, "error", "card declined, 2 attempts")))
	lastFiring := time.Now()

	// Settled: three firing records (sent or suppressed), and either the
	// alert resolved or a second incident opened.
	e2etest.Eventually(t, 45*time.Second, func() bool {
		if settledCount(t, col, "trigger") != 3 {
			return false
		}
		st := states(sim.Snapshot(t), fp)
		return len(st) > 1 || len(st) == 1 && st[0] == "resolved"
	}, "the firing records settled and the alert resolved")
	s := sim.Snapshot(t)

	// The neighbor was held for longer than the quiet period and the
	// sweep's slack: the resolve was decided while the firing record still
	// waited in the queue.
	nbEvents := s.EventsFor(neighbor)
	require.NotEmpty(t, nbEvents, "the neighbor's trigger")
	held := nbEvents[0].Time.Sub(lastFiring)
	require.Greater(t, held, quiet+sweepSlack+time.Second,
		"precondition: the neighbor must hold the queue past the alert's quiet period (held %v)", held)

	evs := s.EventsFor(fp)
	t.Logf("neighbor sent %v after the last firing record; events of %s: %v", held.Round(time.Millisecond), fp, e2etest.Actions(evs))
	require.Equal(t, []string{"resolved"}, states(s, fp),
		"the alert ends resolved with exactly one incident ever opened: the firing record that waited through the quiet "+
			"period is older than the auto-resolve and must not page again; events of %s: %v", fp, e2etest.Actions(evs))
	assert.Equal(t, keyCheckout, evs[len(evs)-1].RoutingKey)
	assert.Equal(t, 1, col.Count(t, metricAutoResolved, "routing=checkout"))
	assertOnce(t, s, keyCheckout, neighbor)
}

// TestResolveAfterOptOutOfTheNewestRecord: one OTLP request carries two
// firing records of a new alert, the newer with alert.resolve_after "0s",
// under auto_resolve.after 2s. The newest firing record's value applies:
// the alert is never auto-resolved, though the newer record, a repeat, is
// suppressed. With file_storage, the opt-out also holds after the collector
// is restarted (SIGTERM) or killed (SIGKILL) and started again.
func TestResolveAfterOptOutOfTheNewestRecord(t *testing.T) {
	requireE2E(t)
	t.Parallel()
	for _, tc := range []struct {
		name string
		// stop, when set, stops the collector once both records settled;
		// a collector on the same storage is then started.
		stop func(t *testing.T, col *e2etest.Collector)
	}{
		{name: "in memory"},
		{name: "file_storage, restarted", stop: func(t *testing.T, col *e2etest.Collector) {
			t.Helper()
			_, exited, err := col.Proc.Terminate(t, 15*time.Second)
			require.True(t, exited, "the collector stops on SIGTERM")
			require.NoError(t, err)
		}},
		{name: "file_storage, killed", stop: func(t *testing.T, col *e2etest.Collector) {
			t.Helper()
			col.Proc.Kill(t)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			const fp = "ni-optout"
			const watch = 3*2*time.Second + 2*time.Second // 3 quiet periods and the sweep's slack
			sim := e2etest.StartSim(t, "-quiet")
			ec := exporterConfig{autoResolve: "2s"}
			if tc.stop != nil {
				ec.storageDir = t.TempDir()
			}
			spec := collectorSpec{config: testConfig(sim.URL, ec)}
			col := startCollector(t, spec)

			optOut := firing(fp, "critical", "heartbeat missing")
			optOut.Attrs = map[string]any{"alert.resolve_after": "0s"}
			col.Send(t, records("checkout", firing(fp, "critical", "heartbeat missing"), optOut))
			sim.WaitFor(t, "the trigger", func(s e2etest.Snapshot) bool { return s.Has(fp) })
			eventsSettled(t, col, 1, "the trigger")
			e2etest.Eventually(t, e2etest.LandTimeout, func() bool { return settledCount(t, col, "trigger") == 2 },
				"both firing records settled")
			if tc.stop != nil {
				tc.stop(t, col)
				col = startCollector(t, spec)
			}

			e2etest.Consistently(t, watch, func() bool {
				st := states(sim.Snapshot(t), fp)
				return len(st) == 1 && st[0] == "triggered"
			}, "the newest firing record opted %s out of auto-resolution (alert.resolve_after \"0s\"): it stays open", fp)
			assert.Equal(t, []string{"trigger"}, e2etest.Actions(sim.Snapshot(t).EventsFor(fp)))
			assert.Zero(t, col.Count(t, metricAutoResolved))
		})
	}
}

// TestResolveAfterBeyondTTLIsHonoured: with dedup.ttl 6s, a firing record
// with alert.resolve_after 10s. The alert's quiet clock keeps its entry
// alive until it runs out: the alert is resolved 10-12 s after the record.
// An exporter may instead cap the period, but then says so (a repair
// counted in records_repaired, and a log line naming alert.resolve_after);
// it must never drop the auto-resolve silently.
func TestResolveAfterBeyondTTLIsHonoured(t *testing.T) {
	requireE2E(t)
	t.Parallel()
	const fp = "ni-beyond-ttl"
	const resolveAfter, sweepSlack, margin = 10 * time.Second, 2 * time.Second, 4 * time.Second
	sim := e2etest.StartSim(t, "-quiet")
	ttl := writeTemp(t, "dedup-ttl.yaml", "exporters:\n  pagerduty:\n    dedup:\n      ttl: 6s\n")
	col := startCollector(t, collectorSpec{configFile: ttl, config: testConfig(sim.URL, exporterConfig{})})

	a := firing(fp, "error", "nightly export failed")
	a.Attrs = map[string]any{"alert.resolve_after": resolveAfter.String()}
	sent := time.Now()
	col.Send(t, records("checkout", a))
	sim.WaitFor(t, "the trigger", func(s e2etest.Snapshot) bool { return s.Has(fp) })

	deadline := sent.Add(resolveAfter + sweepSlack + margin)
	s := sim.Snapshot(t)
	for !resolvedOnce(fp)(s) && time.Now().Before(deadline) {
		time.Sleep(e2etest.PollInterval)
		s = sim.Snapshot(t)
	}
	// The exporter's own resolve has no severity: it counts as
	// severity_defaulted once sent. Any other repair is the record's.
	repaired := col.Count(t, metricRepaired) - col.Count(t, metricRepaired, "reason=severity_defaulted")
	if !resolvedOnce(fp)(s) {
		t.Fatalf("%s (alert.resolve_after %v, dedup.ttl 6s) was not auto-resolved within %v of its record "+
			"(states %v, events %v; records_repaired but severity_defaulted %d, suppressed{resolve,stale} %d): its quiet period was dropped with its entry",
			fp, resolveAfter, resolveAfter+sweepSlack+margin, states(s, fp), e2etest.Actions(s.EventsFor(fp)), repaired,
			col.Count(t, metricSuppressed, "event_action=resolve", "reason=stale"))
	}
	evs := s.EventsFor(fp)
	require.Equal(t, []string{"trigger", "resolve"}, e2etest.Actions(evs))
	after := evs[1].Time.Sub(sent)
	t.Logf("resolved %v after the record; records_repaired but severity_defaulted %d", after.Round(time.Millisecond), repaired)
	if after < resolveAfter {
		// Capped: allowed only when said.
		assert.Positive(t, repaired, "resolved %v after the record, sooner than its alert.resolve_after, without a repair counted", after)
		assert.Contains(t, col.Proc.Output(), "resolve_after", "a capped quiet period is logged")
	}
	assert.Equal(t, keyCheckout, evs[1].RoutingKey)
	e2etest.Eventually(t, e2etest.LandTimeout, func() bool {
		return col.Count(t, metricAutoResolved, "routing=checkout") == 1
	}, "the auto-resolve counted")
}
