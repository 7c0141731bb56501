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

// TestTraceURLValidation: links.trace_url is refused, naming the field, when
// it holds no {trace_id}, a placeholder the exporter does not fill in, or
// does not make an absolute http(s) URL; "" adds no link and is valid.
func TestTraceURLValidation(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	assert.Equal(t, LinksConfig{TraceText: "View trace"}, cfg.Links, "no trace link unless configured")
	for template, want := range map[string]string{
		"": "",
		"https://jaeger.example.com/trace/{trace_id}":         "",
		"http://tempo.monitoring:3200/{trace_id}?s={span_id}": "",
		"https://jaeger.example.com/trace/{traceId}":          "links.trace_url: unknown placeholder {traceId}",
		"https://jaeger.example.com/search":                   "links.trace_url: must hold {trace_id}",
		"jaeger.example.com/trace/{trace_id}":                 "links.trace_url: must be an absolute http(s) URL",
	} {
		t.Run(template, func(t *testing.T) {
			cfg := createDefaultConfig().(*Config)
			cfg.RoutingKey = testKey
			cfg.Links.TraceURL = template
			err := confmap.Validate(cfg)
			if want == "" {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), want)
		})
	}
}
