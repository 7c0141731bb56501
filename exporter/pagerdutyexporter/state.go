package pagerdutyexporter // import "github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter"

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension/xextension/storage"
	"go.uber.org/zap"

	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/clock"
	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/dedup"
	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/queues"
	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/sendlog"
)

// state is what the exporter keeps across restarts in its storage (see
// dedupStorage): the dedup cache, the arrival clock's reading, the send log
// and the directory of the persistent queues. Without storage only the
// cache is kept, in memory.
type state struct {
	client    storage.Client    // nil: no storage
	cache     *dedup.Cache      // never nil
	sendLog   *sendlog.Log      // with storage and a rate limit only
	directory *queues.Directory // with a persistent sending queue only
}

// openState opens the exporter's state in the storage extension of host
// that e's configuration names, and reads back what an earlier run left.
func openState(ctx context.Context, e *pagerdutyExporter, host component.Host, l *layers) (*state, error) {
	cfg, logger := e.cfg, e.set.Logger
	id := dedupStorage(cfg)
	if id == nil {
		if cfg.AutoResolve.After > 0 {
			logger.Warn("auto_resolve.after is set but the dedup cache has no storage: alerts opened before a restart are never auto-resolved; set dedup.storage or sending_queue.storage to keep them")
		}
		return &state{cache: dedup.New(dedupConfig(cfg, nil), e.arrival.Now)}, nil
	}
	// Named as the user wrote it: the cache takes the queue's storage unless told.
	field := "dedup.storage"
	if cfg.Dedup.Storage == nil {
		field = "sending_queue.storage (which keeps the dedup cache too)"
	}
	se, err := storageExtension(host, *id)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", field, err)
	}
	client, err := se.GetClient(ctx, component.KindExporter, e.set.ID, "dedup")
	if err != nil {
		return nil, fmt.Errorf("%s: opening %q: %w", field, *id, err)
	}
	// Before loading the cache, which deletes expired entries.
	hadState := queues.HoldsState(ctx, client)
	s := &state{client: client, cache: openCache(ctx, e, client, l)}
	if cfg.RateLimit.EventsPerMinute > 0 {
		s.sendLog = sendlog.New(client, l.limiter, l.routes.Queued, cfg.RateLimit.EventsPerMinute, cfg.RateLimit.Burst)
		if restoreErr := s.sendLog.Restore(ctx); restoreErr != nil {
			logger.Warn("The send log could not be fully read; the limiter may allow more than the limit in the first minute", zap.Error(restoreErr))
		}
	}
	if s.directory, err = openDirectory(e, host, client, hadState, l); err != nil {
		return s, err
	}
	return s, nil
}

// openCache loads the dedup cache from client, and moves the arrival clock
// past what an earlier run stored, restarting the quiet clocks that run
// left from when it stopped.
func openCache(ctx context.Context, e *pagerdutyExporter, client storage.Client, l *layers) *dedup.Cache {
	cfg, logger, router := e.cfg, e.set.Logger, l.routes
	storeError := func(err error) {
		logger.Warn("Dedup storage access failed; the in-memory cache decides", zap.Error(err))
	}
	cache, err := dedup.Open(ctx, dedupConfig(cfg, storeError), e.arrival.Now,
		dedup.Persistence{
			Client: client, Route: router.NameOf, Key: func(name string) string { return router.Named(name).Key },
			// Counted when the queues start (see road.Road.Start).
			ReadBackToCount: cfg.QueueConfig.HasValue() && cfg.QueueConfig.Get().StorageID != nil,
		})
	if err != nil {
		// A partly unreadable cache only costs suppressions; keep going.
		logger.Warn("Dedup storage could not be fully loaded", zap.Error(err))
	}
	e.arrival.NotBefore(cache.Newest())
	down, err := e.arrival.Restore(ctx, client)
	if err != nil {
		logger.Warn("The arrival clock's last reading could not be read: quiet clocks start again from zero, and a record that arrives now may be ordered before one an earlier run queued, should the wall clock have stepped back", zap.Error(err))
	}
	cache.Resume(down)
	return cache
}

// openDirectory opens the directory of the persistent queues, kept beside
// the dedup cache in client; nil when the queues are in memory. upgraded:
// the storage held state before this start.
func openDirectory(e *pagerdutyExporter, host component.Host, client storage.Client, upgraded bool, l *layers) (*queues.Directory, error) {
	cfg := e.cfg
	if !cfg.QueueConfig.HasValue() || cfg.QueueConfig.Get().StorageID == nil {
		return nil, nil
	}
	id := *cfg.QueueConfig.Get().StorageID
	se, err := storageExtension(host, id)
	if err != nil {
		return nil, fmt.Errorf("sending_queue.storage: %w", err)
	}
	return queues.NewDirectory(client, se, e.set.ID, l.routes, e.set.Logger, upgraded, &l.tel.Stranded), nil
}

// jobs save, once a tick, the arrival clock's reading, with the firing
// records it vouches for, and the send log.
func (s *state) jobs(arrival *clock.Arrival) []clock.Job {
	var jobs []clock.Job
	if s.client != nil {
		jobs = append(jobs, clock.Job{What: "Could not save the arrival clock", Run: func(ctx context.Context, now time.Time) error {
			s.cache.Flush(ctx)
			return arrival.Save(ctx, s.client, now, false)
		}})
	}
	if s.sendLog != nil {
		jobs = append(jobs, clock.Job{What: "Could not save the send log", Run: func(ctx context.Context, now time.Time) error {
			return s.sendLog.Save(ctx, now, false)
		}})
	}
	return jobs
}

// close saves the state as a clean shutdown leaves it, and closes the
// storage with the cache.
func (s *state) close(ctx context.Context, arrival *clock.Arrival) error {
	var err error
	if s.client != nil {
		// The firing records first: a clean reading vouches for them.
		s.cache.Flush(ctx)
		err = arrival.Save(ctx, s.client, arrival.Now(), true)
	}
	if s.sendLog != nil {
		// Before the storage closes with the cache.
		err = errors.Join(err, s.sendLog.Save(ctx, time.Now(), true))
	}
	return errors.Join(err, s.cache.Close(ctx))
}

// dedupStorage is dedup.storage, else the sending queue's storage: a queue
// that survives a restart replays requests whose events were already
// accepted, and only a cache that survives too can tell them from new ones.
func dedupStorage(cfg *Config) *component.ID {
	if cfg.Dedup.Storage != nil {
		return cfg.Dedup.Storage
	}
	if cfg.QueueConfig.HasValue() {
		return cfg.QueueConfig.Get().StorageID
	}
	return nil
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
