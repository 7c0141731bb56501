package e2e

// Events API fidelity across the wire: what the exporter sends is what
// PagerDuty's documented rules allow, checked by the simulator, which
// refuses what PagerDuty refuses.

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/otelcol-pagerduty/pagerduty/internal/e2etest"
)

// TestEventsAPIFidelity: one trigger carrying a client link, links and
// images some of which PagerDuty would refuse, an attribute named like one
// of the exporter's own details, a summary of 1,024 emoji, a time past what
// a pcommon.Timestamp represents and a numeric fingerprint. It is accepted,
// with only what PagerDuty takes, and every repair is counted.
func TestEventsAPIFidelity(t *testing.T) {
	requireE2E(t)
	t.Parallel()
	sim, col := startPair(t, exporterConfig{})

	a := firing("", "critical", strings.Repeat("🔥", 1024))
	a.Body = "the log line"
	a.Attrs = map[string]any{
		"alert.fingerprint":    int64(4242),
		"pagerduty.client":     "Grafana",
		"pagerduty.client_url": "https://grafana.example.com/alerting/list",
		"alert.runbook_url":    "see wiki page 12",
		"alert.links":          []any{"https://status.example.com/", "not a url"},
		"alert.images":         []any{"http://insecure.example.com/graph.png", "https://grafana.example.com/render/graph.png"},
		"body":                 "an attribute named body",
	}
	ld := records("checkout", a)
	lr := ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0)
	lr.SetTimestamp(pcommon.Timestamp(math.MaxInt64) + 1000) // after 2262: no time.Time for it
	sent := time.Now()
	col.Send(t, ld)

	s := sim.WaitFor(t, "the trigger", func(s e2etest.Snapshot) bool { return s.Has("4242") })
	inc := s.IncidentsFor("4242")[0]
	assert.Equal(t, "Grafana", inc.Client)
	assert.Equal(t, "https://grafana.example.com/alerting/list", inc.ClientURL)
	assert.Equal(t, []e2etest.Link{{Href: "https://status.example.com/"}}, inc.Links, "only absolute http(s) links")
	require.Len(t, inc.Images, 1, "only https image sources")
	assert.Equal(t, "https://grafana.example.com/render/graph.png", inc.Images[0].Src)
	assert.LessOrEqual(t, len(utf16.Encode([]rune(inc.Summary))), 1024, "summary within 1024 UTF-16 units")
	assert.LessOrEqual(t, len([]rune(inc.Summary)), 1024, "summary within 1024 characters")

	var payload struct {
		Timestamp     string         `json:"timestamp"`
		CustomDetails map[string]any `json:"custom_details"`
	}
	require.NoError(t, json.Unmarshal(inc.Payload, &payload))
	stamped, err := time.Parse(time.RFC3339, payload.Timestamp)
	require.NoError(t, err, payload.Timestamp)
	assert.WithinDuration(t, sent, stamped, time.Minute, "a time out of range is the arrival time, never wrapped")
	assert.Equal(t, "an attribute named body", payload.CustomDetails["body"], "the record's attribute keeps its name")
	assert.Equal(t, "the log line", payload.CustomDetails["_body"], "the exporter's own member moves aside")

	for _, reason := range []string{"link_invalid", "image_invalid", "time_out_of_range", "value_converted", "truncated"} {
		assert.Equal(t, 1, col.Count(t, metricRepaired, "reason="+reason), reason)
	}
	assert.Zero(t, s.Requests.ByEndpoint[e2etest.EnqueuePath]["400"], "PagerDuty's rules refused nothing")
}
