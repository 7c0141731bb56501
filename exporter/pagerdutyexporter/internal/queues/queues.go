package queues // import "github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/queues"

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/config/configretry"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/metadata"
	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/routes"
)

// Set holds the exporter's sending queues, one per route and priority, each
// an exporterhelper with the configured sending_queue and retry_on_failure:
// a backlog on one route, or of one priority, never holds up another's
// consumers. Each has its own ID, so a persistent queue gets its own client
// of the storage extension.
//
// A queue is built and started when the first record goes to it, so that a
// route costs nothing until it is used, and only the priorities it uses
// (see docs/rate-limits-and-storms.md, "Sizing"). A persistent queue is written into the
// directory before it takes a record, so that the next start reads back
// what it holds.
type Set struct {
	build func(routes.Queue) (exporter.Logs, error)
	// Set by Start.
	host      component.Host
	directory *Directory // nil: the queues are in memory

	// byKey is replaced, never changed: lookups take no lock.
	byKey   atomic.Pointer[map[routes.Queue]exporter.Logs]
	mu      sync.Mutex // serializes building, and shutdown
	stopped bool
}

// Config is what the queues take from the exporter.
type Config struct {
	// Settings and Exporter are the exporter's; each queue gets Settings
	// with an ID of its own (see queueID).
	Settings exporter.Settings
	Exporter component.Config
	// Queue and Retry are sending_queue and retry_on_failure.
	Queue configoptional.Optional[exporterhelper.QueueBatchConfig]
	Retry configretry.BackOffConfig
}

// New makes the exporter's queues; deliver returns a queue's push.
func New(ctx context.Context, cfg Config, deliver func(routes.Queue) consumer.ConsumeLogsFunc) *Set {
	s := &Set{build: func(key routes.Queue) (exporter.Logs, error) {
		inner := cfg.Settings
		inner.ID = queueID(cfg.Settings.ID, key.Route, key.Priority)
		return exporterhelper.NewLogs(ctx, inner, cfg.Exporter, deliver(key),
			exporterhelper.WithCapabilities(consumer.Capabilities{MutatesData: false}),
			// The HTTP client's timeout bounds each request; a push may hold many.
			exporterhelper.WithTimeout(exporterhelper.TimeoutConfig{Timeout: 0}),
			exporterhelper.WithRetry(cfg.Retry),
			exporterhelper.WithQueue(cfg.Queue),
		)
	}}
	s.byKey.Store(&map[routes.Queue]exporter.Logs{})
	return s
}

// queueID is the ID of a route's queue of one priority: the exporter's own
// ID with the route and priority appended, as in pagerduty/checkout/critical
// or pagerduty/prod/checkout/critical. Route names are escaped so that
// distinct routes never share an ID, and so a storage file.
func queueID(id component.ID, route string, p routes.Priority) component.ID {
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

// errQueuesStopped refuses records that arrive once shutdown has begun.
var errQueuesStopped = errors.New("the exporter is shutting down")

// Start keeps host for the queues to come, and starts at once the
// persistent queues directory lists (see Directory.open), after telling
// heldBack how many records each holds from before, before it delivers any.
func (q *Set) Start(ctx context.Context, host component.Host, directory *Directory, heldBack func(key routes.Queue, records int)) error {
	q.host, q.directory = host, directory
	if directory == nil {
		return nil
	}
	held, err := directory.open(ctx)
	if err != nil {
		return err
	}
	for _, h := range held {
		heldBack(h.key, h.records)
		if _, err := q.get(ctx, h.key); err != nil {
			return err
		}
	}
	return nil
}

// Consume hands ld to the queue of key, building it first if need be.
func (q *Set) Consume(ctx context.Context, key routes.Queue, ld plog.Logs) error {
	exp, ok := (*q.byKey.Load())[key]
	if !ok {
		var err error
		if exp, err = q.get(ctx, key); err != nil {
			return err
		}
	}
	return exp.ConsumeLogs(ctx, ld)
}

// get returns the queue of key, built and started if it was not. The queue
// outlives ctx, often a request's: it is started without its cancellation.
func (q *Set) get(ctx context.Context, key routes.Queue) (exporter.Logs, error) {
	ctx = context.WithoutCancel(ctx)
	q.mu.Lock()
	defer q.mu.Unlock()
	old := *q.byKey.Load()
	if exp, ok := old[key]; ok {
		return exp, nil
	}
	if q.stopped {
		return nil, errQueuesStopped
	}
	if q.directory != nil {
		// Before the queue holds anything, so that a crash cannot hide it.
		if err := q.directory.add(ctx, key); err != nil {
			return nil, err
		}
	}
	exp, err := q.build(key)
	if err != nil {
		return nil, fmt.Errorf("creating the %s queue of route %q: %w", key.Priority, key.Route, err)
	}
	if err := exp.Start(ctx, q.host); err != nil {
		return nil, fmt.Errorf("starting the %s queue of route %q: %w", key.Priority, key.Route, err)
	}
	byKey := maps.Clone(old)
	byKey[key] = exp
	q.byKey.Store(&byKey)
	return exp, nil
}

// Shutdown stops the queues, most urgent last, so that while the others
// drain or persist their contents the urgent ones still send. The queues of
// one priority stop together: with many routes, one after another would
// take longer than the shutdown's bound.
func (q *Set) Shutdown(ctx context.Context) error {
	q.mu.Lock()
	q.stopped = true
	q.mu.Unlock()
	var byPriority [routes.NumPriorities][]exporter.Logs
	for key, exp := range *q.byKey.Load() {
		byPriority[key.Priority] = append(byPriority[key.Priority], exp)
	}
	var (
		mu   sync.Mutex
		errs []error
	)
	for _, exps := range slices.Backward(byPriority[:]) {
		var wg sync.WaitGroup
		for _, exp := range exps {
			wg.Go(func() {
				if err := exp.Shutdown(ctx); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			})
		}
		wg.Wait()
	}
	return errors.Join(errs...)
}
