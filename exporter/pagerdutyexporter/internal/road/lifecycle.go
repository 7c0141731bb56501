package road // import "github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/road"

import (
	"context"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.uber.org/zap"

	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/queues"
	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/routes"
)

// shutdownDrain bounds how long a shutdown keeps sending what an in-memory
// queue holds; at its end, requests still in flight are canceled, so that it
// bounds the whole shutdown. A persistent queue stops taking records at
// once (they wait on disk), and its requests in flight get inFlightGrace to
// finish before they are canceled and handed back.
const (
	shutdownDrain = 10 * time.Second
	inFlightGrace = 3 * time.Second
)

// Start starts the road's queues on host. The persistent queues directory
// lists (nil: the queues are in memory) deliver at once what they hold from
// before, counted in the backlog and the cache first.
func (r *Road) Start(ctx context.Context, host component.Host, directory *queues.Directory) error {
	err := r.queues.Start(ctx, host, directory, func(key routes.Queue, records int) {
		r.backlog.add(key, records, nil)
		r.cache.ReadBack(records)
	})
	if err == nil && directory != nil {
		r.cache.ReadBack(-1) // counted: see dedup.Persistence.ReadBackToCount
	}
	return err
}

// Stop arms the bounds of a shutdown: a persistent queue's delivery stops
// at once, and its requests in flight are canceled after inFlightGrace; an
// in-memory queue's delivery stops after shutdownDrain, with its requests in
// flight. Shutdown then stops the queues; disarm ends the bounds once the
// shutdown is over.
func (r *Road) Stop(persistent bool) (disarm func()) {
	bound := shutdownDrain
	var timers []*time.Timer
	if persistent {
		r.stopDelivery()
		bound = inFlightGrace
	} else {
		timers = append(timers, time.AfterFunc(shutdownDrain, r.stopDelivery))
	}
	timers = append(timers, time.AfterFunc(bound, r.cancelSends))
	return func() {
		for _, t := range timers {
			t.Stop()
		}
		r.cancelSends()
	}
}

// Shutdown stops the queues, most urgent last, and delivery with them. A
// persistent queue keeps what it holds for the next start; what an
// in-memory queue could not send is lost, and counted in a log line.
func (r *Road) Shutdown(ctx context.Context, persistent bool) error {
	err := r.queues.Shutdown(ctx)
	r.stopDelivery()
	if n := r.unsentAtStop.Load(); n > 0 {
		if persistent {
			r.logger.Info("Log records left in the persistent queue for the next start", zap.Int64("records", n))
		} else {
			r.logger.Warn("Log records not sent before shutdown; the in-memory queue loses them",
				zap.Int64("records", n), zap.Duration("drained_for", shutdownDrain))
		}
	}
	return err
}
