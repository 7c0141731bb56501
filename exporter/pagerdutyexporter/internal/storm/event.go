package storm // import "github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/storm"

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/eventsapi"
	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/road"
	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/routes"
)

// severities name the waiting events of each priority in the digest's
// custom_details, and give its severity: the most urgent waiting trigger's.
var severities = [routes.NumPriorities]string{
	routes.PriorityCritical:   eventsapi.SeverityCritical,
	routes.PriorityAckResolve: "acknowledge_or_resolve",
	routes.PriorityError:      eventsapi.SeverityError,
	routes.PriorityWarning:    eventsapi.SeverityWarning,
	routes.PriorityInfo:       eventsapi.SeverityInfo,
	routes.PriorityChange:     "change",
}

// triggerEvent is the digest of rt's waiting events w: it opens the
// digest's incident, or updates it with new counts.
func (d *Digests) triggerEvent(rt *routes.Route, w *road.Waiting) *eventsapi.Event {
	total := w.Total()
	toDeliver := d.drain(total).Round(time.Second)
	severity := eventsapi.SeverityInfo
	for _, p := range []routes.Priority{routes.PriorityInfo, routes.PriorityWarning, routes.PriorityError, routes.PriorityCritical} {
		if w.Records[p] > 0 {
			severity = severities[p]
		}
	}
	waiting := map[string]int64{}
	for p, n := range w.Records {
		waiting[severities[p]] = n
	}
	details := []eventsapi.Detail{
		detail("waiting", waiting),
		detail("to_deliver", toDeliver.String()),
		detail("events_per_minute", d.cfg.EventsPerMinute),
	}
	if len(w.Names) > 0 {
		details = append(details, detail("first_alerts", w.Names))
	}
	return &eventsapi.Event{
		RoutingKey: rt.Key,
		Action:     eventsapi.Trigger,
		DedupKey:   DedupKeyPrefix + rt.Name,
		Payload: eventsapi.Payload{
			Summary: fmt.Sprintf("Alert storm on %s: %d alerts waiting, about %s to deliver at %d/min",
				rt.Name, total, toDeliver, d.cfg.EventsPerMinute),
			Source:   d.cfg.Source,
			Severity: severity,
			Class:    "alert storm",
			Details:  details,
		},
	}
}

// resolveEvent resolves rt's digest.
func resolveEvent(rt *routes.Route) *eventsapi.Event {
	return &eventsapi.Event{RoutingKey: rt.Key, Action: eventsapi.Resolve, DedupKey: DedupKeyPrefix + rt.Name}
}

// detail is a custom_details member; its values are the digest's own, which
// always encode.
func detail(key string, value any) eventsapi.Detail {
	b, _ := json.Marshal(value)
	return eventsapi.Detail{Key: key, JSON: b}
}
