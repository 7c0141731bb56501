package main

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

type mutator func(ev map[string]any)

func set(k string, v any) mutator { return func(ev map[string]any) { ev[k] = v } }
func del(k string) mutator        { return func(ev map[string]any) { delete(ev, k) } }
func setP(k string, v any) mutator {
	return func(ev map[string]any) { ev["payload"].(map[string]any)[k] = v }
}

func delP(k string) mutator {
	return func(ev map[string]any) { delete(ev["payload"].(map[string]any), k) }
}

// trig is a valid trigger modified by ms.
func trig(ms ...mutator) map[string]any {
	ev := map[string]any{
		"routing_key":  keyA,
		"event_action": "trigger",
		"dedup_key":    "srv01/HTTP",
		"payload":      map[string]any{"summary": "disk full", "source": "srv01", "severity": "critical"},
	}
	for _, m := range ms {
		m(ev)
	}
	return ev
}

// chg is a valid change event modified by ms.
func chg(ms ...mutator) map[string]any {
	ev := change(keyA, "deployed v1.2.3")
	for _, m := range ms {
		m(ev)
	}
	return ev
}

func items(n int, k string) []map[string]string {
	out := make([]map[string]string, n)
	for i := range out {
		out[i] = map[string]string{k: fmt.Sprintf("https://example.com/%d", i)}
	}
	return out
}

// sizedTrigger is a valid trigger body of exactly n bytes.
func sizedTrigger(n int) string {
	const head = `{"routing_key":"` + keyA + `","event_action":"trigger","payload":{"summary":"s","source":"h","severity":"info","custom_details":{"pad":"`
	const tail = `"}}}`
	return head + strings.Repeat("x", n-len(head)-len(tail)) + tail
}

func TestValidation(t *testing.T) {
	const (
		ok           = "ok"
		changeOK     = "change-ok"
		inv          = "invalid"
		unrecognized = "unrecognized"
		changeErr    = "change-error"
	)
	// Texts PagerDuty has been seen answering with (see validate.go).
	tooLongSummary := "'summary' is too long (maiximum is 1024 characters)"
	badKeyLen := "Length of 'routing_key' is incorrect (should be 32 characters)"
	badKeyChars := "'routing_key' cannot contain non-alphanumeric characters."
	badSeverity := "'payload.severity' is invalid (must be one of the following: 'critical', 'warning', 'error' or 'info')"
	detailsNotObject := "'payload.custom_details' is invalid (expected an object)"
	rulesetKey := "R0212P1QXGEIQE2NMTQ7L7WXD00DWHIN"
	cases := []struct {
		name  string
		path  string // default /v2/enqueue
		body  any
		shape string
		errs  []string // exact "errors" (or "error") list
	}{
		// body size
		{name: "body exactly 512000 bytes", body: sizedTrigger(512000), shape: ok},
		{name: "body 512001 bytes", body: sizedTrigger(512001), shape: inv, errs: []string{"Request body is too large (maximum is 512000 bytes)"}},
		// JSON object
		{name: "unparsable JSON", body: `{"routing_key":`, shape: unrecognized},
		{name: "JSON array", body: `[1,2]`, shape: unrecognized},
		{name: "JSON string", body: `"trigger"`, shape: unrecognized},
		{name: "empty body", body: ``, shape: unrecognized},
		{name: "field of wrong type", body: trig(set("routing_key", 42)), shape: inv, errs: []string{"'routing_key' is invalid (expected a string)"}},
		{name: "unknown top-level fields ignored", body: trig(set("extra", true)), shape: ok},
		// routing_key
		{name: "routing_key 32 chars", body: trig(), shape: ok},
		{name: "routing_key 31 chars", body: trig(set("routing_key", keyA[:31])), shape: inv, errs: []string{badKeyLen}},
		{name: "routing_key 33 chars", body: trig(set("routing_key", keyA+"0")), shape: inv, errs: []string{badKeyLen}},
		{name: "routing_key missing", body: trig(del("routing_key")), shape: inv, errs: []string{"'routing_key' is missing or blank"}},
		{name: "routing_key with a dash", body: trig(set("routing_key", "0123456789abcdef-123456789abcdef")), shape: inv, errs: []string{badKeyChars}},
		{name: "routing_key short and with symbols", body: trig(set("routing_key", "e+23rschqsESqk9Q6_-g")), shape: inv, errs: []string{badKeyLen, badKeyChars}},
		{name: "routing_key of 32 non-ASCII letters", body: trig(set("routing_key", strings.Repeat("é", 32))), shape: inv, errs: []string{badKeyChars}},
		{name: "ruleset key takes alert events", body: trig(set("routing_key", rulesetKey)), shape: ok},
		// event_action
		{name: "event_action acknowledge", body: trig(set("event_action", "acknowledge")), shape: ok},
		{name: "event_action resolve", body: trig(set("event_action", "resolve")), shape: ok},
		{
			name: "event_action invalid", body: trig(set("event_action", "snooze")), shape: inv,
			errs: []string{"'event_action' is invalid (must be one of: trigger, acknowledge, resolve)"},
		},
		{name: "event_action missing", body: trig(del("event_action")), shape: inv, errs: []string{"'event_action' is missing or blank"}},
		// dedup_key
		{name: "dedup_key 255 runes", body: trig(set("dedup_key", strings.Repeat("é", 255))), shape: ok},
		{
			name: "dedup_key 256 chars", body: trig(set("dedup_key", strings.Repeat("d", 256))), shape: inv,
			errs: []string{"'dedup_key' is too long (maximum is 255 characters)"},
		},
		{name: "trigger without dedup_key", body: trig(del("dedup_key")), shape: ok},
		{
			name: "acknowledge without dedup_key", body: trig(set("event_action", "acknowledge"), del("dedup_key")), shape: inv,
			errs: []string{"'dedup_key' is missing or blank (required for acknowledge)"},
		},
		{
			name: "resolve with blank dedup_key", body: trig(set("event_action", "resolve"), set("dedup_key", " ")), shape: inv,
			errs: []string{"'dedup_key' is missing or blank (required for resolve)"},
		},
		{name: "resolve needs no payload", body: trig(set("event_action", "resolve"), del("payload")), shape: ok},
		// payload.summary
		{name: "summary 1024 runes (2048 bytes)", body: trig(setP("summary", strings.Repeat("ü", 1024))), shape: ok},
		{name: "summary 1025 chars", body: trig(setP("summary", strings.Repeat("s", 1025))), shape: inv, errs: []string{tooLongSummary}},
		{name: "summary 512 emoji (1024 UTF-16 units)", body: trig(setP("summary", strings.Repeat("🚨", 512))), shape: ok},
		{name: "summary 1024 emoji (2048 UTF-16 units)", body: trig(setP("summary", strings.Repeat("🚨", 1024))), shape: inv, errs: []string{tooLongSummary}},
		{name: "summary missing", body: trig(delP("summary")), shape: inv, errs: []string{"'payload.summary' is missing or blank"}},
		{name: "summary blank", body: trig(setP("summary", "  ")), shape: inv, errs: []string{"'payload.summary' is missing or blank"}},
		// payload.source
		{name: "source missing", body: trig(delP("source")), shape: inv, errs: []string{"'payload.source' is missing or blank"}},
		{name: "source empty", body: trig(setP("source", "")), shape: inv, errs: []string{"'payload.source' is missing or blank"}},
		// payload.severity
		{name: "severity critical", body: trig(setP("severity", "critical")), shape: ok},
		{name: "severity error", body: trig(setP("severity", "error")), shape: ok},
		{name: "severity warning", body: trig(setP("severity", "warning")), shape: ok},
		{name: "severity info", body: trig(setP("severity", "info")), shape: ok},
		{name: "severity invalid", body: trig(setP("severity", "fatal")), shape: inv, errs: []string{badSeverity}},
		{name: "severity uppercase", body: trig(setP("severity", "CRITICAL")), shape: inv, errs: []string{badSeverity}},
		{name: "severity missing", body: trig(delP("severity")), shape: inv, errs: []string{"'payload.severity' is missing or blank"}},
		{name: "payload missing on trigger", body: trig(del("payload")), shape: inv, errs: []string{
			"'payload.summary' is missing or blank", "'payload.source' is missing or blank", "'payload.severity' is missing or blank",
		}},
		// payload.timestamp
		{name: "timestamp RFC3339", body: trig(setP("timestamp", "2015-07-17T08:42:58Z")), shape: ok},
		{name: "timestamp RFC3339 fractional", body: trig(setP("timestamp", "2015-07-17T08:42:58.315Z")), shape: ok},
		{name: "timestamp RFC3339 offset", body: trig(setP("timestamp", "2015-07-17T10:42:58+02:00")), shape: ok},
		{name: "timestamp +0000 fractional", body: trig(setP("timestamp", "2015-07-17T08:42:58.315+0000")), shape: ok},
		{name: "timestamp +0000", body: trig(setP("timestamp", "2015-07-17T08:42:58+0000")), shape: ok},
		{
			name: "timestamp not ISO 8601", body: trig(setP("timestamp", "17/07/2015 08:42")), shape: inv,
			errs: []string{"'payload.timestamp' is not a valid ISO 8601 timestamp"},
		},
		{
			name: "timestamp missing T", body: trig(setP("timestamp", "2015-07-17 08:42:58Z")), shape: inv,
			errs: []string{"'payload.timestamp' is not a valid ISO 8601 timestamp"},
		},
		// payload.custom_details
		{name: "custom_details object", body: trig(setP("custom_details", map[string]any{"a": []any{1, "x"}})), shape: ok},
		{name: "custom_details string", body: trig(setP("custom_details", "disk full")), shape: inv, errs: []string{detailsNotObject}},
		{name: "custom_details array", body: trig(setP("custom_details", []any{1})), shape: inv, errs: []string{detailsNotObject}},
		{name: "custom_details number", body: trig(setP("custom_details", 4.2)), shape: inv, errs: []string{detailsNotObject}},
		{name: "custom_details null", body: trig(setP("custom_details", nil)), shape: inv, errs: []string{detailsNotObject}},
		{name: "custom_details ignored on resolve", body: trig(set("event_action", "resolve"), setP("custom_details", "x")), shape: ok},
		// client and client_url
		{name: "client and client_url", body: trig(set("client", "Grafana"), set("client_url", "https://grafana.example.com/alerting/list")), shape: ok},
		{name: "client_url relative", body: trig(set("client_url", "/alerting/list")), shape: inv, errs: []string{"'client_url' is not a valid URL"}},
		{name: "client_url not http", body: trig(set("client_url", "javascript:alert(1)")), shape: inv, errs: []string{"'client_url' is not a valid URL"}},
		{name: "client_url ignored on acknowledge", body: trig(set("event_action", "acknowledge"), set("client_url", "/x")), shape: ok},
		// links and images
		{name: "50 links", body: trig(set("links", items(50, "href"))), shape: ok},
		{
			name: "link href relative", body: trig(set("links", []map[string]string{{"href": "runbooks/disk.md"}})), shape: inv,
			errs: []string{"'links[0].href' is not a valid URL"},
		},
		{name: "link href http", body: trig(set("links", []map[string]string{{"href": "http://wiki.internal/disk"}})), shape: ok},
		{
			name: "image src http", body: trig(set("images", []map[string]string{{"src": "http://img.example.com/a.png"}})), shape: inv,
			errs: []string{"'images[0].src' must be an HTTPS URL"},
		},
		{
			name: "image src data URI", body: trig(set("images", []map[string]string{{"src": "data:image/png;base64,AAAA"}})), shape: inv,
			errs: []string{"'images[0].src' must be an HTTPS URL"},
		},
		{
			name: "image href not a URL", body: trig(set("images", []map[string]string{{"src": "https://img.example.com/a.png", "href": "javascript:x"}})), shape: inv,
			errs: []string{"'images[0].href' is not a valid URL"},
		},
		{name: "51 links", body: trig(set("links", items(51, "href"))), shape: inv, errs: []string{"'links' has too many items (maximum is 50)"}},
		{
			name: "link without href", body: trig(set("links", []map[string]string{{"href": "https://a"}, {"text": "no href"}})), shape: inv,
			errs: []string{"'links[1].href' is missing or blank"},
		},
		{name: "50 images", body: trig(set("images", items(50, "src"))), shape: ok},
		{name: "51 images", body: trig(set("images", items(51, "src"))), shape: inv, errs: []string{"'images' has too many items (maximum is 50)"}},
		{
			name: "image without src", body: trig(set("images", []map[string]string{{"href": "https://a"}})), shape: inv,
			errs: []string{"'images[0].src' is missing or blank"},
		},
		// one message per violation
		{
			name: "several violations", body: trig(set("routing_key", "short"), setP("summary", strings.Repeat("s", 1025)), setP("severity", "bad")), shape: inv,
			errs: []string{badKeyLen, tooLongSummary, badSeverity},
		},

		// change events
		{name: "change valid", path: endpointChange, body: chg(), shape: changeOK},
		{name: "change unparsable", path: endpointChange, body: `{`, shape: unrecognized},
		{name: "change routing_key 31 chars", path: endpointChange, body: chg(set("routing_key", keyA[:31])), shape: inv, errs: []string{badKeyLen}},
		{name: "change summary 1024 runes", path: endpointChange, body: chg(setP("summary", strings.Repeat("ü", 1024))), shape: changeOK},
		{name: "change summary 1025 chars", path: endpointChange, body: chg(setP("summary", strings.Repeat("s", 1025))), shape: inv, errs: []string{tooLongSummary}},
		{name: "change summary missing", path: endpointChange, body: chg(delP("summary")), shape: inv, errs: []string{"'payload.summary' is missing or blank"}},
		{name: "change payload missing", path: endpointChange, body: chg(del("payload")), shape: inv, errs: []string{"'payload.summary' is missing or blank"}},
		{name: "change 50 links", path: endpointChange, body: chg(set("links", items(50, "href"))), shape: changeOK},
		{
			name: "change 51 links", path: endpointChange, body: chg(set("links", items(51, "href"))), shape: changeErr,
			errs: []string{"links should have at most 50 item(s)"},
		},
		{
			name: "change link without href", path: endpointChange, body: chg(set("links", []map[string]string{{"text": "PR #1842"}})), shape: inv,
			errs: []string{"'links[0].href' is missing or blank"},
		},
		{
			name: "change link href relative", path: endpointChange, body: chg(set("links", []map[string]string{{"href": "/pull/1842"}})), shape: inv,
			errs: []string{"'links[0].href' is not a valid URL"},
		},
		{name: "change custom_details object", path: endpointChange, body: chg(setP("custom_details", map[string]any{"version": "1.2.3"})), shape: changeOK},
		{
			name: "change custom_details string", path: endpointChange, body: chg(setP("custom_details", "v1.2.3")), shape: inv,
			errs: []string{detailsNotObject},
		},
		{
			name: "change to a ruleset key", path: endpointChange, body: chg(set("routing_key", rulesetKey)), shape: inv,
			errs: []string{"Change events cannot be sent to ruleset integration keys (keys that begin with 'R')"},
		},
		{
			name: "change summary 1024 emoji", path: endpointChange, body: chg(setP("summary", strings.Repeat("🚨", 1024))), shape: inv,
			errs: []string{tooLongSummary},
		},
		{
			name: "change body 512001 bytes", path: endpointChange, body: `{"routing_key":"` + keyA + `","pad":"` + strings.Repeat("x", 512000) + `"}`, shape: inv,
			errs: []string{"Request body is too large (maximum is 512000 bytes)"},
		},
	}

	uuidRE := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := newEnv(t, baseConfig())
			path := tc.path
			if path == "" {
				path = endpointEnqueue
			}
			r := env.post(t, path, tc.body)
			switch tc.shape {
			case ok:
				wantShape(t, r, http.StatusAccepted, map[string]any{"status": "success", "message": "Event processed"}, "status", "message", "dedup_key")
				ev, isMap := tc.body.(map[string]any)
				switch want, has := ev["dedup_key"]; {
				case !isMap: // raw sized body: no dedup_key sent
				case has && r.body["dedup_key"] != want:
					t.Errorf("dedup_key = %v, want echo of %v", r.body["dedup_key"], want)
				case !has && !uuidRE.MatchString(fmt.Sprint(r.body["dedup_key"])):
					t.Errorf("generated dedup_key %v is not a UUID", r.body["dedup_key"])
				}
			case changeOK:
				wantShape(t, r, http.StatusAccepted, map[string]any{"status": "success", "message": "Change event processed"}, "status", "message")
			case inv:
				wantShape(t, r, http.StatusBadRequest, map[string]any{"status": "invalid event", "message": "Event object is invalid", "errors": tc.errs},
					"status", "message", "errors")
			case unrecognized:
				wantShape(t, r, http.StatusBadRequest, map[string]any{
					"status": "Unrecognized object", "message": "Event object format is unrecognized",
					"errors": []string{"JSON parse error"},
				}, "status", "message", "errors")
			case changeErr:
				wantShape(t, r, http.StatusBadRequest, map[string]any{"error": tc.errs}, "error")
			default:
				t.Fatalf("bad shape %q", tc.shape)
			}

			// Only accepted events may change state.
			snap := env.snapshot(t)
			accepted := tc.shape == ok || tc.shape == changeOK
			if got := len(snap.Events) + len(snap.ChangeEvents); (got == 1) != accepted {
				t.Errorf("recorded %d events, accepted=%v", got, accepted)
			}
		})
	}
}

func TestParseTimestamp(t *testing.T) {
	a, err := parseTimestamp("2015-07-17T08:42:58.315+0000")
	if err != nil {
		t.Fatal(err)
	}
	b, err := parseTimestamp("2015-07-17T10:42:58.315+02:00")
	if err != nil {
		t.Fatal(err)
	}
	if !a.Equal(b) {
		t.Errorf("%v and %v should be the same instant", a, b)
	}
}
