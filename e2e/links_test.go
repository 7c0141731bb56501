package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-pagerduty/pagerduty/internal/e2etest"
)

// TestTraceLinks: with links.trace_url set, a trigger whose record carries
// a trace id gets a link to its trace, with the record's ids filled in; one
// without a trace id gets none; and `validate` refuses a template with a
// placeholder the exporter does not fill in, naming the field.
func TestTraceLinks(t *testing.T) {
	requireE2E(t)
	t.Parallel()
	const (
		traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
		spanID  = "00f067aa0ba902b7"
	)
	sim, col := startPair(t, exporterConfig{traceURL: "https://jaeger.example.com/trace/{trace_id}?uiFind={span_id}"})
	traced := firing("trace-with", "error", "a traced request failed")
	traced.TraceID, traced.SpanID = traceID, spanID
	col.Send(t, records("checkout", traced, firing("trace-without", "error", "no trace context")))
	s := sim.WaitFor(t, "both alerts", func(s e2etest.Snapshot) bool { return s.Has("trace-with", "trace-without") })

	with := s.IncidentsFor("trace-with")
	require.Len(t, with, 1)
	require.Len(t, with[0].Links, 1)
	assert.Equal(t, "https://jaeger.example.com/trace/"+traceID+"?uiFind="+spanID, with[0].Links[0].Href)
	assert.Equal(t, "View trace", with[0].Links[0].Text)
	without := s.IncidentsFor("trace-without")
	require.Len(t, without, 1)
	assert.Empty(t, without[0].Links, "a record without a trace id gets no trace link")

	bin := e2etest.CollectorBin(t)
	path := filepath.Join(t.TempDir(), "bad-template.yaml")
	require.NoError(t, os.WriteFile(path, []byte(`receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:0
exporters:
  pagerduty:
    endpoint: http://127.0.0.1:1
    routing_key: `+keyDefault+`
    links:
      trace_url: https://jaeger.example.com/trace/{traceId}
service:
  pipelines:
    logs:
      receivers: [otlp]
      exporters: [pagerduty]
`), 0o600))
	ctx, cancel := context.WithTimeout(context.Background(), e2etest.StartTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "validate", "--config", path).CombinedOutput()
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit, "validate with an unknown placeholder: want a non-zero exit:\n%s", out)
	assert.Contains(t, string(out), "links.trace_url: unknown placeholder {traceId}")
}
