package eventsapi

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const testKey = "0123456789abcdef0123456789abcdef"

// sendCases are responses of the Events API, or of whatever stands in front
// of it, and what Send must make of them. want names how a retry policy
// reads the result: "ok" (Accepted), "permanent" (Rejected), "throttle" (a
// RetryAfter is set) and "retryable" (Throttled or Failed without one).
var sendCases = []struct {
	name     string
	status   int
	header   map[string]string
	body     string
	want     string
	delay    time.Duration // RetryAfter; for an HTTP date, the delay it names
	messages []string
	maxDelay time.Duration // the client's cap on Retry-After
}{
	{name: "202 accepted", status: 202, body: `{"status":"success","message":"Event processed","dedup_key":"k"}`, want: "ok"},
	{name: "200 is success too", status: 200, want: "ok"},
	{
		name: "400 alert body shape", status: 400, want: "permanent",
		body:     `{"status":"invalid event","message":"Event object is invalid","errors":["'payload.source' is missing or blank"]}`,
		messages: []string{"Event object is invalid", "'payload.source' is missing or blank"},
	},
	{
		name: "400 change body shape", status: 400, want: "permanent",
		body:     `{"error":["links should have at most 50 item(s)"]}`,
		messages: []string{"links should have at most 50 item(s)"},
	},
	{name: "400 single error string", status: 400, want: "permanent", body: `{"error":"bad"}`, messages: []string{"bad"}},
	{name: "400 non-JSON body", status: 400, want: "permanent", body: "<html>nope</html>", messages: []string{"<html>nope</html>"}},
	{name: "403 is permanent", status: 403, want: "permanent"},
	{name: "413 is permanent", status: 413, want: "permanent"},
	{name: "400 ignores Retry-After", status: 400, want: "permanent", header: map[string]string{"Retry-After": "7"}},
	{name: "408 is retryable", status: 408, want: "retryable"},
	{
		name: "429 with Retry-After seconds", status: 429, want: "throttle", delay: 7 * time.Second,
		header:   map[string]string{"Retry-After": "7"},
		body:     `{"status":"throttle exceeded","message":"Requests for this service are arriving too quickly.  Please retry later.","errors":["Enhance Your Calm."]}`,
		messages: []string{"Requests for this service are arriving too quickly.  Please retry later.", "Enhance Your Calm."},
	},
	{name: "429 with Retry-After date", status: 429, want: "throttle", delay: 90 * time.Second, header: map[string]string{"Retry-After": "+90s"}},
	{name: "429 with ratelimit-reset", status: 429, want: "throttle", delay: 12 * time.Second, header: map[string]string{"Ratelimit-Reset": "12"}},
	{name: "429 without a hint", status: 429, want: "retryable"},
	{name: "429 with garbage Retry-After", status: 429, want: "retryable", header: map[string]string{"Retry-After": "soon"}},
	{name: "429 with Retry-After 0", status: 429, want: "retryable", header: map[string]string{"Retry-After": "0"}},
	{
		name: "429 with an absurd Retry-After is capped", status: 429, want: "throttle", delay: 30 * time.Second, maxDelay: 30 * time.Second,
		header: map[string]string{"Retry-After": "999999"},
	},
	{
		name: "429 with a far HTTP date is capped", status: 429, want: "throttle", delay: 30 * time.Second, maxDelay: 30 * time.Second,
		header: map[string]string{"Retry-After": "Fri, 01 Jan 2099 00:00:00 GMT"},
	},
	{name: "429 shorter than the cap", status: 429, want: "throttle", delay: 7 * time.Second, maxDelay: 30 * time.Second, header: map[string]string{"Retry-After": "7"}},
	{
		name: "307 to another host is retried, never followed", status: 307, want: "retryable",
		header:   map[string]string{"Location": "https://elsewhere.example/v2/enqueue?echo=" + testKey},
		body:     "redirecting " + testKey,
		messages: []string{"redirect to elsewhere.example refused"},
	},
	{name: "302 without Location", status: 302, want: "retryable", messages: []string{"redirect refused"}},
	{name: "500", status: 500, want: "retryable"},
	{name: "500 ignores Retry-After", status: 500, want: "retryable", header: map[string]string{"Retry-After": "7"}},
	{name: "502", status: 502, want: "retryable"},
	{name: "503 with Retry-After", status: 503, want: "throttle", delay: 3 * time.Second, header: map[string]string{"Retry-After": "3"}},
	{name: "503", status: 503, want: "retryable"},
	{name: "504", status: 504, want: "retryable"},
}

// serveCase answers every request as tc says. A Retry-After of "+90s" is
// sent as the HTTP date that far ahead.
func serveCase(t *testing.T, status int, header map[string]string, body string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		for k, v := range header {
			if k == "Retry-After" && strings.HasPrefix(v, "+") {
				d, err := time.ParseDuration(v[1:])
				if assert.NoError(t, err) {
					v = time.Now().Add(d).UTC().Format(http.TimeFormat)
				}
			}
			w.Header().Set(k, v)
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestSendClassifiesResponses(t *testing.T) {
	for _, tc := range sendCases {
		t.Run(tc.name, func(t *testing.T) {
			srv := serveCase(t, tc.status, tc.header, tc.body)
			c := NewClient(srv.Client(), srv.URL, "test", tc.maxDelay)
			res := c.Send(context.Background(), testEvent(Trigger))
			wantOutcome := map[string]Outcome{"ok": Accepted, "permanent": Rejected, "throttle": Failed, "retryable": Failed}[tc.want]
			if tc.status == http.StatusTooManyRequests {
				wantOutcome = Throttled
			}
			assert.Equal(t, wantOutcome, res.Outcome)
			assert.Equal(t, tc.status, res.StatusCode)
			assert.Equal(t, EnqueuePath, res.Path)
			if tc.want == "ok" {
				require.NoError(t, res.Err)
				assert.Zero(t, res.RetryAfter)
				return
			}
			if strings.HasPrefix(tc.header["Retry-After"], "+") {
				// An HTTP date is relative to now, in whole seconds: allow for
				// the test's own run time.
				assert.InDelta(t, tc.delay.Seconds(), res.RetryAfter.Seconds(), 2)
			} else {
				assert.Equal(t, tc.delay, res.RetryAfter)
			}
			// The error says what happened and nothing more: the answer itself,
			// not wrapped in any retry policy's kinds.
			var se *StatusError
			require.ErrorAs(t, res.Err, &se)
			assert.Same(t, se, res.Err, "not wrapped")
			assert.Equal(t, tc.status, se.Code)
			if tc.messages != nil {
				assert.Equal(t, tc.messages, se.Messages)
			}
			assert.NotContains(t, res.Err.Error(), testKey, "errors never carry the routing key")
		})
	}
}

func TestSendRequest(t *testing.T) {
	type seen struct {
		path, contentType, userAgent string
		body                         map[string]any
	}
	got := make(chan seen, 2)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body map[string]any
		assert.NoError(t, json.NewDecoder(r.Body).Decode(&body))
		got <- seen{r.URL.Path, r.Header.Get("Content-Type"), r.Header.Get("User-Agent"), body}
		w.WriteHeader(http.StatusAccepted)
	}))
	defer srv.Close()
	// A trailing slash on the base URL must not double up.
	c := NewClient(srv.Client(), srv.URL+"/", "otelcol-pagerduty-exporter/test", 0)

	err := c.Send(context.Background(), testEvent(Trigger)).Err
	require.NoError(t, err)
	s := <-got
	assert.Equal(t, EnqueuePath, s.path)
	assert.Equal(t, "application/json", s.contentType)
	assert.Equal(t, "otelcol-pagerduty-exporter/test", s.userAgent)
	assert.Equal(t, "trigger", s.body["event_action"])
	assert.Equal(t, testKey, s.body["routing_key"])

	resp := c.Send(context.Background(), testEvent(Change))
	err = resp.Err
	require.NoError(t, err)
	assert.Equal(t, ChangeEnqueuePath, resp.Path)
	s = <-got
	assert.Equal(t, ChangeEnqueuePath, s.path)
	assert.NotContains(t, s.body, "event_action")
	assert.NotContains(t, s.body, "dedup_key")
}

// TestSendRebuildsBodyForEveryAttempt guards against the empty-body-on-retry
// bug some clients have: the same event sent twice must arrive whole twice.
func TestSendRebuildsBodyForEveryAttempt(t *testing.T) {
	var lengths []int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		lengths = append(lengths, len(b))
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	c := NewClient(srv.Client(), srv.URL, "test", 0)
	ev := testEvent(Trigger)
	for range 3 {
		err := c.Send(context.Background(), ev).Err
		require.Error(t, err)
	}
	require.Len(t, lengths, 3)
	assert.Positive(t, lengths[0])
	assert.Equal(t, []int{lengths[0], lengths[0], lengths[0]}, lengths)
}

func TestSendTransportErrorsAreRetryable(t *testing.T) {
	t.Run("timeout", func(t *testing.T) {
		release := make(chan struct{})
		srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { <-release }))
		defer srv.Close()
		defer close(release)
		client := srv.Client()
		client.Timeout = 50 * time.Millisecond
		resp := NewClient(client, srv.URL, "test", 0).Send(context.Background(), testEvent(Trigger))
		assertTransportFailure(t, resp)
	})
	t.Run("connection reset", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			conn, _, err := w.(http.Hijacker).Hijack()
			if assert.NoError(t, err) {
				if tcp, ok := conn.(*net.TCPConn); ok {
					_ = tcp.SetLinger(0) // send RST, not FIN
				}
				_ = conn.Close()
			}
		}))
		defer srv.Close()
		resp := NewClient(srv.Client(), srv.URL, "test", 0).Send(context.Background(), testEvent(Trigger))
		assertTransportFailure(t, resp)
	})
	t.Run("connection refused", func(t *testing.T) {
		srv := httptest.NewServer(http.NotFoundHandler())
		url := srv.URL
		srv.Close()
		resp := NewClient(&http.Client{}, url, "test", 0).Send(context.Background(), testEvent(Trigger))
		assertTransportFailure(t, resp)
	})
	t.Run("canceled context", func(t *testing.T) {
		srv := httptest.NewServer(http.NotFoundHandler())
		defer srv.Close()
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		resp := NewClient(srv.Client(), srv.URL, "test", 0).Send(ctx, testEvent(Trigger))
		assertTransportFailure(t, resp)
		require.ErrorIs(t, resp.Err, context.Canceled)
	})
}

// assertTransportFailure: no answer is a failure that a resend may fix, with
// the transport's error and no status.
func assertTransportFailure(t *testing.T, res Result) {
	t.Helper()
	assert.Equal(t, Failed, res.Outcome)
	require.Error(t, res.Err)
	assert.Zero(t, res.StatusCode)
	assert.Zero(t, res.RetryAfter)
	assert.Equal(t, EnqueuePath, res.Path)
}

// TestSendUnusableURLIsRejected: a request that cannot even be built would
// fail the same way on every resend.
func TestSendUnusableURLIsRejected(t *testing.T) {
	res := NewClient(&http.Client{}, "http://bad host", "test", 0).Send(context.Background(), testEvent(Trigger))
	assert.Equal(t, Rejected, res.Outcome)
	require.Error(t, res.Err)
	assert.Contains(t, res.Err.Error(), "building request to "+EnqueuePath)
	assert.Zero(t, res.StatusCode)
}

func TestAppendJSON(t *testing.T) {
	ev := &Event{
		RoutingKey: testKey,
		Action:     Trigger,
		DedupKey:   "disk/db-1",
		Payload: Payload{
			Summary: "Disk \"full\"\n\x01 \xff end \u2028", Source: "db-1", Severity: SeverityCritical,
			Timestamp: "2026-01-02T03:04:05.000Z", Component: "disk", Group: "db", Class: "capacity",
			Details: []Detail{{Key: "used", JSON: []byte(`0.97`)}, {Key: "tags", JSON: []byte(`["a",{"b":1}]`)}},
		},
		Links:  []Link{{Href: "https://runbook", Text: "Runbook"}, {Href: "https://x"}},
		Images: []Image{{Src: "https://img", Alt: "graph"}},
	}
	body := ev.AppendJSON(nil)
	var got map[string]any
	require.NoError(t, json.Unmarshal(body, &got), string(body))
	want := map[string]any{
		"routing_key": testKey, "event_action": "trigger", "dedup_key": "disk/db-1",
		"payload": map[string]any{
			"summary": "Disk \"full\"\n\x01 \uFFFD end \u2028", "source": "db-1", "severity": "critical",
			"timestamp": "2026-01-02T03:04:05.000Z", "component": "disk", "group": "db", "class": "capacity",
			"custom_details": map[string]any{"used": 0.97, "tags": []any{"a", map[string]any{"b": float64(1)}}},
		},
		"links":  []any{map[string]any{"href": "https://runbook", "text": "Runbook"}, map[string]any{"href": "https://x"}},
		"images": []any{map[string]any{"src": "https://img", "alt": "graph"}},
	}
	assert.Equal(t, want, got)
	assert.NotContains(t, string(body), "\u2028", "line separators are escaped")

	change := testEvent(Change)
	change.Images = []Image{{Src: "https://img"}}
	got = nil
	require.NoError(t, json.Unmarshal(change.AppendJSON(nil), &got))
	assert.NotContains(t, got, "images", "change events carry links only")
	assert.NotContains(t, got, "event_action")
}

func TestAppendStringMatchesEncodingJSON(t *testing.T) {
	for _, s := range []string{"", "plain", "quote\" back\\slash", "tab\tnl\ncr\r", "\x00\x1f\x7f", "é ü 漢字 🚨", "<html>&amp;"} {
		var decoded string
		require.NoError(t, json.Unmarshal(AppendString(nil, s), &decoded))
		assert.Equal(t, s, decoded)
	}
}

func TestErrorMessagesIgnoresEmptyAndTruncatesLongBodies(t *testing.T) {
	assert.Nil(t, errorMessages(nil))
	assert.Nil(t, errorMessages([]byte("  \n")))
	long := errorMessages([]byte(strings.Repeat("x", 1000)))
	require.Len(t, long, 1)
	assert.Less(t, len(long[0]), 300)
	assert.Equal(t, []string{"invalid event"}, errorMessages([]byte(`{"status":"invalid event"}`)))
	se := &StatusError{Code: 500}
	assert.Equal(t, "events API responded 500 Internal Server Error", se.Error())
}

func testEvent(action Action) *Event {
	ev := &Event{
		RoutingKey: testKey,
		Action:     action,
		Payload:    Payload{Summary: "Disk full on db-1", Source: "db-1"},
	}
	if action != Change {
		ev.DedupKey = "disk/db-1"
		ev.Payload.Severity = SeverityError
	}
	return ev
}

// TestSendNeverFollowsRedirects proves that neither the body (with its
// routing key) nor the configured headers reach the host a 3xx points to,
// and that a captive portal answering 200 after a 302 is not taken as
// PagerDuty accepting the event.
func TestSendNeverFollowsRedirects(t *testing.T) {
	for _, status := range []int{http.StatusFound, http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			var portalHits atomic.Int32
			portal := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				portalHits.Add(1)
				w.WriteHeader(http.StatusOK)
			}))
			defer portal.Close()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Location", portal.URL+"/login")
				w.WriteHeader(status)
			}))
			defer srv.Close()

			res := NewClient(srv.Client(), srv.URL, "test", 0).Send(context.Background(), testEvent(Trigger))
			assert.Equal(t, Failed, res.Outcome)
			assert.Equal(t, status, res.StatusCode)
			require.Error(t, res.Err)
			assert.Zero(t, res.RetryAfter)
			assert.Zero(t, portalHits.Load(), "the redirect target was contacted")
		})
	}
}
