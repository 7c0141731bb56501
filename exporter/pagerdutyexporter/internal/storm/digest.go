// Package storm tells the person paged how big a storm is. When the events
// waiting on a route would take longer than storm.digest_after to drain at
// the route's rate limit, it sends one digest event for the route, ahead of
// them: a trigger under a dedup key of its own, with the waiting events'
// counts, updated at most once a minute while the storm lasts, and resolved
// once the route's backlog has drained. The waiting events are still all
// delivered, in priority order: nothing is dropped or merged.
package storm // import "github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/storm"

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.opentelemetry.io/collector/extension/xextension/storage"
	"go.uber.org/zap"

	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/eventsapi"
	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/road"
	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/routes"
	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/telemetry"
)

// DedupKeyPrefix begins the dedup key of every digest: the digest of route
// checkout is otelcol-pagerduty/storm/checkout. Records should not use it.
const DedupKeyPrefix = "otelcol-pagerduty/storm/"

// updateEvery is how often, at most, an open digest is updated with new
// counts.
const updateEvery = time.Minute

// rank places a digest at its route's rate limiter ahead of every waiting
// event: as if it had waited 1,000 aging steps (eventsapi.AgingStep).
const rank = -1000

// Config is what the digests take from the exporter's configuration.
type Config struct {
	// After is storm.digest_after: a route whose waiting events would take
	// longer than this to drain gets a digest. It is greater than 0.
	After time.Duration
	// EventsPerMinute is rate_limit.events_per_minute, greater than 0: the
	// pace at which a route's waiting events drain.
	EventsPerMinute int
	// Source is the digest's payload.source: the collector's host.
	Source string
}

// Digests owns the digest of each route: whether it is open, and when it was
// last sent. Tick decides, once a tick; nothing else sends a digest.
type Digests struct {
	cfg     Config
	routes  []*routes.Route
	waiting func(route string) road.Waiting
	send    func(ctx context.Context, rt *routes.Route, ev *eventsapi.Event) eventsapi.Result
	tel     *telemetry.Telemetry
	logger  *zap.Logger
	store   storage.Client // nil: digests are kept in memory

	mu   sync.Mutex
	open map[*routes.Route]time.Time // open digests, by when they were last sent
}

// Below are the layers the digests run on.
type Below struct {
	Routes    *routes.Router
	Road      *road.Road
	Limiter   *eventsapi.Limiter
	Client    *eventsapi.Client
	Telemetry *telemetry.Telemetry
	Health    *telemetry.Health
	Logger    *zap.Logger
	// Store keeps the open digests across restarts; nil: memory only, and
	// Close resolves them.
	Store storage.Client
}

// New makes the digests of the routes below, and reads back those an
// earlier run left open. Each is sent ahead of its route's waiting events
// at the route's rate limiter, and counted like any event.
func New(ctx context.Context, cfg Config, below Below) (*Digests, error) {
	send := func(ctx context.Context, rt *routes.Route, ev *eventsapi.Event) eventsapi.Result {
		waited, err := below.Limiter.Wait(ctx, rt.Key, rank, time.Time{})
		if err != nil {
			return eventsapi.Result{Outcome: eventsapi.Failed, Err: fmt.Errorf("waiting for the rate limiter: %w", err)}
		}
		start := time.Now()
		res := below.Client.Send(ctx, ev)
		below.Telemetry.Waited(ctx, rt, waited)
		below.Telemetry.Sent(ctx, rt, ev.Action, &res, time.Since(start))
		below.Health.Settled(rt.Name, res)
		return res
	}
	d := newDigests(cfg, below.Routes.Queued, below.Road.Waiting, send, below.Telemetry, below.Logger, below.Store)
	err := d.load(ctx)
	return d, err
}

func newDigests(cfg Config, queued []*routes.Route, waiting func(string) road.Waiting,
	send func(context.Context, *routes.Route, *eventsapi.Event) eventsapi.Result,
	tel *telemetry.Telemetry, logger *zap.Logger, store storage.Client,
) *Digests {
	return &Digests{
		cfg: cfg, routes: queued, waiting: waiting, send: send, tel: tel, logger: logger, store: store,
		open: map[*routes.Route]time.Time{},
	}
}

// Tick opens, updates or resolves each route's digest as of now, on the
// exporter's arrival clock. A digest that could not be sent is tried again
// at the next tick.
func (d *Digests) Tick(ctx context.Context, now time.Time) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	var errs []error
	for _, rt := range d.routes {
		if err := d.step(ctx, rt, now); err != nil {
			errs = append(errs, fmt.Errorf("route %q: %w", rt.Name, err))
		}
	}
	return errors.Join(errs...)
}

// step decides the digest of rt: opened when its waiting events would take
// longer than After to drain, updated at most every updateEvery while some
// wait, resolved once none does. d.mu must be held.
func (d *Digests) step(ctx context.Context, rt *routes.Route, now time.Time) error {
	w := d.waiting(rt.Name)
	total := w.Total()
	sentAt, open := d.open[rt]
	switch {
	case open && total == 0:
		if err := d.deliver(ctx, rt, resolveEvent(rt)); err != nil {
			return err
		}
		delete(d.open, rt)
		return d.forget(ctx, rt)
	case open && now.Sub(sentAt) >= updateEvery, !open && d.drain(total) > d.cfg.After:
		var saved error
		if !open {
			// Kept as open before it is sent: a kill between PagerDuty taking
			// the trigger and the save below would leave a digest no run
			// knows of. Not taken, it is forgotten again.
			saved = d.save(ctx, rt, time.Unix(0, 0))
		}
		if err := d.deliver(ctx, rt, d.triggerEvent(rt, &w)); err != nil {
			if !open {
				saved = errors.Join(saved, d.forget(ctx, rt))
			}
			return errors.Join(saved, err)
		}
		d.open[rt] = now
		return errors.Join(saved, d.save(ctx, rt, now))
	}
	return nil
}

// drain is how long n events take to drain at the route's rate limit.
func (d *Digests) drain(n int64) time.Duration {
	return time.Duration(n) * time.Minute / time.Duration(d.cfg.EventsPerMinute)
}

// deliver sends ev and counts it once PagerDuty accepted it.
func (d *Digests) deliver(ctx context.Context, rt *routes.Route, ev *eventsapi.Event) error {
	res := d.send(ctx, rt, ev)
	if res.Outcome != eventsapi.Accepted {
		return fmt.Errorf("sending the storm digest (%s): %w", ev.Action, res.Err)
	}
	d.tel.Digest(ctx, rt, ev.Action)
	return nil
}

// Close resolves the digests still open when they are kept in memory, so
// that none is left open by a stop; with storage they stay open, and the
// next run resolves or updates them at its first tick.
func (d *Digests) Close(ctx context.Context) error {
	if d == nil || d.store != nil {
		return nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	var errs []error
	for rt := range d.open {
		if err := d.deliver(ctx, rt, resolveEvent(rt)); err != nil {
			errs = append(errs, fmt.Errorf("route %q: %w", rt.Name, err))
			continue
		}
		delete(d.open, rt)
	}
	return errors.Join(errs...)
}
