package recordmap

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/eventsapi"
)

func TestBadInputSummary(t *testing.T) {
	runBadInput(t, []badInput{
		{
			name: "whitespace summary falls back to body",
			build: func(lr plog.LogRecord, _ pcommon.Resource) {
				lr.Attributes().PutStr(AttrSummary, " \t ")
				lr.Attributes().PutStr(AttrName, "Name")
				lr.Body().SetStr("from the body")
			},
			check: func(t *testing.T, m mapped) {
				require.NoError(t, m.err)
				assert.Equal(t, "from the body", m.field("summary"))
			},
		},
		{
			name: "non-string body falls back to alert.name and goes to details",
			build: func(lr plog.LogRecord, _ pcommon.Resource) {
				lr.Attributes().PutStr(AttrName, "QueueBacklog")
				body := lr.Body().SetEmptyMap()
				body.PutInt("depth", 90210)
			},
			check: func(t *testing.T, m mapped) {
				require.NoError(t, m.err)
				assert.Equal(t, "QueueBacklog", m.field("summary"))
				assert.Equal(t, map[string]any{"depth": json.Number("90210")}, m.details()["body"])
				assert.Equal(t, "QueueBacklog", m.details()[AttrName], "alert.name stays in the details")
			},
		},
		{
			name: "change event without summary gets one",
			build: func(lr plog.LogRecord, res pcommon.Resource) {
				lr.Attributes().PutStr(AttrEventType, "change")
				res.Attributes().PutStr(AttrServiceName, "deployer")
			},
			check: func(t *testing.T, m mapped) {
				require.NoError(t, m.err)
				assert.True(t, m.Event.IsChange())
				assert.Equal(t, "Change on deployer", m.field("summary"))
				assert.True(t, m.Repairs.Has(RepairSummarySynthesized))
				assert.False(t, m.Repairs.Has(RepairSeverityDefaulted), "change events have no severity")
			},
		},
	})
}

func TestSourceFallback(t *testing.T) {
	for _, tc := range []struct {
		name        string
		record, res map[string]string
		want        string
	}{
		{"alert.source on the record", map[string]string{AttrSource: "rec"}, map[string]string{AttrSource: "res", AttrHostName: "h", AttrServiceName: "s"}, "rec"},
		{"alert.source on the resource", nil, map[string]string{AttrSource: "res", AttrHostName: "h", AttrServiceName: "s"}, "res"},
		{"host.name", nil, map[string]string{AttrHostName: "h", AttrServiceName: "s"}, "h"},
		{"blank host.name", nil, map[string]string{AttrHostName: "  ", AttrServiceName: "s"}, "s"},
		{"service.name", nil, map[string]string{AttrServiceName: "s"}, "s"},
		{"record host.name is not a source", map[string]string{AttrHostName: "rec-host"}, nil, "collector-host"},
		{"hostname", nil, nil, "collector-host"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := mapOK(t, func(lr plog.LogRecord, res pcommon.Resource) {
				for k, v := range tc.record {
					lr.Attributes().PutStr(k, v)
				}
				for k, v := range tc.res {
					res.Attributes().PutStr(k, v)
				}
			})
			assert.Equal(t, tc.want, m.field("source"))
		})
	}
}

func TestSeverityAliases(t *testing.T) {
	for _, alias := range []struct{ in, want string }{
		{"fatal", eventsapi.SeverityCritical},
		{"CRIT", eventsapi.SeverityCritical},
		{"High", eventsapi.SeverityCritical},
		{"P1", eventsapi.SeverityCritical},
		{" Error ", eventsapi.SeverityError},
		{"major", eventsapi.SeverityError},
		{"warn", eventsapi.SeverityWarning},
		{"Warning", eventsapi.SeverityWarning},
		{"minor", eventsapi.SeverityWarning},
		{"information", eventsapi.SeverityInfo},
		{"DEBUG", eventsapi.SeverityInfo},
		{"low", eventsapi.SeverityInfo},
	} {
		in, want := alias.in, alias.want
		t.Run(in, func(t *testing.T) {
			// A SeverityNumber that disagrees shows alert.severity wins.
			m := mapOK(t, func(lr plog.LogRecord, _ pcommon.Resource) {
				lr.Attributes().PutStr(AttrSeverity, in)
				lr.SetSeverityNumber(plog.SeverityNumberTrace)
			})
			assert.Equal(t, want, m.field("severity"))
			assert.False(t, m.Repairs.Has(RepairSeverityDefaulted))
		})
	}
}

func TestSeverityNumber(t *testing.T) {
	for _, tc := range []struct {
		number plog.SeverityNumber
		want   string
	}{
		{plog.SeverityNumberFatal4, eventsapi.SeverityCritical},
		{plog.SeverityNumberFatal, eventsapi.SeverityCritical},
		{plog.SeverityNumberError4, eventsapi.SeverityError},
		{plog.SeverityNumberError, eventsapi.SeverityError},
		{plog.SeverityNumberWarn, eventsapi.SeverityWarning},
		{plog.SeverityNumberInfo2, eventsapi.SeverityInfo},
		{plog.SeverityNumberDebug, eventsapi.SeverityInfo},
		{plog.SeverityNumberTrace, eventsapi.SeverityInfo},
		{plog.SeverityNumberUnspecified, eventsapi.SeverityWarning}, // the default below
		{-5, eventsapi.SeverityWarning},
	} {
		t.Run(tc.number.String(), func(t *testing.T) {
			opts := testOptions()
			opts.DefaultSeverity = eventsapi.SeverityWarning
			m := mapWith(t, opts, func(lr plog.LogRecord, _ pcommon.Resource) {
				lr.SetSeverityNumber(tc.number)
			})
			require.NoError(t, m.err)
			assert.Equal(t, tc.want, m.field("severity"))
			assert.Equal(t, tc.number < plog.SeverityNumberTrace, m.Repairs.Has(RepairSeverityDefaulted))
		})
	}
}

func TestBadInputSeverity(t *testing.T) {
	withSeverity := func(severity string, number plog.SeverityNumber) builder {
		return func(lr plog.LogRecord, _ pcommon.Resource) {
			lr.Attributes().PutStr(AttrSummary, "s")
			lr.Attributes().PutStr(AttrSeverity, severity)
			lr.SetSeverityNumber(number)
		}
	}
	infoDefault := testOptions()
	infoDefault.DefaultSeverity = eventsapi.SeverityInfo

	runBadInput(t, []badInput{
		{
			name:  "unknown severity falls back to SeverityNumber",
			build: withSeverity("bogus", plog.SeverityNumberWarn2),
			check: func(t *testing.T, m mapped) {
				require.NoError(t, m.err)
				assert.Equal(t, eventsapi.SeverityWarning, m.field("severity"))
				assert.True(t, m.Repairs.Has(RepairSeverityDefaulted))
			},
		},
		{
			name:  "unknown severity falls back to the default",
			opts:  infoDefault,
			build: withSeverity("bogus", plog.SeverityNumberUnspecified),
			check: func(t *testing.T, m mapped) {
				require.NoError(t, m.err)
				assert.Equal(t, eventsapi.SeverityInfo, m.field("severity"))
				assert.True(t, m.Repairs.Has(RepairSeverityDefaulted))
			},
		},
	})
}

// TestClient: triggers carry client and client_url, from the record or the
// configuration; other events never do, and the attributes never reach
// custom_details.
func TestClient(t *testing.T) {
	withAttrs := func(action string, kv ...string) builder {
		return func(lr plog.LogRecord, _ pcommon.Resource) {
			a := lr.Attributes()
			a.PutStr(AttrSummary, "s")
			a.PutStr(AttrFingerprint, "fp")
			a.PutStr(AttrEventAction, action)
			for i := 0; i+1 < len(kv); i += 2 {
				a.PutStr(kv[i], kv[i+1])
			}
		}
	}
	configured := func(client, url string) *Options {
		o := testOptions()
		o.Client, o.ClientURL = client, url
		return o
	}
	for _, tc := range []struct {
		name          string
		opts          *Options
		build         builder
		client, url   string // "" when absent
		invalidURL    bool
		changeEvent   bool
		detailsHaveGU bool
	}{
		{
			name: "configured default", opts: configured("OpenTelemetry Collector", ""),
			build: withAttrs("trigger"), client: "OpenTelemetry Collector",
		},
		{
			name: "configured client_url", opts: configured("otelcol", "https://otel.example.com/"),
			build: withAttrs("trigger"), client: "otelcol", url: "https://otel.example.com/",
		},
		{name: "nothing configured", opts: configured("", ""), build: withAttrs("trigger")},
		{
			name: "record overrides both", opts: configured("otelcol", "https://otel.example.com/"),
			build:  withAttrs("trigger", AttrClient, "Grafana", AttrClientURL, "https://grafana.example.com/alerting/abc"),
			client: "Grafana", url: "https://grafana.example.com/alerting/abc",
		},
		{
			name: "generator URL before the configured one", opts: configured("otelcol", "https://otel.example.com/"),
			build:  withAttrs("trigger", AttrGeneratorURL, "http://prometheus:9090/graph?g0.expr=up%3D%3D0"),
			client: "otelcol", url: "http://prometheus:9090/graph?g0.expr=up%3D%3D0", detailsHaveGU: true,
		},
		{
			name: "pagerduty.client_url before the generator URL", opts: configured("", ""),
			build: withAttrs("trigger", AttrClientURL, "https://a.example.com/", AttrGeneratorURL, "https://b.example.com/"),
			url:   "https://a.example.com/", detailsHaveGU: true,
		},
		{
			name: "invalid record URL falls back", opts: configured("", "https://otel.example.com/"),
			build: withAttrs("trigger", AttrClientURL, "grafana.example.com/no-scheme"),
			url:   "https://otel.example.com/", invalidURL: true,
		},
		{
			name: "every candidate invalid", opts: configured("", "ftp://otel.example.com/"),
			build:      withAttrs("trigger", AttrClientURL, "javascript:alert(1)", AttrGeneratorURL, "/graph"),
			invalidURL: true, detailsHaveGU: true,
		},
		{
			name: "over-long URL is dropped, not cut", opts: configured("", ""),
			build:      withAttrs("trigger", AttrClientURL, "https://h/"+strings.Repeat("q", maxURLBytes)),
			invalidURL: true,
		},
		{
			name: "acknowledge carries neither", opts: configured("otelcol", "https://otel.example.com/"),
			build: withAttrs("acknowledge", AttrClient, "Grafana", AttrClientURL, "https://grafana.example.com/"),
		},
		{
			name: "resolve carries neither", opts: configured("otelcol", "https://otel.example.com/"),
			build: withAttrs("resolve", AttrClient, "Grafana", AttrClientURL, "https://grafana.example.com/"),
		},
		{
			name: "change carries neither", opts: configured("otelcol", "https://otel.example.com/"), changeEvent: true,
			build: func(lr plog.LogRecord, res pcommon.Resource) {
				withAttrs("", AttrClient, "Grafana", AttrClientURL, "not checked on a change")(lr, res)
				lr.Attributes().PutStr(AttrEventType, "change")
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := mapWith(t, tc.opts, tc.build)
			require.NoError(t, m.err)
			assert.Equal(t, tc.changeEvent, m.Event.IsChange())
			client, hasClient := m.doc["client"]
			url, hasURL := m.doc["client_url"]
			assert.Equal(t, tc.client != "", hasClient, "client present")
			assert.Equal(t, tc.url != "", hasURL, "client_url present")
			if tc.client != "" {
				assert.Equal(t, tc.client, client)
			}
			if tc.url != "" {
				assert.Equal(t, tc.url, url)
			}
			assert.Equal(t, tc.invalidURL, m.Repairs.Has(RepairClientURLInvalid), "client_url_invalid")
			assert.NotContains(t, m.details(), AttrClient)
			assert.NotContains(t, m.details(), AttrClientURL)
			_, hasGU := m.details()[AttrGeneratorURL]
			assert.Equal(t, tc.detailsHaveGU, hasGU, "alert.generator_url in the details")
		})
	}
}
