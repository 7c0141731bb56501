package pagerdutyexporter // import "github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter"

import (
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/config/configretry"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/exporter/exporterhelper"

	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/eventsapi"
)

// Config is the pagerduty exporter's configuration.
type Config struct {
	// ClientConfig holds endpoint (the Events API base URL) and every HTTP
	// client setting: tls, proxy_url, headers, timeout, auth, compression.
	ClientConfig  confighttp.ClientConfig                                  `mapstructure:",squash"`
	QueueConfig   configoptional.Optional[exporterhelper.QueueBatchConfig] `mapstructure:"sending_queue"`
	BackOffConfig configretry.BackOffConfig                                `mapstructure:"retry_on_failure"`

	// RoutingKey is the default integration key.
	RoutingKey configopaque.String `mapstructure:"routing_key"`
	// Routing picks an integration key per record.
	Routing RoutingConfig `mapstructure:"routing"`
	// RateLimit paces events per routing key.
	RateLimit RateLimitConfig `mapstructure:"rate_limit"`
	// Dedup bounds the dedup cache and sets its repeat window.
	Dedup DedupConfig `mapstructure:"dedup"`
	// DefaultSeverity is used when a record gives no usable severity.
	DefaultSeverity string `mapstructure:"default_severity"`
	// Client and ClientURL go on triggers whose record names none
	// (pagerduty.client, pagerduty.client_url, alert.generator_url).
	Client    string  `mapstructure:"client"`
	ClientURL httpURL `mapstructure:"client_url"`

	_ struct{}
}

// RoutingConfig selects a routing key by the value of one attribute.
type RoutingConfig struct {
	// Attribute is read from the record, then from its resource.
	Attribute string `mapstructure:"attribute"`
	// Keys maps attribute values to integration keys. Values not listed use
	// routing_key.
	Keys map[string]configopaque.String `mapstructure:"keys"`

	_ struct{}
}

// RateLimitConfig paces events per routing key over any sliding minute.
type RateLimitConfig struct {
	// EventsPerMinute is the most events sent under one routing key in any
	// 60-second window; 0 disables limiting.
	EventsPerMinute int `mapstructure:"events_per_minute"`
	// Burst is how many of them may go at once.
	Burst int `mapstructure:"burst"`

	_ struct{}
}

// DedupConfig configures the dedup cache.
type DedupConfig struct {
	// TTL is how long an entry is kept after its last update.
	TTL time.Duration `mapstructure:"ttl"`
	// MaxEntries bounds the cache; resolved entries are evicted first.
	MaxEntries int `mapstructure:"max_entries"`
	// RepeatInterval is how long an identical firing record stays suppressed
	// while its incident is open.
	RepeatInterval time.Duration `mapstructure:"repeat_interval"`
	// Storage names a storage extension that keeps the cache across restarts.
	Storage *component.ID `mapstructure:"storage"`

	_ struct{}
}

var (
	_ component.Config  = (*Config)(nil)
	_ confmap.Validator = (*Config)(nil)
)

// Validate checks the exporter's own fields; confmap validates the nested
// HTTP, queue and retry configs.
func (cfg *Config) Validate() error {
	var errs []error
	if cfg.ClientConfig.Endpoint == "" {
		errs = append(errs, errors.New("endpoint: must be set to the Events API base URL, e.g. https://events.pagerduty.com"))
	} else if u, err := url.Parse(cfg.ClientConfig.Endpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, errors.New("endpoint: must be an absolute http(s) URL"))
	} else if path := strings.TrimRight(u.Path, "/"); strings.HasSuffix(path, eventsapi.EnqueuePath) || strings.HasSuffix(path, eventsapi.ChangeEnqueuePath) {
		// Every event would be answered 404 and dropped as refused.
		errs = append(errs, fmt.Errorf("endpoint: is the base URL, without %s: the exporter appends the path itself", path[strings.LastIndex(path, "/v2/"):]))
	}
	switch {
	case cfg.RoutingKey == "" && len(cfg.Routing.Keys) == 0:
		errs = append(errs, errors.New("routing_key: must be set (a 32-character integration key), or routing.keys must list at least one key"))
	case cfg.RoutingKey != "":
		if err := checkKey(cfg.RoutingKey); err != nil {
			errs = append(errs, fmt.Errorf("routing_key: %w", err))
		}
	}
	names := make([]string, 0, len(cfg.Routing.Keys))
	for name := range cfg.Routing.Keys {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if name == defaultRoute {
			errs = append(errs, fmt.Errorf("routing.keys::%s: the name %q is reserved for routing_key", name, defaultRoute))
		}
		if err := checkKey(cfg.Routing.Keys[name]); err != nil {
			errs = append(errs, fmt.Errorf("routing.keys::%s: %w", name, err))
		}
	}
	if len(cfg.Routing.Keys) > 0 && cfg.Routing.Attribute == "" {
		errs = append(errs, errors.New("routing.attribute: must name the attribute whose value selects a key from routing.keys"))
	}
	if cfg.RateLimit.EventsPerMinute < 0 {
		errs = append(errs, errors.New("rate_limit.events_per_minute: must not be negative (0 disables rate limiting)"))
	}
	if cfg.RateLimit.EventsPerMinute > 0 && (cfg.RateLimit.Burst < 1 || cfg.RateLimit.Burst > cfg.RateLimit.EventsPerMinute) {
		errs = append(errs, fmt.Errorf("rate_limit.burst: must be between 1 and rate_limit.events_per_minute (%d), got %d", cfg.RateLimit.EventsPerMinute, cfg.RateLimit.Burst))
	}
	if cfg.Dedup.TTL < 0 {
		errs = append(errs, errors.New("dedup.ttl: must not be negative (0 keeps entries until evicted)"))
	}
	if cfg.Dedup.MaxEntries < 0 {
		errs = append(errs, errors.New("dedup.max_entries: must not be negative (0 means no bound)"))
	}
	if cfg.Dedup.RepeatInterval < 0 {
		errs = append(errs, errors.New("dedup.repeat_interval: must not be negative"))
	}
	if !eventsapi.ValidSeverity(cfg.DefaultSeverity) {
		errs = append(errs, fmt.Errorf("default_severity: must be one of critical, error, warning, info, got %q", cfg.DefaultSeverity))
	}
	return errors.Join(errs...)
}

// checkKey checks the shape PagerDuty requires of an integration key. The
// key itself never appears in the error. Surrounding white space is ignored,
// as the router drops it: a key read with ${file:...} ends in a newline.
func checkKey(key configopaque.String) error {
	switch n := len(strings.TrimSpace(string(key))); {
	case n == 0:
		return errors.New("must not be empty")
	case n != eventsapi.RoutingKeyLen:
		return fmt.Errorf("must be a %d-character integration key, got %d characters", eventsapi.RoutingKeyLen, n)
	}
	return nil
}
