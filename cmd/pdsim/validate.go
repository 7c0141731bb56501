package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
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
	Summary   string `json:"summary"`
	Source    string `json:"source"`
	Severity  string `json:"severity"`
	Timestamp string `json:"timestamp"`
	Component string `json:"component"`
	Group     string `json:"group"`
	Class     string `json:"class"`
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
		errs = append(errs, "'payload.source' is missing or blank")
	}
	switch {
	case p.Severity == "":
		errs = append(errs, "'payload.severity' is missing or blank")
	case !slices.Contains(validSeverities, p.Severity):
		errs = append(errs, "'payload.severity' is invalid (must be one of: "+strings.Join(validSeverities, ", ")+")")
	}
	errs = append(errs, checkTimestamp(p.Timestamp)...)
	if len(ev.Links) > maxLinksOrImage {
		errs = append(errs, fmt.Sprintf("'links' has too many items (maximum is %d)", maxLinksOrImage))
	}
	for i, l := range ev.Links {
		if strings.TrimSpace(l.Href) == "" {
			errs = append(errs, fmt.Sprintf("'links[%d].href' is missing or blank", i))
		}
	}
	if len(ev.Images) > maxLinksOrImage {
		errs = append(errs, fmt.Sprintf("'images' has too many items (maximum is %d)", maxLinksOrImage))
	}
	for i, im := range ev.Images {
		if strings.TrimSpace(im.Src) == "" {
			errs = append(errs, fmt.Sprintf("'images[%d].src' is missing or blank", i))
		}
	}
	return errs
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
	errs = append(errs, checkSummary(p.Summary)...)
	errs = append(errs, checkTimestamp(p.Timestamp)...)
	if len(ev.Links) > maxLinksOrImage {
		msg := fmt.Sprintf("links should have at most %d item(s)", maxLinksOrImage)
		return &apiError{400, changeErrorResponse{Error: append([]string{msg}, errs...)}}
	}
	if len(errs) > 0 {
		return invalid(errs...)
	}
	return nil
}

func checkRoutingKey(k string) []string {
	switch {
	case k == "":
		return []string{"'routing_key' is missing or blank"}
	case utf8.RuneCountInString(k) != routingKeyLen:
		return []string{fmt.Sprintf("Length of 'routing_key' is incorrect (should be %d characters)", routingKeyLen)}
	}
	return nil
}

func checkSummary(s string) []string {
	switch {
	case strings.TrimSpace(s) == "":
		return []string{"'payload.summary' is missing or blank"}
	case utf8.RuneCountInString(s) > maxSummaryLen:
		return []string{fmt.Sprintf("'payload.summary' is too long (maximum is %d characters)", maxSummaryLen)}
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
