package e2e

// An upgrade must not lose pages: what the previous build left in its
// persistent sending queue, because the Events API was down when it was
// stopped, is delivered by the new build started on the same storage. The
// fixture is that storage, written by the build of commit eefb0af;
// testdata/upgrade/README.md says how to write it again.

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-pagerduty/pagerduty/internal/e2etest"
)

// upgradeFixture is the file_storage directory the previous build left.
const upgradeFixture = "testdata/upgrade/queue-eefb0af"

// queuedAlert is one alert of the fixture and what PagerDuty must end up
// holding for it.
type queuedAlert struct {
	dedupKey, route, severity string
	actions                   []string // events of its one incident
	state                     string   // of its one incident
}

// upgradeAlerts is what testdata/upgrade/writequeue queued (see its package
// comment): 20 alerts over two routes and three severities, and a trigger
// and its resolve in one queue entry.
func upgradeAlerts() []queuedAlert {
	routes := []string{"checkout", "payments"}
	severities := []string{"critical", "error", "warning"}
	var alerts []queuedAlert
	for i := range 20 {
		route, severity := routes[i%len(routes)], severities[i%len(severities)]
		alerts = append(alerts, queuedAlert{
			dedupKey: fmt.Sprintf("upgrade-%02d-%s-%s", i, route, severity),
			route:    route, severity: severity,
			actions: []string{"trigger"}, state: "triggered",
		})
	}
	return append(alerts, queuedAlert{
		dedupKey: "upgrade-pair", route: "checkout", severity: "error",
		actions: []string{"trigger", "resolve"}, state: "resolved",
	})
}

// TestUpgradeDeliversQueueWrittenByPreviousBuild: the current build,
// started on a copy of the previous build's queue with the same config and
// an Events API that accepts, sends every queued alert exactly once, under
// its route's key, and the resolve after its trigger. It is sent nothing
// itself: every event must come from the queue files.
func TestUpgradeDeliversQueueWrittenByPreviousBuild(t *testing.T) {
	requireE2E(t)
	t.Parallel()
	// A copy: the collector rewrites the files as it takes their contents.
	storage := t.TempDir()
	require.NoError(t, os.CopyFS(storage, os.DirFS(upgradeFixture)))
	config, err := filepath.Abs("testdata/upgrade/collector.yaml")
	require.NoError(t, err)

	sim := e2etest.StartSim(t, "-rate-limit", "0", "-quiet")
	started := time.Now()
	col := startCollector(t, collectorSpec{
		configFile: config,
		env: func(p e2etest.Ports) []string {
			return []string{
				"UPGRADE_SIM_URL=" + sim.URL,
				"UPGRADE_STORAGE=" + storage,
				fmt.Sprintf("UPGRADE_OTLP_PORT=%d", p.OTLP),
				fmt.Sprintf("UPGRADE_HEALTH_PORT=%d", p.Health),
				fmt.Sprintf("UPGRADE_METRICS_PORT=%d", p.Metrics),
			}
		},
	})

	alerts := upgradeAlerts()
	var want []string
	for _, a := range alerts {
		want = append(want, a.dedupKey)
	}
	// Waited for without failing, so that a queue not read shows below as
	// the dedup keys missing.
	delivered := func(s e2etest.Snapshot) bool {
		return s.Has(want...) && s.IncidentsFor("upgrade-pair")[0].State == "resolved"
	}
	s := sim.Snapshot(t)
	for deadline := time.Now().Add(e2etest.LandTimeout); !delivered(s) && time.Now().Before(deadline); {
		time.Sleep(e2etest.PollInterval)
		s = sim.Snapshot(t)
	}
	took := time.Since(started)
	var seen []string
	for _, ev := range s.Events {
		if !slices.Contains(seen, ev.DedupKey) {
			seen = append(seen, ev.DedupKey)
		}
	}
	require.ElementsMatch(t, want, seen, "dedup keys the Events API received: the previous build's queue (%s) holds exactly the first list", upgradeFixture)
	e2etest.Consistently(t, retryQuiet, func() bool {
		return sim.Snapshot(t).Requests.Total == s.Requests.Total
	}, "no request after the queue was delivered (an accepted event sent again, or a record the fixture does not hold)")

	s = sim.Snapshot(t)
	keys := map[string]string{"checkout": keyCheckout, "payments": keyPayments}
	waits := map[[2]string]int{} // events per route and priority of their queue
	var oldest time.Time
	for _, a := range alerts {
		incs := s.IncidentsFor(a.dedupKey)
		if !assert.Len(t, incs, 1, "incidents of %s", a.dedupKey) {
			continue
		}
		inc := incs[0]
		assert.Equal(t, keys[a.route], inc.RoutingKey, "routing key of %s", a.dedupKey)
		assert.Equal(t, a.severity, inc.Severity, "severity of %s", a.dedupKey)
		assert.Equal(t, "upgrade "+a.dedupKey, inc.Summary)
		assert.Equal(t, a.state, inc.State, "state of %s", a.dedupKey)
		assert.Equal(t, a.actions, e2etest.Actions(inc.Events), "events of %s", a.dedupKey)
		waits[[2]string{a.route, a.severity}] += len(a.actions)

		// The records that carry no time of their own are timed by when the
		// previous build received them, which the queue holds: every
		// timestamp is older than this test.
		var payload struct {
			Timestamp time.Time `json:"timestamp"`
		}
		require.NoError(t, json.Unmarshal(inc.Payload, &payload), "payload of %s", a.dedupKey)
		assert.True(t, payload.Timestamp.Before(started), "payload.timestamp of %s is %v, not before the upgrade", a.dedupKey, payload.Timestamp)
		if oldest.IsZero() || payload.Timestamp.Before(oldest) {
			oldest = payload.Timestamp
		}
	}
	assert.Equal(t, 22, s.Requests.Total, "21 triggers and one resolve")
	assert.Equal(t, map[string]int{"202": 22}, s.Requests.ByEndpoint[e2etest.EnqueuePath])
	assert.Empty(t, s.ChangeEvents)
	assert.Zero(t, s.Dropped)

	// Each event left the queue of its route and priority (the pair's
	// resolve shares its trigger's), and its wait counts from when the
	// previous build received it (the queue's scope attribute
	// pagerduty.exporter.received): about the fixture's age, neither the
	// few seconds since the upgrade nor the time since 1970.
	for q, n := range waits {
		assert.Equal(t, n, col.Count(t, metricEventWait+"_count", "routing="+q[0], "priority="+q[1]), "events sent from the %s queue of %s", q[1], q[0])
	}
	age := time.Since(oldest).Seconds()
	mean := col.Metric(t, metricEventWait+"_sum") / col.Metric(t, metricEventWait+"_count")
	assert.InDelta(t, age, mean, time.Minute.Seconds(), "mean wait of the queued events (s), against the fixture's age")
	t.Logf("%d events from the previous build's queue delivered within %v of the start; their mean wait %.0fs, the fixture's age %.0fs",
		len(s.Events), took.Round(time.Millisecond), mean, age)
}
