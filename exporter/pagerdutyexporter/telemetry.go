package pagerdutyexporter // import "github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter"

import (
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/dedup"
	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/eventsapi"
	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/recordmap"
)

// attrSets are the attribute sets the exporter's metrics are recorded with,
// built once: every value they take is known from the configuration, and
// building a set per event would cost more than mapping the record.
type attrSets struct {
	sets map[attrKey]metric.MeasurementOption
}

func newAttrSets(routes []string) *attrSets {
	a := &attrSets{sets: map[attrKey]metric.MeasurementOption{}}
	actions := []string{string(eventsapi.Trigger), string(eventsapi.Acknowledge), string(eventsapi.Resolve), string(eventsapi.Change)}
	for _, route := range routes {
		for _, action := range actions {
			for _, outcome := range eventsapi.Outcomes {
				a.add("event_action", action, "outcome", outcome.String(), "routing", route)
			}
		}
		a.add("routing", route)
		for p := range numPriorities {
			a.add("priority", p.String(), "routing", route)
		}
	}
	for _, action := range actions {
		for _, reason := range dedup.Reasons {
			a.add("event_action", action, "reason", reason)
		}
	}
	for _, endpoint := range []string{eventsapi.EnqueuePath, eventsapi.ChangeEnqueuePath} {
		a.add("endpoint", endpoint)
		for _, class := range []string{"2xx", "3xx", "4xx", "5xx", "transport"} {
			a.add("endpoint", endpoint, "status_class", class)
		}
	}
	for r := range recordmap.Repairs(^uint16(0)).All() {
		a.add("reason", r.String())
	}
	for _, reason := range []string{recordmap.RejectUnknownEventType, recordmap.RejectUnknownEventAction, rejectNoRoutingKey, rejectByAPI} {
		a.add("reason", reason)
	}
	return a
}

func (a *attrSets) add(kv ...string) {
	var k attrKey
	copy(k[:], kv)
	a.sets[k] = metric.WithAttributeSet(k.set())
}

// attrKey holds up to three attribute names, each followed by its value; an
// array, unlike a slice, is looked up without allocating.
type attrKey [6]string

// of returns the option for k, built on the spot for a combination
// newAttrSets did not foresee.
func (a *attrSets) of(k attrKey) metric.MeasurementOption {
	if opt, ok := a.sets[k]; ok {
		return opt
	}
	return metric.WithAttributeSet(k.set())
}

func (k attrKey) set() attribute.Set {
	attrs := make([]attribute.KeyValue, 0, len(k)/2)
	for i := 0; i+1 < len(k) && k[i] != ""; i += 2 {
		attrs = append(attrs, attribute.String(k[i], k[i+1]))
	}
	return attribute.NewSet(attrs...)
}
