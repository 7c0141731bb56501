package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// noRedirects is a client that shows a redirect instead of following it.
func noRedirects(ts *httptest.Server) *http.Client {
	c := *ts.Client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &c
}

func postRaw(t *testing.T, c *http.Client, url, body string) (int, http.Header, string) {
	t.Helper()
	resp, err := c.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, string(raw)
}

// TestEchoFault: echo_rate answers echo_status with the request body,
// routing key and all, quoted in PagerDuty's error shape or in a proxy's
// HTML page; nothing is recorded.
func TestEchoFault(t *testing.T) {
	tests := []struct {
		status      int
		format      string
		path        string
		contentType string
	}{
		{400, "json", endpointEnqueue, "application/json"},
		{429, "json", endpointEnqueue, "application/json"},
		{500, "json", endpointChange, "application/json"},
		{400, "html", endpointEnqueue, "text/html; charset=utf-8"},
		{429, "html", endpointChange, "text/html; charset=utf-8"},
		{503, "html", endpointEnqueue, "text/html; charset=utf-8"},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%d %s %s", tc.status, tc.format, tc.path), func(t *testing.T) {
			env := newEnv(t, baseConfig())
			env.control(t, fmt.Sprintf(`{"echo_rate":1,"echo_status":%d,"echo_format":%q,"retry_after":7}`, tc.status, tc.format))
			request := string(toJSON(t, event(keyB, "trigger", "echo-1", "echoed")))
			status, header, body := postRaw(t, env.ts.Client(), env.ts.URL+tc.path, request)
			if status != tc.status || header.Get("Content-Type") != tc.contentType {
				t.Fatalf("answer %d %q, want %d %q: %s", status, header.Get("Content-Type"), tc.status, tc.contentType, body)
			}
			switch tc.format {
			case "json":
				var got pdResponse
				if err := json.Unmarshal([]byte(body), &got); err != nil {
					t.Fatalf("not JSON: %v: %s", err, body)
				}
				if len(got.Errors) != 1 || got.Errors[0] != "request body: "+request || got.Message == "" || got.Status == "" {
					t.Errorf("body %s does not quote the request %s in errors[]", body, request)
				}
			case "html":
				if !strings.HasPrefix(body, "<html>") || !strings.Contains(body, "<pre>"+request+"</pre>") {
					t.Errorf("body %s does not quote the request verbatim", body)
				}
				// The exporter quotes the first 200 bytes of a page and sends
				// routing_key first: the request must start well before that.
				if i := strings.Index(body, request); i > 100 {
					t.Errorf("the request starts at byte %d of the page, want it within the first 100", i)
				}
			}
			if ra := header.Get("Retry-After"); (tc.status == 429) != (ra == "7") {
				t.Errorf("Retry-After %q with status %d; want 7 on a 429 only", ra, tc.status)
			}
			snap := env.snapshot(t)
			if snap.Requests.Echoed != 1 || snap.Requests.ByEndpoint[tc.path][strconv.Itoa(tc.status)] != 1 || len(snap.Events)+len(snap.ChangeEvents) != 0 {
				t.Errorf("requests %+v, %d events, %d change events; want one echo, nothing recorded", snap.Requests, len(snap.Events), len(snap.ChangeEvents))
			}
			if want := map[bool]int{true: 1, false: 0}[tc.status == 429]; snap.Requests.Throttled != want {
				t.Errorf("throttled = %d, want %d", snap.Requests.Throttled, want)
			}
			env.control(t, `{"echo_rate":0}`)
			if r := env.post(t, endpointEnqueue, event(keyB, "trigger", "echo-1", "echoed")); r.status != 202 {
				t.Errorf("after echo_rate 0: %d %s", r.status, r.raw)
			}
		})
	}
	t.Run("echo_status defaults to 400", func(t *testing.T) {
		env := newEnv(t, baseConfig())
		env.control(t, `{"echo_rate":1}`)
		if status, _, body := postRaw(t, env.ts.Client(), env.ts.URL+endpointEnqueue, `{"routing_key":"`+keyA+`"}`); status != 400 || !strings.Contains(body, keyA) {
			t.Errorf("%d %s", status, body)
		}
	})
}

// TestRedirectFault: redirect_rate answers a 3xx whose Location is another
// URL, which receives nothing from a client that does not follow, or
// pdsim's own captive portal, which answers 200 and counts its hits.
func TestRedirectFault(t *testing.T) {
	var targetHits atomic.Int32
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		targetHits.Add(1)
		w.WriteHeader(http.StatusAccepted)
	}))
	defer target.Close()

	for _, tc := range []struct {
		status int
		to     string // "" keeps the default, the portal
	}{
		{0, ""}, {307, "portal"}, {302, "portal"}, {308, target.URL + "/v2/enqueue"}, {301, target.URL}, {303, target.URL + "/login?next=x"},
	} {
		t.Run(fmt.Sprintf("%d to %q", tc.status, tc.to), func(t *testing.T) {
			targetHits.Store(0)
			env := newEnv(t, baseConfig())
			update := map[string]any{"redirect_rate": 1}
			if tc.status != 0 {
				update["redirect_status"] = tc.status
			}
			if tc.to != "" {
				update["redirect_to"] = tc.to
			}
			env.control(t, string(toJSON(t, update)))
			wantStatus, wantLocation := tc.status, tc.to
			if wantStatus == 0 {
				wantStatus = 307
			}
			if tc.to == "" || tc.to == "portal" {
				wantLocation = env.ts.URL + portalPath
			}

			for _, path := range []string{endpointEnqueue, endpointChange} {
				status, header, _ := postRaw(t, noRedirects(env.ts), env.ts.URL+path, string(toJSON(t, trig())))
				if status != wantStatus || header.Get("Location") != wantLocation {
					t.Fatalf("%s: %d Location %q, want %d %q", path, status, header.Get("Location"), wantStatus, wantLocation)
				}
			}
			snap := env.snapshot(t)
			if snap.Requests.Redirected != 2 || snap.Requests.PortalHits != 0 || targetHits.Load() != 0 ||
				snap.Requests.ByEndpoint[endpointEnqueue][strconv.Itoa(wantStatus)] != 1 || len(snap.Events) != 0 {
				t.Errorf("requests %+v, target hits %d, %d events; want 2 redirects and nothing delivered anywhere", snap.Requests, targetHits.Load(), len(snap.Events))
			}

			// A client that follows the redirect reaches the target, which
			// answers a success for an event nobody received.
			resp, err := env.ts.Client().Post(env.ts.URL+endpointEnqueue, "application/json", strings.NewReader(string(toJSON(t, trig()))))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode/100 != 2 {
				t.Errorf("following the redirect: %s, want a 2xx from the target", resp.Status)
			}
			snap = env.snapshot(t)
			if got := int(targetHits.Load()) + snap.Requests.PortalHits; got != 1 || len(snap.Events) != 0 {
				t.Errorf("after following: target %d + portal %d hits, %d events; want one hit, no event", targetHits.Load(), snap.Requests.PortalHits, len(snap.Events))
			}
		})
	}
	t.Run("the portal answers any method 200", func(t *testing.T) {
		env := newEnv(t, baseConfig())
		for _, method := range []string{http.MethodGet, http.MethodPost} {
			req, _ := http.NewRequest(method, env.ts.URL+portalPath, strings.NewReader("x"))
			resp, err := env.ts.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "Sign in") {
				t.Errorf("%s %s: %s %s", method, portalPath, resp.Status, body)
			}
		}
		if n := env.snapshot(t).Requests.PortalHits; n != 2 {
			t.Errorf("portal_hits = %d, want 2", n)
		}
	})
}

// TestLongRetryAfter: injected 429s carry a Retry-After far away, in
// seconds or as an HTTP date (given as one or in RFC 3339); clearing the
// date falls back to the seconds.
func TestLongRetryAfter(t *testing.T) {
	for _, tc := range []struct{ update, want string }{
		{`{"throttle_rate":1,"retry_after":999999}`, "999999"},
		{`{"throttle_rate":1,"retry_after_date":"Thu, 01 Jan 2099 00:00:00 GMT"}`, "Thu, 01 Jan 2099 00:00:00 GMT"},
		{`{"throttle_rate":1,"retry_after_date":"2099-01-01T00:00:00Z"}`, "Thu, 01 Jan 2099 00:00:00 GMT"},
		{`{"throttle_rate":1,"retry_after":5,"retry_after_date":"2099-01-01T01:00:00+01:00"}`, "Thu, 01 Jan 2099 00:00:00 GMT"},
	} {
		t.Run(tc.update, func(t *testing.T) {
			env := newEnv(t, baseConfig())
			env.control(t, tc.update)
			r := env.post(t, endpointEnqueue, trig())
			wantThrottleBody(t, r)
			if got := r.header.Get("Retry-After"); got != tc.want {
				t.Errorf("Retry-After %q, want %q", got, tc.want)
			}
			if got, err := http.ParseTime(r.header.Get("Retry-After")); err == nil && time.Until(got) < 24*time.Hour*365*50 {
				t.Errorf("HTTP date %v is not far away", got)
			}
			if got := env.get(t, "/control").body["retry_after_date"]; strings.Contains(tc.update, "date") != (got != "") {
				t.Errorf("GET /control retry_after_date = %q", got)
			}
		})
	}
	t.Run("clearing the date", func(t *testing.T) {
		env := newEnv(t, baseConfig())
		env.control(t, `{"throttle_rate":1,"retry_after":3,"retry_after_date":"2099-01-01T00:00:00Z"}`)
		env.control(t, `{"retry_after_date":""}`)
		if got := env.post(t, endpointEnqueue, trig()).header.Get("Retry-After"); got != "3" {
			t.Errorf("Retry-After %q after clearing the date, want 3", got)
		}
	})
}

// TestHostileFlags: the new flags reach the server.
func TestHostileFlags(t *testing.T) {
	for _, tc := range []struct {
		args  []string
		check func(t *testing.T, status int, header http.Header, body string)
	}{
		{[]string{"-echo-rate", "1", "-echo-status", "502", "-echo-format", "html"}, func(t *testing.T, status int, _ http.Header, body string) {
			if status != 502 || !strings.Contains(body, keyA) {
				t.Errorf("%d %s", status, body)
			}
		}},
		{[]string{"-redirect-rate", "1", "-redirect-status", "302", "-redirect-to", "https://portal.example/login"}, func(t *testing.T, status int, header http.Header, _ string) {
			if status != 302 || header.Get("Location") != "https://portal.example/login" {
				t.Errorf("%d %v", status, header)
			}
		}},
		{[]string{"-throttle-rate", "1", "-retry-after-date", "Thu, 01 Jan 2099 00:00:00 GMT"}, func(t *testing.T, status int, header http.Header, _ string) {
			if status != 429 || header.Get("Retry-After") != "Thu, 01 Jan 2099 00:00:00 GMT" {
				t.Errorf("%d %v", status, header)
			}
		}},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			pr, pw := io.Pipe()
			var stderr bytes.Buffer
			done := make(chan int, 1)
			go func() {
				done <- run(ctx, append([]string{"-addr", "127.0.0.1:0", "-quiet"}, tc.args...), pw, &stderr)
				pw.Close()
			}()
			defer func() {
				cancel()
				<-done
			}()
			line, err := bufio.NewReader(pr).ReadString('\n')
			if err != nil {
				t.Fatalf("startup line: %v (stderr %q)", err, stderr.String())
			}
			go io.Copy(io.Discard, pr) //nolint:errcheck // drain any further output
			base := strings.TrimPrefix(strings.TrimSpace(line), "pdsim listening on ")
			client := &http.Client{Timeout: 5 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			status, header, body := func() (int, http.Header, string) {
				resp, err := client.Post(base+endpointEnqueue, "application/json", strings.NewReader(string(toJSON(t, event(keyA, "trigger", "", "x")))))
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				b, _ := io.ReadAll(resp.Body)
				return resp.StatusCode, resp.Header, string(b)
			}()
			tc.check(t, status, header, body)
		})
	}
}
