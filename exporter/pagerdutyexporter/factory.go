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
)

// Defaults. The rate limit matches PagerDuty's documented 120 events per
// minute per integration key.
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
	}
}

func createLogs(ctx context.Context, set exporter.Settings, cfg component.Config) (exporter.Logs, error) {
	c := cfg.(*Config)
	e, err := newExporter(c, set)
	if err != nil {
		return nil, err
	}
	return exporterhelper.NewLogs(ctx, set, cfg, e.pushLogs,
		exporterhelper.WithStart(e.start),
		exporterhelper.WithShutdown(e.shutdown),
		exporterhelper.WithCapabilities(consumer.Capabilities{MutatesData: false}),
		// The HTTP client's timeout bounds each request; a push may hold many.
		exporterhelper.WithTimeout(exporterhelper.TimeoutConfig{Timeout: 0}),
		exporterhelper.WithRetry(c.BackOffConfig),
		exporterhelper.WithQueue(c.QueueConfig),
	)
}
