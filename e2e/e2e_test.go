package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-pagerduty/pagerduty/internal/e2etest"
)

// Metric names as the collector's Prometheus reader exposes them.
const (
	metricSuppressed = "otelcol_exporter_pagerduty_suppressed"
	metricEvents     = "otelcol_exporter_pagerduty_events"
	metricRejected   = "otelcol_exporter_pagerduty_records_rejected"
	metricRepaired   = "otelcol_exporter_pagerduty_records_repaired"
	metricThrottled  = "otelcol_exporter_pagerduty_throttled"
	metricSendFailed = "otelcol_exporter_send_failed_log_records"
)

// retryQuiet is how long a test waits to be sure that no retry follows: a
// few times the test config's retry max_interval (500ms).
const retryQuiet = 1500 * time.Millisecond

// TestDemoScenario runs the demo of `make demo` (testdata/demo.yaml and
// testdata/alerts/*.json, in order) and asserts the final incident table.
func TestDemoScenario(t *testing.T) {
	requireE2E(t)
	t.Parallel()

	demoConfig, err := filepath.Abs(filepath.Join("..", "testdata", "demo.yaml"))
	require.NoError(t, err)
	keys := demoKeys(t, demoConfig)

	sim := e2etest.StartSim(t)
	simURL, err := url.Parse(sim.URL)
	require.NoError(t, err)
	col := startCollector(t, collectorSpec{
		configFile: demoConfig,
		env: func(p e2etest.Ports) []string {
			return []string{
				"DEMO_SIM_PORT=" + simURL.Port(),
				fmt.Sprintf("DEMO_OTLP_PORT=%d", p.OTLP),
				fmt.Sprintf("DEMO_HEALTH_PORT=%d", p.Health),
				fmt.Sprintf("DEMO_STATUS_PORT=%d", p.Status),
				fmt.Sprintf("DEMO_METRICS_PORT=%d", p.Metrics),
			}
		},
	})

	// How many Events API requests each sample causes.
	steps := []struct {
		file     string
		requests int
	}{
		{"01-checkout-firing.json", 1},
		{"02-checkout-firing-repeat.json", 0}, // same severity and summary: suppressed
		{"03-checkout-escalated.json", 1},
		{"04-payments-firing.json", 1},
		{"05-checkout-acknowledged.json", 1},
		{"06-deploy-change.json", 1},
		{"07-checkout-resolved.json", 1},
	}
	files, err := filepath.Glob(filepath.Join("..", "testdata", "alerts", "*.json"))
	require.NoError(t, err)
	var names []string
	for _, f := range files {
		names = append(names, filepath.Base(f))
	}
	var want []string
	for _, s := range steps {
		want = append(want, s.file)
	}
	require.Equal(t, want, names, "testdata/alerts changed: update the steps of this test")

	for _, step := range steps {
		data, err := os.ReadFile(filepath.Join("..", "testdata", "alerts", step.file))
		require.NoError(t, err)
		before := sim.Snapshot(t).Requests.Total
		col.SendJSON(t, data)
		if step.requests == 0 {
			// The demo's queue has several consumers: wait until the record
			// was processed (and suppressed) before the next one is sent.
			e2etest.Eventually(t, e2etest.LandTimeout, func() bool {
				return col.Metric(t, metricSuppressed, "reason=duplicate") == 1
			}, "%s to be suppressed as a duplicate", step.file)
			require.Equal(t, before, sim.Snapshot(t).Requests.Total, "%s caused a request", step.file)
			continue
		}
		sim.WaitFor(t, step.file+" to land", func(s e2etest.Snapshot) bool {
			return s.Requests.Total >= before+step.requests
		})
	}

	s := sim.Snapshot(t)
	require.Len(t, s.Incidents, 2, "incidents:\n%s", s)

	checkout := s.Incidents[0]
	assert.Equal(t, 1, checkout.Number)
	assert.Equal(t, "checkout-latency-p99", checkout.DedupKey)
	assert.Equal(t, keys["checkout"], checkout.RoutingKey, "checkout incident not under demo.yaml's checkout key")
	assert.Equal(t, "resolved", checkout.State)
	assert.Equal(t, "critical", checkout.Severity)
	assert.Equal(t, "Checkout p99 latency 4.2s over 1s for 10m", checkout.Summary)
	assert.Equal(t, "web-01", checkout.Source)
	// Two triggers (the repeat, 02, is not among them: it would sit between
	// them with severity warning), the chatops-bot acknowledge and the
	// resolve, all applied: the acknowledge names another service but
	// followed the incident to the checkout key.
	require.Len(t, checkout.Events, 4, "checkout events: %v", e2etest.Actions(checkout.Events))
	assert.Equal(t, []string{"trigger", "trigger", "acknowledge", "resolve"}, e2etest.Actions(checkout.Events))
	assert.Equal(t, "warning", checkout.Events[0].Severity)
	assert.Equal(t, "critical", checkout.Events[1].Severity)
	for _, ev := range checkout.Events {
		assert.Equal(t, keys["checkout"], ev.RoutingKey, "event %d", ev.Seq)
	}
	assert.Equal(t, []e2etest.Link{
		{Href: "https://runbooks.example.com/checkout/latency", Text: "Runbook"},
		{Href: "https://grafana.example.com/d/checkout", Text: "Dashboard"},
	}, checkout.Links)

	payments := s.Incidents[1]
	assert.Equal(t, 2, payments.Number)
	assert.Equal(t, "payments-declines", payments.DedupKey)
	assert.Equal(t, keys["payments"], payments.RoutingKey, "payments incident not under demo.yaml's payments key")
	assert.Equal(t, "triggered", payments.State)
	assert.Equal(t, "error", payments.Severity)
	assert.Equal(t, []string{"trigger"}, e2etest.Actions(payments.Events))

	require.Len(t, s.ChangeEvents, 1)
	change := s.ChangeEvents[0]
	assert.Equal(t, keys["default"], change.RoutingKey, "change event not under demo.yaml's routing_key")
	assert.Equal(t, "Deployed checkout v2.14.1 (rollback of v2.14.0)", change.Summary)
	assert.Equal(t, "ci-runner-2", change.Source)
	assert.Equal(t, []e2etest.Link{{Href: "https://ci.example.com/deploys/4711", Text: "Deploy #4711"}}, change.Links)
	assert.Equal(t, "9f2c1e7", detail(t, change.CustomDetails, "commit"))

	assert.Len(t, s.Events, 5)
	assert.Zero(t, s.Dropped)
	assert.Equal(t, 6, s.Requests.Total)
	assert.Equal(t, map[string]int{"202": 5}, s.Requests.ByEndpoint[e2etest.EnqueuePath])
	assert.Equal(t, map[string]int{"202": 1}, s.Requests.ByEndpoint[e2etest.ChangePath])
	assert.Equal(t, 1, col.Count(t, metricSuppressed), "suppressed events")
	code, _, exp := exporterStatus(t, col)
	assert.Equal(t, http.StatusOK, code, "demo.yaml's status endpoint")
	if assert.NotNil(t, exp, "the exporter in the status endpoint") {
		assert.Equal(t, "StatusOK", exp.Status)
	}
}

// demoKeys reads the integration keys of demo.yaml: its routing_key default
// and its routing.keys.
func demoKeys(t *testing.T, path string) map[string]string {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	keys := map[string]string{}
	for name, re := range map[string]*regexp.Regexp{
		"default":  regexp.MustCompile(`(?m)^\s*routing_key:\s*\$\{env:DEMO_DEFAULT_KEY:-([0-9a-z]{32})\}`),
		"checkout": regexp.MustCompile(`(?m)^\s*checkout:\s*([0-9a-z]{32})\s*$`),
		"payments": regexp.MustCompile(`(?m)^\s*payments:\s*([0-9a-z]{32})\s*$`),
	} {
		m := re.FindSubmatch(data)
		require.NotNil(t, m, "no %s key in %s", name, path)
		keys[name] = string(m[1])
	}
	return keys
}

// detail returns custom_details[key] decoded.
func detail(t *testing.T, customDetails json.RawMessage, key string) any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(customDetails, &m), "custom_details: %s", customDetails)
	return m[key]
}

// TestLifecycle: trigger, acknowledge, resolve; then a new trigger for the
// same fingerprint opens a second incident.
func TestLifecycle(t *testing.T) {
	requireE2E(t)
	t.Parallel()
	sim, col := startPair(t, exporterConfig{})
	const fp = "lifecycle-disk"

	col.Send(t, records("checkout", firing(fp, "error", "Disk 91% full on db-1")))
	sim.WaitFor(t, "the trigger", func(s e2etest.Snapshot) bool { return len(s.Incidents) == 1 })

	col.Send(t, records("checkout", acked(fp)))
	sim.WaitFor(t, "the acknowledge", func(s e2etest.Snapshot) bool { return s.Incidents[0].State == "acknowledged" })

	col.Send(t, records("checkout", resolved(fp)))
	sim.WaitFor(t, "the resolve", func(s e2etest.Snapshot) bool { return s.Incidents[0].State == "resolved" })

	col.Send(t, records("checkout", firing(fp, "critical", "Disk 99% full on db-1")))
	s := sim.WaitFor(t, "the second trigger", func(s e2etest.Snapshot) bool { return len(s.Incidents) == 2 })

	first, second := s.Incidents[0], s.Incidents[1]
	assert.Equal(t, 1, first.Number)
	assert.Equal(t, fp, first.DedupKey)
	assert.Equal(t, keyCheckout, first.RoutingKey)
	assert.Equal(t, "resolved", first.State)
	assert.Equal(t, "error", first.Severity)
	assert.Equal(t, []string{"trigger", "acknowledge", "resolve"}, e2etest.Actions(first.Events))

	assert.Equal(t, 2, second.Number)
	assert.Equal(t, fp, second.DedupKey)
	assert.Equal(t, keyCheckout, second.RoutingKey)
	assert.Equal(t, "triggered", second.State)
	assert.Equal(t, "critical", second.Severity)
	assert.Equal(t, "Disk 99% full on db-1", second.Summary)
	assert.Equal(t, []string{"trigger"}, e2etest.Actions(second.Events))

	assert.Zero(t, s.Dropped)
	assert.Equal(t, 4, s.Requests.Total)
	assert.Equal(t, map[string]int{"202": 4}, s.Requests.ByEndpoint[e2etest.EnqueuePath])
}

// TestRoutingAffinity: services route to their own keys, and an acknowledge
// or resolve that names no service, or another one, still goes to the key
// that opened the incident; else the simulator would record it as dropped.
func TestRoutingAffinity(t *testing.T) {
	requireE2E(t)
	t.Parallel()
	sim, col := startPair(t, exporterConfig{})
	const fpCheckout, fpPayments = "route-checkout-5xx", "route-payments-declines"

	col.Send(t, e2etest.NewPayload().
		Service("checkout").Add(firing(fpCheckout, "critical", "Checkout 5xx rate 7%")).
		Service("payments").Add(firing(fpPayments, "error", "Card declines 12%")).
		Logs())
	s := sim.WaitFor(t, "both triggers", func(s e2etest.Snapshot) bool { return s.Has(fpCheckout, fpPayments) })
	require.Equal(t, keyCheckout, s.IncidentsFor(fpCheckout)[0].RoutingKey)
	require.Equal(t, keyPayments, s.IncidentsFor(fpPayments)[0].RoutingKey)

	// No service.name at all: routing_key (the default) would be picked.
	col.Send(t, records("", acked(fpCheckout)))
	sim.WaitFor(t, "the unrouted acknowledge", func(s e2etest.Snapshot) bool { return len(s.Events) == 3 })
	// Another service's name: its key would be picked.
	col.Send(t, records("payments", resolved(fpCheckout)))
	sim.WaitFor(t, "the resolve from payments", func(s e2etest.Snapshot) bool { return len(s.Events) == 4 })
	// A service with no key of its own: routing_key would be picked.
	col.Send(t, records("billing-cron", resolved(fpPayments)))
	s = sim.WaitFor(t, "the resolve from billing-cron", func(s e2etest.Snapshot) bool { return len(s.Events) == 5 })

	assert.Zero(t, s.Dropped, "events dropped by the simulator: %v", e2etest.Actions(s.Events))
	require.Len(t, s.Incidents, 2)
	for _, inc := range s.Incidents {
		assert.Equal(t, "resolved", inc.State, "incident %s", inc.DedupKey)
		for _, ev := range inc.Events {
			assert.Equal(t, inc.RoutingKey, ev.RoutingKey, "%s event of %s", ev.Action, inc.DedupKey)
		}
	}
	assert.Equal(t, []string{"trigger", "acknowledge", "resolve"}, e2etest.Actions(s.IncidentsFor(fpCheckout)[0].Events))
	assert.Equal(t, []string{"trigger", "resolve"}, e2etest.Actions(s.IncidentsFor(fpPayments)[0].Events))
	for _, ev := range s.Events {
		assert.NotEqual(t, keyDefault, ev.RoutingKey, "event %d went to the default key", ev.Seq)
	}
	assert.Equal(t, 5, s.Requests.Total)
	assert.Equal(t, map[string]int{"202": 5}, s.Requests.ByEndpoint[e2etest.EnqueuePath])
}

// TestRoutingAffinityWithoutDefaultKey: with routing.keys only (no
// routing_key, which the config allows), an acknowledge or resolve whose
// record names no service must still reach the key that opened the
// incident: the exporter knows it from its dedup cache.
func TestRoutingAffinityWithoutDefaultKey(t *testing.T) {
	requireE2E(t)
	t.Parallel()
	sim, col := startPair(t, exporterConfig{noDefaultKey: true})
	const fp = "route-nodefault"

	col.Send(t, records("checkout", firing(fp, "critical", "Checkout 5xx rate 7%")))
	sim.WaitFor(t, "the trigger", func(s e2etest.Snapshot) bool { return s.Has(fp) })

	// The acknowledge and resolve name no service; a marker for another
	// route follows them in the same request.
	col.Send(t, e2etest.NewPayload().Service("").Add(acked(fp), resolved(fp)).
		Service("payments").Add(firing("route-nodefault-marker", "info", "marker")).Logs())
	sim.WaitFor(t, "the resolve", func(s e2etest.Snapshot) bool { return len(s.EventsFor(fp)) >= 3 })
	s := sim.WaitFor(t, "the marker", func(s e2etest.Snapshot) bool { return s.Has("route-nodefault-marker") })

	rejected := col.Metric(t, metricRejected, "reason=no_routing_key")
	assert.Zero(t, rejected, "acknowledge/resolve of a known incident rejected for want of a routing key")
	inc := s.IncidentsFor(fp)[0]
	assert.Equal(t, "resolved", inc.State)
	assert.Equal(t, []string{"trigger", "acknowledge", "resolve"}, e2etest.Actions(inc.Events))
	assert.Zero(t, s.Dropped)
}

// TestChangeEvents: change events go to /v2/change/enqueue, are routed like
// alerts, and are never deduplicated.
func TestChangeEvents(t *testing.T) {
	requireE2E(t)
	t.Parallel()
	sim, col := startPair(t, exporterConfig{})

	deploy := e2etest.Alert{
		EventType: "change",
		Summary:   "Deployed checkout v2.15.0",
		Attrs: map[string]any{
			"commit":      "4b1d2e3",
			"alert.links": []any{map[string]any{"href": "https://ci.example.com/deploys/42", "text": "Deploy #42"}},
		},
	}
	flag := e2etest.Alert{EventType: "change", Summary: "Feature flag fast-checkout on", Attrs: map[string]any{"flag": "fast-checkout"}}
	col.Send(t, e2etest.NewPayload().
		Service("deployer").Add(deploy, deploy). // the same change twice: both must arrive
		Service("checkout").Add(flag).
		Logs())
	s := sim.WaitFor(t, "three change events", func(s e2etest.Snapshot) bool { return len(s.ChangeEvents) >= 3 })

	require.Len(t, s.ChangeEvents, 3)
	// Routes have queues of their own: the two routes' events may come in
	// either order.
	var deploys, flags []e2etest.ChangeEvent
	for _, ce := range s.ChangeEvents {
		if ce.RoutingKey == keyDefault {
			deploys = append(deploys, ce)
		} else {
			flags = append(flags, ce)
		}
	}
	require.Len(t, deploys, 2)
	require.Len(t, flags, 1)
	for i, ce := range deploys {
		assert.Equal(t, keyDefault, ce.RoutingKey, "change %d", i)
		assert.Equal(t, "Deployed checkout v2.15.0", ce.Summary)
		assert.Equal(t, "deployer-host", ce.Source)
		assert.NotEmpty(t, ce.Timestamp)
		assert.Equal(t, []e2etest.Link{{Href: "https://ci.example.com/deploys/42", Text: "Deploy #42"}}, ce.Links)
		assert.Equal(t, "4b1d2e3", detail(t, ce.CustomDetails, "commit"))
	}
	ce := flags[0]
	assert.Equal(t, keyCheckout, ce.RoutingKey)
	assert.Equal(t, "Feature flag fast-checkout on", ce.Summary)
	assert.Equal(t, "fast-checkout", detail(t, ce.CustomDetails, "flag"))

	assert.Empty(t, s.Incidents)
	assert.Empty(t, s.Events)
	assert.Equal(t, 3, s.Requests.Total)
	assert.Equal(t, map[string]int{"202": 3}, s.Requests.ByEndpoint[e2etest.ChangePath])
	assert.Empty(t, s.Requests.ByEndpoint[e2etest.EnqueuePath])
	assert.Equal(t, 3, col.Count(t, metricEvents, "event_action=change", "outcome=accepted"))
}

// TestRejectedKeyIsNotRetriedAndBlocksNothing: a 400 for one routing key is
// permanent: each of its records is sent once, and the records of another
// key, interleaved with them, are all delivered.
func TestRejectedKeyIsNotRetriedAndBlocksNothing(t *testing.T) {
	requireE2E(t)
	t.Parallel()
	sim, col := startPair(t, exporterConfig{})
	sim.Control(t, map[string]any{"reject_keys": map[string]int{keyPayments: 400}})

	var checkoutFPs []string
	p := e2etest.NewPayload()
	for i := 1; i <= 4; i++ {
		fp := fmt.Sprintf("reject-checkout-%d", i)
		checkoutFPs = append(checkoutFPs, fp)
		p.Service("payments").Add(firing(fmt.Sprintf("reject-payments-%d", i), "error", "rejected"))
		p.Service("checkout").Add(firing(fp, "error", "delivered"))
	}
	col.Send(t, p.Logs())
	// And once more, in a request of its own for each key.
	col.Send(t, records("payments", firing("reject-payments-5", "error", "rejected")))
	col.Send(t, records("checkout", firing("reject-checkout-5", "error", "delivered")))
	checkoutFPs = append(checkoutFPs, "reject-checkout-5")

	sim.WaitFor(t, "the checkout incidents and the rejections", func(s e2etest.Snapshot) bool {
		return s.Has(checkoutFPs...) && s.Requests.Rejected >= 5
	})
	e2etest.Consistently(t, retryQuiet, func() bool {
		s := sim.Snapshot(t)
		return s.Requests.Rejected == 5 && s.Requests.Total == 10
	}, "no retry of a rejected event, nor any other request")

	s := sim.Snapshot(t)
	assert.Len(t, s.Incidents, 5)
	for _, inc := range s.Incidents {
		assert.Equal(t, keyCheckout, inc.RoutingKey, inc.DedupKey)
		assert.Equal(t, []string{"trigger"}, e2etest.Actions(inc.Events), inc.DedupKey)
	}
	assert.Equal(t, map[string]int{"202": 5, "400": 5}, s.Requests.ByEndpoint[e2etest.EnqueuePath])
	assert.Equal(t, 5, col.Count(t, metricRejected, "reason=api_rejected"))
	assert.Equal(t, 5, col.Count(t, metricEvents, "outcome=rejected", "routing=payments"))
	assert.Equal(t, 5, col.Count(t, metricEvents, "outcome=accepted", "routing=checkout"))
}

// TestServerErrorsRecoverWithoutLossOrDuplicates: while every request fails
// with 503 the collector retries; once the Events API recovers, every alert
// arrives exactly once.
func TestServerErrorsRecoverWithoutLossOrDuplicates(t *testing.T) {
	requireE2E(t)
	t.Parallel()
	sim, col := startPair(t, exporterConfig{})
	sim.Control(t, map[string]any{"fail_rate": 1, "fail_status": 503})

	const requests, perRequest = 4, 5
	services := []string{"checkout", "payments", "search"} // the last uses routing_key
	var fps []string
	for r := range requests {
		p := e2etest.NewPayload()
		for i := range perRequest {
			fp := fmt.Sprintf("outage-%d-%d", r, i)
			fps = append(fps, fp)
			p.Service(services[(r+i)%len(services)]).Add(firing(fp, "critical", "outage "+fp))
		}
		col.Send(t, p.Logs())
	}

	// A first attempt fails at most once per routing key of its request (the
	// key's later records wait), so more failures than requests × keys mean
	// the collector is retrying.
	retrying := requests*len(services) + 1
	s := sim.WaitFor(t, "injected failures", func(s e2etest.Snapshot) bool { return s.Requests.InjectedFailures >= retrying })
	require.Empty(t, s.Incidents)
	sim.Control(t, map[string]any{"fail_rate": 0})

	s = sim.WaitFor(t, "every alert", func(s e2etest.Snapshot) bool { return len(s.Incidents) >= len(fps) })
	e2etest.Consistently(t, retryQuiet, func() bool {
		return len(sim.Snapshot(t).Events) == len(fps)
	}, "no event after every alert arrived")

	s = sim.Snapshot(t)
	require.Len(t, s.Incidents, len(fps))
	for _, fp := range fps {
		incs := s.IncidentsFor(fp)
		if assert.Len(t, incs, 1, fp) {
			assert.Equal(t, []string{"trigger"}, e2etest.Actions(incs[0].Events), fp)
		}
	}
	failures := s.Requests.InjectedFailures
	assert.Zero(t, s.Dropped)
	assert.Equal(t, map[string]int{"202": len(fps), "503": failures}, s.Requests.ByEndpoint[e2etest.EnqueuePath])
	assert.Equal(t, len(fps), col.Count(t, metricEvents, "outcome=accepted"))
	assert.Equal(t, failures, col.Count(t, metricEvents, "outcome=failed"),
		"failed sends counted by the exporter vs 503s answered by the simulator")
	assert.Zero(t, col.Metric(t, metricSendFailed), "records dropped after retries")
}

// TestOneKeyOutage: while one routing key answers 503, its records wait
// for the retry, in order, and the records of other keys in the same
// requests are delivered at once and never sent again.
func TestOneKeyOutage(t *testing.T) {
	requireE2E(t)
	t.Parallel()
	sim, col := startPair(t, exporterConfig{})
	sim.Control(t, map[string]any{"reject_keys": map[string]int{keyPayments: 503}})

	col.Send(t, e2etest.NewPayload().
		Service("payments").Add(firing("outage-pay-1", "critical", "payments down")).
		Service("checkout").Add(firing("outage-chk-1", "error", "checkout slow")).
		Service("payments").Add(acked("outage-pay-1")).
		Service("checkout").Add(firing("outage-chk-2", "warning", "checkout errors")).
		Service("payments").Add(firing("outage-pay-2", "error", "payments queue")).
		Service("checkout").Add(resolved("outage-chk-1")).
		Logs())

	// Each attempt sends the first payments record only: once it fails, the
	// later ones of its key wait.
	s := sim.WaitFor(t, "the checkout events and repeated payments failures", func(s e2etest.Snapshot) bool {
		return len(s.Events) >= 3 && s.Requests.Rejected >= 3
	})
	// The checkout alerts are in queues of their own priority, so only the
	// order within each alert is given.
	require.ElementsMatch(t, []string{"outage-chk-1", "outage-chk-2", "outage-chk-1"},
		[]string{s.Events[0].DedupKey, s.Events[1].DedupKey, s.Events[2].DedupKey})
	require.Equal(t, []string{"trigger", "resolve"}, e2etest.Actions(s.EventsFor("outage-chk-1")))
	sim.Control(t, map[string]any{"reject_keys": map[string]int{}})

	sim.WaitFor(t, "the payments events", func(s e2etest.Snapshot) bool { return len(s.Events) >= 6 })
	e2etest.Consistently(t, retryQuiet, func() bool {
		return len(sim.Snapshot(t).Events) == 6
	}, "no event after the payments records arrived")

	s = sim.Snapshot(t)
	assert.Zero(t, s.Dropped)
	require.True(t, s.Has("outage-chk-1", "outage-chk-2", "outage-pay-1", "outage-pay-2"), "incidents:\n%s", s)
	assert.Equal(t, []string{"trigger", "resolve"}, e2etest.Actions(s.IncidentsFor("outage-chk-1")[0].Events))
	assert.Equal(t, []string{"trigger"}, e2etest.Actions(s.IncidentsFor("outage-chk-2")[0].Events))
	pay1 := s.IncidentsFor("outage-pay-1")[0]
	assert.Equal(t, keyPayments, pay1.RoutingKey)
	assert.Equal(t, "acknowledged", pay1.State)
	assert.Equal(t, []string{"trigger", "acknowledge"}, e2etest.Actions(pay1.Events))
	assert.Equal(t, []string{"trigger"}, e2etest.Actions(s.IncidentsFor("outage-pay-2")[0].Events))
	// One payments request per attempt, checkout's three requests once each.
	failures := s.Requests.Rejected
	assert.Equal(t, map[string]int{"202": 6, "503": failures}, s.Requests.ByEndpoint[e2etest.EnqueuePath])
	assert.Equal(t, failures, col.Count(t, metricEvents, "routing=payments", "outcome=failed"))
	assert.Equal(t, 3, col.Count(t, metricEvents, "routing=checkout"))
}

// TestFlapDuringOutageKeepsLastState: an alert that resolves and fires
// again while its routing key is failing must end open: the resolve waits
// for the retry, and so must the trigger after it.
func TestFlapDuringOutageKeepsLastState(t *testing.T) {
	requireE2E(t)
	t.Parallel()
	sim, col := startPair(t, exporterConfig{})
	const fp = "flap"

	col.Send(t, records("checkout", firing(fp, "critical", "Checkout down")))
	sim.WaitFor(t, "the first trigger", func(s e2etest.Snapshot) bool { return s.Has(fp) })
	sim.Control(t, map[string]any{"reject_keys": map[string]int{keyCheckout: 503}})
	col.Send(t, records("checkout", resolved(fp), firing(fp, "critical", "Checkout down")))
	sim.WaitFor(t, "a retry", func(s e2etest.Snapshot) bool { return s.Requests.Rejected >= 2 })
	sim.Control(t, map[string]any{"reject_keys": map[string]int{}})

	// The resolve and the trigger after it share a queue, so they land in
	// order; the marker, in a queue of its own, shows nothing else follows.
	sim.WaitFor(t, "the resolve and the trigger after it", func(s e2etest.Snapshot) bool { return len(s.EventsFor(fp)) >= 3 })
	col.Send(t, records("checkout", firing("flap-marker", "info", "marker")))
	s := sim.WaitFor(t, "a later record", func(s e2etest.Snapshot) bool { return s.Has("flap-marker") })

	incs := s.IncidentsFor(fp)
	require.Len(t, incs, 2, "incidents of %s; the trigger after the resolve was lost? events: %v", fp, e2etest.Actions(s.EventsFor(fp)))
	assert.Equal(t, []string{"trigger", "resolve"}, e2etest.Actions(incs[0].Events))
	assert.Equal(t, "triggered", incs[1].State)
	assert.Zero(t, col.Metric(t, metricSuppressed))
}

// TestSeparateRequestsKeepOrderUnderFailures: a trigger and its resolve sent
// in two OTLP requests, records without timestamps, while half the Events
// API requests fail: no incident may be left open, whichever of the pair
// reached PagerDuty first.
func TestSeparateRequestsKeepOrderUnderFailures(t *testing.T) {
	requireE2E(t)
	t.Parallel()
	sim, col := startPair(t, exporterConfig{}, "-fail-rate", "0.5")

	const n = 20
	for i := range n {
		fp := fmt.Sprintf("order-%d", i)
		col.Send(t, e2etest.WithoutTimestamps(records("checkout", firing(fp, "critical", "flapping "+fp))))
		col.Send(t, e2etest.WithoutTimestamps(records("checkout", resolved(fp))))
	}
	// Every record ends accepted or suppressed: a trigger retried after its
	// resolve landed is stale, ordered by when the exporter first saw it.
	e2etest.Eventually(t, 30*time.Second, func() bool {
		done := col.Metric(t, metricEvents, "outcome=accepted") + col.Metric(t, metricSuppressed)
		return done == 2*n
	}, "every record accepted or suppressed")
	s := sim.Snapshot(t)
	var open []string
	for _, inc := range s.Incidents {
		if inc.State != "resolved" {
			open = append(open, fmt.Sprintf("%s %v", inc.DedupKey, e2etest.Actions(inc.Events)))
		}
	}
	assert.Empty(t, open, "incidents left open")
	assert.Equal(t, col.Count(t, metricSuppressed, "reason=stale"), s.Dropped,
		"each resolve that overtook its trigger made the trigger stale")
}

// TestThrottleRecovery: 429 with Retry-After is retried no sooner than asked
// (up to retry_on_failure.max_interval) and, once the throttle lifts, every
// alert arrives exactly once.
func TestThrottleRecovery(t *testing.T) {
	requireE2E(t)
	t.Parallel()
	sim, col := startPair(t, exporterConfig{maxInterval: "5s"})
	sim.Control(t, map[string]any{"throttle_rate": 1, "retry_after": 1})

	var fps []string
	var alerts []e2etest.Alert
	for i := range 5 {
		fp := fmt.Sprintf("throttle-%d", i)
		fps = append(fps, fp)
		alerts = append(alerts, firing(fp, "warning", "throttled "+fp))
	}
	sent := time.Now()
	col.Send(t, records("checkout", alerts...))

	sim.WaitFor(t, "three throttled attempts", func(s e2etest.Snapshot) bool { return s.Requests.Throttled >= 3 })
	// The retry interval is 100ms..500ms; Retry-After: 1 must stretch it to
	// at least 1s, so the third attempt comes at least 2s after the first.
	assert.GreaterOrEqual(t, time.Since(sent), 2*time.Second, "Retry-After not honored")
	sim.Control(t, map[string]any{"throttle_rate": 0})

	sim.WaitFor(t, "every alert", func(s e2etest.Snapshot) bool { return len(s.Incidents) >= len(fps) })
	e2etest.Consistently(t, retryQuiet, func() bool {
		return len(sim.Snapshot(t).Events) == len(fps)
	}, "no event after every alert arrived")

	s := sim.Snapshot(t)
	require.Len(t, s.Incidents, len(fps))
	for _, fp := range fps {
		incs := s.IncidentsFor(fp)
		if assert.Len(t, incs, 1, fp) {
			assert.Equal(t, []string{"trigger"}, e2etest.Actions(incs[0].Events), fp)
		}
	}
	assert.Positive(t, s.Requests.Throttled)
	assert.Zero(t, s.Requests.RateLimited)
	assert.Equal(t, map[string]int{"202": len(fps), "429": s.Requests.Throttled}, s.Requests.ByEndpoint[e2etest.EnqueuePath])
	assert.Equal(t, s.Requests.Throttled, col.Count(t, metricThrottled, "routing=checkout"))
}

// TestValidateNamesMissingRoutingKey: `validate` refuses a config without
// routing_key and says so; the same config with the key passes.
func TestValidateNamesMissingRoutingKey(t *testing.T) {
	requireE2E(t)
	t.Parallel()
	bin := e2etest.CollectorBin(t)
	dir := t.TempDir()
	config := func(routingKey string) string {
		return fmt.Sprintf(`receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:0
exporters:
  pagerduty:
    endpoint: http://127.0.0.1:1
%sservice:
  pipelines:
    logs:
      receivers: [otlp]
      exporters: [pagerduty]
`, routingKey)
	}
	validate := func(name, cfg string) (string, error) {
		path := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(path, []byte(cfg), 0o600))
		ctx, cancel := context.WithTimeout(context.Background(), e2etest.StartTimeout)
		defer cancel()
		out, err := exec.CommandContext(ctx, bin, "validate", "--config", path).CombinedOutput()
		return string(out), err
	}

	out, err := validate("without-key.yaml", config(""))
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit, "validate without routing_key: want a non-zero exit:\n%s", out)
	assert.NotZero(t, exit.ExitCode())
	assert.Contains(t, out, "routing_key", "the error must name the missing field")

	out, err = validate("with-key.yaml", config("    routing_key: "+keyDefault+"\n"))
	assert.NoError(t, err, "validate with routing_key:\n%s", out)
}

// TestMalformedRecords: in one request with good records, a record with an
// unknown alert.status is dropped, one with invalid UTF-8 is repaired, one
// with a 1 MB attribute is sent with that attribute shed, and the collector
// keeps working.
func TestMalformedRecords(t *testing.T) {
	requireE2E(t)
	t.Parallel()
	sim, col := startPair(t, exporterConfig{})

	unknown := firing("mal-unknown-status", "critical", "should never page")
	unknown.Status = "exploded"
	badUTF8 := firing("mal-bad-utf8", "error", "Disk \xff\xfe full on db-\xc3\x28")
	badUTF8.Attrs = map[string]any{"note": "bytes \xe2\x82 cut", "k\xffey": "value"}
	huge := firing("mal-huge", "warning", "Huge attribute")
	huge.Attrs = map[string]any{"dump": strings.Repeat("x", 1<<20), "keep": "small"}
	// Both at once: a 1 MB value of invalid bytes (each of which grows to a
	// six-byte \ufffd escape on the wire) under an invalid UTF-8 key.
	hugeBad := firing("mal-huge-bad-utf8", "warning", "Huge invalid attribute")
	hugeBad.Attrs = map[string]any{"blob\xff": strings.Repeat("\xfe", 1<<20), "keep": "small"}
	hugeChange := e2etest.Alert{EventType: "change", Summary: "Huge change", Attrs: map[string]any{"diff": strings.Repeat("+", 1<<20)}}
	col.Send(t, records("checkout",
		firing("mal-good-1", "error", "good before"),
		unknown,
		badUTF8,
		huge,
		hugeBad,
		hugeChange,
		firing("mal-good-2", "error", "good after"),
	))
	// Records of a request go to the queues of their priority: wait for
	// every one that is sent.
	sim.WaitFor(t, "every deliverable record of the request", func(s e2etest.Snapshot) bool {
		return s.Has("mal-good-1", "mal-bad-utf8", "mal-huge", "mal-huge-bad-utf8", "mal-good-2") && len(s.ChangeEvents) == 1
	})
	col.Send(t, records("payments", firing("mal-later", "info", "the collector still works")))
	s := sim.WaitFor(t, "a later record", func(s e2etest.Snapshot) bool { return s.Has("mal-later") })

	assert.True(t, s.Has("mal-good-1", "mal-bad-utf8", "mal-huge", "mal-huge-bad-utf8", "mal-good-2", "mal-later"))
	assert.Empty(t, s.IncidentsFor("mal-unknown-status"))
	assert.Empty(t, s.EventsFor("mal-unknown-status"), "a record with an unknown alert.status was sent")
	assert.Len(t, s.Incidents, 6)
	assert.Zero(t, s.Dropped)
	assert.Equal(t, map[string]int{"202": 6}, s.Requests.ByEndpoint[e2etest.EnqueuePath])
	assert.Equal(t, map[string]int{"202": 1}, s.Requests.ByEndpoint[e2etest.ChangePath])
	assert.Equal(t, 1, col.Count(t, metricRejected, "reason=unknown_event_action"))
	assert.Equal(t, 1, col.Count(t, metricRejected), "records rejected")

	// Invalid UTF-8 never reaches the wire: the simulator stores payloads
	// verbatim, so its whole answer is valid UTF-8 only if every event was.
	assert.True(t, utf8.Valid(s.Raw), "the simulator received invalid UTF-8")
	bad := s.IncidentsFor("mal-bad-utf8")[0]
	assert.Contains(t, bad.Summary, "\uFFFD")
	assert.True(t, strings.HasPrefix(bad.Summary, "Disk "), bad.Summary)
	assert.Positive(t, col.Metric(t, metricRepaired, "reason=invalid_utf8"))

	for fp, key := range map[string]string{"mal-huge": "dump", "mal-huge-bad-utf8": "blob\uFFFD"} {
		inc := s.IncidentsFor(fp)[0]
		assert.Less(t, len(inc.Payload), 512000, fp)
		assertShed(t, inc.Payload, key)
	}
	require.Len(t, s.ChangeEvents, 1)
	assert.Equal(t, "Huge change", s.ChangeEvents[0].Summary)
	assertShed(t, json.RawMessage(`{"custom_details":`+string(s.ChangeEvents[0].CustomDetails)+`}`), "diff")
	assert.Equal(t, 3, col.Count(t, metricRepaired, "reason=details_shed"))

	assert.True(t, col.Healthy(), "collector unhealthy after the malformed records")
	assert.NoError(t, col.Proc.ExitError())
}

// assertShed checks that a payload's custom_details lost exactly key, are
// noted as shed, and kept the small "keep" detail when there was one.
func assertShed(t *testing.T, payload json.RawMessage, key string) {
	t.Helper()
	var p struct {
		CustomDetails map[string]json.RawMessage `json:"custom_details"`
	}
	require.NoError(t, json.Unmarshal(payload, &p))
	require.Contains(t, p.CustomDetails, "details_shed", "payload: %.500s", payload)
	var shed struct {
		Keys []string `json:"keys"`
	}
	require.NoError(t, json.Unmarshal(p.CustomDetails["details_shed"], &shed))
	assert.Equal(t, []string{key}, shed.Keys)
	assert.NotContains(t, p.CustomDetails, key)
	if keep, ok := p.CustomDetails["keep"]; ok {
		assert.JSONEq(t, `"small"`, string(keep))
	}
}
