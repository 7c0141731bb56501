package pagerdutyexporter

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/confmap"
)

// TestStormValidation: the digest is off by default; digest_after must not
// be negative, and needs the rate limit it is measured by.
func TestStormValidation(t *testing.T) {
	assert.Zero(t, createDefaultConfig().(*Config).Storm.DigestAfter, "off unless set")
	for name, tc := range map[string]struct {
		after time.Duration
		rate  RateLimitConfig
		want  string
	}{
		"off":                  {},
		"on":                   {after: 30 * time.Second, rate: RateLimitConfig{EventsPerMinute: 60, Burst: 1}},
		"negative":             {after: -time.Second, rate: RateLimitConfig{EventsPerMinute: 60, Burst: 1}, want: "storm.digest_after: must not be negative"},
		"without a rate limit": {after: 30 * time.Second, want: "storm.digest_after: needs rate_limit.events_per_minute"},
	} {
		t.Run(name, func(t *testing.T) {
			cfg := createDefaultConfig().(*Config)
			cfg.RoutingKey = testKey
			cfg.Storm.DigestAfter = tc.after
			cfg.RateLimit = tc.rate
			err := confmap.Validate(cfg)
			if tc.want == "" {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}
