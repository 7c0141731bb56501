package e2e

import (
	"bytes"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-pagerduty/pagerduty/internal/e2etest"
)

// TestIntakeNeedsTheToken: with the OTLP receiver behind the
// bearertokenauth extension, a request without the token, or with another
// one, is refused with 401 and pages no one; the same request with the
// token is taken and paged.
func TestIntakeNeedsTheToken(t *testing.T) {
	requireE2E(t)
	t.Parallel()
	const token = "e2e-intake-token-7f3a" //nolint:gosec // G101: a test token for a collector on loopback
	sim, col := startPair(t, exporterConfig{intakeToken: token})
	post := func(authorization string, ld plog.Logs) int { return postAuthorized(t, col, authorization, ld) }

	assert.Equal(t, http.StatusUnauthorized, post("", records("checkout", firing("intake-anonymous", "critical", "forged page"))))
	assert.Equal(t, http.StatusUnauthorized, post("Bearer not-the-token", records("checkout", firing("intake-wrong", "critical", "forged page"))))
	assert.Equal(t, http.StatusUnauthorized, post("Bearer not-the-token", records("checkout", resolved("intake-resolve"))))
	assert.Equal(t, http.StatusOK, post("Bearer "+token, records("checkout", firing("intake-allowed", "critical", "a real page"))))

	sim.WaitFor(t, "the authenticated alert", func(s e2etest.Snapshot) bool { return s.Has("intake-allowed") })
	time.Sleep(500 * time.Millisecond) // anything refused would have landed by now
	s := sim.Snapshot(t)
	assert.Len(t, s.Incidents, 1, "only the authenticated request paged:\n%s", s)
	assert.Empty(t, s.EventsFor("intake-resolve"), "an unauthenticated resolve reached PagerDuty")
	assert.Equal(t, 1, s.Requests.Total)
}

// postAuthorized posts ld to the collector's OTLP/HTTP receiver with the
// Authorization header given ("": none) and returns the status code.
func postAuthorized(t *testing.T, col *e2etest.Collector, authorization string, ld plog.Logs) int {
	t.Helper()
	body, err := (&plog.JSONMarshaler{}).MarshalLogs(ld)
	require.NoError(t, err)
	req, err := http.NewRequest(http.MethodPost, col.OTLPURL, bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	resp, err := e2etest.HTTPClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}
