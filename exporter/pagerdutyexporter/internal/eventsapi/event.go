// Package eventsapi is the PagerDuty Events API v2 client: the wire form of
// alert and change events, the limits PagerDuty enforces on them, one HTTP
// attempt per call with its response mapped to the collector's permanent,
// retryable and throttle errors, and a rate limiter per routing key.
package eventsapi // import "github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/eventsapi"

// Limits PagerDuty enforces on an event; a request that breaks one is
// answered 400 and never delivered.
const (
	MaxRequestBytes = 512000
	MaxSummaryRunes = 1024
	MaxDedupKeyLen  = 255
	MaxLinks        = 50
	MaxImages       = 50
	RoutingKeyLen   = 32
)

// Action is an alert event's event_action, or Change for a change event.
type Action string

const (
	Trigger     Action = "trigger"
	Acknowledge Action = "acknowledge"
	Resolve     Action = "resolve"
	// Change marks a change event; it is never written as an event_action.
	Change Action = "change"
)

// Severities PagerDuty accepts in payload.severity.
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
type Event struct {
	RoutingKey string
	Action     Action
	DedupKey   string
	Payload    Payload
	Links      []Link
	Images     []Image
	// Client and ClientURL name the monitoring client that sent the event;
	// PagerDuty shows them as a "View in <client>" link. They are written
	// on triggers only, the only events PagerDuty reads them from.
	Client    string
	ClientURL string
}

// Payload is the event's payload object. Severity, Component, Group and
// Class are left empty for change events.
type Payload struct {
	Summary   string
	Source    string
	Severity  string
	Timestamp string
	Component string
	Group     string
	Class     string
	// Details are the custom_details members in order, each value already
	// encoded as JSON.
	Details []Detail
}

// Detail is one member of custom_details.
type Detail struct {
	Key  string
	JSON []byte
}

// Link is an entry of links.
type Link struct {
	Href string
	Text string
}

// Image is an entry of images; PagerDuty requires Src and serves it only
// over HTTPS.
type Image struct {
	Src  string
	Href string
	Alt  string
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
	if len(p.Details) > 0 {
		buf = append(buf, `,"custom_details":{`...)
		for i, d := range p.Details {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = AppendString(buf, d.Key)
			buf = append(buf, ':')
			buf = append(buf, d.JSON...)
		}
		buf = append(buf, '}')
	}
	buf = append(buf, '}')
	if len(e.Links) > 0 {
		buf = append(buf, `,"links":[`...)
		for i, l := range e.Links {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = append(buf, `{"href":`...)
			buf = AppendString(buf, l.Href)
			buf = appendOptional(buf, "text", l.Text)
			buf = append(buf, '}')
		}
		buf = append(buf, ']')
	}
	if len(e.Images) > 0 && !e.IsChange() {
		buf = append(buf, `,"images":[`...)
		for i, img := range e.Images {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = append(buf, `{"src":`...)
			buf = AppendString(buf, img.Src)
			buf = appendOptional(buf, "href", img.Href)
			buf = appendOptional(buf, "alt", img.Alt)
			buf = append(buf, '}')
		}
		buf = append(buf, ']')
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
