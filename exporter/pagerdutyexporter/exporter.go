package pagerdutyexporter // import "github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter"

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/extension/xextension/storage"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.uber.org/zap"

	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/dedup"
	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/eventsapi"
	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/metadata"
	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/recordmap"
)

// version is sent in the User-Agent header.
const version = "0.1.0"

// shutdownDrain bounds how long a shutdown keeps sending what an in-memory
// queue holds; at its end, requests still in flight are canceled, so that it
// bounds the whole shutdown. A persistent queue stops taking records at
// once (they wait on disk), and its requests in flight get inFlightGrace to
// finish before they are canceled and handed back.
const (
	shutdownDrain = 10 * time.Second
	inFlightGrace = 3 * time.Second
)

// pagerdutyExporter is the component the collector starts, feeds and stops.
// It wires the road of events (flow) to the collector: records go in
// through consume, out through the queues, and the HTTP client and the
// dedup cache, which need the host's extensions, are built in start.
type pagerdutyExporter struct {
	id        component.ID
	cfg       *Config
	settings  component.TelemetrySettings
	buildInfo component.BuildInfo
	logger    *zap.Logger

	clock *arrivalClock
	// clockStore keeps the clock's last reading, with storage only.
	clockStore storage.Client
	tel        *telemetry
	backlog    *backlog
	flow       *flow
	exit       *exit
	queues     *queues
	ticker     *ticker
	sendLog    *sendLog           // with storage and a rate limit only
	stopNow    context.CancelFunc // ends delivery at shutdown
	// cancelSends cancels the requests in flight, at the shutdown's bound.
	cancelSends context.CancelFunc

	httpClient *http.Client // built in start
}

func newExporter(ctx context.Context, cfg *Config, set exporter.Settings) (*pagerdutyExporter, error) {
	tb, err := metadata.NewTelemetryBuilder(set.TelemetrySettings)
	if err != nil {
		return nil, fmt.Errorf("creating telemetry: %w", err)
	}
	hostname, _ := os.Hostname()
	clock := newArrivalClock(time.Now())
	now := clock.now
	run := rand.Int64() // tells runs apart, guards nothing
	routes := newRouter(cfg)
	stop, stopNow := context.WithCancel(context.Background())
	sends, cancelSends := context.WithCancel(context.Background())
	e := &pagerdutyExporter{
		id:        set.ID,
		clock:     clock,
		cfg:       cfg,
		settings:  set.TelemetrySettings,
		buildInfo: set.BuildInfo,
		logger:    set.Logger,
		tel:       newTelemetry(tb, set.ID.String(), routes),
		backlog:   newBacklog(routes.names(), giveUpAfter(cfg.BackOffConfig)),
		stopNow:   stopNow,

		cancelSends: cancelSends,
	}
	e.exit = &exit{
		tel: e.tel, logger: set.Logger, backlog: e.backlog, stop: stop,
		unpin:           func(dedupKey string, received pcommon.Timestamp) { e.flow.unpin(dedupKey, received) },
		readBackSettled: func() { e.flow.cache.ReadBack(-1) },
		run:             run,
	}
	e.flow = &flow{
		mapping: recordmap.Options{
			RoutingAttribute: cfg.Routing.Attribute,
			DefaultSeverity:  cfg.DefaultSeverity,
			Hostname:         hostname,
			Client:           cfg.Client,
			ClientURL:        string(cfg.ClientURL),
		},
		routes:  routes,
		limiter: eventsapi.NewLimiter(cfg.RateLimit.EventsPerMinute, cfg.RateLimit.Burst),
		exit:    e.exit,
		pending: newPending(),
		stop:    stop,
		sends:   sends,

		autoResolveAfter: cfg.AutoResolve.After,
		now:              now,
		run:              run,
		// Until start opens the configured storage.
		cache: dedup.New(dedupConfig(cfg, nil), now),
	}
	e.queues = newQueues(ctx, set, cfg, e.flow.deliver)
	e.queues.readBack = func(route string, records int) {
		e.backlog.add(route, records)
		e.flow.cache.ReadBack(records)
	}
	e.flow.queues = e.queues
	e.backlog.gaveUp = e.flow.forget
	e.ticker = &ticker{logger: set.Logger, now: now, jobs: []tickJob{
		{"Could not queue the exporter's own events: the resolves of alerts gone quiet (their clocks start again) or the acknowledges it owes", e.flow.ownEvents},
	}}
	return e, nil
}

func (e *pagerdutyExporter) start(ctx context.Context, host component.Host) error {
	// confighttp wraps the transport in otelhttp when both providers are set.
	// Its body wrapper hides from net/http that the body is in memory, which
	// splits every request into two writes and costs more than the rest of
	// the push; the exporter measures its requests itself, so go without it.
	settings := e.settings
	settings.TracerProvider = nil
	httpClient, err := e.cfg.ClientConfig.ToClient(ctx, host.GetExtensions(), settings)
	if err != nil {
		return fmt.Errorf("creating HTTP client: %w", err)
	}
	e.httpClient = httpClient
	e.tel.zero(ctx)
	if n, limit := eventSeries(len(e.flow.routes.queued)), seriesLimit(); limit > 0 && n > limit {
		e.logger.Warn("So many routes make more series of otelcol_exporter_pagerduty_events than the metrics SDK keeps per metric: events of the routes past the limit are counted without their labels, under otel_metric_overflow; raise the limit with the environment variable "+seriesLimitEnv+", or split the routes over several pagerduty exporters",
			zap.Int("routes", len(e.flow.routes.queued)), zap.Int("series", n), zap.Int("limit", limit))
	}
	for _, rt := range e.flow.routes.queued {
		if eventsapi.IsRulesetKey(rt.key) {
			// Validate cannot warn, and cannot know which routes get change events.
			e.logger.Warn("Route has a ruleset key (it starts with R): change events routed to it are dropped, as PagerDuty refuses them",
				zap.String("routing", rt.name))
		}
	}
	userAgent := fmt.Sprintf("otelcol-pagerduty-exporter/%s (%s/%s)", version, e.buildInfo.Command, e.buildInfo.Version)
	e.flow.client = eventsapi.NewClient(httpClient, e.cfg.ClientConfig.Endpoint, userAgent,
		e.cfg.BackOffConfig.MaxInterval, eventsapi.WithRedactor(newKeyRedactor(e.cfg)))
	var directory *queueDirectory
	if id := e.dedupStorage(); id != nil {
		client, hadState, err := e.openCache(ctx, host, *id)
		if err != nil {
			return err
		}
		if directory, err = e.openDirectory(host, client, hadState); err != nil {
			return err
		}
	} else if e.cfg.AutoResolve.After > 0 {
		e.logger.Warn("auto_resolve.after is set but the dedup cache has no storage: alerts opened before a restart are never auto-resolved; set dedup.storage or sending_queue.storage to keep them")
	}
	if err := e.tel.registerGauges(e.flow.cache, e.backlog, e.flow.routes); err != nil {
		return fmt.Errorf("registering telemetry callbacks: %w", err)
	}
	e.exit.health = newHealth(reportTo(host), time.Now)
	// Last: their consumers deliver at once, with the client and the cache.
	if err := e.queues.start(ctx, host, directory); err != nil {
		return err
	}
	if directory != nil {
		e.flow.cache.ReadBack(-1) // counted: see dedup.Persistence.ReadBackToCount
	}
	e.ticker.start() //nolint:contextcheck // the jobs run until shutdown, past start's context
	return nil
}

// shutdown stops the queues. A persistent queue stops at once: records in
// flight are handed back (requests in flight after inFlightGrace) and stay
// on disk with the rest, for the next start. An in-memory queue is drained
// for up to shutdownDrain, requests in flight included; what it could not
// send then is lost, and counted in a log line.
func (e *pagerdutyExporter) shutdown(ctx context.Context) error {
	persistent := e.cfg.QueueConfig.HasValue() && e.cfg.QueueConfig.Get().StorageID != nil
	bound := shutdownDrain
	if persistent {
		e.stopNow()
		bound = inFlightGrace
	} else {
		drained := time.AfterFunc(shutdownDrain, e.stopNow)
		defer drained.Stop()
	}
	canceled := time.AfterFunc(bound, e.cancelSends)
	defer canceled.Stop()
	defer e.cancelSends()
	e.exit.health.stop()
	// First: a resolve made now would find its queue stopping.
	e.ticker.shutdown()
	err := e.queues.shutdown(ctx)
	e.stopNow()
	if n := e.exit.unsentAtStop.Load(); n > 0 {
		if persistent {
			e.logger.Info("Log records left in the persistent queue for the next start", zap.Int64("records", n))
		} else {
			e.logger.Warn("Log records not sent before shutdown; the in-memory queue loses them",
				zap.Int64("records", n), zap.Duration("drained_for", shutdownDrain))
		}
	}
	if e.httpClient != nil {
		e.httpClient.CloseIdleConnections()
	}
	if e.clockStore != nil {
		// The firing records first: a clean reading vouches for them.
		e.flow.cache.Flush(ctx)
		err = errors.Join(err, e.clock.save(ctx, e.clockStore, e.clock.now(), true))
	}
	if e.sendLog != nil {
		// Before the storage closes with the cache.
		err = errors.Join(err, e.sendLog.save(ctx, time.Now(), true))
	}
	e.tel.tb.Shutdown()
	return errors.Join(err, e.flow.cache.Close(ctx))
}
