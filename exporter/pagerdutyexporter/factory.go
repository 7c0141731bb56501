package pagerdutyexporter // import "github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter"

import (
	"context"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/config/configretry"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exporterhelper"

	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/eventsapi"
	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/metadata"
	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/redactlog"
)

// Defaults. The rate limit matches PagerDuty's documented "approximately
// 120 calls/minute per integration key"
// (https://developer.pagerduty.com/docs/events-api-rate-limits).
const (
	defaultEndpoint            = "https://events.pagerduty.com"
	defaultTimeout             = 30 * time.Second
	defaultMaxIdleConnsPerHost = 100
	defaultEventsPerMinute     = 120
	defaultBurst               = 10
	defaultDedupTTL            = 24 * time.Hour
	defaultMaxEntries          = 100000
	defaultRepeatInterval      = 4 * time.Hour
	defaultClient              = "OpenTelemetry Collector"
)

// NewFactory returns the factory of the pagerduty exporter.
func NewFactory() exporter.Factory {
	return exporter.NewFactory(
		metadata.Type,
		createDefaultConfig,
		exporter.WithLogs(createLogs, metadata.LogsStability),
	)
}

func createDefaultConfig() component.Config {
	client := confighttp.NewDefaultClientConfig()
	client.Endpoint = defaultEndpoint
	client.Timeout = defaultTimeout
	// net/http keeps 2 idle connections per host; with the queue's consumers
	// all posting to one host, the rest would reconnect for every event.
	keepalive := confighttp.NewDefaultKeepaliveClientConfig()
	keepalive.MaxIdleConnsPerHost = defaultMaxIdleConnsPerHost
	client.Keepalive = configoptional.Some(keepalive)
	return &Config{
		ClientConfig:  client,
		QueueConfig:   configoptional.Some(exporterhelper.NewDefaultQueueConfig()),
		BackOffConfig: configretry.NewDefaultBackOffConfig(),
		RateLimit:     RateLimitConfig{EventsPerMinute: defaultEventsPerMinute, Burst: defaultBurst},
		Dedup: DedupConfig{
			TTL:            defaultDedupTTL,
			MaxEntries:     defaultMaxEntries,
			RepeatInterval: defaultRepeatInterval,
		},
		DefaultSeverity: eventsapi.SeverityError,
		Client:          defaultClient,
		Links:           LinksConfig{TraceText: defaultTraceText},
	}
}

func createLogs(_ context.Context, set exporter.Settings, cfg component.Config) (exporter.Logs, error) {
	c := cfg.(*Config)
	// Every log line of the exporter and of its queues' exporterhelpers goes
	// through the redactor: a proxy may echo a routing key in its errors.
	set.Logger = redactlog.Logger(set.Logger, newKeyRedactor(c))
	e := newExporter(c, set)
	// The exporter's own queues (see internal/queues) carry sending_queue
	// and retry_on_failure, and exporterhelper's telemetry with them; in
	// front of them, the road admits records, synchronously. It stamps each
	// record with its arrival, in place when the whole request goes to one
	// queue: it mutates data, so the pipeline hands it a copy only when
	// another consumer shares the data.
	logs, err := consumer.NewLogs(e.consume, consumer.WithCapabilities(consumer.Capabilities{MutatesData: true}))
	if err != nil {
		return nil, err
	}
	return &frontExporter{StartFunc: e.start, ShutdownFunc: e.shutdown, Logs: logs}, nil
}

// frontExporter is the component the pipeline sees: records go in through
// consume, and out through the queues, which start and stop with it.
type frontExporter struct {
	component.StartFunc
	component.ShutdownFunc
	consumer.Logs
}

// newKeyRedactor returns a redactor of every routing key cfg configures.
func newKeyRedactor(cfg *Config) *eventsapi.Redactor {
	keys := make([]string, 0, len(cfg.Routing.Keys)+1)
	keys = append(keys, string(cfg.RoutingKey))
	for _, key := range cfg.Routing.Keys {
		keys = append(keys, string(key))
	}
	return eventsapi.NewRedactor(keys...)
}
