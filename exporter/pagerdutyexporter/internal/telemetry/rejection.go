package telemetry // import "github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/telemetry"

import (
	"errors"

	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/eventsapi"
	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/recordmap"
)

// Rejection is why a record is dropped without an event reaching PagerDuty.
type Rejection uint8

const (
	RejectUnknownEventType Rejection = iota
	RejectUnknownEventAction
	RejectNoRoutingKey
	RejectByAPI
	RejectChangeToRulesetKey
	numRejections
)

var rejectionNames = [numRejections]string{
	recordmap.RejectUnknownEventType, recordmap.RejectUnknownEventAction, "no_routing_key", "api_rejected", eventsapi.RejectChangeToRulesetKey,
}

func (r Rejection) String() string { return rejectionNames[r] }

// MappingRejection is the Rejection a mapping error names; the mapping's
// catch-all for an error that names none.
func MappingRejection(err error) Rejection {
	if rejected, ok := errors.AsType[*recordmap.RejectError](err); ok && rejected.Reason == recordmap.RejectUnknownEventAction {
		return RejectUnknownEventAction
	}
	return RejectUnknownEventType
}
