package pagerdutyexporter

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/confmap"
)

func TestClientDefaults(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	assert.Equal(t, "OpenTelemetry Collector", cfg.Client)
	assert.Empty(t, cfg.ClientURL)
}

func TestClientURLValidation(t *testing.T) {
	for _, tc := range []struct {
		url     string
		wantErr bool
	}{
		{"", false},
		{"https://grafana.example.com/alerting/list", false},
		{"http://otel-collector.monitoring:13133/", false},
		{"/alerting/list", true},
		{"grafana.example.com", true},
		{"ftp://example.com/", true},
	} {
		t.Run(tc.url, func(t *testing.T) {
			cfg := createDefaultConfig().(*Config)
			cfg.RoutingKey = testKey
			cfg.ClientURL = httpURL(tc.url)
			err := confmap.Validate(cfg)
			if !tc.wantErr {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), "client_url: must be empty or an absolute http(s) URL")
		})
	}
}

func TestClientLoaded(t *testing.T) {
	cfg := loadConfig(t, "full")
	require.NoError(t, confmap.Validate(cfg))
	assert.Equal(t, "OpenTelemetry Collector (eu-west-1)", cfg.Client)
	assert.Equal(t, httpURL("https://grafana.example.com/d/otelcol"), cfg.ClientURL)
}
