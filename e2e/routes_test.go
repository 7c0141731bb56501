package e2e

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-pagerduty/pagerduty/internal/e2etest"
)

// TestAThousandRoutes: with 1,003 routes and the metrics SDK's series bound
// raised as docs/rate-limits-and-storms.md says, every route has its series of the events
// metric in a scrape, nothing overflows, and the exporter does not warn; an
// event of the last route is counted under its own label; and the
// persistent queues are files only for the route and priority used.
func TestAThousandRoutes(t *testing.T) {
	requireE2E(t)
	t.Parallel()
	const extra = 1000
	dir := t.TempDir()
	sim := e2etest.StartSim(t)
	col := startCollector(t, collectorSpec{
		config: testConfig(sim.URL, exporterConfig{extraRoutes: extra, storageDir: dir}),
		env:    func(e2etest.Ports) []string { return []string{"OTEL_GO_X_CARDINALITY_LIMIT=20000"} },
	})

	routes := map[string]bool{}
	for _, s := range col.Exposition(t).Samples {
		if strings.HasPrefix(s.Name, metricEvents) {
			routes[s.Labels["routing"]] = true
			assert.NotContains(t, s.Labels, "otel_metric_overflow", "series %s%v", s.Name, s.Labels)
		}
	}
	assert.Len(t, routes, extra+3, "every route's series: default, checkout, payments and the extra ones")

	col.Send(t, records("route-0999", firing("route-last", "warning", "on the last route")))
	sim.WaitFor(t, "the alert of the last route", func(s e2etest.Snapshot) bool { return s.Has("route-last") })
	e2etest.Eventually(t, e2etest.StartTimeout, func() bool {
		return col.Count(t, metricEvents, "routing=route-0999", "event_action=trigger", "outcome=accepted") == 1
	}, "the event counted under its route")
	assert.Zero(t, col.Metric(t, metricEvents, "otel_metric_overflow=true"))
	assert.NotContains(t, col.Proc.Output(), "more series of otelcol_exporter_pagerduty_events")

	files, err := os.ReadDir(dir)
	require.NoError(t, err)
	var queues []string
	for _, f := range files {
		if strings.Contains(f.Name(), "route-") {
			queues = append(queues, f.Name())
		}
	}
	assert.Len(t, queues, 1, "one queue file, for the route and priority used: %v", queues)
}
