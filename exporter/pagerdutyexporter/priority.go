package pagerdutyexporter // import "github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter"

import "github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/eventsapi"

// priority is an event's class in its route's queues and at its rate
// limiter; lower goes first. Critical triggers lead: they are the pages that
// wake someone. Acknowledge and resolve come next: they stop escalations and
// re-notifications of incidents already paging people, and never page anyone
// themselves. Then error, warning and info triggers, and last change events,
// which open no incident and notify no one.
type priority uint8

const (
	priorityCritical priority = iota
	priorityAckResolve
	priorityError
	priorityWarning
	priorityInfo
	priorityChange
	numPriorities
)

var priorityNames = [numPriorities]string{"critical", "ack_resolve", "error", "warning", "info", "change"}

func (p priority) String() string { return priorityNames[p] }

// priorityOf classes an identified event.
func priorityOf(ev *eventsapi.Event) priority {
	switch ev.Action {
	case eventsapi.Change:
		return priorityChange
	case eventsapi.Acknowledge, eventsapi.Resolve:
		return priorityAckResolve
	}
	switch ev.Payload.Severity {
	case eventsapi.SeverityCritical:
		return priorityCritical
	case eventsapi.SeverityWarning:
		return priorityWarning
	case eventsapi.SeverityInfo:
		return priorityInfo
	}
	return priorityError
}
