package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	keyA = "0123456789abcdef0123456789abcdef"
	keyB = "fedcba9876543210fedcba9876543210"
	keyC = "c0ffeec0ffeec0ffeec0ffeec0ffee00"
)

// fakeClock is an injectable, manually advanced clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// baseConfig is the flag defaults, with the rate limit off.
func baseConfig() FaultConfig { return FaultConfig{FailStatus: 503} }

type testEnv struct {
	srv   *Server
	ts    *httptest.Server
	clock *fakeClock
}

func newEnv(t *testing.T, cfg FaultConfig) *testEnv {
	t.Helper()
	s := NewServer(cfg, 1, nil)
	s.ShowKeys = true // the tests compare whole keys
	clock := &fakeClock{t: t0}
	s.now = clock.Now
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	return &testEnv{srv: s, ts: ts, clock: clock}
}

type response struct {
	status int
	header http.Header
	raw    string
	body   map[string]any
}

// post sends body (a string, or any value to marshal) and decodes the
// JSON object answer, if any.
func (e *testEnv) post(t *testing.T, path string, body any) response {
	t.Helper()
	resp, err := e.ts.Client().Post(e.ts.URL+path, "application/json", bytes.NewReader(toJSON(t, body)))
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	return readResponse(t, resp)
}

func (e *testEnv) get(t *testing.T, path string) response {
	t.Helper()
	resp, err := e.ts.Client().Get(e.ts.URL + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	return readResponse(t, resp)
}

func readResponse(t *testing.T, resp *http.Response) response {
	t.Helper()
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	r := response{status: resp.StatusCode, header: resp.Header, raw: string(raw)}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(raw, &r.body); err != nil {
			t.Fatalf("response is not a JSON object: %v: %s", err, raw)
		}
	}
	return r
}

func (e *testEnv) snapshot(t *testing.T) Snapshot {
	t.Helper()
	r := e.get(t, "/incidents")
	if r.status != http.StatusOK {
		t.Fatalf("GET /incidents: %d %s", r.status, r.raw)
	}
	var snap Snapshot
	if err := json.Unmarshal([]byte(r.raw), &snap); err != nil {
		t.Fatalf("decode /incidents: %v", err)
	}
	return snap
}

func (e *testEnv) control(t *testing.T, body string) {
	t.Helper()
	if r := e.post(t, "/control", body); r.status != http.StatusOK {
		t.Fatalf("POST /control %s: %d %s", body, r.status, r.raw)
	}
}

func toJSON(t *testing.T, v any) []byte {
	t.Helper()
	if s, ok := v.(string); ok {
		return []byte(s)
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// event builds an alert event; payload is only added for triggers.
func event(key, action, dedup, summary string) map[string]any {
	ev := map[string]any{"routing_key": key, "event_action": action}
	if dedup != "" {
		ev["dedup_key"] = dedup
	}
	if action == "trigger" {
		ev["payload"] = map[string]any{"summary": summary, "source": "host-1", "severity": "critical"}
	}
	return ev
}

func change(key, summary string) map[string]any {
	return map[string]any{"routing_key": key, "payload": map[string]any{"summary": summary, "source": "ci"}}
}

// wantShape asserts the exact key set and fixed fields of a JSON body.
func wantShape(t *testing.T, r response, wantStatus int, fields map[string]any, keys ...string) {
	t.Helper()
	if r.status != wantStatus {
		t.Fatalf("status = %d, want %d; body %s", r.status, wantStatus, r.raw)
	}
	if len(r.body) != len(keys) {
		t.Errorf("body keys = %v, want exactly %v; body %s", mapKeys(r.body), keys, r.raw)
	}
	for _, k := range keys {
		if _, ok := r.body[k]; !ok {
			t.Errorf("body lacks %q: %s", k, r.raw)
		}
	}
	for k, want := range fields {
		if got := r.body[k]; !equalJSON(got, want) {
			t.Errorf("body[%q] = %#v, want %#v", k, got, want)
		}
	}
}

func mapKeys(m map[string]any) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}

func equalJSON(a, b any) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return bytes.Equal(ja, jb)
}

func wantThrottleBody(t *testing.T, r response) {
	t.Helper()
	wantShape(t, r, http.StatusTooManyRequests, map[string]any{
		"status":  "throttle exceeded",
		"message": "Requests for this service are arriving too quickly.  Please retry later.",
		"errors":  []string{"Enhance Your Calm."},
	}, "status", "message", "errors")
}

func recordPost(h http.Handler, path, body string) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, path, strings.NewReader(body)))
	return w
}
