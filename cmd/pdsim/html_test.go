package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// populate records one incident per state, a dropped event without an
// incident, and a change event, each under a different key.
func populate(t *testing.T, env *testEnv) {
	t.Helper()
	for _, ev := range []map[string]any{
		event(keyA, "trigger", "web/5xx", "<script>alert(1)</script> error rate high"),
		event(keyA, "trigger", "db/lag", "replication lag "+strings.Repeat("very ", 30)+"long"),
		event(keyA, "acknowledge", "db/lag", ""),
		event(keyB, "trigger", "disk", "disk full"),
		event(keyB, "resolve", "disk", ""),
		event(keyC, "resolve", "ghost", ""),
	} {
		if r := env.post(t, endpointEnqueue, ev); r.status != 202 {
			t.Fatalf("setup: %d %s", r.status, r.raw)
		}
	}
	if r := env.post(t, endpointChange, change(keyC, "deployed v9")); r.status != 202 {
		t.Fatalf("setup: %d %s", r.status, r.raw)
	}
}

func TestHTMLPage(t *testing.T) {
	env := newEnv(t, baseConfig())
	empty := env.get(t, "/")
	if empty.status != 200 || !strings.Contains(empty.raw, "No incidents yet.") {
		t.Fatalf("empty page: %d %s", empty.status, empty.raw)
	}
	populate(t, env)
	r := env.get(t, "/")
	if r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET /: %d %s", r.status, r.header.Get("Content-Type"))
	}
	page := r.raw
	for _, key := range []string{keyA, keyB, keyC} {
		if strings.Contains(page, key) {
			t.Errorf("page contains the full routing key %s", key)
		}
		if !strings.Contains(page, maskKey(key)) {
			t.Errorf("page lacks the masked key %s", maskKey(key))
		}
	}
	for _, want := range []string{
		`<meta http-equiv="refresh" content="2">`,
		"Incidents (3)", "Change events (1)", "Dropped events without an incident (1)",
		`class="triggered"`, `class="acknowledged"`, `class="resolved"`,
		"&lt;script&gt;alert(1)&lt;/script&gt; error rate high", // escaped
		"web/5xx", "db/lag", "disk full", "deployed v9", "ghost",
		"<td>critical</td>",
		"acknowledge</li>", "resolve</li>",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(page, "<script>") {
		t.Error("summary was not HTML-escaped")
	}
	if i, j := strings.Index(page, "disk full"), strings.Index(page, "web/5xx"); i < 0 || j < 0 || i > j {
		t.Error("incidents are not listed newest first")
	}
}

func TestMaskKey(t *testing.T) {
	for in, want := range map[string]string{keyA: "0123…cdef", "short": "…", "": "…", "123456789": "1234…6789"} {
		if got := maskKey(in); got != want {
			t.Errorf("maskKey(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestPrintTable(t *testing.T) {
	env := newEnv(t, baseConfig())
	populate(t, env)
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"-print-table", "-url", env.ts.URL + "/"}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	got := out.String()
	lines := strings.Split(got, "\n")
	wantLines := []string{
		"INCIDENTS (3)",
		"#  STATE         SEVERITY  ROUTING KEY  DEDUP KEY  EVENTS  SUMMARY",
		"1  triggered     critical  0123…cdef    web/5xx    1       <script>alert(1)</script> error rate high",
		"2  acknowledged  critical  0123…cdef    db/lag     2       replication lag very very very very very very very very ver…",
		"3  resolved      critical  fedc…3210    disk       2       disk full",
		"",
		"CHANGE EVENTS (1)",
		"RECEIVED      ROUTING KEY  SOURCE  SUMMARY",
		"03:04:05.000  c0ff…ee00    ci      deployed v9",
		"",
		"REQUESTS total=7 throttled=0 rate_limited=0 injected_failures=0 rejected=0 resets=0 dropped_events=1",
		"",
	}
	if len(lines) != len(wantLines) {
		t.Fatalf("got %d lines, want %d:\n%s", len(lines), len(wantLines), got)
	}
	for i := range wantLines {
		if strings.TrimRight(lines[i], " ") != wantLines[i] {
			t.Errorf("line %d:\n got %q\nwant %q", i, lines[i], wantLines[i])
		}
	}
	for _, key := range []string{keyA, keyB, keyC} {
		if strings.Contains(got, key) {
			t.Errorf("table shows the full key %s", key)
		}
	}
}

func TestPrintTableEmptyAndErrors(t *testing.T) {
	var out bytes.Buffer
	if err := printTable(&out, &Snapshot{}); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "INCIDENTS (0)\n\nCHANGE EVENTS (0)\n") {
		t.Errorf("empty table:\n%s", out.String())
	}

	dead := httptest.NewServer(http.NotFoundHandler())
	for name, url := range map[string]string{"404": dead.URL, "closed": "http://127.0.0.1:1"} {
		var stdout, stderr bytes.Buffer
		if code := run(context.Background(), []string{"-print-table", "-url", url}, &stdout, &stderr); code != 1 || stderr.Len() == 0 {
			t.Errorf("%s: exit %d, stderr %q; want 1 and a message", name, code, stderr.String())
		}
	}
	dead.Close()
}

func TestTruncate(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{{"short", 10, "short"}, {"exactly10!", 10, "exactly10!"}, {"ünïcödé-long", 5, "ünïc…"}, {"a\tb\nc", 10, "a b c"}} {
		if got := truncate(tc.in, tc.n); got != tc.want {
			t.Errorf("truncate(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
}
