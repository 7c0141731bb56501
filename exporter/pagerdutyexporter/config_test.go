package pagerdutyexporter

import (
	"os"
	"path/filepath"
	"strings"
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
		assert.Equal(t, 30*time.Minute, cfg.AutoResolve.After)
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
		{
			name: "endpoint with the enqueue path", mutate: func(c *Config) { c.ClientConfig.Endpoint = "https://events.pagerduty.com/v2/enqueue" },
			errs: []string{"endpoint: is the base URL, without /v2/enqueue"},
		},
		{
			name: "endpoint with the change path", mutate: func(c *Config) { c.ClientConfig.Endpoint = "https://events.pagerduty.com/v2/change/enqueue/" },
			errs: []string{"endpoint: is the base URL, without /v2/change/enqueue"},
		},
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
		{
			name: "negative dedup values", mutate: func(c *Config) { c.Dedup = DedupConfig{TTL: -1, MaxEntries: -1, RepeatInterval: -1} },
			errs: []string{"dedup.ttl: must not be negative", "dedup.max_entries: must not be negative", "dedup.repeat_interval: must not be negative"},
		},

		{name: "most consumers", mutate: func(c *Config) { c.QueueConfig.GetOrInsertDefault().NumConsumers = 100 }},
		{name: "too many consumers", mutate: func(c *Config) { c.QueueConfig.GetOrInsertDefault().NumConsumers = 101 }, errs: []string{"sending_queue::num_consumers: at most 100", "got 101"}},

		// A request that never ends holds a queue consumer forever.
		{name: "zero timeout", mutate: func(c *Config) { c.ClientConfig.Timeout = 0 }, errs: []string{"timeout: must be greater than 0", "got 0s"}},
		{name: "negative timeout", mutate: func(c *Config) { c.ClientConfig.Timeout = -time.Second }, errs: []string{"timeout: must be greater than 0", "got -1s"}},
		{name: "short timeout", mutate: func(c *Config) { c.ClientConfig.Timeout = time.Millisecond }},

		// The paths are appended to the endpoint as text.
		{
			name: "endpoint with a query", mutate: func(c *Config) { c.ClientConfig.Endpoint = "http://gateway.internal?token=" + testKey },
			errs: []string{"endpoint: must not carry a query"},
		},
		{
			name: "endpoint with an empty query", mutate: func(c *Config) { c.ClientConfig.Endpoint = "https://events.pagerduty.com/?" },
			errs: []string{"endpoint: must not carry a query"},
		},
		{
			name: "endpoint with a fragment", mutate: func(c *Config) { c.ClientConfig.Endpoint = "https://events.pagerduty.com/#x" },
			errs: []string{"endpoint: must not carry a fragment"},
		},
		{
			name: "endpoint with an empty fragment", mutate: func(c *Config) { c.ClientConfig.Endpoint = "https://events.pagerduty.com#" },
			errs: []string{"endpoint: must not carry a fragment"},
		},
		{
			name: "endpoint with user info", mutate: func(c *Config) { c.ClientConfig.Endpoint = "https://user:" + testKey + "@gateway.internal" },
			errs: []string{"endpoint: must not carry user info"},
		},
		{
			name: "endpoint with a user name only", mutate: func(c *Config) { c.ClientConfig.Endpoint = "https://user@gateway.internal" },
			errs: []string{"endpoint: must not carry user info"},
		},
		{name: "endpoint with a port and a path", mutate: func(c *Config) { c.ClientConfig.Endpoint = "http://127.0.0.1:8090/pd/" }},

		// Route names label metrics; "default" and "unknown" have meanings.
		{name: "empty route name", mutate: func(c *Config) {
			c.Routing = RoutingConfig{Attribute: "service.name", Keys: map[string]configopaque.String{"": checkoutKey}}
		}, errs: []string{`routing.keys: a route name must not be empty or blank, got ""`}},
		{name: "blank route name", mutate: func(c *Config) {
			c.Routing = RoutingConfig{Attribute: "service.name", Keys: map[string]configopaque.String{"  ": checkoutKey}}
		}, errs: []string{`routing.keys: a route name must not be empty or blank, got "  "`}},
		{name: "route named unknown", mutate: func(c *Config) {
			c.Routing = RoutingConfig{Attribute: "service.name", Keys: map[string]configopaque.String{"unknown": checkoutKey}}
		}, errs: []string{`routing.keys::unknown: the name "unknown" is reserved`}},

		// One key, two names: metrics and the cache could name only one.
		{name: "one key under two routes", mutate: func(c *Config) {
			c.Routing = RoutingConfig{Attribute: "service.name", Keys: map[string]configopaque.String{"checkout": checkoutKey, "payments": checkoutKey + "\n"}}
		}, errs: []string{"routing.keys::payments: the same integration key as routing.keys::checkout"}},
		{name: "a route with the default key", mutate: func(c *Config) {
			c.Routing = RoutingConfig{Attribute: "service.name", Keys: map[string]configopaque.String{"checkout": testKey, "payments": paymentsKey}}
		}, errs: []string{"routing.keys::checkout: the same integration key as routing_key"}},

		// Exactly 32 letters and digits, counted as characters: PagerDuty refuses
		// any other character in a routing key with a 400.
		{
			name: "16 two-byte characters", mutate: func(c *Config) { c.RoutingKey = configopaque.String(strings.Repeat("é", 16)) },
			errs: []string{"routing_key: must be a 32-character integration key, got 16 characters"},
		},
		{
			name: "32 non-ASCII characters", mutate: func(c *Config) { c.RoutingKey = configopaque.String(strings.Repeat("é", 32)) },
			errs: []string{"routing_key: must be 32 letters and digits (A-Z, a-z, 0-9), but character 1 is not ASCII"},
		},
		{
			name: "inner space", mutate: func(c *Config) { c.RoutingKey = configopaque.String(testKey[:10] + " " + testKey[11:]) },
			errs: []string{"routing_key: must be 32 letters and digits (A-Z, a-z, 0-9), but character 11 is a space or tab"},
		},
		{
			name: "inner CR LF", mutate: func(c *Config) { c.RoutingKey = configopaque.String(testKey[:15] + "\r\n" + testKey[17:]) },
			errs: []string{"routing_key: must be 32 letters and digits (A-Z, a-z, 0-9), but character 16 is a line break"},
		},
		{
			name: "control character", mutate: func(c *Config) { c.RoutingKey = configopaque.String(testKey[:31] + "\x00") },
			errs: []string{"routing_key: must be 32 letters and digits (A-Z, a-z, 0-9), but character 32 is a control character"},
		},
		{name: "routed key with an inner tab", mutate: func(c *Config) {
			c.Routing = RoutingConfig{Attribute: "service.name", Keys: map[string]configopaque.String{"checkout": configopaque.String(checkoutKey[:5] + "\t" + checkoutKey[6:])}}
		}, errs: []string{"routing.keys::checkout: must be 32 letters and digits (A-Z, a-z, 0-9), but character 6 is a space or tab"}},
		{name: "surrounding white space of every kind", mutate: func(c *Config) { c.RoutingKey = " \t\r\n" + testKey + "\r\n" }},
		{
			name: "punctuation is refused", mutate: func(c *Config) { c.RoutingKey = "R0!#$%&'()*+,-./:;<=>?@[]^_`{|}~" },
			errs: []string{"routing_key: must be 32 letters and digits (A-Z, a-z, 0-9), but character 3 is not a letter or digit"},
		},
		{
			name: "a dash in a routed key is refused, naming the route", mutate: func(c *Config) {
				c.Routing = RoutingConfig{Attribute: "service.name", Keys: map[string]configopaque.String{"checkout": "abcdefghijklmnop-rstuvwxyz012345"}}
			},
			errs: []string{"routing.keys::checkout: must be 32 letters and digits (A-Z, a-z, 0-9), but character 17 is not a letter or digit"},
		},
		{name: "auto_resolve off", mutate: func(c *Config) { c.AutoResolve.After = 0 }},
		{name: "auto_resolve shorter than the ttl", mutate: func(c *Config) { c.AutoResolve.After = 15 * time.Minute }},
		{
			name: "auto_resolve negative", mutate: func(c *Config) { c.AutoResolve.After = -time.Second },
			errs: []string{"auto_resolve.after: must not be negative (0 turns auto-resolution off), got -1s"},
		},
		{
			name: "auto_resolve under a second", mutate: func(c *Config) { c.AutoResolve.After = time.Millisecond },
			errs: []string{"auto_resolve.after: must be at least 1s"},
		},
		{
			name: "auto_resolve not shorter than the ttl", mutate: func(c *Config) { c.AutoResolve.After = 24 * time.Hour },
			errs: []string{"auto_resolve.after: must be shorter than dedup.ttl (24h0m0s)"},
		},

		// A documented maximum, in the words "out of range".
		{name: "rate at the maximum", mutate: func(c *Config) { c.RateLimit.EventsPerMinute = 1_000_000 }},
		{
			name: "rate over the maximum", mutate: func(c *Config) { c.RateLimit.EventsPerMinute = 1_000_001 },
			errs: []string{"rate_limit.events_per_minute: out of range: at most 1000000 (0 disables rate limiting), got 1000001"},
		},
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
			for _, key := range []string{testKey, checkoutKey, paymentsKey} {
				for i := 0; i+16 <= len(key); i++ {
					assert.NotContains(t, err.Error(), key[i:i+16], "errors never carry a routing key, nor a piece of one")
				}
			}
		})
	}
}

func TestDefaultConfigNeedsAKey(t *testing.T) {
	err := confmap.Validate(NewFactory().CreateDefaultConfig())
	require.ErrorContains(t, err, "routing_key")
}

// TestUnmarshalRefusesNumbersOutOfRange loads YAML as the collector does: a
// number too large for an int, which YAML reads as a float, or one that is
// not whole is refused when it is decoded, naming the field, rather than
// truncated (1.5 to 1) or wrapped around into a negative number.
func TestUnmarshalRefusesNumbersOutOfRange(t *testing.T) {
	tests := []struct {
		name, yaml string
		err        string // "" when it loads
		validate   string // what Validate then says, "" when nothing
	}{
		{
			name: "events_per_minute beyond int", yaml: "rate_limit: {events_per_minute: 99999999999999999999}",
			err: "'rate_limit' events_per_minute: out of range: at most 1000000, got 1e+20",
		},
		{
			name: "negative beyond int", yaml: "rate_limit: {events_per_minute: -99999999999999999999}",
			err: "'rate_limit' events_per_minute: out of range",
		},
		{name: "burst beyond int", yaml: "rate_limit: {burst: 1e30}", err: "'rate_limit' burst: out of range: at most 1000000"},
		{name: "not a whole number", yaml: "rate_limit: {events_per_minute: 1.5}", err: "'rate_limit' events_per_minute: must be a whole number, got 1.5"},
		{name: "infinity", yaml: "rate_limit: {burst: .inf}", err: "'rate_limit' burst: out of range"},
		{name: "max_entries beyond int", yaml: "dedup: {max_entries: 99999999999999999999}", err: "'dedup' max_entries: out of range"},
		{name: "whole float", yaml: "rate_limit: {events_per_minute: 60.0, burst: 5}"},
		{name: "maximum", yaml: "rate_limit: {events_per_minute: 1000000, burst: 1000000}"},
		// Values that fit an int are Validate's, which lists every problem.
		{
			name: "beyond the maximum but an int", yaml: "rate_limit: {events_per_minute: 1000001, burst: 10}",
			validate: "rate_limit.events_per_minute: out of range: at most 1000000 (0 disables rate limiting), got 1000001",
		},
		{
			name: "largest int64", yaml: "rate_limit: {events_per_minute: 9223372036854775807, burst: 10}",
			validate: "rate_limit.events_per_minute: out of range: at most 1000000",
		},
		{name: "negative", yaml: "rate_limit: {events_per_minute: -1}", validate: "rate_limit.events_per_minute: must not be negative"},
		{name: "large max_entries", yaml: "dedup: {max_entries: 10000000000, ttl: 1h}"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "config.yaml")
			require.NoError(t, os.WriteFile(path, []byte(tc.yaml+"\nrouting_key: "+testKey+"\n"), 0o600))
			cm, err := confmaptest.LoadConf(path)
			require.NoError(t, err)
			cfg := NewFactory().CreateDefaultConfig().(*Config)
			err = cm.Unmarshal(cfg)
			if tc.err == "" {
				require.NoError(t, err)
				if tc.validate == "" {
					require.NoError(t, confmap.Validate(cfg))
				} else {
					require.ErrorContains(t, confmap.Validate(cfg), tc.validate)
				}
				return
			}
			require.ErrorContains(t, err, tc.err)
			assert.NotContains(t, err.Error(), "must not be negative")
		})
	}
	t.Run("other fields still decode", func(t *testing.T) {
		cm := confmap.NewFromStringMap(map[string]any{
			"routing_key": testKey,
			"rate_limit":  map[string]any{"events_per_minute": 60, "burst": 5},
			"dedup":       map[string]any{"ttl": "2h", "max_entries": 7, "repeat_interval": "5m", "storage": "file_storage"},
		})
		cfg := NewFactory().CreateDefaultConfig().(*Config)
		require.NoError(t, cm.Unmarshal(cfg))
		id := component.MustNewID("file_storage")
		assert.Equal(t, RateLimitConfig{EventsPerMinute: 60, Burst: 5}, cfg.RateLimit)
		assert.Equal(t, DedupConfig{TTL: 2 * time.Hour, MaxEntries: 7, RepeatInterval: 5 * time.Minute, Storage: &id}, cfg.Dedup)
	})
	t.Run("an absent section keeps its defaults", func(t *testing.T) {
		cm := confmap.NewFromStringMap(map[string]any{"routing_key": testKey, "rate_limit": map[string]any{"burst": 3}})
		cfg := NewFactory().CreateDefaultConfig().(*Config)
		require.NoError(t, cm.Unmarshal(cfg))
		assert.Equal(t, RateLimitConfig{EventsPerMinute: 120, Burst: 3}, cfg.RateLimit)
		assert.Equal(t, 100000, cfg.Dedup.MaxEntries)
	})
}
