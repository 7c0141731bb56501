package pagerdutyexporter // import "github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter"

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/extension/xextension/storage"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/dedup"
	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/eventsapi"
	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/metadata"
	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/recordmap"
)

// version is sent in the User-Agent header.
const version = "0.1.0"

// Reasons a record is rejected outside the mapping.
const (
	rejectNoRoutingKey = "no_routing_key"
	rejectByAPI        = "api_rejected"
)

type pagerdutyExporter struct {
	id        component.ID
	cfg       *Config
	settings  component.TelemetrySettings
	logger    *zap.Logger
	telemetry *metadata.TelemetryBuilder
	attrs     *attrSets
	userAgent string

	mapping   recordmap.Options
	routes    router
	cache     *dedup.Cache
	sequencer *dedup.Sequencer
	limiter   *eventsapi.Limiter

	// Built in start, where the host's extensions (auth) are known.
	httpClient *http.Client
	client     *eventsapi.Client
}

func newExporter(cfg *Config, set exporter.Settings) (*pagerdutyExporter, error) {
	tb, err := metadata.NewTelemetryBuilder(set.TelemetrySettings)
	if err != nil {
		return nil, fmt.Errorf("creating telemetry: %w", err)
	}
	hostname, _ := os.Hostname()
	routes := newRouter(cfg)
	e := &pagerdutyExporter{
		id:        set.ID,
		cfg:       cfg,
		settings:  set.TelemetrySettings,
		logger:    set.Logger,
		telemetry: tb,
		userAgent: fmt.Sprintf("otelcol-pagerduty-exporter/%s (%s/%s)", version, set.BuildInfo.Command, set.BuildInfo.Version),
		mapping: recordmap.Options{
			RoutingAttribute: cfg.Routing.Attribute,
			DefaultSeverity:  cfg.DefaultSeverity,
			Hostname:         hostname,
		},
		routes: routes,
		attrs:  newAttrSets(routes.routeNames()),
		cache: dedup.New(dedup.Config{
			TTL:            cfg.Dedup.TTL,
			MaxEntries:     cfg.Dedup.MaxEntries,
			RepeatInterval: cfg.Dedup.RepeatInterval,
		}, nil),
		sequencer: dedup.NewSequencer(),
		limiter:   eventsapi.NewLimiter(cfg.RateLimit.EventsPerMinute, cfg.RateLimit.Burst),
	}
	err = errors.Join(
		tb.RegisterExporterPagerdutyCacheEntriesCallback(func(_ context.Context, o metric.Int64Observer) error {
			o.Observe(int64(e.cache.Stats().Entries))
			return nil
		}),
		tb.RegisterExporterPagerdutyOpenIncidentsCallback(func(_ context.Context, o metric.Int64Observer) error {
			o.Observe(int64(e.cache.Stats().Open))
			return nil
		}),
		tb.RegisterExporterPagerdutyCacheEvictionsCallback(func(_ context.Context, o metric.Int64Observer) error {
			o.Observe(e.cache.Stats().Evictions)
			return nil
		}),
	)
	if err != nil {
		tb.Shutdown()
		return nil, fmt.Errorf("registering telemetry callbacks: %w", err)
	}
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
	e.client = eventsapi.NewClient(httpClient, e.cfg.ClientConfig.Endpoint, e.userAgent, e.cfg.BackOffConfig.MaxInterval)
	if id := e.dedupStorage(); id != nil {
		return e.attachStorage(ctx, host, *id)
	}
	return nil
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

// attachStorage keeps the dedup cache in the storage extension id.
func (e *pagerdutyExporter) attachStorage(ctx context.Context, host component.Host, id component.ID) error {
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
	err = e.cache.Attach(ctx, &dedup.Persistence{Client: client, Route: e.routes.name, Key: e.routes.key})
	if err != nil {
		// A partly unreadable cache only costs suppressions; keep going.
		e.logger.Warn("Dedup storage could not be fully loaded", zap.Error(err))
	}
	return nil
}

func (e *pagerdutyExporter) shutdown(ctx context.Context) error {
	if e.httpClient != nil {
		e.httpClient.CloseIdleConnections()
	}
	e.telemetry.Shutdown()
	return e.cache.Close(ctx)
}

// pushLogs sends one event per record, in order. Records PagerDuty refused
// are dropped with a log line and a metric; records that failed in a way a
// retry can fix are handed back to the retry sender, alone, so that accepted
// events are never sent twice. Once a routing key fails, its later records
// wait for the retry too, keeping their order.
func (e *pagerdutyExporter) pushLogs(ctx context.Context, ld plog.Logs) error {
	p := push{arrival: pcommon.NewTimestampFromTime(time.Now())}
	for i, rl := range ld.ResourceLogs().All() {
		for j, sl := range rl.ScopeLogs().All() {
			for _, lr := range sl.LogRecords().All() {
				if err := e.exportRecord(ctx, &p, lr, rl.Resource()); err != nil {
					p.unsent.add(i, j, rl, sl, lr, p.arrival)
				}
			}
		}
	}
	return p.result()
}

// exportRecord maps, routes, deduplicates and sends one record. It returns
// an error only when the record must be retried.
func (e *pagerdutyExporter) exportRecord(ctx context.Context, p *push, lr plog.LogRecord, res pcommon.Resource) error {
	m, err := recordmap.Identify(lr, res, &e.mapping)
	if err != nil {
		var rejected *recordmap.RejectError
		errors.As(err, &rejected)
		e.reject(ctx, rejected.Reason, err, recordFields(lr, res, "")...)
		return nil
	}
	ev := &m.Event

	// A record without a time of its own is ordered by when it first reached
	// the exporter; a retry carries that time along (see unsentLogs.add).
	seen := dedup.Event{Action: ev.Action, PayloadHash: m.PayloadHash, Time: m.Time}
	if seen.Time == 0 {
		seen.Time = int64(p.arrival)
	}
	routingKey := e.routes.pick(m.RoutingValue)
	suppressed := ""
	if !ev.IsChange() {
		// Decide, send and record as one step per dedup key: a consumer that
		// holds an older record for the key then sees this one's effect.
		release, err := e.sequencer.Acquire(ctx, ev.DedupKey)
		if err != nil {
			return p.fail(routingKey, fmt.Errorf("waiting for dedup key %q: %w", ev.DedupKey, err))
		}
		defer release()
		seen.RoutingKey = routingKey
		d, err := e.cache.Decide(ctx, ev.DedupKey, seen)
		if err != nil {
			e.logger.Warn("Dedup storage lookup failed; deciding on the in-memory cache", zap.Error(err))
		}
		// The incident's own key wins over the record's, even when the record
		// names no route at all.
		routingKey, seen.RoutingKey, suppressed = d.RoutingKey, d.RoutingKey, d.Reason
	}
	if routingKey == "" {
		e.reject(ctx, rejectNoRoutingKey,
			fmt.Errorf("%s %q matches no routing.keys entry and routing_key is not set", e.cfg.Routing.Attribute, m.RoutingValue),
			recordFields(lr, res, ev.DedupKey)...)
		return nil
	}
	// Behind a failed event of its key, a record waits even if it would be
	// suppressed now: the cache does not yet show the failed event's effect.
	if err, failing := p.failing[routingKey]; failing {
		return err
	}
	if suppressed != "" {
		e.telemetry.ExporterPagerdutySuppressed.Add(ctx, 1, e.attrs.of(attrKey{"event_action", string(ev.Action), "reason", suppressed}))
		return nil
	}

	// Only an event that will be sent needs its details, links and images.
	m.Complete()
	for r := range m.Repairs.All() {
		e.telemetry.ExporterPagerdutyRecordsRepaired.Add(ctx, 1, e.attrs.of(attrKey{"reason", r.String()}))
	}

	route := e.routes.name(routingKey)
	waited, err := e.limiter.Wait(ctx, routingKey)
	if waited > 0 {
		e.telemetry.ExporterPagerdutyRateLimitWait.Add(ctx, waited.Seconds(), e.attrs.of(attrKey{"routing", route}))
	}
	if err != nil {
		return p.fail(routingKey, fmt.Errorf("waiting for the rate limiter: %w", err))
	}

	ev.RoutingKey = routingKey
	start := time.Now()
	sent := e.client.Send(ctx, ev)
	e.recordRequest(ctx, sent, time.Since(start))
	e.telemetry.ExporterPagerdutyEvents.Add(ctx, 1, e.attrs.of(attrKey{"event_action", string(ev.Action), "outcome", sent.Outcome.String(), "routing", route}))
	switch sent.Outcome {
	case eventsapi.Accepted:
		if !ev.IsChange() {
			if err := e.cache.Record(ctx, ev.DedupKey, seen); err != nil {
				e.logger.Warn("Dedup storage update failed; the in-memory cache is current", zap.Error(err))
			}
		}
		return nil
	case eventsapi.Rejected:
		e.reject(ctx, rejectByAPI, sent.Err, recordFields(lr, res, ev.DedupKey)...)
		return nil
	case eventsapi.Throttled:
		e.telemetry.ExporterPagerdutyThrottled.Add(ctx, 1, e.attrs.of(attrKey{"routing", route}))
	}
	return p.fail(routingKey, fmt.Errorf("routing %q: %w", route, sent.Err))
}

func (e *pagerdutyExporter) reject(ctx context.Context, reason string, err error, fields ...zap.Field) {
	e.telemetry.ExporterPagerdutyRecordsRejected.Add(ctx, 1, e.attrs.of(attrKey{"reason", reason}))
	e.logger.Warn("Dropping log record that cannot be delivered to PagerDuty",
		append(fields, zap.String("reason", reason), zap.Error(err))...)
}

func (e *pagerdutyExporter) recordRequest(ctx context.Context, resp eventsapi.Result, took time.Duration) {
	e.telemetry.ExporterPagerdutyRequests.Add(ctx, 1, e.attrs.of(attrKey{"endpoint", resp.Path, "status_class", statusClass(resp.StatusCode)}))
	e.telemetry.ExporterPagerdutyRequestDuration.Record(ctx, took.Seconds(), e.attrs.of(attrKey{"endpoint", resp.Path}))
}

func statusClass(code int) string {
	switch code / 100 {
	case 0:
		return "transport"
	case 2:
		return "2xx"
	case 3:
		return "3xx"
	case 4:
		return "4xx"
	case 5:
		return "5xx"
	}
	return fmt.Sprintf("%dxx", code/100)
}

// recordFields identify a record in logs without its routing key.
func recordFields(lr plog.LogRecord, res pcommon.Resource, dedupKey string) []zap.Field {
	fields := make([]zap.Field, 0, 6)
	if dedupKey != "" {
		fields = append(fields, zap.String("dedup_key", dedupKey))
	}
	for _, name := range []string{recordmap.AttrName, recordmap.AttrFingerprint, recordmap.AttrServiceName} {
		v, ok := lr.Attributes().Get(name)
		if !ok {
			v, ok = res.Attributes().Get(name)
		}
		if ok {
			fields = append(fields, zap.String(name, v.AsString()))
		}
	}
	ts := lr.Timestamp()
	if ts == 0 {
		ts = lr.ObservedTimestamp()
	}
	if ts != 0 {
		fields = append(fields, zap.Time("record_time", ts.AsTime()))
	}
	if body := lr.Body(); body.Type() == pcommon.ValueTypeStr && body.Str() != "" {
		excerpt := []rune(body.Str())
		fields = append(fields, zap.String("body", string(excerpt[:min(len(excerpt), 80)])))
	}
	return fields
}
