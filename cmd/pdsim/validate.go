package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// PagerDuty Events API v2 limits (reference §2 and §3).
const (
	maxBodyBytes    = 512000
	routingKeyLen   = 32
	maxDedupKeyLen  = 255
	maxSummaryLen   = 1024
	maxLinksOrImage = 50
)

var (
	validActions    = []string{"trigger", "acknowledge", "resolve"}
	validSeverities = []string{"critical", "error", "warning", "info"}
)

// Error texts. Where PagerDuty's own text is public, it is used verbatim
// (typos included) with where it was seen; the others are pdsim's own, in
// the same style, for rules PagerDuty documents without showing its answer.
const (
	// prometheus/alertmanager#3902, prometheus-community/helm-charts#2309.
	errSeverityInvalid = "'payload.severity' is invalid (must be one of the following: 'critical', 'warning', 'error' or 'info')"
	// SigNoz/signoz#9536.
	errSeverityMissing = "'payload.severity' is missing or blank"
	// PagerDuty/go-pagerduty#476.
	errSourceMissing = "'payload.source' is missing or blank"
	// dagster-io/dagster#19567, livepeer/stream-tester#354 ("maiximum" sic).
	errSummaryTooLong = "'summary' is too long (maiximum is 1024 characters)"
	// envato/pagerduty#70, blockpane/tenderduty#10.
	errRoutingKeyLength = "Length of 'routing_key' is incorrect (should be 32 characters)"
	// blockpane/tenderduty#10.
	errRoutingKeyCharacters = "'routing_key' cannot contain non-alphanumeric characters."
	// PagerDuty/go-pagerduty#478 (change events, {"error":[...]} shape).
	errChangeLinksTooMany = "links should have at most 50 item(s)"

	// pdsim's own: PagerDuty's Events API v2 overview says change events
	// "cannot be sent to ruleset integration keys (these keys begin with the
	// character R)"; its answer is not public.
	errChangeToRuleset = "Change events cannot be sent to ruleset integration keys (keys that begin with 'R')"
	// pdsim's own: the schema makes custom_details an object.
	errDetailsNotObject = "'payload.custom_details' is invalid (expected an object)"
)

// alertEvent is the body of POST /v2/enqueue.
type alertEvent struct {
	RoutingKey  string        `json:"routing_key"`
	EventAction string        `json:"event_action"`
	DedupKey    string        `json:"dedup_key"`
	Payload     *alertPayload `json:"payload"`
	Links       []link        `json:"links"`
	Images      []image       `json:"images"`
	Client      string        `json:"client"`
	ClientURL   string        `json:"client_url"`

	rawPayload json.RawMessage // payload exactly as sent, kept for /incidents
}

type alertPayload struct {
	Summary       string          `json:"summary"`
	Source        string          `json:"source"`
	Severity      string          `json:"severity"`
	Timestamp     string          `json:"timestamp"`
	Component     string          `json:"component"`
	Group         string          `json:"group"`
	Class         string          `json:"class"`
	CustomDetails json.RawMessage `json:"custom_details"`
}

// changeEvent is the body of POST /v2/change/enqueue.
type changeEvent struct {
	RoutingKey string         `json:"routing_key"`
	Payload    *changePayload `json:"payload"`
	Links      []link         `json:"links"`
}

type changePayload struct {
	Summary       string          `json:"summary"`
	Source        string          `json:"source"`
	Timestamp     string          `json:"timestamp"`
	CustomDetails json.RawMessage `json:"custom_details"`
}

// apiError is a rejected request: the HTTP status and the JSON body to send.
type apiError struct {
	status int
	body   any
}

// pdResponse is PagerDuty's usual response shape.
type pdResponse struct {
	Status   string   `json:"status"`
	Message  string   `json:"message"`
	DedupKey string   `json:"dedup_key,omitempty"`
	Errors   []string `json:"errors,omitempty"`
}

// changeErrorResponse is the other 400 shape some change-event errors use.
type changeErrorResponse struct {
	Error []string `json:"error"`
}

func unrecognized() *apiError {
	return &apiError{400, pdResponse{
		Status:  "Unrecognized object",
		Message: "Event object format is unrecognized",
		Errors:  []string{"JSON parse error"},
	}}
}

func invalid(errs ...string) *apiError {
	return &apiError{400, pdResponse{
		Status:  "invalid event",
		Message: "Event object is invalid",
		Errors:  errs,
	}}
}

// decodeObject unmarshals a JSON object body into v. Unparsable JSON and
// JSON that is not an object give the "Unrecognized object" error; a field
// of the wrong type gives an "invalid event" error naming the field.
func decodeObject(body []byte, v any) *apiError {
	if len(body) > maxBodyBytes {
		return invalid(fmt.Sprintf("Request body is too large (maximum is %d bytes)", maxBodyBytes))
	}
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if !json.Valid(body) || len(trimmed) == 0 || trimmed[0] != '{' {
		return unrecognized()
	}
	if err := json.Unmarshal(body, v); err != nil {
		var ute *json.UnmarshalTypeError
		if errors.As(err, &ute) && ute.Field != "" {
			return invalid(fmt.Sprintf("'%s' is invalid (expected %s)", ute.Field, jsonKind(ute.Type.String())))
		}
		return unrecognized()
	}
	return nil
}

func jsonKind(goType string) string {
	switch {
	case goType == "string":
		return "a string"
	case strings.HasPrefix(goType, "[]"):
		return "an array"
	default:
		return "an object"
	}
}

// parseAlertEvent decodes a /v2/enqueue body without validating it.
func parseAlertEvent(body []byte) (*alertEvent, *apiError) {
	var ev alertEvent
	if e := decodeObject(body, &ev); e != nil {
		return nil, e
	}
	var raw struct {
		Payload json.RawMessage `json:"payload"`
	}
	_ = json.Unmarshal(body, &raw) // cannot fail: body decoded above
	ev.rawPayload = raw.Payload
	return &ev, nil
}

// validateAlertEvent checks ev against the documented rules and returns one
// message per violation (nil when valid).
func validateAlertEvent(ev *alertEvent) []string {
	var errs []string
	errs = append(errs, checkRoutingKey(ev.RoutingKey)...)
	switch {
	case ev.EventAction == "":
		errs = append(errs, "'event_action' is missing or blank")
	case !slices.Contains(validActions, ev.EventAction):
		errs = append(errs, "'event_action' is invalid (must be one of: "+strings.Join(validActions, ", ")+")")
	}
	dedup := ev.DedupKey
	switch {
	case utf8.RuneCountInString(dedup) > maxDedupKeyLen:
		errs = append(errs, fmt.Sprintf("'dedup_key' is too long (maximum is %d characters)", maxDedupKeyLen))
	case strings.TrimSpace(dedup) == "" && (ev.EventAction == "acknowledge" || ev.EventAction == "resolve"):
		errs = append(errs, "'dedup_key' is missing or blank (required for "+ev.EventAction+")")
	}
	if ev.EventAction != "trigger" {
		return errs
	}

	p := ev.Payload
	if p == nil {
		p = &alertPayload{}
	}
	errs = append(errs, checkSummary(p.Summary)...)
	if strings.TrimSpace(p.Source) == "" {
		errs = append(errs, errSourceMissing)
	}
	switch {
	case p.Severity == "":
		errs = append(errs, errSeverityMissing)
	case !slices.Contains(validSeverities, p.Severity):
		errs = append(errs, errSeverityInvalid)
	}
	errs = append(errs, checkTimestamp(p.Timestamp)...)
	errs = append(errs, checkDetails(p.CustomDetails)...)
	if len(ev.Links) > maxLinksOrImage {
		errs = append(errs, fmt.Sprintf("'links' has too many items (maximum is %d)", maxLinksOrImage))
	}
	errs = append(errs, checkLinks(ev.Links)...)
	if len(ev.Images) > maxLinksOrImage {
		errs = append(errs, fmt.Sprintf("'images' has too many items (maximum is %d)", maxLinksOrImage))
	}
	for i, im := range ev.Images {
		switch {
		case strings.TrimSpace(im.Src) == "":
			errs = append(errs, fmt.Sprintf("'images[%d].src' is missing or blank", i))
		case !isURL(im.Src, true):
			// pdsim's own text: the documentation says src "must be served
			// via HTTPS".
			errs = append(errs, fmt.Sprintf("'images[%d].src' must be an HTTPS URL", i))
		}
		if im.Href != "" && !isURL(im.Href, false) {
			errs = append(errs, fmt.Sprintf("'images[%d].href' is not a valid URL", i))
		}
	}
	if ev.ClientURL != "" && !isURL(ev.ClientURL, false) {
		errs = append(errs, "'client_url' is not a valid URL")
	}
	return errs
}

// checkLinks checks links: each needs an href that is an absolute http(s)
// URL (the second text is pdsim's own).
func checkLinks(links []link) []string {
	var errs []string
	for i, l := range links {
		switch {
		case strings.TrimSpace(l.Href) == "":
			errs = append(errs, fmt.Sprintf("'links[%d].href' is missing or blank", i))
		case !isURL(l.Href, false):
			errs = append(errs, fmt.Sprintf("'links[%d].href' is not a valid URL", i))
		}
	}
	return errs
}

// isURL reports whether s is an absolute http(s) URL with a host (https
// only when httpsOnly), without white space.
func isURL(s string, httpsOnly bool) bool {
	if strings.ContainsFunc(s, unicode.IsSpace) {
		return false
	}
	u, err := url.Parse(s)
	if err != nil || u.Hostname() == "" || u.Opaque != "" {
		return false
	}
	return u.Scheme == "https" || u.Scheme == "http" && !httpsOnly
}

// checkDetails checks that custom_details, when present, is a JSON object.
func checkDetails(raw json.RawMessage) []string {
	if len(raw) == 0 {
		return nil
	}
	if trimmed := bytes.TrimLeft(raw, " \t\r\n"); len(trimmed) == 0 || trimmed[0] != '{' {
		return []string{errDetailsNotObject}
	}
	return nil
}

// validateChangeEvent checks a change event. Too many links answers with
// the {"error":[...]} shape PagerDuty uses for that case; every other
// violation uses the usual "invalid event" shape.
func validateChangeEvent(ev *changeEvent) *apiError {
	var errs []string
	errs = append(errs, checkRoutingKey(ev.RoutingKey)...)
	p := ev.Payload
	if p == nil {
		p = &changePayload{}
	}
	if strings.HasPrefix(ev.RoutingKey, "R") {
		errs = append(errs, errChangeToRuleset)
	}
	errs = append(errs, checkSummary(p.Summary)...)
	errs = append(errs, checkTimestamp(p.Timestamp)...)
	errs = append(errs, checkDetails(p.CustomDetails)...)
	if len(ev.Links) > maxLinksOrImage {
		return &apiError{400, changeErrorResponse{Error: append([]string{errChangeLinksTooMany}, errs...)}}
	}
	errs = append(errs, checkLinks(ev.Links)...)
	if len(errs) > 0 {
		return invalid(errs...)
	}
	return nil
}

func checkRoutingKey(k string) []string {
	if k == "" {
		return []string{"'routing_key' is missing or blank"}
	}
	var errs []string
	if utf8.RuneCountInString(k) != routingKeyLen {
		errs = append(errs, errRoutingKeyLength)
	}
	if strings.ContainsFunc(k, func(r rune) bool { return r > unicode.MaxASCII || !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
		errs = append(errs, errRoutingKeyCharacters)
	}
	return errs
}

// checkSummary refuses a summary over 1024 characters counted either way
// PagerDuty's stack may count them: code points, or UTF-16 code units (so
// 1024 emoji, 2048 units, are too long).
func checkSummary(s string) []string {
	switch {
	case strings.TrimSpace(s) == "":
		return []string{"'payload.summary' is missing or blank"}
	case utf8.RuneCountInString(s) > maxSummaryLen || len(utf16.Encode([]rune(s))) > maxSummaryLen:
		return []string{errSummaryTooLong}
	}
	return nil
}

func checkTimestamp(ts string) []string {
	if ts == "" {
		return nil
	}
	if _, err := parseTimestamp(ts); err != nil {
		return []string{"'payload.timestamp' is not a valid ISO 8601 timestamp"}
	}
	return nil
}

// timestampLayouts are the ISO 8601 forms accepted: RFC 3339 (fractional
// seconds optional) and PagerDuty's own example form with a "+0000" offset.
// Fractional seconds are optional when parsing either layout.
var timestampLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999-0700",
}

func parseTimestamp(ts string) (time.Time, error) {
	var err error
	for _, layout := range timestampLayouts {
		var t time.Time
		if t, err = time.Parse(layout, ts); err == nil {
			return t, nil
		}
	}
	return time.Time{}, err
}
