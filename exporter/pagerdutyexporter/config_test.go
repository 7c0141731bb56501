package pagerdutyexporter

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"

	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/metadata"
)

const (
	testKey     = "0123456789abcdef0123456789abcdef"
	checkoutKey = "c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0"
	paymentsKey = "p0p0p0p0p0p0p0p0p0p0p0p0p0p0p0p0"
)

func loadConfig(t *testing.T, name string) *Config {
	t.Helper()
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	require.NoError(t, err)
	id := component.NewID(metadata.Type)
	if name != "" {
		id = component.NewIDWithName(metadata.Type, name)
	}
	sub, err := cm.Sub(id.String())
	require.NoError(t, err)
	cfg := NewFactory().CreateDefaultConfig().(*Config)
	require.NoError(t, sub.Unmarshal(cfg))
	return cfg
}

func TestLoadConfig(t *testing.T) {
	t.Run("minimal", func(t *testing.T) {
		cfg := loadConfig(t, "")
		require.NoError(t, confmap.Validate(cfg))
		want := NewFactory().CreateDefaultConfig().(*Config)
		want.RoutingKey = testKey
		assert.Equal(t, want, cfg)
		assert.Equal(t, "https://events.pagerduty.com", cfg.ClientConfig.Endpoint)
		assert.Equal(t, RateLimitConfig{EventsPerMinute: 120, Burst: 10}, cfg.RateLimit)
		assert.Equal(t, DedupConfig{TTL: 24 * time.Hour, MaxEntries: 100000, RepeatInterval: 4 * time.Hour}, cfg.Dedup)
		assert.Equal(t, "error", cfg.DefaultSeverity)
		assert.True(t, cfg.QueueConfig.HasValue(), "the sending queue is on by default")
		assert.True(t, cfg.BackOffConfig.Enabled)
		assert.Equal(t, 100, cfg.ClientConfig.Keepalive.Get().MaxIdleConnsPerHost, "every queue consumer keeps its connection")
	})
	t.Run("full", func(t *testing.T) {
		cfg := loadConfig(t, "full")
		require.NoError(t, confmap.Validate(cfg))
		assert.Equal(t, "https://events.eu.pagerduty.com", cfg.ClientConfig.Endpoint)
		assert.Equal(t, 10*time.Second, cfg.ClientConfig.Timeout)
		assert.Equal(t, "http://proxy.internal:3128", cfg.ClientConfig.ProxyURL)
		assert.Equal(t, RateLimitConfig{EventsPerMinute: 60, Burst: 5}, cfg.RateLimit)
		storageID := component.MustNewID("file_storage")
		assert.Equal(t, DedupConfig{TTL: 48 * time.Hour, MaxEntries: 50000, RepeatInterval: time.Hour, Storage: &storageID}, cfg.Dedup)
		assert.Equal(t, &storageID, cfg.QueueConfig.Get().StorageID)
		assert.Equal(t, "warning", cfg.DefaultSeverity)
		require.True(t, cfg.QueueConfig.HasValue())
		assert.Equal(t, 4, cfg.QueueConfig.Get().NumConsumers)
		assert.Equal(t, int64(5000), cfg.QueueConfig.Get().QueueSize)
		assert.Equal(t, 30*time.Minute, cfg.BackOffConfig.MaxElapsedTime)
	})
	t.Run("routed", func(t *testing.T) {
		cfg := loadConfig(t, "routed")
		require.NoError(t, confmap.Validate(cfg))
		assert.Equal(t, "service.name", cfg.Routing.Attribute)
		assert.Equal(t, map[string]configopaque.String{"checkout": checkoutKey, "payments": paymentsKey}, cfg.Routing.Keys)
	})
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*Config)
		errs   []string // each must appear in the error
	}{
		{name: "valid", mutate: func(*Config) {}},
		{name: "routing map without default key", mutate: func(c *Config) {
			c.RoutingKey = ""
			c.Routing = RoutingConfig{Attribute: "service.name", Keys: map[string]configopaque.String{"a": testKey}}
		}},
		{name: "key read from a file keeps its newline", mutate: func(c *Config) { c.RoutingKey = testKey + "\n" }},
		{name: "missing key", mutate: func(c *Config) { c.RoutingKey = "" }, errs: []string{"routing_key: must be set"}},
		{name: "short key", mutate: func(c *Config) { c.RoutingKey = "abc" }, errs: []string{"routing_key: must be a 32-character integration key, got 3 characters"}},
		{name: "bad routed key", mutate: func(c *Config) {
			c.Routing = RoutingConfig{Attribute: "service.name", Keys: map[string]configopaque.String{"checkout": "x", "ok": testKey}}
		}, errs: []string{"routing.keys::checkout: must be a 32-character integration key"}},
		{name: "routing map without attribute", mutate: func(c *Config) {
			c.Routing = RoutingConfig{Keys: map[string]configopaque.String{"a": testKey}}
		}, errs: []string{"routing.attribute: must name the attribute"}},
		{name: "empty endpoint", mutate: func(c *Config) { c.ClientConfig.Endpoint = "" }, errs: []string{"endpoint: must be set"}},
		{name: "endpoint with the enqueue path", mutate: func(c *Config) { c.ClientConfig.Endpoint = "https://events.pagerduty.com/v2/enqueue" },
			errs: []string{"endpoint: is the base URL, without /v2/enqueue"}},
		{name: "endpoint with the change path", mutate: func(c *Config) { c.ClientConfig.Endpoint = "https://events.pagerduty.com/v2/change/enqueue/" },
			errs: []string{"endpoint: is the base URL, without /v2/change/enqueue"}},
		{name: "endpoint behind a gateway path", mutate: func(c *Config) { c.ClientConfig.Endpoint = "https://gateway.internal/pagerduty" }},
		{name: "non-http endpoint", mutate: func(c *Config) { c.ClientConfig.Endpoint = "ftp://x" }, errs: []string{"endpoint: must be an absolute http(s) URL"}},
		{name: "relative endpoint", mutate: func(c *Config) { c.ClientConfig.Endpoint = "events.pagerduty.com" }, errs: []string{"endpoint: must be an absolute"}},
		{name: "unknown severity", mutate: func(c *Config) { c.DefaultSeverity = "high" }, errs: []string{`default_severity: must be one of critical, error, warning, info, got "high"`}},
		{name: "reserved route name", mutate: func(c *Config) {
			c.Routing = RoutingConfig{Attribute: "service.name", Keys: map[string]configopaque.String{"default": testKey}}
		}, errs: []string{`routing.keys::default: the name "default" is reserved for routing_key`}},
		{name: "negative rate", mutate: func(c *Config) { c.RateLimit.EventsPerMinute = -1 }, errs: []string{"rate_limit.events_per_minute: must not be negative"}},
		{name: "rate limit off ignores burst", mutate: func(c *Config) { c.RateLimit = RateLimitConfig{} }},
		{name: "zero burst", mutate: func(c *Config) { c.RateLimit.Burst = 0 }, errs: []string{"rate_limit.burst: must be between 1 and rate_limit.events_per_minute (120), got 0"}},
		{name: "burst over rate", mutate: func(c *Config) { c.RateLimit.Burst = 121 }, errs: []string{"rate_limit.burst"}},
		{name: "negative dedup values", mutate: func(c *Config) { c.Dedup = DedupConfig{TTL: -1, MaxEntries: -1, RepeatInterval: -1} },
			errs: []string{"dedup.ttl: must not be negative", "dedup.max_entries: must not be negative", "dedup.repeat_interval: must not be negative"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := NewFactory().CreateDefaultConfig().(*Config)
			cfg.RoutingKey = testKey
			tc.mutate(cfg)
			err := confmap.Validate(cfg)
			if len(tc.errs) == 0 {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			for _, want := range tc.errs {
				assert.Contains(t, err.Error(), want)
			}
			assert.NotContains(t, err.Error(), testKey, "errors never carry a routing key")
		})
	}
}

func TestDefaultConfigNeedsAKey(t *testing.T) {
	err := confmap.Validate(NewFactory().CreateDefaultConfig())
	require.ErrorContains(t, err, "routing_key")
}
