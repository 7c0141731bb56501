package pagerdutyexporter // import "github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter"

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/dedup"
	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/eventsapi"
	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/metadata"
	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/recordmap"
)

// rejectReasons lists every reason a record is rejected.
var rejectReasons = []string{
	recordmap.RejectUnknownEventType, recordmap.RejectUnknownEventAction, rejectNoRoutingKey, rejectByAPI, eventsapi.RejectChangeToRulesetKey,
}

// series lists, per counter, every attribute combination the exporter can
// record, all known from the configuration.
type series struct {
	events, requests, suppressed, repaired, rejected, perRoute []attrKey
	// durations and waits are the histograms' combinations.
	durations, waits []attrKey
}

func knownSeries(routes []string) series {
	var s series
	actions := []string{string(eventsapi.Trigger), string(eventsapi.Acknowledge), string(eventsapi.Resolve), string(eventsapi.Change)}
	for _, route := range routes {
		for _, action := range actions {
			for _, outcome := range eventsapi.Outcomes {
				s.events = append(s.events, attrKey{"event_action", action, "outcome", outcome.String(), "routing", route})
			}
		}
		s.perRoute = append(s.perRoute, attrKey{"routing", route})
		for p := range numPriorities {
			s.waits = append(s.waits, attrKey{"priority", p.String(), "routing", route})
		}
	}
	// Change events are never suppressed; only a trigger is a duplicate,
	// only an acknowledge or resolve already applied.
	for _, action := range actions[:3] {
		for _, reason := range dedup.Reasons {
			if (reason == dedup.ReasonDuplicate) == (action == string(eventsapi.Trigger)) || reason == dedup.ReasonStale {
				s.suppressed = append(s.suppressed, attrKey{"event_action", action, "reason", reason})
			}
		}
	}
	for _, endpoint := range []string{eventsapi.EnqueuePath, eventsapi.ChangeEnqueuePath} {
		s.durations = append(s.durations, attrKey{"endpoint", endpoint})
		for _, class := range []string{"2xx", "3xx", "4xx", "5xx", "transport"} {
			s.requests = append(s.requests, attrKey{"endpoint", endpoint, "status_class", class})
		}
	}
	for r := range (^recordmap.Repairs(0)).All() {
		s.repaired = append(s.repaired, attrKey{"reason", r.String()})
	}
	for _, reason := range rejectReasons {
		s.rejected = append(s.rejected, attrKey{"reason", reason})
	}
	return s
}

// zero records 0 for every counter series, so that each exists from the
// start: rate() and increase() see the first event after a start only if
// the series was there before it.
func (s series) zero(ctx context.Context, tb *metadata.TelemetryBuilder, a *attrSets) {
	for _, c := range []struct {
		counter metric.Int64Counter
		keys    []attrKey
	}{
		{tb.ExporterPagerdutyEvents, s.events},
		{tb.ExporterPagerdutyRequests, s.requests},
		{tb.ExporterPagerdutySuppressed, s.suppressed},
		{tb.ExporterPagerdutyRecordsRepaired, s.repaired},
		{tb.ExporterPagerdutyRecordsRejected, s.rejected},
		{tb.ExporterPagerdutyThrottled, s.perRoute},
	} {
		for _, k := range c.keys {
			c.counter.Add(ctx, 0, a.of(k))
		}
	}
	for _, k := range s.perRoute {
		tb.ExporterPagerdutyRateLimitWait.Add(ctx, 0, a.of(k))
	}
}

// attrSets are the attribute sets the exporter's metrics are recorded with,
// built once: every value they take is known from the configuration, and
// building a set per event would cost more than mapping the record. Every
// set carries the exporter's component ID, so that two pagerduty exporters
// in one collector have series of their own.
type attrSets struct {
	exporter attribute.KeyValue
	sets     map[attrKey]metric.MeasurementOption
}

func newAttrSets(exporterID string, s series) *attrSets {
	a := &attrSets{exporter: attribute.String("exporter", exporterID), sets: map[attrKey]metric.MeasurementOption{}}
	for _, keys := range [][]attrKey{s.events, s.requests, s.suppressed, s.repaired, s.rejected, s.perRoute, s.durations, s.waits, {{}}} {
		for _, k := range keys {
			a.sets[k] = a.build(k)
		}
	}
	return a
}

// attrKey holds up to three attribute names, each followed by its value; an
// array, unlike a slice, is looked up without allocating. The zero attrKey
// stands for the exporter's ID alone.
type attrKey [6]string

// of returns the option for k, built on the spot for a combination
// knownSeries did not foresee.
func (a *attrSets) of(k attrKey) metric.MeasurementOption {
	if opt, ok := a.sets[k]; ok {
		return opt
	}
	return a.build(k)
}

func (a *attrSets) build(k attrKey) metric.MeasurementOption {
	attrs := make([]attribute.KeyValue, 1, 1+len(k)/2)
	attrs[0] = a.exporter
	for i := 0; i+1 < len(k) && k[i] != ""; i += 2 {
		attrs = append(attrs, attribute.String(k[i], k[i+1]))
	}
	return metric.WithAttributeSet(attribute.NewSet(attrs...))
}
