package pagerdutyexporter // import "github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter"

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
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.opentelemetry.io/collector/pdata/plog"

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
//
// A queue is built and started when the first record goes to it, so that a
// route costs nothing until it is used, and only the priorities it uses
// (see the README's "Sizing"). A persistent queue is written into the
// directory before it takes a record, so that the next start reads back
// what it holds.
type queues struct {
	build func(queueKey) (exporter.Logs, error)
	// readBack is told how many records a persistent queue holds from
	// before the start, before the queue starts delivering them.
	readBack func(route string, records int)
	// Set by start.
	host      component.Host
	directory *queueDirectory // nil: the queues are in memory

	// byKey is replaced, never changed: lookups take no lock.
	byKey   atomic.Pointer[map[queueKey]exporter.Logs]
	mu      sync.Mutex // serializes building, and shutdown
	stopped bool
}

// newQueues makes the exporter's queues; deliver returns a queue's push.
func newQueues(ctx context.Context, set exporter.Settings, cfg *Config, deliver func(queueKey) consumer.ConsumeLogsFunc) *queues {
	q := &queues{build: func(key queueKey) (exporter.Logs, error) {
		inner := set
		inner.ID = queueID(set.ID, key.route, key.priority)
		return exporterhelper.NewLogs(ctx, inner, cfg, deliver(key),
			exporterhelper.WithCapabilities(consumer.Capabilities{MutatesData: false}),
			// The HTTP client's timeout bounds each request; a push may hold many.
			exporterhelper.WithTimeout(exporterhelper.TimeoutConfig{Timeout: 0}),
			exporterhelper.WithRetry(cfg.BackOffConfig),
			exporterhelper.WithQueue(cfg.QueueConfig),
		)
	}}
	q.byKey.Store(&map[queueKey]exporter.Logs{})
	return q
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

// errQueuesStopped refuses records that arrive once shutdown has begun.
var errQueuesStopped = errors.New("the exporter is shutting down")

// start keeps host for the queues to come, and starts at once the persistent
// queues the directory lists (see queueDirectory.open).
func (q *queues) start(ctx context.Context, host component.Host, directory *queueDirectory) error {
	q.host, q.directory = host, directory
	if directory == nil {
		return nil
	}
	held, err := directory.open(ctx)
	if err != nil {
		return err
	}
	for _, h := range held {
		q.readBack(h.key.route, h.records)
		if _, err := q.get(ctx, h.key); err != nil {
			return err
		}
	}
	return nil
}

// consume hands ld to the queue of key, building it first if need be.
func (q *queues) consume(ctx context.Context, key queueKey, ld plog.Logs) error {
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
func (q *queues) get(ctx context.Context, key queueKey) (exporter.Logs, error) {
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
		return nil, fmt.Errorf("creating the %s queue of route %q: %w", key.priority, key.route, err)
	}
	if err := exp.Start(ctx, q.host); err != nil {
		return nil, fmt.Errorf("starting the %s queue of route %q: %w", key.priority, key.route, err)
	}
	byKey := maps.Clone(old)
	byKey[key] = exp
	q.byKey.Store(&byKey)
	return exp, nil
}

// shutdown stops the queues, most urgent last, so that while the others
// drain or persist their contents the urgent ones still send. The queues of
// one priority stop together: with many routes, one after another would
// take longer than the shutdown's bound.
func (q *queues) shutdown(ctx context.Context) error {
	q.mu.Lock()
	q.stopped = true
	q.mu.Unlock()
	var byPriority [numPriorities][]exporter.Logs
	for key, exp := range *q.byKey.Load() {
		byPriority[key.priority] = append(byPriority[key.priority], exp)
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
