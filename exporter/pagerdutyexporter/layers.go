package pagerdutyexporter // import "github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter"

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/exporter"
	"go.uber.org/zap"

	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/clock"
	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/dedup"
	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/eventsapi"
	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/queues"
	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/recordmap"
	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/road"
	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/routes"
	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/storm"
	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/telemetry"
)

// layers are the exporter's parts, each built on the ones before it, in the
// order of the fields (see build).
type layers struct {
	routes     *routes.Router
	tel        *telemetry.Telemetry
	httpClient *http.Client
	client     *eventsapi.Client
	limiter    *eventsapi.Limiter
	state      *state // the dedup cache and what else is kept across restarts
	health     *telemetry.Health
	road       *road.Road
	digests    *storm.Digests // with storm.digest_after only
	ticker     *clock.Ticker
}

// build builds every layer of e on host, in order; on an error, what it
// opened is closed again.
func build(ctx context.Context, e *pagerdutyExporter, host component.Host) (l *layers, err error) {
	cfg, set := e.cfg, e.set
	l = &layers{routes: routes.NewRouter(string(cfg.RoutingKey), routingKeys(cfg))}
	defer func() {
		if err != nil {
			err = errors.Join(err, l.close(ctx, e.arrival))
		}
	}()
	if l.tel, err = telemetry.New(set.TelemetrySettings, set.ID.String(), l.routes); err != nil {
		return l, err
	}
	l.tel.Zero(ctx)
	warnOfRoutes(set.Logger, l.routes)
	sayWhereEventsGo(set.Logger, cfg.ClientConfig.Endpoint)
	// confighttp wraps the transport in otelhttp when both providers are set.
	// Its body wrapper hides from net/http that the body is in memory, which
	// splits every request into two writes and costs more than the rest of
	// the push; the exporter measures its requests itself, so go without it.
	settings := set.TelemetrySettings
	settings.TracerProvider = nil
	if l.httpClient, err = cfg.ClientConfig.ToClient(ctx, host.GetExtensions(), settings); err != nil {
		return l, fmt.Errorf("creating HTTP client: %w", err)
	}
	userAgent := fmt.Sprintf("otelcol-pagerduty-exporter/%s (%s/%s)", version, set.BuildInfo.Command, set.BuildInfo.Version)
	l.client = eventsapi.NewClient(l.httpClient, cfg.ClientConfig.Endpoint, userAgent,
		cfg.BackOffConfig.MaxInterval, eventsapi.WithRedactor(newKeyRedactor(cfg)))
	l.limiter = eventsapi.NewLimiter(cfg.RateLimit.EventsPerMinute, cfg.RateLimit.Burst)
	if l.state, err = openState(ctx, e, host, l); err != nil {
		return l, err
	}
	l.health = telemetry.NewHealth(telemetry.ReportTo(host), e.statusNow)
	l.road = road.New(ctx, roadConfig(cfg, set), road.Below{
		Routes: l.routes, Cache: l.state.cache, Limiter: l.limiter, Client: l.client,
		Telemetry: l.tel, Health: l.health, Logger: set.Logger, Now: e.arrival.Now,
	}, rand.Int64())
	if cfg.Storm.DigestAfter > 0 {
		l.digests = newDigests(ctx, cfg, set, l)
	}
	if err = l.tel.RegisterGauges(l.state.cache, l.road.ObserveBacklog, l.routes); err != nil {
		return l, fmt.Errorf("registering telemetry callbacks: %w", err)
	}
	l.ticker = clock.NewTicker(set.Logger, e.arrival.Now, l.jobs(e.arrival)...)
	return l, nil
}

// roadConfig is the road's part of the configuration.
func roadConfig(cfg *Config, set exporter.Settings) road.Config {
	hostname, _ := os.Hostname()
	return road.Config{
		Mapping: recordmap.Options{
			RoutingAttribute: cfg.Routing.Attribute,
			DefaultSeverity:  cfg.DefaultSeverity,
			Hostname:         hostname,
			Client:           cfg.Client,
			ClientURL:        string(cfg.ClientURL),
			TraceURL:         cfg.Links.TraceURL,
			TraceText:        cfg.Links.TraceText,
		},
		AutoResolveAfter: cfg.AutoResolve.After,
		GiveUpAfter:      road.GiveUpAfter(cfg.BackOffConfig),
		Queues:           queues.Config{Settings: set, Exporter: cfg, Queue: cfg.QueueConfig, Retry: cfg.BackOffConfig},
		Names:            cfg.Storm.DigestAfter > 0,
	}
}

// routingKeys are routing.keys as plain strings, for the router.
func routingKeys(cfg *Config) map[string]string {
	keys := make(map[string]string, len(cfg.Routing.Keys))
	for name, key := range cfg.Routing.Keys {
		keys[name] = string(key)
	}
	return keys
}

// warnOfRoutes says at start what the configuration cannot: that the
// routes make more series than the metrics SDK keeps (limit - 1 per metric,
// the last being its overflow series), and which routes
// have a ruleset key, which takes no change events.
func warnOfRoutes(logger *zap.Logger, router *routes.Router) {
	if n, limit := telemetry.EventSeries(len(router.Queued)), telemetry.SeriesLimit(); limit > 0 && n >= limit {
		logger.Warn("So many routes make more series of otelcol_exporter_pagerduty_events than the metrics SDK keeps per metric: events of the routes past the limit are counted without their labels, under otel_metric_overflow; raise the limit with the environment variable "+telemetry.SeriesLimitEnv+", or split the routes over several pagerduty exporters",
			zap.Int("routes", len(router.Queued)), zap.Int("series", n), zap.Int("limit", limit))
	}
	for _, rt := range router.Queued {
		if eventsapi.IsRulesetKey(rt.Key) {
			// Validate cannot warn, and cannot know which routes get change events.
			logger.Warn("Route has a ruleset key (it starts with R): change events routed to it are dropped, as PagerDuty refuses them",
				zap.String("routing", rt.Name))
		}
	}
}

// sayWhereEventsGo logs, once at start, the host the events and their
// routing keys go to, and warns when it is neither PagerDuty's nor this
// machine's: a proxy or gateway there sees every routing key.
func sayWhereEventsGo(logger *zap.Logger, endpoint string) {
	u, err := url.Parse(endpoint)
	if err != nil { // refused by validate
		return
	}
	host := u.Hostname()
	if isPagerDutyHost(host) || isLoopback(host) {
		logger.Info("Sending events to the PagerDuty Events API", zap.String("host", u.Host))
		return
	}
	logger.Warn("The endpoint's host is neither PagerDuty's nor this machine's: it receives every event with its routing key; make sure it is meant to", zap.String("host", u.Host))
}

// jobs are the ticker's: the events the exporter decides itself, then
// saving what storage keeps of the arrival clock and the send log.
func (l *layers) jobs(arrival *clock.Arrival) []clock.Job {
	jobs := []clock.Job{{
		What: "Could not queue the exporter's own events: the resolves of alerts gone quiet (their clocks start again) or the acknowledges it owes",
		Run:  l.road.OwnEvents,
	}}
	if l.digests != nil {
		jobs = append(jobs, clock.Job{What: "Could not send a storm digest; the next tick tries again", Run: l.digests.Tick})
	}
	return append(jobs, l.state.jobs(arrival)...)
}

// close lets go of what the layers hold, saving what storage keeps; a
// layer not built is skipped.
func (l *layers) close(ctx context.Context, arrival *clock.Arrival) error {
	if l.httpClient != nil {
		l.httpClient.CloseIdleConnections()
	}
	var err error
	if l.state != nil {
		err = l.state.close(ctx, arrival)
	}
	if l.tel != nil {
		l.tel.Shutdown()
	}
	return err
}

// newDigests builds the storm digests on the road, kept in the state's
// storage when it has one.
func newDigests(ctx context.Context, cfg *Config, set exporter.Settings, l *layers) *storm.Digests {
	hostname, _ := os.Hostname()
	digests, err := storm.New(ctx, storm.Config{After: cfg.Storm.DigestAfter, EventsPerMinute: cfg.RateLimit.EventsPerMinute, Source: hostname},
		storm.Below{
			Routes: l.routes, Road: l.road, Limiter: l.limiter, Client: l.client, Telemetry: l.tel, Health: l.health,
			Logger: set.Logger, Store: l.state.client,
		})
	if err != nil {
		// Digests left open by the last run are resolved when their routes
		// next storm; keep going.
		set.Logger.Warn("Storm digests left open by the last run could not be read", zap.Error(err))
	}
	return digests
}

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
