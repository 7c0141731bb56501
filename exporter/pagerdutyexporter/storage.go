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
// limit, in the storage extension id.
func (e *pagerdutyExporter) openCache(ctx context.Context, host component.Host, id component.ID) error {
	ext, ok := host.GetExtensions()[id]
	if !ok {
		return fmt.Errorf("dedup.storage: extension %q is not configured in service::extensions", id)
	}
	se, ok := ext.(storage.Extension)
	if !ok {
		return fmt.Errorf("dedup.storage: extension %q is not a storage extension", id)
	}
	client, err := se.GetClient(ctx, component.KindExporter, e.id, "dedup")
	if err != nil {
		return fmt.Errorf("dedup.storage: opening %q: %w", id, err)
	}
	storeError := func(err error) {
		e.logger.Warn("Dedup storage access failed; the in-memory cache decides", zap.Error(err))
	}
	routes := e.flow.routes
	e.flow.cache, err = dedup.Open(ctx, dedupConfig(e.cfg, storeError), nil,
		dedup.Persistence{Client: client, Route: routes.nameOf, Key: func(name string) string { return routes.named(name).key }})
	if err != nil {
		// A partly unreadable cache only costs suppressions; keep going.
		e.logger.Warn("Dedup storage could not be fully loaded", zap.Error(err))
	}
	if e.cfg.RateLimit.EventsPerMinute > 0 {
		e.sendLog = newSendLog(client, e.flow.limiter, routes.queued, e.cfg.RateLimit)
		if err := e.sendLog.restore(ctx); err != nil {
			e.logger.Warn("The send log could not be fully read; the limiter may allow more than the limit in the first minute", zap.Error(err))
		}
		e.ticker.jobs = append(e.ticker.jobs, tickJob{"Could not save the send log", func(ctx context.Context, now time.Time) error {
			return e.sendLog.save(ctx, now, false)
		}})
	}
	return nil
}
