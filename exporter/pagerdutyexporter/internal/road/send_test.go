package road

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/consumer/consumererror"

	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/eventsapi"
)

// TestOutcomeToRetryError sends one event through the real client to a
// server answering each status, and checks what the retry sender is told.
func TestOutcomeToRetryError(t *testing.T) {
	echo := `{"status":"invalid event","message":"Event object is invalid","errors":["routing_key ` + testKey + ` is wrong"]}`
	tests := []struct {
		name     string
		status   int
		header   map[string]string
		body     string
		maxDelay time.Duration // the client's cap on Retry-After
		want     string        // "ok", "permanent", "throttle", "retryable"
		throttle string        // how the throttle error names its delay
	}{
		{name: "202", status: 202, want: "ok"},
		{name: "200", status: 200, want: "ok"},
		{name: "400", status: 400, body: echo, want: "permanent"},
		{name: "403", status: 403, want: "permanent"},
		{name: "413", status: 413, want: "permanent"},
		{name: "400 with Retry-After", status: 400, header: map[string]string{"Retry-After": "7"}, want: "permanent"},
		{name: "408", status: 408, want: "retryable"},
		{name: "429 with Retry-After", status: 429, header: map[string]string{"Retry-After": "7"}, body: echo, want: "throttle", throttle: "Throttle (7s)"},
		{name: "429 with ratelimit-reset", status: 429, header: map[string]string{"Ratelimit-Reset": "12"}, want: "throttle", throttle: "Throttle (12s)"},
		{name: "429 with Retry-After over the cap", status: 429, header: map[string]string{"Retry-After": "999999"}, maxDelay: 30 * time.Second, want: "throttle", throttle: "Throttle (30s)"},
		{name: "429 with Retry-After 0", status: 429, header: map[string]string{"Retry-After": "0"}, want: "retryable"},
		{name: "429 without a hint", status: 429, want: "retryable"},
		{name: "429 with garbage Retry-After", status: 429, header: map[string]string{"Retry-After": "soon"}, want: "retryable"},
		{name: "307", status: 307, header: map[string]string{"Location": "https://elsewhere.example/"}, want: "retryable"},
		{name: "500", status: 500, body: echo, want: "retryable"},
		{name: "502", status: 502, want: "retryable"},
		{name: "503", status: 503, want: "retryable"},
		{name: "503 with Retry-After", status: 503, header: map[string]string{"Retry-After": "3"}, want: "throttle", throttle: "Throttle (3s)"},
		{name: "504", status: 504, want: "retryable"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				for k, v := range tc.header {
					w.Header().Set(k, v)
				}
				w.WriteHeader(tc.status)
				_, _ = io.WriteString(w, tc.body)
			}))
			defer srv.Close()
			client := eventsapi.NewClient(srv.Client(), srv.URL, "test", tc.maxDelay, eventsapi.WithRedactor(eventsapi.NewRedactor(testKey)))
			err := retryError("checkout", client.Send(context.Background(), outcomeEvent()))
			assertRetryKind(t, tc.want, tc.throttle, err)
			if err == nil {
				return
			}
			var se *eventsapi.StatusError
			require.ErrorAs(t, err, &se, "the server's answer is still there")
			assert.Equal(t, tc.status, se.Code)
		})
	}
}

// TestOutcomeWithoutAnswer: an event that reached no server is retried, and
// one whose request cannot be built is not.
func TestOutcomeWithoutAnswer(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	refused := eventsapi.NewClient(&http.Client{}, url, "test", 0).Send(context.Background(), outcomeEvent())
	assertRetryKind(t, "retryable", "", retryError("checkout", refused))

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	canceled := eventsapi.NewClient(&http.Client{}, url, "test", 0).Send(ctx, outcomeEvent())
	err := retryError("checkout", canceled)
	assertRetryKind(t, "retryable", "", err)
	require.ErrorIs(t, err, context.Canceled)

	unbuildable := eventsapi.NewClient(&http.Client{}, "http://bad host", "test", 0).Send(context.Background(), outcomeEvent())
	assertRetryKind(t, "permanent", "", retryError("checkout", unbuildable))
}

// assertRetryKind checks err is what want names (see TestOutcomeToRetryError)
// and, unless nil, that it names the route and no routing key.
func assertRetryKind(t *testing.T, want, throttle string, err error) {
	t.Helper()
	if want == "ok" {
		require.NoError(t, err)
		return
	}
	require.Error(t, err)
	msg := err.Error()
	assert.Equal(t, want == "permanent", consumererror.IsPermanent(err), "permanent: %s", msg)
	if want == "throttle" {
		assert.Contains(t, msg, throttle+", error: ", "the server's delay reaches the retry sender")
	} else {
		assert.NotContains(t, msg, "Throttle", "no delay was asked for")
	}
	assert.Contains(t, msg, `routing "checkout": `)
	assert.NotContains(t, msg, testKey[:16], "errors name the route, never its routing key")
}

func outcomeEvent() *eventsapi.Event {
	return &eventsapi.Event{
		RoutingKey: testKey,
		Action:     eventsapi.Trigger,
		DedupKey:   "disk/db-1",
		Payload:    eventsapi.Payload{Summary: "Disk full on db-1", Source: "db-1", Severity: eventsapi.SeverityError},
	}
}
