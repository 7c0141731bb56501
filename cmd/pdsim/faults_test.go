package main

import (
	"context"
	"errors"
	"log"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/otelcol-pagerduty/pagerduty/internal/pdsimapi"
)

func TestRateLimitSlidingWindow(t *testing.T) {
	cfg := baseConfig()
	cfg.RateLimit = 3
	env := newEnv(t, cfg)
	at := func(d time.Duration) { env.clock.Set(t0.Add(d)) }
	send := func(key string) response { return env.post(t, endpointEnqueue, event(key, "trigger", "", "x")) }

	steps := []struct {
		at     time.Duration
		key    string
		change bool // send a change event instead (counts toward the same key)
		want   int
	}{
		{0, keyA, false, 202},
		{20 * time.Second, keyA, true, 202},
		{40 * time.Second, keyA, false, 202},
		{40 * time.Second, keyA, false, 429},                  // 4th within 60 s
		{40 * time.Second, keyA, true, 429},                   // change events are limited too
		{40 * time.Second, keyB, false, 202},                  // other keys are independent
		{60*time.Second - time.Millisecond, keyA, false, 429}, // t=0 still inside the window
		{60 * time.Second, keyA, false, 202},                  // t=0 slid out
		{60 * time.Second, keyA, false, 429},                  // full again: 20, 40, 60
		{80*time.Second - time.Nanosecond, keyA, false, 429},  // rejected requests did not count...
		{80 * time.Second, keyA, false, 202},                  // ...so t=20 sliding out frees a slot
		{200 * time.Second, keyA, false, 202},                 // long pause: empty window
		{200 * time.Second, keyA, false, 202},
		{200 * time.Second, keyA, false, 202},
		{200 * time.Second, keyA, false, 429},
	}
	for i, st := range steps {
		at(st.at)
		var r response
		if st.change {
			r = env.post(t, endpointChange, change(st.key, "deploy"))
		} else {
			r = send(st.key)
		}
		if r.status != st.want {
			t.Fatalf("step %d (t=%v key=%s…): status %d, want %d: %s", i, st.at, st.key[:4], r.status, st.want, r.raw)
		}
		if st.want == 429 {
			wantThrottleBody(t, r)
			if ra := r.header.Get("Retry-After"); ra != "" {
				t.Errorf("rate-limit 429 carries Retry-After %q; PagerDuty documents none", ra)
			}
		}
	}
	snap := env.snapshot(t)
	if snap.Requests.RateLimited != 6 || snap.Requests.Throttled != 6 {
		t.Errorf("rate_limited=%d throttled=%d, want 6 and 6", snap.Requests.RateLimited, snap.Requests.Throttled)
	}
	if got := snap.Requests.ByEndpoint[endpointEnqueue]["429"] + snap.Requests.ByEndpoint[endpointChange]["429"]; got != 6 {
		t.Errorf("429 counters sum to %d, want 6", got)
	}
	if len(snap.Incidents) != 8 || len(snap.ChangeEvents) != 1 {
		t.Errorf("throttled events must not be recorded: %d incidents and %d change events, want 8 and 1", len(snap.Incidents), len(snap.ChangeEvents))
	}
}

// TestRateLimitProperty checks, over an irregular stream, that no 60 s
// window ever holds more than N accepted events and that an event is only
// rejected when the window already holds exactly N.
func TestRateLimitProperty(t *testing.T) {
	const n = 5
	var l rateLimiter
	var accepted []time.Time
	now := t0
	for i := range 400 {
		now = now.Add(time.Duration((i*7919)%13000) * time.Millisecond)
		inWindow := 0
		for _, a := range accepted {
			if a.After(now.Add(-rateWindow)) {
				inWindow++
			}
		}
		ok := l.allow(keyA, n, now)
		if ok != (inWindow < n) {
			t.Fatalf("event %d at %v: allow=%v with %d accepted in window", i, now.Sub(t0), ok, inWindow)
		}
		if ok {
			accepted = append(accepted, now)
		}
	}
	if len(accepted) < 50 || len(accepted) > 350 {
		t.Fatalf("stream exercised the limiter poorly: %d accepted", len(accepted))
	}
}

func TestRateLimitOff(t *testing.T) {
	env := newEnv(t, baseConfig()) // RateLimit 0
	for i := range 150 {
		if r := env.post(t, endpointEnqueue, event(keyA, "trigger", "", "x")); r.status != 202 {
			t.Fatalf("request %d: %d with rate limit off", i, r.status)
		}
	}
}

func TestFaultInjection(t *testing.T) {
	t.Run("fail_rate 1 answers fail_status", func(t *testing.T) {
		env := newEnv(t, baseConfig())
		env.control(t, `{"fail_rate":1,"fail_status":500}`)
		for _, path := range []string{endpointEnqueue, endpointChange} {
			r := env.post(t, path, trig()) // body is irrelevant
			wantShape(t, r, 500, map[string]any{"status": "internal server error", "message": "Internal Server Error"}, "status", "message", "errors")
		}
		snap := env.snapshot(t)
		if len(snap.Events) != 0 || snap.Requests.InjectedFailures != 2 || snap.Requests.ByEndpoint[endpointEnqueue]["500"] != 1 {
			t.Errorf("events %d, requests %+v", len(snap.Events), snap.Requests)
		}
	})
	t.Run("fail_status default 503 from flags", func(t *testing.T) {
		cfg := baseConfig()
		cfg.FailRate = 1
		env := newEnv(t, cfg)
		if r := env.post(t, endpointEnqueue, trig()); r.status != 503 {
			t.Errorf("status %d, want 503", r.status)
		}
	})
	t.Run("throttle with Retry-After", func(t *testing.T) {
		env := newEnv(t, baseConfig())
		env.control(t, `{"throttle_rate":1,"retry_after":"2"}`)
		r := env.post(t, endpointEnqueue, trig())
		wantThrottleBody(t, r)
		if got := r.header.Get("Retry-After"); got != "2" {
			t.Errorf("Retry-After = %q, want 2", got)
		}
		env.control(t, `{"retry_after":0}`)
		env.clock.Set(t0.Add(1500 * time.Millisecond))
		r = env.post(t, endpointEnqueue, trig())
		wantThrottleBody(t, r)
		if got, ok := r.header["Retry-After"]; ok {
			t.Errorf("Retry-After %q sent with retry_after 0", got)
		}
		snap := env.snapshot(t)
		if snap.Requests.Throttled != 2 || snap.Requests.RateLimited != 0 || len(snap.Incidents) != 0 {
			t.Errorf("requests %+v incidents %d", snap.Requests, len(snap.Incidents))
		}
		if want := []time.Time{t0, t0.Add(1500 * time.Millisecond)}; !slices.EqualFunc(snap.Requests.ThrottledAt, want, time.Time.Equal) {
			t.Errorf("throttled_at %v, want %v", snap.Requests.ThrottledAt, want)
		}
	})
	t.Run("reset closes the connection", func(t *testing.T) {
		env := newEnv(t, baseConfig())
		env.control(t, `{"reset_rate":1}`)
		client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 5 * time.Second}
		resp, err := client.Post(env.ts.URL+endpointEnqueue, "application/json", strings.NewReader(string(toJSON(t, trig()))))
		if err == nil {
			resp.Body.Close()
			t.Fatalf("got response %s, want a connection error", resp.Status)
		}
		var netErr interface{ Timeout() bool }
		if errors.As(err, &netErr) && netErr.Timeout() {
			t.Fatalf("got a timeout, want the connection closed: %v", err)
		}
		env.control(t, `{"reset_rate":0}`)
		if r := env.post(t, endpointEnqueue, trig()); r.status != 202 {
			t.Fatalf("after reset_rate 0: %d", r.status)
		}
		snap := env.snapshot(t)
		if snap.Requests.Resets != 1 || snap.Requests.ByEndpoint[endpointEnqueue]["reset"] != 1 || len(snap.Incidents) != 1 {
			t.Errorf("requests %+v incidents %d", snap.Requests, len(snap.Incidents))
		}
	})
	t.Run("latency", func(t *testing.T) {
		env := newEnv(t, baseConfig())
		env.control(t, `{"latency":"150ms"}`)
		start := time.Now()
		if r := env.post(t, endpointEnqueue, trig()); r.status != 202 {
			t.Fatalf("status %d", r.status)
		}
		if d := time.Since(start); d < 150*time.Millisecond {
			t.Errorf("answered after %v, want ≥ 150ms", d)
		}
		// Back to 0 from 30 s: the answer comes at once, long before the
		// 30 s. The request's deadline, a third of them, is only there to
		// fail instead of waiting, should the 30 s still apply. (The
		// simulator waits before it reads the body, so it would not notice
		// the client leaving; the test server's Close waits for it.)
		env.control(t, `{"latency":"30s"}`)
		env.control(t, `{"latency":"0s"}`)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, env.ts.URL+endpointEnqueue, strings.NewReader(string(toJSON(t, trig()))))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := env.ts.Client().Do(req)
		if err != nil {
			t.Fatalf("latency 0 after 30 s: no answer within 10 s: %v", err)
		}
		if r := readResponse(t, resp); r.status != 202 {
			t.Errorf("status %d", r.status)
		}
	})
	t.Run("reject_keys", func(t *testing.T) {
		env := newEnv(t, baseConfig())
		env.control(t, `{"reject_keys":{"`+keyA+`":400,"`+keyB+`":500}}`)
		r := env.post(t, endpointEnqueue, trig())
		wantShape(t, r, 400, map[string]any{"status": "invalid event", "message": "Event object is invalid"}, "status", "message", "errors")
		r = env.post(t, endpointChange, change(keyA, "deploy"))
		wantShape(t, r, 400, map[string]any{"status": "invalid event"}, "status", "message", "errors")
		r = env.post(t, endpointEnqueue, trig(set("routing_key", keyB)))
		wantShape(t, r, 500, map[string]any{"status": "internal server error"}, "status", "message", "errors")
		if r := env.post(t, endpointEnqueue, trig(set("routing_key", keyC))); r.status != 202 {
			t.Errorf("unlisted key: %d", r.status)
		}
		snap := env.snapshot(t)
		if len(snap.Incidents) != 1 || snap.Incidents[0].RoutingKey != keyC || snap.Requests.Rejected != 3 {
			t.Errorf("incidents %+v requests %+v", snap.Incidents, snap.Requests)
		}
		env.control(t, `{"reject_keys":{}}`)
		if r := env.post(t, endpointEnqueue, trig()); r.status != 202 {
			t.Errorf("after clearing reject_keys: %d", r.status)
		}
	})
}

func TestSeededFaultsAreDeterministic(t *testing.T) {
	statuses := func(seed uint64) string {
		cfg := baseConfig()
		cfg.FailRate = 0.5
		s := NewServer(cfg, seed, nil)
		h := s.Handler()
		var out strings.Builder
		for range 40 {
			w := recordPost(h, endpointEnqueue, string(toJSON(t, event(keyA, "trigger", "", "x"))))
			out.WriteString(map[int]string{202: "o", 503: "F"}[w.Code])
		}
		return out.String()
	}
	a, b, c := statuses(42), statuses(42), statuses(7)
	if a != b {
		t.Errorf("same seed, different faults:\n%s\n%s", a, b)
	}
	if a == c {
		t.Errorf("different seeds, same faults: %s", a)
	}
	if len(a) != 40 || !strings.Contains(a, "o") || !strings.Contains(a, "F") {
		t.Errorf("fail_rate 0.5 gave %q", a)
	}
}

func TestChooseFault(t *testing.T) {
	// Binary fractions, so the slice boundaries are exact.
	cfg := FaultConfig{ResetRate: 0.125, FailRate: 0.25, ThrottleRate: 0.25}
	for _, tc := range []struct {
		u    float64
		want fault
	}{{0, faultReset}, {0.12, faultReset}, {0.125, faultFail}, {0.37, faultFail}, {0.375, faultThrottle}, {0.62, faultThrottle}, {0.625, faultNone}, {0.99, faultNone}} {
		if got := chooseFault(cfg, tc.u); got != tc.want {
			t.Errorf("chooseFault(%v) = %v, want %v", tc.u, got, tc.want)
		}
	}
	cfg.EchoRate, cfg.RedirectRate = 0.125, 0.25
	for _, tc := range []struct {
		u    float64
		want fault
	}{{0.62, faultThrottle}, {0.625, faultEcho}, {0.74, faultEcho}, {0.75, faultRedirect}, {0.99, faultRedirect}} {
		if got := chooseFault(cfg, tc.u); got != tc.want {
			t.Errorf("with echo and redirect: chooseFault(%v) = %v, want %v", tc.u, got, tc.want)
		}
	}
	if got := chooseFault(FaultConfig{}, 0); got != faultNone {
		t.Errorf("no faults configured: got %v", got)
	}
}

func TestControl(t *testing.T) {
	env := newEnv(t, FaultConfig{FailStatus: 503, RateLimit: 120})
	r := env.get(t, "/control")
	want := map[string]any{
		"fail_rate": 0, "fail_status": 503, "throttle_rate": 0, "retry_after": 0, "retry_after_date": "", "latency": "0s",
		"reset_rate": 0, "rate_limit": 120, "reject_keys": map[string]int{},
		"echo_rate": 0, "echo_status": 400, "echo_format": "json", "redirect_rate": 0, "redirect_status": 307, "redirect_to": "portal",
	}
	wantShape(t, r, 200, want, "fail_rate", "fail_status", "throttle_rate", "retry_after", "retry_after_date", "latency", "reset_rate", "rate_limit", "reject_keys",
		"echo_rate", "echo_status", "echo_format", "redirect_rate", "redirect_status", "redirect_to")

	// The example body from the brief, then a partial update.
	r = env.post(t, "/control", `{"fail_rate":1,"fail_status":500,"throttle_rate":0,"retry_after":"2","latency":"0s","reset_rate":0,"rate_limit":120}`)
	if r.status != 200 || r.body["fail_rate"] != 1.0 || r.body["fail_status"] != 500.0 || r.body["retry_after"] != 2.0 {
		t.Fatalf("POST /control: %d %s", r.status, r.raw)
	}
	r = env.post(t, "/control", `{"latency":0.25,"retry_after":"1500ms"}`)
	if r.body["latency"] != "250ms" || r.body["retry_after"] != 2.0 || r.body["fail_status"] != 500.0 {
		t.Fatalf("partial update: %s", r.raw)
	}

	for _, bad := range []string{
		`{"fail_rate":1.5}`, `{"throttle_rate":-0.1}`, `{"fail_status":404}`, `{"latency":"soon"}`, `{"latency":"-1s"}`,
		`{"rate_limit":-1}`, `{"retry_after":"x"}`, `{"reject_keys":{"k":200}}`, `{"fail_rat":1}`, `not json`,
		`{"echo_rate":2}`, `{"echo_status":302}`, `{"echo_status":200}`, `{"echo_format":"xml"}`,
		`{"redirect_rate":-1}`, `{"redirect_status":304}`, `{"redirect_status":500}`, `{"redirect_to":"elsewhere"}`, `{"redirect_to":"ftp://x/"}`,
		`{"retry_after_date":"tomorrow"}`, `{"retry_after_date":5}`,
	} {
		br := env.post(t, "/control", bad)
		if br.status != 400 || br.body["error"] == "" {
			t.Errorf("POST /control %s: %d %s, want 400 with error", bad, br.status, br.raw)
		}
	}
	r = env.get(t, "/control")
	if r.body["fail_status"] != 500.0 || r.body["latency"] != "250ms" || r.body["fail_rate"] != 1.0 {
		t.Errorf("rejected updates changed the config: %s", r.raw)
	}
}

func TestReset(t *testing.T) {
	cfg := baseConfig()
	cfg.RateLimit = 1
	env := newEnv(t, cfg)
	env.post(t, endpointEnqueue, event(keyA, "trigger", "d1", "x"))
	env.post(t, endpointEnqueue, event(keyA, "trigger", "d2", "y")) // 429
	env.post(t, endpointChange, change(keyB, "deploy"))
	env.post(t, endpointEnqueue, event(keyC, "resolve", "zz", "")) // dropped
	env.control(t, `{"fail_rate":1}`)

	r := env.post(t, "/reset", "")
	if r.status != 200 {
		t.Fatalf("POST /reset: %d", r.status)
	}
	snap := env.snapshot(t)
	if len(snap.Incidents)+len(snap.ChangeEvents)+len(snap.Events)+snap.Dropped+snap.Requests.Total+snap.Requests.Throttled != 0 {
		t.Errorf("state survived reset: %+v", snap)
	}
	if got := env.get(t, "/control").body["fail_rate"]; got != 0.0 {
		t.Errorf("fail_rate after reset = %v, want the start-up 0", got)
	}
	// The rate-limit window is cleared and incident numbers restart.
	r = env.post(t, endpointEnqueue, event(keyA, "trigger", "d1", "x"))
	if r.status != 202 {
		t.Fatalf("after reset: %d %s", r.status, r.raw)
	}
	if n := env.snapshot(t).Incidents[0].Number; n != 1 {
		t.Errorf("first incident after reset is #%d", n)
	}
}

// TestThrottledAtIsBounded: the simulator keeps the times of its last
// MaxThrottledAt 429s, oldest first, and drops the older ones.
func TestThrottledAtIsBounded(t *testing.T) {
	env := newEnv(t, baseConfig())
	const n = pdsimapi.MaxThrottledAt + 5
	for i := range n {
		env.clock.Set(t0.Add(time.Duration(i) * time.Second))
		env.srv.countStatus(endpointEnqueue, http.StatusTooManyRequests)
	}
	env.srv.countStatus(endpointEnqueue, http.StatusAccepted) // not a 429: not kept
	got := env.snapshot(t).Requests.ThrottledAt
	if len(got) != pdsimapi.MaxThrottledAt {
		t.Fatalf("%d times kept, want %d", len(got), pdsimapi.MaxThrottledAt)
	}
	if first, last := t0.Add((n-pdsimapi.MaxThrottledAt)*time.Second), t0.Add((n-1)*time.Second); !got[0].Equal(first) || !got[len(got)-1].Equal(last) {
		t.Errorf("kept %v … %v, want %v … %v", got[0], got[len(got)-1], first, last)
	}
}

// TestStateChangesNeedJSON: /control and /reset refuse a body a browser
// form could send across sites (urlencoded, multipart, text/plain, none),
// and change nothing.
func TestStateChangesNeedJSON(t *testing.T) {
	env := newEnv(t, FaultConfig{FailStatus: 503, RateLimit: 120})
	env.control(t, `{"fail_rate":1}`)
	for _, path := range []string{"/control", "/reset"} {
		for _, contentType := range []string{"application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "text/plain", ""} {
			req, err := http.NewRequest(http.MethodPost, env.ts.URL+path, strings.NewReader(`{"fail_rate":0}`))
			if err != nil {
				t.Fatal(err)
			}
			if contentType != "" {
				req.Header.Set("Content-Type", contentType)
			}
			resp, err := env.ts.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusUnsupportedMediaType {
				t.Errorf("POST %s as %q: %d, want 415", path, contentType, resp.StatusCode)
			}
		}
	}
	if got := env.get(t, "/control").body["fail_rate"]; got != 1.0 {
		t.Errorf("fail_rate = %v after refused requests, want 1 (unchanged)", got)
	}
}

// TestControlLogMasksKeys: the log line of a control update names the keys
// it forces a status for by their first and last characters only.
func TestControlLogMasksKeys(t *testing.T) {
	var logged strings.Builder
	s := NewServer(FaultConfig{FailStatus: 503}, 1, log.New(&logged, "", 0))
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	const key = "0123456789abcdef0123456789abcdef"
	resp, err := ts.Client().Post(ts.URL+"/control", "application/json", strings.NewReader(`{"reject_keys":{"`+key+`":403}}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST /control: %d", resp.StatusCode)
	}
	if strings.Contains(logged.String(), key[4:28]) || !strings.Contains(logged.String(), "0123…cdef") {
		t.Errorf("control log line does not mask the key: %s", logged.String())
	}
}

// TestKeysMaskedByDefault: unless started with -show-keys, /incidents and
// /control show a routing key by its first and last four characters only.
func TestKeysMaskedByDefault(t *testing.T) {
	env := newEnv(t, baseConfig())
	env.srv.ShowKeys = false
	const key = "0123456789abcdef0123456789abcdef"
	env.post(t, "/v2/enqueue", map[string]any{
		"routing_key": key, "event_action": "trigger", "dedup_key": "masked",
		"payload": map[string]any{"summary": "s", "source": "h", "severity": "info"},
	})
	env.control(t, `{"reject_keys":{"`+key+`":403}}`)
	for _, path := range []string{"/incidents", "/control"} {
		raw := env.get(t, path).raw
		if strings.Contains(raw, key[4:28]) {
			t.Errorf("GET %s shows the key whole: %s", path, raw)
		}
		if !strings.Contains(raw, "0123…cdef") {
			t.Errorf("GET %s does not show the masked key: %s", path, raw)
		}
	}
}
