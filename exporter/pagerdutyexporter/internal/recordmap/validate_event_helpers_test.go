package recordmap

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/eventsapi"
)

// Members the Events API knows (reference: PagerDuty Events API v2, §2 of
// the project notes). Change events document only links beside the payload, so images are
// held to be as wrong there as event_action is.
var (
	alertTopLevel  = set("routing_key", "event_action", "dedup_key", "payload", "images", "links", "client", "client_url")
	alertPayload   = set("summary", "source", "severity", "timestamp", "component", "group", "class", "custom_details")
	changeTopLevel = set("routing_key", "payload", "links")
	changePayload  = set("summary", "source", "timestamp", "custom_details")
	linkMembers    = set("href", "text")
	imageMembers   = set("src", "href", "alt")
	severities     = set(eventsapi.SeverityCritical, eventsapi.SeverityError, eventsapi.SeverityWarning, eventsapi.SeverityInfo)
	eventActions   = set("trigger", "acknowledge", "resolve")
)

func set(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

// validateEvent checks a rendered request body against every rule of the
// Events API reference a client can break, and returns the parsed body. An
// event without event_action is held to the change event rules.
func validateEvent(tb testing.TB, body []byte) map[string]any {
	tb.Helper()
	require.LessOrEqual(tb, len(body), eventsapi.MaxRequestBytes, "request over PagerDuty's 512 KB limit")
	require.True(tb, utf8.Valid(body), "body is not valid UTF-8")
	require.True(tb, json.Valid(body), "body is not valid JSON: %.300s", body)

	var doc map[string]any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	require.NoError(tb, dec.Decode(&doc), "body is not a JSON object")
	require.NotNil(tb, doc, "body is null, not an object")
	checkUniqueKeys(tb, body)

	key, ok := doc["routing_key"].(string)
	require.True(tb, ok, "routing_key missing or not a string")
	assert.Equal(tb, eventsapi.RoutingKeyLen, utf8.RuneCountInString(key), "routing_key length")

	_, isAlert := doc["event_action"]
	topLevel, payloadMembers := changeTopLevel, changePayload
	if isAlert {
		topLevel, payloadMembers = alertTopLevel, alertPayload
	}
	for name := range doc {
		assert.True(tb, topLevel[name], "unexpected member %q (alert event: %v)", name, isAlert)
	}

	action := ""
	if isAlert {
		action, ok = doc["event_action"].(string)
		require.True(tb, ok, "event_action not a string")
		require.True(tb, eventActions[action], "event_action %q", action)
		if dk, present := doc["dedup_key"]; present {
			s, isStr := dk.(string)
			require.True(tb, isStr, "dedup_key not a string")
			assert.LessOrEqual(tb, utf8.RuneCountInString(s), eventsapi.MaxDedupKeyLen, "dedup_key length")
		}
		if action != "trigger" {
			s, _ := doc["dedup_key"].(string)
			assert.NotEmpty(tb, s, "%s without dedup_key", action)
		}
		for _, name := range []string{"client", "client_url"} {
			if v, has := doc[name]; has {
				assert.Equal(tb, "trigger", action, "%s on a %s: PagerDuty reads it from triggers only", name, action)
				s, isStr := v.(string)
				assert.True(tb, isStr, "%s not a string", name)
				if name == "client_url" {
					assert.True(tb, eventsapi.IsHTTPURL(s), "client_url %q is not an absolute http(s) URL", s)
				}
			}
		}
	}

	rawPayload, present := doc["payload"]
	// Alert acks and resolves may omit the payload; everything else needs it.
	require.True(tb, present || (isAlert && action != "trigger"), "payload missing")
	if present {
		payload, isObj := rawPayload.(map[string]any)
		require.True(tb, isObj, "payload not an object")
		for name := range payload {
			assert.True(tb, payloadMembers[name], "unexpected payload member %q (alert event: %v)", name, isAlert)
		}
		summary, isStr := payload["summary"].(string)
		require.True(tb, isStr, "payload.summary missing or not a string")
		assert.NotEmpty(tb, strings.TrimSpace(summary), "payload.summary blank")
		assert.LessOrEqual(tb, utf8.RuneCountInString(summary), eventsapi.MaxSummaryRunes, "payload.summary length in code points")
		assert.LessOrEqual(tb, len(utf16.Encode([]rune(summary))), eventsapi.MaxSummaryRunes, "payload.summary length in UTF-16 units")
		if isAlert {
			source, _ := payload["source"].(string)
			assert.NotEmpty(tb, strings.TrimSpace(source), "payload.source missing or blank")
			severity, _ := payload["severity"].(string)
			assert.True(tb, severities[severity], "payload.severity %q", severity)
		} else if src, has := payload["source"]; has {
			_, isStr := src.(string)
			assert.True(tb, isStr, "payload.source not a string")
		}
		for _, name := range []string{"component", "group", "class"} {
			if v, has := payload[name]; has {
				_, isStr := v.(string)
				assert.True(tb, isStr, "payload.%s not a string", name)
			}
		}
		if ts, has := payload["timestamp"]; has {
			s, isStr := ts.(string)
			require.True(tb, isStr, "payload.timestamp not a string")
			_, err := time.Parse(time.RFC3339Nano, s)
			require.NoError(tb, err, "payload.timestamp is not ISO 8601")
		}
		if cd, has := payload["custom_details"]; has {
			_, isObj := cd.(map[string]any)
			assert.True(tb, isObj, "payload.custom_details not an object")
		}
	}

	checkList(tb, doc, "links", eventsapi.MaxLinks, "href", linkMembers)
	checkList(tb, doc, "images", eventsapi.MaxImages, "src", imageMembers)
	checkURLs(tb, doc, "links", map[string]func(string) bool{"href": eventsapi.IsHTTPURL})
	checkURLs(tb, doc, "images", map[string]func(string) bool{"src": eventsapi.IsHTTPSURL, "href": eventsapi.IsHTTPURL})
	return doc
}

// checkURLs checks the URL members of links or images against their rules.
func checkURLs(tb testing.TB, doc map[string]any, name string, rules map[string]func(string) bool) {
	tb.Helper()
	list, _ := doc[name].([]any)
	for i, item := range list {
		obj, _ := item.(map[string]any)
		for member, rule := range rules {
			if v, has := obj[member]; has {
				s, _ := v.(string)
				assert.True(tb, rule(s), "%s[%d].%s %.80q breaks its URL rule", name, i, member, s)
			}
		}
	}
}

// checkUniqueKeys fails when any object in body, at any depth, has a key
// twice: encoding/json keeps the last silently, PagerDuty may not.
func checkUniqueKeys(tb testing.TB, body []byte) {
	tb.Helper()
	dec := json.NewDecoder(bytes.NewReader(body))
	var walk func(path string)
	walk = func(path string) {
		tok, err := dec.Token()
		require.NoError(tb, err)
		switch tok {
		case json.Delim('{'):
			seen := map[string]bool{}
			for dec.More() {
				kt, keyErr := dec.Token()
				require.NoError(tb, keyErr)
				k, _ := kt.(string)
				assert.False(tb, seen[k], "key %q twice in %s", k, path)
				seen[k] = true
				walk(path + "." + k)
			}
			_, err = dec.Token()
			require.NoError(tb, err)
		case json.Delim('['):
			for i := 0; dec.More(); i++ {
				walk(path + "[" + strconv.Itoa(i) + "]")
			}
			_, err = dec.Token()
			require.NoError(tb, err)
		}
	}
	walk("$")
}

// checkList checks links or images: at most limit objects, each with a
// non-empty required string member and only known string members.
func checkList(tb testing.TB, doc map[string]any, name string, limit int, required string, members map[string]bool) {
	tb.Helper()
	raw, present := doc[name]
	if !present {
		return
	}
	list, ok := raw.([]any)
	require.True(tb, ok, "%s not an array", name)
	assert.LessOrEqual(tb, len(list), limit, "too many %s", name)
	for i, item := range list {
		obj, isObj := item.(map[string]any)
		require.True(tb, isObj, "%s[%d] not an object", name, i)
		s, _ := obj[required].(string)
		assert.NotEmpty(tb, s, "%s[%d].%s missing", name, i, required)
		for k, v := range obj {
			assert.True(tb, members[k], "%s[%d] has unexpected member %q", name, i, k)
			_, isStr := v.(string)
			assert.True(tb, isStr, "%s[%d].%s not a string", name, i, k)
		}
	}
}

// TestValidateEventCatchesViolations keeps validateEvent honest: each body
// breaks one rule and must fail it.
func TestValidateEventCatchesViolations(t *testing.T) {
	const key = `"routing_key":"` + fakeRoutingKey + `"`
	okAlert := `{` + key + `,"event_action":"trigger","payload":{"summary":"s","source":"h","severity":"info"}}`
	okChange := `{` + key + `,"payload":{"summary":"s"}}`
	long := func(n int) string { return strings.Repeat("x", n) }
	links := func(n int) string {
		return strings.TrimSuffix(strings.Repeat(`{"href":"https://h"},`, n), ",")
	}

	// Both baselines pass, so each failure below is the one rule it breaks.
	validateEvent(t, []byte(okAlert))
	validateEvent(t, []byte(okChange))

	for name, body := range map[string]string{
		"not json":              `{"routing_key":`,
		"not an object":         `[1]`,
		"null":                  `null`,
		"invalid utf-8":         "{" + key + `,"payload":{"summary":"s` + "\xff" + `"}}`,
		"short routing key":     `{"routing_key":"abc","payload":{"summary":"s"}}`,
		"no routing key":        `{"payload":{"summary":"s"}}`,
		"unknown action":        `{` + key + `,"event_action":"escalate","dedup_key":"d","payload":{"summary":"s","source":"h","severity":"info"}}`,
		"resolve without key":   `{` + key + `,"event_action":"resolve","payload":{"summary":"s","source":"h","severity":"info"}}`,
		"dedup key too long":    `{` + key + `,"event_action":"trigger","dedup_key":"` + long(256) + `","payload":{"summary":"s","source":"h","severity":"info"}}`,
		"trigger no payload":    `{` + key + `,"event_action":"trigger","dedup_key":"d"}`,
		"empty summary":         `{` + key + `,"event_action":"trigger","payload":{"summary":" ","source":"h","severity":"info"}}`,
		"summary too long":      `{` + key + `,"event_action":"trigger","payload":{"summary":"` + strings.Repeat("é", 1025) + `","source":"h","severity":"info"}}`,
		"no source":             `{` + key + `,"event_action":"trigger","payload":{"summary":"s","severity":"info"}}`,
		"bad severity":          `{` + key + `,"event_action":"trigger","payload":{"summary":"s","source":"h","severity":"high"}}`,
		"bad timestamp":         `{` + key + `,"event_action":"trigger","payload":{"summary":"s","source":"h","severity":"info","timestamp":"yesterday"}}`,
		"details not object":    `{` + key + `,"event_action":"trigger","payload":{"summary":"s","source":"h","severity":"info","custom_details":"x"}}`,
		"change with action":    `{` + key + `,"event_action":"change","payload":{"summary":"s"}}`,
		"change with dedup":     `{` + key + `,"dedup_key":"d","payload":{"summary":"s"}}`,
		"change with severity":  `{` + key + `,"payload":{"summary":"s","severity":"info"}}`,
		"change long summary":   `{` + key + `,"payload":{"summary":"` + long(1025) + `"}}`,
		"51 links":              `{` + key + `,"payload":{"summary":"s"},"links":[` + links(51) + `]}`,
		"link without href":     `{` + key + `,"payload":{"summary":"s"},"links":[{"text":"t"}]}`,
		"image without src":     `{` + key + `,"event_action":"trigger","payload":{"summary":"s","source":"h","severity":"info"},"images":[{"href":"h"}]}`,
		"summary of 1024 emoji": `{` + key + `,"event_action":"trigger","payload":{"summary":"` + strings.Repeat("🚨", 1024) + `","source":"h","severity":"info"}}`,
		"duplicate top key":     `{` + key + `,"event_action":"trigger","event_action":"trigger","payload":{"summary":"s","source":"h","severity":"info"}}`,
		"duplicate detail key":  `{` + key + `,"payload":{"summary":"s","custom_details":{"a":1,"a":2}}}`,
		"duplicate nested key":  `{` + key + `,"payload":{"summary":"s","custom_details":{"a":[{"b":1,"b":1}]}}}`,
		"client on a resolve":   `{` + key + `,"event_action":"resolve","dedup_key":"d","client":"c"}`,
		"client on a change":    `{` + key + `,"payload":{"summary":"s"},"client":"c"}`,
		"relative client_url":   `{` + key + `,"event_action":"trigger","payload":{"summary":"s","source":"h","severity":"info"},"client_url":"/graph"}`,
		"relative link href":    `{` + key + `,"payload":{"summary":"s"},"links":[{"href":"/runbook"}]}`,
		"http image src":        `{` + key + `,"event_action":"trigger","payload":{"summary":"s","source":"h","severity":"info"},"images":[{"src":"http://img"}]}`,
		"data: image href":      `{` + key + `,"event_action":"trigger","payload":{"summary":"s","source":"h","severity":"info"},"images":[{"src":"https://img","href":"data:,x"}]}`,
		"too large":             `{` + key + `,"payload":{"summary":"s","custom_details":{"x":"` + long(eventsapi.MaxRequestBytes) + `"}}}`,
	} {
		t.Run(name, func(t *testing.T) {
			rec := &recordingT{name: t.Name()}
			rec.run(func(tb testing.TB) { validateEvent(tb, []byte(body)) })
			assert.True(t, rec.failed, "validateEvent accepted a body breaking %q", name)
		})
	}
}

// recordingT records failures instead of failing the test.
type recordingT struct {
	testing.TB
	name   string
	failed bool
}

// failedNow is what recordingT's FailNow panics with, for run to recover.
type failedNow struct{}

// run calls check with r, ending it at FailNow as testing.T's FailNow ends
// a test, but without leaving the calling goroutine.
func (r *recordingT) run(check func(testing.TB)) {
	defer func() {
		if p := recover(); p != nil {
			if _, ok := p.(failedNow); !ok {
				panic(p)
			}
		}
	}()
	check(r)
}

func (r *recordingT) Name() string              { return r.name }
func (r *recordingT) Helper()                   {}
func (r *recordingT) Errorf(string, ...any)     { r.failed = true }
func (r *recordingT) FailNow()                  { r.failed = true; panic(failedNow{}) }
func (r *recordingT) Fatalf(f string, a ...any) { r.Errorf(f, a...); r.FailNow() }
