package pagerdutyexporter // import "github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter"

import (
	"context"
	"fmt"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension/xextension/storage"
	"go.uber.org/zap"

	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/dedup"
)

// dedupConfig is the dedup cache's part of the configuration; storeError is
// told of failed storage accesses (nil: ignored).
func dedupConfig(cfg *Config, storeError func(error)) dedup.Config {
	return dedup.Config{
		TTL:            cfg.Dedup.TTL,
		MaxEntries:     cfg.Dedup.MaxEntries,
		RepeatInterval: cfg.Dedup.RepeatInterval,
		StoreError:     storeError,
	}
}

// dedupStorage is dedup.storage, else the sending queue's storage: a queue
// that survives a restart replays requests whose events were already
// accepted, and only a cache that survives too can tell them from new ones.
func (e *pagerdutyExporter) dedupStorage() *component.ID {
	if e.cfg.Dedup.Storage != nil {
		return e.cfg.Dedup.Storage
	}
	if e.cfg.QueueConfig.HasValue() {
		return e.cfg.QueueConfig.Get().StorageID
	}
	return nil
}

// openCache keeps the dedup cache, and the send log when there is a rate
// limit, in the storage extension id. It returns the storage client, and
// whether it held state from an earlier start.
func (e *pagerdutyExporter) openCache(ctx context.Context, host component.Host, id component.ID) (client storage.Client, hadState bool, err error) {
	// Named as the user wrote it: the cache takes the queue's storage unless told.
	field := "dedup.storage"
	if e.cfg.Dedup.Storage == nil {
		field = "sending_queue.storage (which keeps the dedup cache too)"
	}
	se, err := storageExtension(host, id)
	if err != nil {
		return nil, false, fmt.Errorf("%s: %w", field, err)
	}
	if client, err = se.GetClient(ctx, component.KindExporter, e.id, "dedup"); err != nil {
		return nil, false, fmt.Errorf("%s: opening %q: %w", field, id, err)
	}
	// Before loading the cache, which deletes expired entries.
	hadState = holdsState(ctx, client)
	storeError := func(err error) {
		e.logger.Warn("Dedup storage access failed; the in-memory cache decides", zap.Error(err))
	}
	routes := e.flow.routes
	e.flow.cache, err = dedup.Open(ctx, dedupConfig(e.cfg, storeError), e.flow.now,
		dedup.Persistence{
			Client: client, Route: routes.nameOf, Key: func(name string) string { return routes.named(name).key },
			// Counted when the queues start (see queues.start).
			ReadBackToCount: e.cfg.QueueConfig.HasValue() && e.cfg.QueueConfig.Get().StorageID != nil,
		})
	if err != nil {
		// A partly unreadable cache only costs suppressions; keep going.
		e.logger.Warn("Dedup storage could not be fully loaded", zap.Error(err))
	}
	e.clock.notBefore(e.flow.cache.Newest())
	down, err := e.clock.restore(ctx, client)
	if err != nil {
		e.logger.Warn("The arrival clock's last reading could not be read: quiet clocks start again from zero, and a record that arrives now may be ordered before one an earlier run queued, should the wall clock have stepped back", zap.Error(err))
	}
	e.flow.cache.Resume(down)
	e.clockStore = client
	e.ticker.jobs = append(e.ticker.jobs, tickJob{"Could not save the arrival clock", func(ctx context.Context, now time.Time) error {
		e.flow.cache.Flush(ctx)
		return e.clock.save(ctx, client, now, false)
	}})
	if e.cfg.RateLimit.EventsPerMinute > 0 {
		e.sendLog = newSendLog(client, e.flow.limiter, routes.queued, e.cfg.RateLimit)
		if err := e.sendLog.restore(ctx); err != nil {
			e.logger.Warn("The send log could not be fully read; the limiter may allow more than the limit in the first minute", zap.Error(err))
		}
		e.ticker.jobs = append(e.ticker.jobs, tickJob{"Could not save the send log", func(ctx context.Context, now time.Time) error {
			return e.sendLog.save(ctx, now, false)
		}})
	}
	return client, hadState, nil
}

// storageExtension is the storage extension id of host.
func storageExtension(host component.Host, id component.ID) (storage.Extension, error) {
	ext, ok := host.GetExtensions()[id]
	if !ok {
		return nil, fmt.Errorf("extension %q is not configured in service::extensions", id)
	}
	se, ok := ext.(storage.Extension)
	if !ok {
		return nil, fmt.Errorf("extension %q is not a storage extension", id)
	}
	return se, nil
}

// openDirectory opens the directory of the persistent queues, kept beside
// the dedup cache in client; nil when the queues are in memory. upgraded:
// the storage held state before this start.
func (e *pagerdutyExporter) openDirectory(host component.Host, client storage.Client, upgraded bool) (*queueDirectory, error) {
	if !e.cfg.QueueConfig.HasValue() || e.cfg.QueueConfig.Get().StorageID == nil {
		return nil, nil
	}
	id := *e.cfg.QueueConfig.Get().StorageID
	se, err := storageExtension(host, id)
	if err != nil {
		return nil, fmt.Errorf("sending_queue.storage: %w", err)
	}
	return &queueDirectory{
		client: client, storage: se, id: e.id, routes: e.flow.routes, logger: e.logger,
		stranded: &e.tel.stranded, upgraded: upgraded,
	}, nil
}
