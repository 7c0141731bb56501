package pagerdutyexporter // import "github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter"

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exporterhelper"

	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/metadata"
)

// queueKey names one of the exporter's sending queues.
type queueKey struct {
	route    string
	priority priority
}

// queues are the exporter's sending queues, one per route and priority, each
// an exporterhelper with the configured sending_queue and retry_on_failure:
// a backlog on one route, or of one priority, never holds up another's
// consumers. Each has its own ID, so a persistent queue gets its own client
// of the storage extension.
type queues struct {
	byKey map[queueKey]exporter.Logs
	order []queueKey // start order; shut down in reverse
}

// newQueues builds the queues of every route; deliver returns a queue's push.
func newQueues(ctx context.Context, set exporter.Settings, cfg *Config, routes []string, deliver func(queueKey) consumer.ConsumeLogsFunc) (*queues, error) {
	q := &queues{byKey: make(map[queueKey]exporter.Logs, len(routes)*int(numPriorities))}
	for _, route := range routes {
		for p := range numPriorities {
			key := queueKey{route, p}
			inner := set
			inner.ID = queueID(set.ID, route, p)
			exp, err := exporterhelper.NewLogs(ctx, inner, cfg, deliver(key),
				exporterhelper.WithCapabilities(consumer.Capabilities{MutatesData: false}),
				// The HTTP client's timeout bounds each request; a push may hold many.
				exporterhelper.WithTimeout(exporterhelper.TimeoutConfig{Timeout: 0}),
				exporterhelper.WithRetry(cfg.BackOffConfig),
				exporterhelper.WithQueue(cfg.QueueConfig),
			)
			if err != nil {
				return nil, fmt.Errorf("creating the %s queue of route %q: %w", p, route, err)
			}
			q.byKey[key] = exp
			q.order = append(q.order, key)
		}
	}
	return q, nil
}

// queueID is the ID of a route's queue of one priority: the exporter's own
// ID with the route and priority appended, as in pagerduty/checkout/critical
// or pagerduty/prod/checkout/critical. Route names are escaped so that
// distinct routes never share an ID, and so a storage file.
func queueID(id component.ID, route string, p priority) component.ID {
	parts := []string{escapeRoute(route), p.String()}
	if id.Name() != "" {
		parts = slices.Insert(parts, 0, id.Name())
	}
	return component.NewIDWithName(metadata.Type, strings.Join(parts, "/"))
}

// escapeRoute keeps letters, digits, '_', '-' and '.', and writes every
// other byte as %XX.
func escapeRoute(route string) string {
	var b strings.Builder
	for i := range len(route) {
		c := route[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

func (q *queues) start(ctx context.Context, host component.Host) error {
	for _, key := range q.order {
		if err := q.byKey[key].Start(ctx, host); err != nil {
			return fmt.Errorf("starting the %s queue of route %q: %w", key.priority, key.route, err)
		}
	}
	return nil
}

// shutdown stops the queues, most urgent last, so that while the others
// drain or persist their contents the urgent ones still send.
func (q *queues) shutdown(ctx context.Context) error {
	var errs []error
	for _, key := range slices.Backward(q.order) {
		if err := q.byKey[key].Shutdown(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
