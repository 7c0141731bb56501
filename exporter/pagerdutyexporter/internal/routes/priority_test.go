package routes

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/eventsapi"
)

func TestPriorityOf(t *testing.T) {
	tests := []struct {
		action   eventsapi.Action
		severity string
		want     Priority
	}{
		{eventsapi.Trigger, eventsapi.SeverityCritical, PriorityCritical},
		{eventsapi.Trigger, eventsapi.SeverityError, PriorityError},
		{eventsapi.Trigger, eventsapi.SeverityWarning, PriorityWarning},
		{eventsapi.Trigger, eventsapi.SeverityInfo, PriorityInfo},
		{eventsapi.Acknowledge, eventsapi.SeverityInfo, PriorityAckResolve},
		{eventsapi.Resolve, eventsapi.SeverityCritical, PriorityAckResolve},
		{eventsapi.Change, "", PriorityChange},
	}
	for _, tc := range tests {
		ev := &eventsapi.Event{Action: tc.action, Payload: eventsapi.Payload{Severity: tc.severity}}
		assert.Equal(t, tc.want, PriorityOf(ev), "%s %s", tc.action, tc.severity)
	}
	// Most urgent first, in the order docs/glossary.md gives.
	assert.Equal(t, [NumPriorities]string{"critical", "ack_resolve", "error", "warning", "info", "change"}, priorityNames)
	for p := range NumPriorities {
		got, ok := ParsePriority(p.String())
		assert.True(t, ok)
		assert.Equal(t, p, got)
	}
	_, ok := ParsePriority("urgent")
	assert.False(t, ok)
}
