package e2e

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/otelcol-pagerduty/pagerduty/internal/e2etest"
)

// The hostile-network tests: a proxy, WAF or gateway between the collector
// and PagerDuty that echoes requests in its error bodies, redirects them
// (a captive portal, a misrouted proxy) or asks for an absurd Retry-After.

// Keys of the hostile tests: random-looking and unrelated, so that a piece
// of one found in the log can only have come from the key (the shared
// test keys are mostly zeros).
const (
	hostileDefault  = "7f3a9c2e51b84d06a1e5c9f2b3d47e80"
	hostileCheckout = "c4e1b7a95d2f4083b6e9a1c7d5f20b3e"
	hostilePayments = "9b2d6f1e4a8c4357be0d2f6a9c1e5b74"
)

// fragmentLen is the shortest piece of a key that must never be logged.
const fragmentLen = 16

// hostileConfig is testConfig with the hostile keys and the given log
// level.
func hostileConfig(simURL string, ec exporterConfig, level string) func(e2etest.Ports) string {
	return func(p e2etest.Ports) string {
		cfg := testConfig(simURL, ec)(p)
		cfg = strings.NewReplacer(keyDefault, hostileDefault, keyCheckout, hostileCheckout, keyPayments, hostilePayments).Replace(cfg)
		return strings.Replace(cfg, "level: info", "level: "+level, 1)
	}
}

// keyFragment returns the first piece of fragmentLen bytes of a hostile key
// that text holds, "" when none.
func keyFragment(text string) string {
	for _, key := range []string{hostileDefault, hostileCheckout, hostilePayments} {
		for i := 0; i+fragmentLen <= len(key); i++ {
			if strings.Contains(text, key[i:i+fragmentLen]) {
				return key[i : i+fragmentLen]
			}
		}
	}
	return ""
}

// TestEchoedKeysNeverLogged: error bodies that quote the request, routing
// key included, at 400, 429 and 5xx, as JSON in PagerDuty's shape and as a
// proxy's HTML page, reach the collector's log (at debug level) as
// PagerDuty's quoted messages with every key replaced: no key and no
// 16-character piece of one is in its stdout or stderr.
//
// It needs the exporter to build its client with the key redactor and its
// logger through it (see the CHANGELOG); without that wiring it fails on
// the first echoed key.
func TestEchoedKeysNeverLogged(t *testing.T) {
	requireE2E(t)
	t.Parallel()
	sim := e2etest.StartSim(t)
	col := startCollector(t, collectorSpec{config: hostileConfig(sim.URL, exporterConfig{}, "debug")})
	echo := func(status int, format string) {
		sim.Control(t, map[string]any{"echo_rate": 1, "echo_status": status, "echo_format": format, "retry_after": 1})
	}

	// 400: dropped at once, with a warning that quotes the answer.
	echo(400, "json")
	col.Send(t, records("checkout", firing("echo-400-json", "critical", "echoed as JSON")))
	e2etest.Eventually(t, e2etest.LandTimeout, func() bool { return col.Metric(t, metricRejected, "reason=api_rejected") == 1 }, "the first 400")
	echo(400, "html")
	col.Send(t, records("payments", firing("echo-400-html", "critical", "echoed as HTML")))
	e2etest.Eventually(t, e2etest.LandTimeout, func() bool { return col.Metric(t, metricRejected, "reason=api_rejected") == 2 }, "the second 400")

	// 429 and 5xx: retried, each failure logged by exporterhelper, until
	// the way is clear.
	for i, step := range []struct {
		status int
		format string
	}{{429, "json"}, {500, "html"}, {502, "json"}, {429, "html"}} {
		before := sim.Snapshot(t).Requests.Echoed
		echo(step.status, step.format)
		if i == 0 {
			col.Send(t, records("search", firing("echo-retried", "error", "echoed while retried")))
		}
		sim.WaitFor(t, fmt.Sprintf("two answers %d %s", step.status, step.format), func(s e2etest.Snapshot) bool {
			return s.Requests.Echoed >= before+2 && s.Requests.ByEndpoint[e2etest.EnqueuePath][strconv.Itoa(step.status)] >= 2
		})
	}
	sim.Control(t, map[string]any{"echo_rate": 0})
	s := sim.WaitFor(t, "the retried alert", func(s e2etest.Snapshot) bool { return s.Has("echo-retried") })
	assert.Empty(t, s.IncidentsFor("echo-400-json"), "a 400 is not retried")
	assert.Equal(t, hostileDefault, s.IncidentsFor("echo-retried")[0].RoutingKey)

	out := col.Proc.Output()
	require.Contains(t, out, "Dropping log record that cannot be delivered to PagerDuty")
	require.Contains(t, out, "Exporting failed. Will retry")
	assert.Contains(t, out, "[REDACTED]", "the echo is quoted with its key replaced")
	if piece := keyFragment(out); piece != "" {
		i := strings.Index(out, piece)
		t.Errorf("a 16-character piece of a routing key is in the collector's output: …%s…", out[max(0, i-200):min(len(out), i+100)])
	}
}

// redirectTarget is where injected redirects point: it answers 202 to
// anything, as a portal or a misrouted proxy would, and counts the
// requests that reach it.
type redirectTarget struct {
	*httptest.Server
	mu     sync.Mutex
	hits   int
	bodies []string
}

func newRedirectTarget(t *testing.T) *redirectTarget {
	t.Helper()
	rt := &redirectTarget{}
	rt.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rt.mu.Lock()
		rt.hits++
		rt.bodies = append(rt.bodies, string(body))
		rt.mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
		_, _ = io.WriteString(w, `{"status":"success","message":"Event processed"}`)
	}))
	t.Cleanup(rt.Close)
	return rt
}

func (rt *redirectTarget) count() int {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	return rt.hits
}

// TestRedirectIsRetriedNeverFollowed: while the Events API answers 307 to
// another host, or 302 to a captive portal that answers 200, the event is
// not counted accepted, each answer is counted under status_class 3xx, the
// redirect's target receives nothing, and once the redirects stop the
// event is delivered (it was retried) exactly once, not suppressed as a
// duplicate of an incident that was never opened.
func TestRedirectIsRetriedNeverFollowed(t *testing.T) {
	requireE2E(t)
	t.Parallel()
	target := newRedirectTarget(t)
	sim := e2etest.StartSim(t)
	col := startCollector(t, collectorSpec{config: hostileConfig(sim.URL, exporterConfig{}, "info")})

	for i, tc := range []struct {
		name   string
		fp     string
		status int
		to     string
	}{
		{"307 to another host", "redirect-307", 307, target.URL + "/v2/enqueue"},
		{"302 to a captive portal", "redirect-302", 302, "portal"},
	} {
		before := sim.Snapshot(t)
		sim.Control(t, map[string]any{"redirect_rate": 1, "redirect_status": tc.status, "redirect_to": tc.to})
		col.Send(t, records("checkout", firing(tc.fp, "critical", tc.name)))
		s := sim.WaitFor(t, tc.name+": three redirected attempts", func(s e2etest.Snapshot) bool {
			return s.Requests.Redirected >= before.Requests.Redirected+3
		})
		require.Empty(t, s.IncidentsFor(tc.fp), tc.name)
		assert.InDelta(t, float64(i), col.Metric(t, metricEvents, "outcome=accepted"), 0, "%s: counted accepted while redirected", tc.name)
		assert.GreaterOrEqual(t, col.Metric(t, metricRequests, "status_class=3xx"), float64(before.Requests.Redirected+3), tc.name)
		assert.GreaterOrEqual(t, col.Metric(t, metricEvents, "outcome=failed", "routing=checkout"), float64(before.Requests.Redirected+3), tc.name)

		sim.Control(t, map[string]any{"redirect_rate": 0})
		sim.WaitFor(t, tc.name+": the alert", func(s e2etest.Snapshot) bool { return s.Has(tc.fp) })
		e2etest.Consistently(t, retryQuiet, func() bool { return len(sim.Snapshot(t).Events) == i+1 }, "%s: no second event", tc.name)
		s = sim.Snapshot(t)
		inc := s.IncidentsFor(tc.fp)[0]
		assert.Equal(t, []string{"trigger"}, e2etest.Actions(inc.Events), tc.name)
		assert.Equal(t, hostileCheckout, inc.RoutingKey, tc.name)
		assert.InDelta(t, float64(i+1), col.Metric(t, metricEvents, "outcome=accepted"), 0, tc.name)
		assert.InDelta(t, float64(s.Requests.Redirected), col.Metric(t, metricRequests, "status_class=3xx"), 0,
			"%s: every redirect answered is counted, and nothing else", tc.name)
		assert.Zero(t, s.Requests.PortalHits, "%s: the portal was reached", tc.name)
		assert.Zero(t, target.count(), "%s: the redirect target was reached", tc.name)
	}
	assert.Zero(t, col.Metric(t, metricSuppressed), "a retried event is not a duplicate")
	assert.Zero(t, col.Metric(t, metricSendFailed))
	out := col.Proc.Output()
	assert.Contains(t, out, "redirect to 127.0.0.1", "the log names the redirect's host")
	assert.Empty(t, keyFragment(out))
}

// TestAbsurdRetryAfterIsRetried: a 429 asking for Retry-After: 999999 (or
// a date in 2099) does not make the collector drop the event at once, as a
// delay beyond retry_on_failure.max_elapsed_time would, nor wait for it:
// the delay is capped at max_interval (1s here), the event is retried,
// and delivered once the throttling ends. Each gap between two attempts, as
// the simulator saw them, is the capped delay: at least max_interval (the
// Retry-After is honored up to the cap), and at most the retry sender's own
// backoff, which is randomized up to 1.5 × max_interval.
func TestAbsurdRetryAfterIsRetried(t *testing.T) {
	requireE2E(t)
	t.Parallel()
	const maxInterval = time.Second
	sim, col := startPair(t, exporterConfig{maxInterval: maxInterval.String()})
	sim.Control(t, map[string]any{"throttle_rate": 1, "retry_after": 999999})

	sent := time.Now()
	col.Send(t, records("checkout", firing("absurd-retry-after", "critical", "throttled for 11 days")))
	sim.WaitFor(t, "four throttled attempts", func(s e2etest.Snapshot) bool { return s.Requests.Throttled >= 4 })
	// Four attempts within a few seconds mean the 999999 s were capped, not
	// honored.
	assert.Less(t, time.Since(sent), 15*time.Second)
	assert.Zero(t, col.Metric(t, metricSendFailed), "dropped instead of retried")

	before := sim.Snapshot(t).Requests.Throttled
	sim.Control(t, map[string]any{"retry_after": 0, "retry_after_date": "Thu, 01 Jan 2099 00:00:00 GMT"})
	sim.WaitFor(t, "two attempts throttled until 2099", func(s e2etest.Snapshot) bool { return s.Requests.Throttled >= before+2 })
	assert.Zero(t, col.Metric(t, metricSendFailed), "dropped instead of retried")

	sim.Control(t, map[string]any{"throttle_rate": 0})
	sim.WaitFor(t, "the alert", func(s e2etest.Snapshot) bool { return s.Has("absurd-retry-after") })
	e2etest.Consistently(t, retryQuiet, func() bool { return len(sim.Snapshot(t).Events) == 1 }, "no second event")
	s := sim.Snapshot(t)
	assert.Equal(t, []string{"trigger"}, e2etest.Actions(s.IncidentsFor("absurd-retry-after")[0].Events))
	assert.InDelta(t, float64(s.Requests.Throttled), col.Metric(t, metricThrottled, "routing=checkout"), 0)
	assert.InDelta(t, 1.0, col.Metric(t, metricEvents, "outcome=accepted"), 0)
	assert.Zero(t, col.Metric(t, metricSendFailed))
	assert.NotContains(t, col.Proc.Output(), "no more retries left")

	// Every attempt, throttled and then accepted, in the simulator's times.
	attempts := append(slices.Clone(s.Requests.ThrottledAt), s.Events[0].Time)
	require.Len(t, attempts, s.Requests.Throttled+1, "every throttled attempt has its time")
	// Slack for the scheduling of two processes on a busy machine; the
	// lower bound needs none but the wall clock's.
	const slack, clockSlack = 500 * time.Millisecond, 50 * time.Millisecond
	gaps := make([]time.Duration, 0, len(attempts)-1)
	for i := 1; i < len(attempts); i++ {
		gap := attempts[i].Sub(attempts[i-1])
		gaps = append(gaps, gap.Round(time.Millisecond))
		assert.GreaterOrEqual(t, gap, maxInterval-clockSlack, "gap %d: retried before the capped Retry-After (max_interval)", i)
		assert.LessOrEqual(t, gap, maxInterval*3/2+slack, "gap %d: waited longer than max_interval allows", i)
	}
	t.Logf("gaps between attempts: %v", gaps)
}

// TestClockSkewDoesNotKeepIncidentsOpen: a source whose clock is an hour
// ahead stamps a trigger in the future; the correct resolve sent a second
// later must still close the incident. The record is ordered by its arrival
// and counted as repaired (time_in_future); PagerDuty still sees the
// source's own timestamp.
func TestClockSkewDoesNotKeepIncidentsOpen(t *testing.T) {
	requireE2E(t)
	t.Parallel()
	sim, col := startPair(t, exporterConfig{})
	const fp = "skewed-clock"
	trigger := records("checkout", firing(fp, "critical", "Checkout down, says a host an hour ahead"))
	ahead := time.Now().Add(time.Hour)
	trigger.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).SetTimestamp(pcommon.NewTimestampFromTime(ahead))
	col.Send(t, trigger)
	sim.WaitFor(t, "the trigger", func(s e2etest.Snapshot) bool { return s.Has(fp) })
	time.Sleep(time.Second)
	col.Send(t, records("checkout", resolved(fp)))

	s := sim.WaitFor(t, "the resolve", func(s e2etest.Snapshot) bool { return len(s.EventsFor(fp)) == 2 })
	inc := s.IncidentsFor(fp)[0]
	assert.Equal(t, "resolved", inc.State, "the incident stayed open: the resolve was taken for stale")
	assert.Equal(t, []string{"trigger", "resolve"}, e2etest.Actions(inc.Events))
	assert.Equal(t, 1, col.Count(t, metricRepaired, "reason=time_in_future"))
	assert.Zero(t, col.Count(t, metricSuppressed, "reason=stale"))
	assert.Contains(t, string(inc.Payload), ahead.UTC().Format("2006-01-02T15:04:05"), "payload.timestamp is the source's")
}
