package pagerdutyexporter // import "github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter"

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/eventsapi"
	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/metadata"
)

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

// backlog counts, per route, the log records the exporter holds and has not
// settled: added when a record is queued, taken off when its event is
// accepted, suppressed or rejected, or when the retry sender gives up on it.
//
// The retry sender does not say when it gives up, so records handed back for
// a retry are remembered with the time they were; a request not seen again
// within retry_on_failure.max_elapsed_time plus max_interval was given up.
// After a restart, records read back from a persistent queue were never
// counted: they are not added, and a count never goes below zero, so the
// gauge reads low until the route's backlog first empties.
type backlog struct {
	giveUpAfter time.Duration // 0: never given up

	mu      sync.Mutex
	records map[string]int64
	retries map[plog.Logs]retry
}

// retry is a request handed back to the retry sender.
type retry struct {
	route   string
	records int
	at      time.Time
}

func newBacklog(routes []string, giveUpAfter time.Duration) *backlog {
	b := &backlog{giveUpAfter: giveUpAfter, records: make(map[string]int64, len(routes)), retries: map[plog.Logs]retry{}}
	for _, route := range routes {
		b.records[route] = 0
	}
	return b
}

func (b *backlog) add(route string, n int) {
	b.mu.Lock()
	b.records[route] += int64(n)
	b.mu.Unlock()
}

func (b *backlog) settle(route string, n int) {
	b.mu.Lock()
	b.records[route] = max(b.records[route]-int64(n), 0)
	b.mu.Unlock()
}

// retrying notes that ld goes back to the retry sender; taken forgets it
// when the retry sender hands it back.
func (b *backlog) retrying(ld plog.Logs, route string, now time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	// Swept here too, not only when observed: without a metric reader the
	// requests given up on would stay, data and all.
	b.settleGivenUp(now)
	b.retries[ld] = retry{route: route, records: ld.LogRecordCount(), at: now}
}

func (b *backlog) taken(ld plog.Logs) {
	b.mu.Lock()
	delete(b.retries, ld)
	b.mu.Unlock()
}

// observe calls fn with each route's count, first settling the requests the
// retry sender gave up on.
func (b *backlog) observe(now time.Time, fn func(route string, records int64)) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.settleGivenUp(now)
	for route, n := range b.records {
		fn(route, n)
	}
}

// settleGivenUp settles the requests the retry sender has surely given up
// on by now. b.mu must be held.
func (b *backlog) settleGivenUp(now time.Time) {
	if b.giveUpAfter == 0 {
		return
	}
	for ld, r := range b.retries {
		if now.Sub(r.at) > b.giveUpAfter {
			b.records[r.route] = max(b.records[r.route]-int64(r.records), 0)
			delete(b.retries, ld)
		}
	}
}
