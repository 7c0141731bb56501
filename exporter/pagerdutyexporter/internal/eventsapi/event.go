// Package eventsapi is the PagerDuty Events API v2 client: the wire form of
// alert and change events, the limits PagerDuty enforces on them, one HTTP
// attempt per call with its response read as an outcome (accepted, rejected,
// throttled, failed) and the delay the server asked for, and a rate limiter
// per routing key. What an outcome means to a retry policy is the caller's
// to decide.
package eventsapi // import "github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/eventsapi"

// Limits PagerDuty enforces on an event. A request that breaks one is
// answered 400 and never delivered, so every event is fitted within them
// before it is sent. None of them is in the Events API's JSON schema: they
// come from PagerDuty's prose documentation, linked from each.
const (
	// MaxRequestBytes is the largest request body, in bytes: "Events API
	// payloads are limited to 512 KB"
	// (https://developer.pagerduty.com/docs/events-api-v2-overview#size-limits).
	// KB is read as 1,000 bytes, the stricter of its two readings.
	MaxRequestBytes = 512000
	// MaxSummaryRunes is the most characters payload.summary may hold, in
	// alert and change events alike: "The maximum permitted length of this
	// property is 1024 characters"
	// (https://developer.pagerduty.com/docs/send-alert-event,
	// https://developer.pagerduty.com/docs/send-change-event). A longer
	// summary is refused, not cut. Summaries are measured in UTF-16 code
	// units, never fewer than code points, so that either reading of
	// "characters" is met.
	MaxSummaryRunes = 1024
	// MaxDedupKeyLen is the longest dedup_key, in characters: "The maximum
	// permitted length of this property is 255 characters"
	// (https://developer.pagerduty.com/docs/send-alert-event). Keys are
	// measured in bytes, never fewer than characters, and a longer key is
	// replaced by its hash rather than refused.
	MaxDedupKeyLen = 255
	// MaxLinks is the most entries links may hold. PagerDuty's documents
	// state no cap, but the change events endpoint answers a 51st link with
	// 400 "links should have at most 50 item(s)"
	// (https://github.com/PagerDuty/go-pagerduty/issues/478); alert events
	// are held to the same cap, as nothing says theirs is larger.
	MaxLinks = 50
	// MaxImages is the most entries images may hold: the cap of MaxLinks,
	// for the same reason.
	MaxImages = 50
	// RoutingKeyLen is the length of an integration key, in characters:
	// "the 32 character Integration Key"
	// (https://developer.pagerduty.com/docs/send-alert-event). Any other
	// length is answered 400, which is why the configuration is checked
	// against it at startup.
	RoutingKeyLen = 32
)

// Action is an alert event's event_action, or Change for a change event.
// What each action does to the alert of its dedup key is stated in
// https://developer.pagerduty.com/docs/send-alert-event#alert-de-duplication.
type Action string

const (
	// Trigger opens an alert, or adds to the open alert of its dedup key.
	// After that alert is resolved, it opens a new one.
	Trigger Action = "trigger"
	// Acknowledge acknowledges the open alert of its dedup key. It never
	// opens one: PagerDuty drops it when the key has no open alert, or when
	// it comes under another routing key than the trigger did.
	Acknowledge Action = "acknowledge"
	// Resolve resolves the open alert of its dedup key, and is dropped as
	// Acknowledge is.
	Resolve Action = "resolve"
	// Change marks a change event; it is never written as an event_action.
	Change Action = "change"
)

// Severities PagerDuty accepts in payload.severity, the only four the
// Events API takes
// (https://developer.pagerduty.com/api-reference/368ae3d938c9e-send-an-event-to-pager-duty).
// They rank how badly the affected system is hit, and influence the
// priority of the incident
// (https://developer.pagerduty.com/docs/events-api-v2-overview#pagerduty-common-event-format-pd-cef).
const (
	SeverityCritical = "critical"
	SeverityError    = "error"
	SeverityWarning  = "warning"
	SeverityInfo     = "info"
)

// ValidSeverity reports whether s is one of PagerDuty's four severities.
func ValidSeverity(s string) bool {
	switch s {
	case SeverityCritical, SeverityError, SeverityWarning, SeverityInfo:
		return true
	}
	return false
}

// Event is one alert or change event. Its JSON form is written by AppendJSON
// so that custom details, encoded once, can be shed without re-encoding.
// Empty optional fields are left out of the request.
type Event struct {
	// RoutingKey is the integration key, RoutingKeyLen characters; it picks
	// the service (or ruleset) the event goes to.
	RoutingKey string
	// Action is the event's event_action, or Change.
	Action Action
	// DedupKey identifies the alert an event acts on, at most
	// MaxDedupKeyLen characters. Acknowledge and Resolve need one; a Trigger
	// without one always opens a new alert, under a key PagerDuty makes up.
	// Change events have none.
	DedupKey string
	// Payload is the event's payload object.
	Payload Payload
	// Links are written as links, at most MaxLinks of them.
	Links []Link
	// Images are written as images, at most MaxImages of them, on alert
	// events only: PagerDuty's change events take links alone
	// (https://developer.pagerduty.com/docs/send-change-event).
	Images []Image
	// Client and ClientURL name the monitoring client that sent the event;
	// PagerDuty shows them as a "View in <client>" link. They are written
	// on triggers only, the only events PagerDuty reads them from
	// (https://developer.pagerduty.com/api-reference/368ae3d938c9e-send-an-event-to-pager-duty).
	Client    string
	ClientURL string
}

// Payload is the event's payload object. Severity, Component, Group and
// Class are left empty for change events, which have no such fields.
type Payload struct {
	// Summary is the alert's or change's title, at most MaxSummaryRunes
	// characters. PagerDuty requires it.
	Summary string
	// Source is the affected system, preferably a host name. Alert events
	// require it; change events may leave it empty.
	Source string
	// Severity is one of the Severity constants; alert events require it.
	Severity string
	// Timestamp is when the source saw the event, as ISO 8601 text. Empty
	// lets PagerDuty use the time it received the event.
	Timestamp string
	// Component, Group and Class place and classify the problem: the broken
	// part of Source (mysql), the cluster Source belongs to (prod-datapipe),
	// and the kind of event (High CPU).
	Component string
	Group     string
	Class     string
	// Details are the custom_details members in order, each value already
	// encoded as JSON; nil writes no custom_details.
	Details []Detail
}

// Detail is one member of custom_details.
type Detail struct {
	// Key is the member's name, as text: AppendJSON escapes it.
	Key string
	// JSON is the member's value, already encoded as JSON.
	JSON []byte
}

// Link is an entry of links.
type Link struct {
	// Href is the link's URL. PagerDuty requires it.
	Href string
	// Text says what the link is for.
	Text string
}

// Image is an entry of images.
type Image struct {
	// Src is the image's URL. PagerDuty requires it, and shows only an image
	// "served via HTTPS"
	// (https://developer.pagerduty.com/docs/send-alert-event).
	Src string
	// Href makes the image a link to it; empty leaves it plain.
	Href string
	// Alt is the image's alternative text.
	Alt string
}

// IsChange reports whether the event goes to the change events endpoint.
func (e *Event) IsChange() bool { return e.Action == Change }

// AppendJSON appends the request body for e to buf.
func (e *Event) AppendJSON(buf []byte) []byte {
	buf = append(buf, `{"routing_key":`...)
	buf = AppendString(buf, e.RoutingKey)
	if !e.IsChange() {
		buf = append(buf, `,"event_action":`...)
		buf = AppendString(buf, string(e.Action))
		if e.DedupKey != "" {
			buf = append(buf, `,"dedup_key":`...)
			buf = AppendString(buf, e.DedupKey)
		}
	}
	buf = append(buf, `,"payload":{"summary":`...)
	p := &e.Payload
	buf = AppendString(buf, p.Summary)
	buf = appendOptional(buf, "source", p.Source)
	buf = appendOptional(buf, "severity", p.Severity)
	buf = appendOptional(buf, "timestamp", p.Timestamp)
	buf = appendOptional(buf, "component", p.Component)
	buf = appendOptional(buf, "group", p.Group)
	buf = appendOptional(buf, "class", p.Class)
	buf = appendDetails(buf, p.Details)
	buf = append(buf, '}')
	buf = appendLinks(buf, e.Links)
	if !e.IsChange() {
		buf = appendImages(buf, e.Images)
	}
	if e.Action == Trigger {
		buf = appendOptional(buf, "client", e.Client)
		buf = appendOptional(buf, "client_url", e.ClientURL)
	}
	return append(buf, '}')
}

func appendOptional(buf []byte, name, value string) []byte {
	if value == "" {
		return buf
	}
	buf = append(buf, ',', '"')
	buf = append(buf, name...)
	buf = append(buf, '"', ':')
	return AppendString(buf, value)
}

// appendDetails appends custom_details, when there are any.
func appendDetails(buf []byte, details []Detail) []byte {
	if len(details) == 0 {
		return buf
	}
	buf = append(buf, `,"custom_details":{`...)
	for i, d := range details {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = AppendString(buf, d.Key)
		buf = append(buf, ':')
		buf = append(buf, d.JSON...)
	}
	return append(buf, '}')
}

// appendLinks appends links, when there are any.
func appendLinks(buf []byte, links []Link) []byte {
	if len(links) == 0 {
		return buf
	}
	buf = append(buf, `,"links":[`...)
	for i, l := range links {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, `{"href":`...)
		buf = AppendString(buf, l.Href)
		buf = appendOptional(buf, "text", l.Text)
		buf = append(buf, '}')
	}
	return append(buf, ']')
}

// appendImages appends images, when there are any.
func appendImages(buf []byte, images []Image) []byte {
	if len(images) == 0 {
		return buf
	}
	buf = append(buf, `,"images":[`...)
	for i, img := range images {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, `{"src":`...)
		buf = AppendString(buf, img.Src)
		buf = appendOptional(buf, "href", img.Href)
		buf = appendOptional(buf, "alt", img.Alt)
		buf = append(buf, '}')
	}
	return append(buf, ']')
}
