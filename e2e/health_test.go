package e2e

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/otelcol-pagerduty/pagerduty/internal/e2etest"
)

// Where the exporter's own status sits in healthcheckv2's status tree.
var exporterPath = []string{"pipeline:logs", "exporter:pagerduty"}

// exporterStatus reads the status endpoint: its HTTP status, the whole
// collector's node and the exporter's; the exporter's is nil until the
// extension has it.
func exporterStatus(t *testing.T, col *e2etest.Collector) (int, *e2etest.ComponentStatus, *e2etest.ComponentStatus) {
	t.Helper()
	code, root := col.Status(t)
	exp := root.Find(exporterPath...)
	return code, root, exp
}

// waitStatus waits until the status endpoint answers code (any, when 0)
// with the exporter in status, and returns the exporter's node.
func waitStatus(t *testing.T, col *e2etest.Collector, timeout time.Duration, code int, status string) *e2etest.ComponentStatus {
	t.Helper()
	var last *e2etest.ComponentStatus
	lastCode := 0
	e2etest.Eventually(t, timeout, func() bool {
		var exp *e2etest.ComponentStatus
		lastCode, _, exp = exporterStatus(t, col)
		if exp != nil {
			last = exp
		}
		return (code == 0 || lastCode == code) && exp != nil && exp.Status == status
	}, "status endpoint %d with the exporter %s; last %d, exporter %+v", code, status, lastCode, last)
	return last
}

// TestOutageTurnsStatusUnhealthyAndBack: while the Events API answers 503
// to everything, the exporter's component status, read from healthcheckv2,
// becomes a recoverable error within seconds, naming the route and the
// answer and never the key; it keeps the time the outage began while the
// retries go on, so the status endpoint turns unhealthy once the outage
// outlasts recovery_duration; once the Events API recovers, the alert
// held through the outage is delivered and both are OK again.
func TestOutageTurnsStatusUnhealthyAndBack(t *testing.T) {
	requireE2E(t)
	t.Parallel()
	const recovery = 3 * time.Second
	sim, col := startPair(t, exporterConfig{recoveryDuration: recovery.String(), maxElapsed: "5m"})

	col.Send(t, records("checkout", firing("health-before", "error", "before the outage")))
	sim.WaitFor(t, "the alert before the outage", func(s e2etest.Snapshot) bool { return s.Has("health-before") })
	waitStatus(t, col, e2etest.StartTimeout, http.StatusOK, "StatusOK")

	sim.Control(t, map[string]any{"fail_rate": 1, "fail_status": 503})
	began := time.Now()
	col.Send(t, records("checkout", firing("health-outage", "critical", "during the outage")))
	outage := waitStatus(t, col, 20*time.Second, 0, "StatusRecoverableError")
	t.Logf("recoverable error seen %v after the outage began, reported %v after it", time.Since(began).Round(time.Millisecond), outage.Time.Sub(began).Round(time.Millisecond))
	if time.Since(outage.Time) < recovery-time.Second {
		assert.True(t, outage.Healthy, "healthy until recovery_duration has passed")
	}
	assert.Contains(t, outage.Error, `route "checkout" failing since`)
	assert.Contains(t, outage.Error, "503 Service Unavailable")
	assert.Empty(t, keyFragmentOf(outage.Error, keyDefault, keyCheckout, keyPayments))

	unhealthy := waitStatus(t, col, recovery+20*time.Second, http.StatusInternalServerError, "StatusRecoverableError")
	t.Logf("unhealthy %v after the outage began", time.Since(began).Round(time.Millisecond))
	assert.False(t, unhealthy.Healthy)
	assert.Equal(t, outage.Time, unhealthy.Time, "the status keeps the time the outage began, through every retry")
	assert.GreaterOrEqual(t, time.Since(outage.Time), recovery)
	retried := sim.Snapshot(t).Requests.InjectedFailures
	assert.Greater(t, retried, 3, "the retries went on meanwhile")
	_, root, _ := exporterStatus(t, col)
	assert.False(t, root.Healthy, "the collector as a whole is unhealthy")
	assert.Equal(t, "StatusRecoverableError", root.Status)

	sim.Control(t, map[string]any{"fail_rate": 0})
	recovered := time.Now()
	sim.WaitFor(t, "the alert held through the outage", func(s e2etest.Snapshot) bool { return s.Has("health-outage") })
	ok := waitStatus(t, col, 20*time.Second, http.StatusOK, "StatusOK")
	t.Logf("OK again %v after the Events API recovered", time.Since(recovered).Round(time.Millisecond))
	assert.True(t, ok.Healthy)
	assert.Empty(t, ok.Error)
	_, root, _ = exporterStatus(t, col)
	assert.True(t, root.Healthy)
	assert.Equal(t, "StatusOK", root.Status)
}

// TestRefusedKeyIsPermanentError: a route whose every event PagerDuty
// refuses with a 404 needs a person: the exporter reports a permanent
// error that names the route, which the status endpoint counts as
// unhealthy at once; the other routes deliver all the while.
func TestRefusedKeyIsPermanentError(t *testing.T) {
	requireE2E(t)
	t.Parallel()
	sim, col := startPair(t, exporterConfig{recoveryDuration: "1h"})
	sim.Control(t, map[string]any{"reject_keys": map[string]int{keyPayments: 404}})

	p := e2etest.NewPayload()
	for _, fp := range []string{"refused-1", "refused-2", "refused-3"} {
		p.Service("payments").Add(firing(fp, "error", "refused"))
	}
	p.Service("checkout").Add(firing("refused-neighbor", "error", "delivered"))
	col.Send(t, p.Logs())

	st := waitStatus(t, col, 20*time.Second, http.StatusInternalServerError, "StatusPermanentError")
	assert.False(t, st.Healthy)
	assert.Contains(t, st.Error, `route "payments"`)
	assert.Contains(t, st.Error, "404 Not Found")
	assert.Contains(t, st.Error, "restart the collector")
	assert.NotContains(t, st.Error, "checkout")
	assert.Empty(t, keyFragmentOf(st.Error, keyDefault, keyCheckout, keyPayments))
	s := sim.Snapshot(t)
	assert.True(t, s.Has("refused-neighbor"), "incidents:\n%s", s)
	assert.Equal(t, 3, s.Requests.Rejected)
}

// keyFragmentOf returns the first piece of fragmentLen bytes of one of keys
// that text holds, "" when none.
func keyFragmentOf(text string, keys ...string) string {
	for _, key := range keys {
		for i := 0; i+fragmentLen <= len(key); i++ {
			if piece := key[i : i+fragmentLen]; strings.Contains(text, piece) {
				return piece
			}
		}
	}
	return ""
}
