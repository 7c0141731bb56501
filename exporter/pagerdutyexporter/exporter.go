package pagerdutyexporter // import "github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter"

import (
	"context"
	"errors"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/clock"
)

// version is sent in the User-Agent header.
const version = "0.1.0"

// pagerdutyExporter is the component the collector starts, feeds and stops.
// It only wires: start builds the exporter's layers (see build), consume
// hands records to the road, and shutdown stops the layers in order.
type pagerdutyExporter struct {
	cfg *Config
	set exporter.Settings

	// Where the exporter reads the time, set at creation; tests replace
	// them before start. arrival is the clock of arrivals and quiet
	// periods, statusNow the component status's; background false leaves
	// the exporter's own events and saves to the caller (a test sweeping
	// at times of its choosing).
	arrival    *clock.Arrival
	statusNow  func() time.Time
	background bool

	layers *layers // built by start; nil before, or after a failed start
}

func newExporter(cfg *Config, set exporter.Settings) *pagerdutyExporter {
	return &pagerdutyExporter{cfg: cfg, set: set, arrival: clock.NewArrival(clock.Wall(time.Now())), statusNow: time.Now, background: true}
}

// consume admits the records of ld onto the road; the collector calls it
// only between start and shutdown.
func (e *pagerdutyExporter) consume(ctx context.Context, ld plog.Logs) error {
	return e.layers.road.Admit(ctx, ld)
}

// start builds every layer on host, and starts delivering. A start that
// fails leaves nothing open.
func (e *pagerdutyExporter) start(ctx context.Context, host component.Host) error {
	l, err := build(ctx, e, host)
	if err != nil {
		return err
	}
	if err := l.road.Start(ctx, host, l.state.directory); err != nil {
		return errors.Join(err, l.close(ctx, e.arrival))
	}
	if e.background {
		l.ticker.Start() //nolint:contextcheck // the jobs run until shutdown, past start's context
	}
	e.layers = l
	return nil
}

// shutdown stops the queues. A persistent queue stops at once: records in
// flight are handed back (requests in flight after a grace) and stay on
// disk with the rest, for the next start. An in-memory queue is drained for
// a while, requests in flight included; what it could not send then is
// lost, and counted in a log line (see road.Road.Stop).
func (e *pagerdutyExporter) shutdown(ctx context.Context) error {
	l := e.layers
	if l == nil {
		return nil
	}
	persistent := e.cfg.QueueConfig.HasValue() && e.cfg.QueueConfig.Get().StorageID != nil
	disarm := l.road.Stop(persistent)
	defer disarm()
	l.health.Stop()
	// First: a resolve made now would find its queue stopping.
	l.ticker.Shutdown()
	err := l.road.Shutdown(ctx, persistent)
	if l.digests != nil {
		// Without storage, no digest is left open; bounded like a request.
		closing, cancel := context.WithTimeout(ctx, e.cfg.ClientConfig.Timeout)
		err = errors.Join(err, l.digests.Close(closing))
		cancel()
	}
	return errors.Join(err, l.close(ctx, e.arrival))
}
