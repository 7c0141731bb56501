// Package road is the way of every event through the exporter, and its
// decisions. A record from the pipeline is admitted (admit.go): identified
// once, routed, decided on arrival when the dedup cache can settle it
// (decide.go), and put on the queue of its route and priority (queue.go).
// From the queue it is delivered (deliver.go): its alert's turn is taken
// and decided again, with what was sent meanwhile, and it is sent
// (send.go). Every record, whatever became of it, leaves through settle
// (settle.go), the one place that counts it, tells the cache, and lets go
// of what it held. The exporter's own events, the resolves of alerts gone
// quiet and the acknowledges it owes (ownevents.go), take the same road.
package road // import "github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/road"

import (
	"context"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/dedup"
	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/eventsapi"
	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/queues"
	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/recordmap"
	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/routes"
	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/telemetry"
)

// Config is what the road takes from the exporter's configuration.
type Config struct {
	// Mapping turns a record into an event.
	Mapping recordmap.Options
	// AutoResolveAfter is auto_resolve.after: an alert's quiet period
	// unless its record sets alert.resolve_after; 0: none.
	AutoResolveAfter time.Duration
	// GiveUpAfter is when the retry sender has surely given up on a
	// request it was handed back; 0: it never does (see GiveUpAfter).
	GiveUpAfter time.Duration
	// Queues are the settings of the road's queues.
	Queues queues.Config
	// Names keeps the summaries of the first records of each route's
	// backlog (Waiting), which only the storm digest reads.
	Names bool
}

// Below are the layers the road runs on, built before it.
type Below struct {
	Routes    *routes.Router
	Cache     *dedup.Cache
	Limiter   *eventsapi.Limiter
	Client    *eventsapi.Client
	Telemetry *telemetry.Telemetry
	Health    *telemetry.Health
	Logger    *zap.Logger
	// Now is the exporter's arrival clock, which the cache's quiet clocks
	// share.
	Now func() time.Time
}

// Road owns the way of every event: the records on it (pending, backlog),
// the queues they wait in, and when delivery stops.
type Road struct {
	mapping          recordmap.Options
	autoResolveAfter time.Duration
	names            bool

	routes  *routes.Router
	cache   *dedup.Cache
	limiter *eventsapi.Limiter
	client  *eventsapi.Client
	tel     *telemetry.Telemetry
	health  *telemetry.Health
	logger  *zap.Logger
	now     func() time.Time

	pending *pending
	backlog *backlog
	queues  *queues.Set

	// run tells this run's queued records from those an earlier run left
	// in a persistent queue (see runAttr).
	run int64
	// stop is done once shutdown stops delivery; sends once it cancels
	// the requests in flight.
	stop, sends               context.Context
	stopDelivery, cancelSends context.CancelFunc
	unsentAtStop              atomic.Int64 // records handed back once stop was done
}

// New builds the road on the layers below, and its queues, run tells this
// run of the exporter from the others (random; it guards nothing).
func New(ctx context.Context, cfg Config, below Below, run int64) *Road {
	r := &Road{
		mapping:          cfg.Mapping,
		autoResolveAfter: cfg.AutoResolveAfter,
		names:            cfg.Names,
		routes:           below.Routes,
		cache:            below.Cache,
		limiter:          below.Limiter,
		client:           below.Client,
		tel:              below.Telemetry,
		health:           below.Health,
		logger:           below.Logger,
		now:              below.Now,
		pending:          newPending(),
		run:              run,
	}
	r.backlog = newBacklog(below.Routes.Names(), cfg.GiveUpAfter, r.forget)
	r.queues = queues.New(ctx, cfg.Queues, r.deliver)
	r.stop, r.stopDelivery = context.WithCancel(context.Background())
	r.sends, r.cancelSends = context.WithCancel(context.Background())
	return r
}
