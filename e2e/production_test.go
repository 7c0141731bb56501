package e2e

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-pagerduty/pagerduty/internal/e2etest"
)

// TestProductionConfigRuns runs the README's production config (the one
// the Kubernetes example runs), moved onto loopback ports, the simulator
// and scratch directories: an alert from a source holding the token pages
// under its route's key, a log line that is no alert is dropped by the
// filter in front of the exporter, and a request without the token is
// refused.
func TestProductionConfigRuns(t *testing.T) {
	requireE2E(t)
	t.Parallel()
	var production docSnippet
	for _, sn := range readSnippets(t, "README.md") {
		if sn.id == "production" {
			production = sn
		}
	}
	require.NotEmpty(t, production.text, "the README has no snippet marked <!-- snippet: id=production -->")

	const token = "e2e-production-token-41c9" //nolint:gosec // G101: a test token for a collector on loopback
	dir := t.TempDir()
	tokens := filepath.Join(dir, "tokens")
	require.NoError(t, os.WriteFile(tokens, []byte(token+"\n"), 0o600))
	storage := filepath.Join(dir, "file_storage")
	require.NoError(t, os.Mkdir(storage, 0o700))

	sim := e2etest.StartSim(t)
	// What a pod provides (the volume, the Secret's file, its address) and
	// the simulator in PagerDuty's place; everything else is the README's.
	overlay := func(p e2etest.Ports) string {
		return fmt.Sprintf(`receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:0
      http:
        endpoint: 127.0.0.1:%d
exporters:
  pagerduty:
    endpoint: %s
extensions:
  bearertokenauth:
    filename: %s
  health_check:
    endpoint: 127.0.0.1:%d
  healthcheckv2:
    http:
      endpoint: 127.0.0.1:%d
  file_storage:
    directory: %s
service:
%s`, p.OTLP, sim.URL, tokens, p.Health, p.Status, storage, telemetryYAML(p.Metrics))
	}
	col := startCollector(t, collectorSpec{
		configFile: writeTemp(t, "production.yaml", production.text),
		config:     overlay,
		env: func(e2etest.Ports) []string {
			return []string{
				"PAGERDUTY_ROUTING_KEY=" + keyDefault,
				"PD_KEY_CHECKOUT=" + keyCheckout,
				"PD_KEY_PAYMENTS=" + keyPayments,
				"POD_IP=127.0.0.1",
			}
		},
	})
	post := func(authorization string, ld plog.Logs) int { return postAuthorized(t, col, authorization, ld) }

	logLine := plog.NewLogs()
	rl := logLine.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr("service.name", "checkout")
	line := rl.ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
	line.Body().SetStr("GET /healthz 200 in 3ms")
	line.SetSeverityText("INFO")

	assert.Equal(t, http.StatusOK, post("Bearer "+token, logLine))
	assert.Equal(t, http.StatusOK, post("Bearer "+token, records("checkout", firing("production-checkout", "critical", "checkout is down"))))
	assert.Equal(t, http.StatusUnauthorized, post("", records("payments", firing("production-anonymous", "critical", "forged page"))))

	s := sim.WaitFor(t, "the checkout alert", func(s e2etest.Snapshot) bool { return s.Has("production-checkout") })
	waitMetric(t, col, 1, metricFiltered, "filter=filter/only_alerts")
	require.Len(t, s.Incidents, 1, "only the alert paged:\n%s", s)
	assert.Equal(t, keyCheckout, s.Incidents[0].RoutingKey, "the checkout alert went under the checkout route's key")
	assert.Zero(t, col.Count(t, metricEvents, "event_action=trigger", "routing=default"), "the log line reached the exporter")
}
