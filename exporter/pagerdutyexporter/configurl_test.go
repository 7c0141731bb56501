package pagerdutyexporter

import (
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/confmap"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
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

// TestKeysOnlyOverTLS: validate refuses an http endpoint unless its host is
// this machine's, naming the field; https goes anywhere.
func TestKeysOnlyOverTLS(t *testing.T) {
	for endpoint, refused := range map[string]bool{
		"http://events.example.com":       true,
		"http://events.pagerduty.com":     true,
		"HTTP://10.0.0.7:8080":            true,
		"http://127.0.0.1:18080":          false,
		"http://127.9.9.9":                false,
		"http://localhost:8080/pd":        false,
		"http://[::1]:8080":               false,
		"https://events.pagerduty.com":    false,
		"https://gateway.internal/pd":     false,
		"https://events.eu.pagerduty.com": false,
	} {
		t.Run(endpoint, func(t *testing.T) {
			cfg := createDefaultConfig().(*Config)
			cfg.RoutingKey = testKey
			cfg.ClientConfig.Endpoint = endpoint
			err := confmap.Validate(cfg)
			if !refused {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), "endpoint: must be https")
		})
	}
}

// TestStartSaysWhereEventsGo: the exporter logs the endpoint's host once at
// start, and warns when it is neither PagerDuty's nor this machine's.
func TestStartSaysWhereEventsGo(t *testing.T) {
	for endpoint, warned := range map[string]bool{
		"https://events.pagerduty.com":     false,
		"https://events.eu.pagerduty.com":  false,
		"http://127.0.0.1:18080":           false,
		"https://gateway.internal:8443/pd": true,
	} {
		t.Run(endpoint, func(t *testing.T) {
			core, observed := observer.New(zapcore.InfoLevel)
			sayWhereEventsGo(zap.New(core), endpoint)
			entries := observed.All()
			require.Len(t, entries, 1)
			u, _ := url.Parse(endpoint)
			assert.Equal(t, u.Host, entries[0].ContextMap()["host"])
			assert.Equal(t, warned, entries[0].Level == zapcore.WarnLevel, entries[0].Message)
		})
	}
}
