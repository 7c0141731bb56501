package routes // import "github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/routes"

import "github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/eventsapi"

// Priority is an event's class in its route's queues and at its rate
// limiter; lower goes first. Critical triggers lead: they are the pages that
// wake someone. Acknowledge and resolve come next: they stop escalations and
// re-notifications of incidents already paging people, and never page anyone
// themselves. Then error, warning and info triggers, and last change events,
// which open no incident and notify no one.
type Priority uint8

const (
	PriorityCritical Priority = iota
	PriorityAckResolve
	PriorityError
	PriorityWarning
	PriorityInfo
	PriorityChange
	// NumPriorities counts the priorities, for arrays indexed by them.
	NumPriorities
)

var priorityNames = [NumPriorities]string{"critical", "ack_resolve", "error", "warning", "info", "change"}

func (p Priority) String() string { return priorityNames[p] }

// ParsePriority is the priority named name.
func ParsePriority(name string) (Priority, bool) {
	for p := range NumPriorities {
		if p.String() == name {
			return p, true
		}
	}
	return 0, false
}

// PriorityOf classes an identified event.
func PriorityOf(ev *eventsapi.Event) Priority {
	switch ev.Action {
	case eventsapi.Change:
		return PriorityChange
	case eventsapi.Acknowledge, eventsapi.Resolve:
		return PriorityAckResolve
	}
	switch ev.Payload.Severity {
	case eventsapi.SeverityCritical:
		return PriorityCritical
	case eventsapi.SeverityWarning:
		return PriorityWarning
	case eventsapi.SeverityInfo:
		return PriorityInfo
	}
	return PriorityError
}

// Queue names one of the exporter's sending queues: a route's queue of one
// priority.
type Queue struct {
	Route    string
	Priority Priority
}
