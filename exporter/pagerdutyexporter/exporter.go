package pagerdutyexporter // import "github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter"

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"os"
	"slices"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
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

// shutdownDrain bounds how long a shutdown keeps sending what an in-memory
// queue holds. A persistent queue stops at once: its records wait on disk.
const shutdownDrain = 10 * time.Second

// errShuttingDown hands a record back to its queue at shutdown.
var errShuttingDown = errors.New("the exporter is shutting down")

// Reasons a record is rejected outside the mapping.
const (
	rejectNoRoutingKey = "no_routing_key"
	rejectByAPI        = "api_rejected"
)

// pagerdutyExporter takes records in (dispatch), queues each on its route's
// queue of its priority, and delivers them from there (deliver), one event
// per record.
type pagerdutyExporter struct {
	id        component.ID
	cfg       *Config
	settings  component.TelemetrySettings
	logger    *zap.Logger
	telemetry *metadata.TelemetryBuilder
	series    series
	attrs     *attrSets
	userAgent string

	mapping recordmap.Options
	routes  router
	queues  *queues
	backlog *backlog
	limiter *eventsapi.Limiter

	// stop ends delivery at shutdown; unsentAtStop counts the records it
	// handed back.
	stop         context.Context
	stopNow      context.CancelFunc
	unsentAtStop atomic.Int64

	// Built in start, where the host's extensions (auth, storage) are known.
	httpClient *http.Client
	client     *eventsapi.Client
	cache      *dedup.Cache
	health     *health
}

func newExporter(ctx context.Context, cfg *Config, set exporter.Settings) (*pagerdutyExporter, error) {
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
			Client:           cfg.Client,
			ClientURL:        string(cfg.ClientURL),
		},
		routes:  routes,
		series:  knownSeries(routes.queued()),
		backlog: newBacklog(routes.queued(), giveUpAfter(cfg)),
		limiter: eventsapi.NewLimiter(cfg.RateLimit.EventsPerMinute, cfg.RateLimit.Burst),
		// Until start opens the configured storage.
		cache: dedup.New(dedupConfig(cfg, nil), nil),
	}
	e.attrs = newAttrSets(set.ID.String(), e.series)
	e.stop, e.stopNow = context.WithCancel(context.Background())
	if e.queues, err = newQueues(ctx, set, cfg, routes.queued(), e.deliver); err != nil {
		tb.Shutdown()
		return nil, err
	}
	return e, nil
}

func dedupConfig(cfg *Config, storeError func(error)) dedup.Config {
	return dedup.Config{
		TTL:            cfg.Dedup.TTL,
		MaxEntries:     cfg.Dedup.MaxEntries,
		RepeatInterval: cfg.Dedup.RepeatInterval,
		StoreError:     storeError,
	}
}

// giveUpAfter is when the retry sender has surely given up on a request it
// was handed back; 0 when it never does.
func giveUpAfter(cfg *Config) time.Duration {
	switch {
	case !cfg.BackOffConfig.Enabled:
		return time.Nanosecond
	case cfg.BackOffConfig.MaxElapsedTime == 0:
		return 0
	}
	return cfg.BackOffConfig.MaxElapsedTime + cfg.BackOffConfig.MaxInterval
}

// registerGauges is called once start has settled which cache the exporter
// keeps: the callbacks read it from the metric reader's goroutine.
func (e *pagerdutyExporter) registerGauges() error {
	return errors.Join(
		e.telemetry.RegisterExporterPagerdutyCacheEntriesCallback(func(_ context.Context, o metric.Int64Observer) error {
			o.Observe(int64(e.cache.Stats().Entries), e.attrs.of(attrKey{}))
			return nil
		}),
		e.telemetry.RegisterExporterPagerdutyOpenIncidentsCallback(func(_ context.Context, o metric.Int64Observer) error {
			o.Observe(int64(e.cache.Stats().Open), e.attrs.of(attrKey{}))
			return nil
		}),
		e.telemetry.RegisterExporterPagerdutyCacheEvictionsCallback(func(_ context.Context, o metric.Int64Observer) error {
			o.Observe(e.cache.Stats().Evictions, e.attrs.of(attrKey{}))
			return nil
		}),
		e.telemetry.RegisterExporterPagerdutyBacklogCallback(func(_ context.Context, o metric.Int64Observer) error {
			e.backlog.observe(time.Now(), func(route string, records int64) {
				o.Observe(records, e.attrs.of(attrKey{"routing", route}))
			})
			return nil
		}),
	)
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
	e.series.zero(ctx, e.telemetry, e.attrs)
	for _, route := range e.routes.queued() {
		if eventsapi.IsRulesetKey(e.routes.key(route)) {
			// Validate cannot warn, and cannot know which routes get change events.
			e.logger.Warn("Route has a ruleset key (it starts with R): change events routed to it are dropped, as PagerDuty refuses them",
				zap.String("routing", route))
		}
	}
	e.client = eventsapi.NewClient(httpClient, e.cfg.ClientConfig.Endpoint, e.userAgent,
		e.cfg.BackOffConfig.MaxInterval, eventsapi.WithRedactor(newKeyRedactor(e.cfg)))
	if id := e.dedupStorage(); id != nil {
		if err := e.openCache(ctx, host, *id); err != nil {
			return err
		}
	}
	if err := e.registerGauges(); err != nil {
		return fmt.Errorf("registering telemetry callbacks: %w", err)
	}
	e.health = newHealth(reportTo(host), time.Now)
	// Last: their consumers deliver at once, with the client and the cache.
	return e.queues.start(ctx, host)
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

// openCache keeps the dedup cache in the storage extension id.
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
	e.cache, err = dedup.Open(ctx, dedupConfig(e.cfg, storeError), nil,
		dedup.Persistence{Client: client, Route: e.routes.name, Key: e.routes.key})
	if err != nil {
		// A partly unreadable cache only costs suppressions; keep going.
		e.logger.Warn("Dedup storage could not be fully loaded", zap.Error(err))
	}
	return nil
}

// shutdown stops the queues. A persistent queue stops at once: records in
// flight are handed back and stay on disk with the rest, for the next start.
// An in-memory queue is drained for up to shutdownDrain; what it could not
// send then is lost, and counted in a log line.
func (e *pagerdutyExporter) shutdown(ctx context.Context) error {
	e.health.stop()
	persistent := e.cfg.QueueConfig.HasValue() && e.cfg.QueueConfig.Get().StorageID != nil
	if persistent {
		e.stopNow()
	} else {
		drained := time.AfterFunc(shutdownDrain, e.stopNow)
		defer drained.Stop()
	}
	err := e.queues.shutdown(ctx)
	e.stopNow()
	if n := e.unsentAtStop.Load(); n > 0 {
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
	e.telemetry.Shutdown()
	return errors.Join(err, e.cache.Close(ctx))
}

// dispatch puts each record on the queue of its route and priority. Records
// that can never become an event are dropped here, with a log line and a
// metric, and so are records the dedup cache suppresses (see suppressEarly).
// Only a refused enqueue (a full queue) fails the call.
func (e *pagerdutyExporter) dispatch(ctx context.Context, ld plog.Logs) error {
	received := pcommon.NewTimestampFromTime(time.Now())
	batches := map[queueKey]*heldLogs{}
	// Records of one dedup key in one call keep their order: they share the
	// queue of the first of them, whatever their own priority.
	sameKey := map[string]queueKey{}
	var n uint64
	for i, rl := range ld.ResourceLogs().All() {
		for j, sl := range rl.ScopeLogs().All() {
			for _, lr := range sl.LogRecords().All() {
				n++
				m, err := recordmap.Identify(lr, rl.Resource(), &e.mapping)
				if err != nil {
					e.reject(ctx, rejectReason(err), err, recordFields(lr, rl.Resource(), "")...)
					continue
				}
				key, ok := sameKey[m.Event.DedupKey]
				if !ok && !m.Event.IsChange() && e.suppressEarly(ctx, &m, received+pcommon.Timestamp(n)) {
					continue
				}
				if !ok {
					if key, ok = e.queueOf(&m); !ok {
						e.rejectUnrouted(ctx, &m, lr, rl.Resource())
						continue
					}
					if !m.Event.IsChange() {
						sameKey[m.Event.DedupKey] = key
					}
				}
				if batches[key] == nil {
					batches[key] = &heldLogs{}
				}
				batches[key].add(i, j, n, rl, sl, lr, received)
			}
		}
	}
	// Most urgent first: should the queues fill, the least urgent are refused.
	keys := slices.SortedFunc(maps.Keys(batches), func(a, b queueKey) int {
		return cmp.Or(cmp.Compare(a.priority, b.priority), cmp.Compare(a.route, b.route))
	})
	var errs []error
	for _, key := range keys {
		held := batches[key]
		e.backlog.add(key.route, held.count)
		if err := e.queues.byKey[key].ConsumeLogs(ctx, held.logs); err != nil {
			e.backlog.settle(key.route, held.count)
			errs = append(errs, fmt.Errorf("queueing %d records for route %q, priority %s: %w", held.count, key.route, key.priority, err))
		}
	}
	return errors.Join(errs...)
}

// suppressEarly settles, without queueing it, a record the cache suppresses
// (a repeat, an acknowledge or resolve already applied, or a stale record)
// when its dedup key's turn is free: delivery would decide the same, and in
// a storm of repeats queueing each would cost more than deciding. It
// reports whether the record was settled. received stands in for the
// record's time if it has none.
func (e *pagerdutyExporter) suppressEarly(ctx context.Context, m *recordmap.Result, received pcommon.Timestamp) bool {
	ev := &m.Event
	turn, ok := e.cache.TryBegin(ctx, ev.DedupKey, e.seen(m, received))
	if !ok {
		return false
	}
	defer turn.Release()
	if turn.Reason == "" {
		return false
	}
	e.suppress(ctx, &turn, ev.Action)
	return true
}

// queueOf picks a record's queue: the route of its incident's key when the
// cache knows an incident the event belongs to, else the route its routing
// attribute selects. An acknowledge or resolve with no route at all goes to
// the first route, where delivery looks again: its trigger may be queued
// still.
func (e *pagerdutyExporter) queueOf(m *recordmap.Result) (queueKey, bool) {
	ev := &m.Event
	p := priorityOf(ev)
	routingKey := e.routes.pick(m.RoutingValue)
	if !ev.IsChange() {
		if incidentKey, open := e.cache.IncidentKey(ev.DedupKey); incidentKey != "" && (open || ev.Action != eventsapi.Trigger) {
			routingKey = incidentKey
		}
	}
	if route, ok := e.routes.queueName(routingKey); ok {
		return queueKey{route, p}, true
	}
	if ev.Action == eventsapi.Acknowledge || ev.Action == eventsapi.Resolve {
		return queueKey{e.routes.queued()[0], p}, true
	}
	return queueKey{}, false
}

// deliver returns the push of one queue: it sends one event per record, in
// order. Records PagerDuty refused are dropped with a log line and a metric;
// records that failed in a way a retry can fix are handed back to the retry
// sender, alone, so that accepted events are never sent twice. Once a
// routing key fails, its later records wait for the retry too, keeping their
// order.
func (e *pagerdutyExporter) deliver(key queueKey) consumer.ConsumeLogsFunc {
	return func(ctx context.Context, ld plog.Logs) error {
		// A stop cancels the wait for a dedup key's turn or for the limiter.
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		defer e.cancelOnStop(cancel)()
		e.backlog.taken(ld)
		p := push{}
		for i, rl := range ld.ResourceLogs().All() {
			for j, sl := range rl.ScopeLogs().All() {
				received := receivedAt(sl)
				for _, lr := range sl.LogRecords().All() {
					if err := e.exportRecord(ctx, &p, key, lr, rl.Resource(), received); err != nil {
						p.unsent.add(i, j, 0, rl, sl, lr, 0)
					}
				}
			}
		}
		e.backlog.settle(key.route, ld.LogRecordCount()-p.unsent.count)
		err := p.result()
		switch {
		case err == nil:
		case e.stop.Err() != nil:
			e.unsentAtStop.Add(int64(p.unsent.count))
		default:
			e.backlog.retrying(p.unsent.logs, key.route, time.Now())
		}
		return err
	}
}

// cancelOnStop arranges for cancel to run when the exporter stops, and
// returns the function that undoes the arrangement. The stop context is only
// watched: nothing runs under it.
func (e *pagerdutyExporter) cancelOnStop(cancel context.CancelFunc) (undo func() bool) {
	return context.AfterFunc(e.stop, cancel)
}

// exportRecord identifies, routes, decides, sends and settles one record,
// received by the exporter at received. It returns an error only when the
// record must be retried.
func (e *pagerdutyExporter) exportRecord(ctx context.Context, p *push, q queueKey, lr plog.LogRecord, res pcommon.Resource, received pcommon.Timestamp) error {
	if e.stop.Err() != nil {
		return p.hold(errShuttingDown)
	}
	m, err := recordmap.IdentifyAt(lr, res, &e.mapping, received)
	if err != nil {
		e.reject(ctx, rejectReason(err), err, recordFields(lr, res, "")...)
		return nil
	}
	ev := &m.Event
	turn, err := e.begin(ctx, &m, received)
	if err != nil {
		return p.fail(e.routes.pick(m.RoutingValue), err)
	}
	defer turn.Release()
	routingKey := turn.RoutingKey
	if e.refused(ctx, &m, &turn, lr, res) {
		return nil
	}
	// Behind a failed event of its key, a record waits even if it would be
	// suppressed now: the cache does not yet show the failed event's effect.
	if failure, failing := p.failing[routingKey]; failing {
		return failure
	}
	if turn.Reason != "" {
		e.suppress(ctx, &turn, ev.Action)
		return nil
	}

	// Only an event that will be sent needs its details, links and images.
	m.Complete()
	e.countRepairs(ctx, &m, lr, res)
	route := e.routes.name(routingKey)
	if err := e.waitForSlot(ctx, routingKey, route, q.priority); err != nil {
		return p.fail(routingKey, err)
	}
	ev.RoutingKey = routingKey
	sent := e.send(ctx, ev, route)
	e.health.settled(route, sent)
	switch sent.Outcome {
	case eventsapi.Accepted:
		turn.Commit(ctx)
		e.telemetry.ExporterPagerdutyEventWait.Record(ctx, time.Since(received.AsTime()).Seconds(), e.attrs.of(attrKey{"priority", q.priority.String(), "routing", route}))
		return nil
	case eventsapi.Rejected:
		e.reject(ctx, rejectByAPI, sent.Err, recordFields(lr, res, ev.DedupKey)...)
		return nil
	}
	return p.fail(routingKey, fmt.Errorf("routing %q: %w", route, sent.Err))
}

// begin takes the record's dedup key's turn and the cache's decision: deciding,
// sending and recording are one step per dedup key, so a consumer holding
// an older record for the key sees this one's effect. A change event has no
// dedup key: its turn is untracked, to send under the record's route.
func (e *pagerdutyExporter) begin(ctx context.Context, m *recordmap.Result, received pcommon.Timestamp) (dedup.Turn, error) {
	ev := &m.Event
	if ev.IsChange() {
		return dedup.Untracked(e.routes.pick(m.RoutingValue)), nil
	}
	turn, err := e.cache.Begin(ctx, ev.DedupKey, e.seen(m, received))
	if err != nil {
		return turn, fmt.Errorf("waiting for dedup key %q: %w", ev.DedupKey, err)
	}
	return turn, nil
}

// seen is what the dedup cache needs to know of an identified alert event,
// under the routing key its record selects.
func (e *pagerdutyExporter) seen(m *recordmap.Result, received pcommon.Timestamp) dedup.Event {
	return dedup.Event{Action: m.Event.Action, RoutingKey: e.routes.pick(m.RoutingValue), PayloadHash: m.PayloadHash, Time: m.OrderingTime(received)}
}

// refused drops, with a log line and a metric, a record that has no routing
// key, or a change event for a ruleset key, which PagerDuty takes no change
// events on (https://developer.pagerduty.com/docs/events-api-v2-overview#getting-started).
// It reports whether it did.
func (e *pagerdutyExporter) refused(ctx context.Context, m *recordmap.Result, turn *dedup.Turn, lr plog.LogRecord, res pcommon.Resource) bool {
	ev := &m.Event
	switch {
	case turn.RoutingKey == "":
		// A resolve that overtook its trigger still closes it: the trigger,
		// older, will be stale.
		if ev.Action == eventsapi.Resolve {
			turn.Commit(ctx)
		}
		e.rejectUnrouted(ctx, m, lr, res)
		return true
	case ev.IsChange() && eventsapi.IsRulesetKey(turn.RoutingKey):
		e.reject(ctx, eventsapi.RejectChangeToRulesetKey,
			fmt.Errorf("route %q has a ruleset key (it starts with R), which takes no change events", e.routes.name(turn.RoutingKey)),
			recordFields(lr, res, "")...)
		return true
	}
	return false
}

// suppress settles a record whose effect PagerDuty already shows.
func (e *pagerdutyExporter) suppress(ctx context.Context, turn *dedup.Turn, action eventsapi.Action) {
	turn.Commit(ctx)
	e.telemetry.ExporterPagerdutySuppressed.Add(ctx, 1, e.attrs.of(attrKey{"event_action", string(action), "reason", turn.Reason}))
}

func (e *pagerdutyExporter) countRepairs(ctx context.Context, m *recordmap.Result, lr plog.LogRecord, res pcommon.Resource) {
	for r := range m.Repairs.All() {
		e.telemetry.ExporterPagerdutyRecordsRepaired.Add(ctx, 1, e.attrs.of(attrKey{"reason", r.String()}))
	}
	if m.Repairs.Has(recordmap.RepairTimeInFuture) {
		e.logger.Debug("Record time ahead of its arrival: ordered by arrival", recordFields(lr, res, m.Event.DedupKey)...)
	}
}

// waitForSlot waits for routingKey's rate limiter to let an event of
// priority p go, and counts the wait.
func (e *pagerdutyExporter) waitForSlot(ctx context.Context, routingKey, route string, p priority) error {
	waited, err := e.limiter.Wait(ctx, routingKey, int(p))
	if waited > 0 {
		e.telemetry.ExporterPagerdutyRateLimitWait.Add(ctx, waited.Seconds(), e.attrs.of(attrKey{"routing", route}))
	}
	if err != nil {
		return fmt.Errorf("waiting for the rate limiter: %w", err)
	}
	return nil
}

// send posts ev once and counts the request and its outcome.
func (e *pagerdutyExporter) send(ctx context.Context, ev *eventsapi.Event, route string) eventsapi.Result {
	start := time.Now()
	// A stop does not cancel a request in flight: the client's timeout
	// bounds it, and canceling it would lose whether PagerDuty applied it.
	sent := e.client.Send(context.WithoutCancel(ctx), ev)
	e.recordRequest(ctx, sent, time.Since(start))
	e.telemetry.ExporterPagerdutyEvents.Add(ctx, 1, e.attrs.of(attrKey{"event_action", string(ev.Action), "outcome", sent.Outcome.String(), "routing", route}))
	if sent.Outcome == eventsapi.Throttled {
		e.telemetry.ExporterPagerdutyThrottled.Add(ctx, 1, e.attrs.of(attrKey{"routing", route}))
	}
	return sent
}

// rejectReason is the reason a mapping error names, or the mapping's catch-all.
func rejectReason(err error) string {
	if rejected, ok := errors.AsType[*recordmap.RejectError](err); ok {
		return rejected.Reason
	}
	return recordmap.RejectUnknownEventType
}

func (e *pagerdutyExporter) rejectUnrouted(ctx context.Context, m *recordmap.Result, lr plog.LogRecord, res pcommon.Resource) {
	e.reject(ctx, rejectNoRoutingKey,
		fmt.Errorf("%s %q matches no routing.keys entry and routing_key is not set", e.cfg.Routing.Attribute, m.RoutingValue),
		recordFields(lr, res, m.Event.DedupKey)...)
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
	if ts := recordmap.RecordTime(lr); ts != 0 {
		fields = append(fields, zap.Time("record_time", ts.AsTime()))
	}
	if body := lr.Body(); body.Type() == pcommon.ValueTypeStr && body.Str() != "" {
		excerpt := []rune(body.Str())
		fields = append(fields, zap.String("body", string(excerpt[:min(len(excerpt), 80)])))
	}
	return fields
}
