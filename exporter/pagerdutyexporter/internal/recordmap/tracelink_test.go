package recordmap

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
)

// TestTraceLink: a trigger whose record has a trace id gets a link to its
// trace, from the record's alert.trace_url or else the configured template,
// placed after the runbook and dashboard and before alert.links; a record
// without a trace id, an acknowledge or resolve, or an empty template get
// none; a template that fills in to no URL is dropped as link_invalid.
func TestTraceLink(t *testing.T) {
	const (
		traceHex = "4bf92f3577b34da6a3ce929d0e0e4736"
		spanHex  = "00f067aa0ba902b7"
	)
	traced := func(attrs ...string) builder {
		return func(lr plog.LogRecord, _ pcommon.Resource) {
			lr.Attributes().PutStr(AttrFingerprint, "disk/db-1")
			for i := 0; i+1 < len(attrs); i += 2 {
				lr.Attributes().PutStr(attrs[i], attrs[i+1])
			}
			lr.SetTraceID(traceID)
			lr.SetSpanID(spanID)
		}
	}
	link := func(href, text string) map[string]any { return map[string]any{"href": href, "text": text} }
	for _, tc := range []struct {
		name     string
		template string
		build    builder
		links    []any
		repairs  Repairs
	}{
		{
			name:     "configured template",
			template: "https://jaeger.example.com/trace/{trace_id}?uiFind={span_id}",
			build:    traced(),
			links:    []any{link("https://jaeger.example.com/trace/"+traceHex+"?uiFind="+spanHex, "View trace")},
		},
		{
			name:     "after the runbook and dashboard, before alert.links",
			template: "https://tempo.example.com/{trace_id}",
			build:    traced(AttrRunbookURL, "https://wiki.example.com/disk", AttrDashboardURL, "https://grafana.example.com/d/x", AttrLinks, "https://status.example.com/"),
			links: []any{
				link("https://wiki.example.com/disk", "Runbook"),
				link("https://grafana.example.com/d/x", "Dashboard"),
				link("https://tempo.example.com/"+traceHex, "View trace"),
				map[string]any{"href": "https://status.example.com/"},
			},
		},
		{
			name:     "the record's own template wins",
			template: "https://jaeger.example.com/trace/{trace_id}",
			build:    traced(AttrTraceURL, "https://honeycomb.example.com/t/{trace_id}/{span_id}"),
			links:    []any{link("https://honeycomb.example.com/t/"+traceHex+"/"+spanHex, "View trace")},
		},
		{
			name:  "the record's template without a configured one",
			build: traced(AttrTraceURL, "https://jaeger.example.com/trace/{trace_id}"),
			links: []any{link("https://jaeger.example.com/trace/"+traceHex, "View trace")},
		},
		{
			name:     "an empty alert.trace_url turns it off",
			template: "https://jaeger.example.com/trace/{trace_id}",
			build:    traced(AttrTraceURL, ""),
		},
		{
			name:  "no template: no link",
			build: traced(),
		},
		{
			name:     "no trace id: no link",
			template: "https://jaeger.example.com/trace/{trace_id}",
			build: func(lr plog.LogRecord, _ pcommon.Resource) {
				lr.Attributes().PutStr(AttrFingerprint, "disk/db-1")
			},
		},
		{
			name:     "a resolve gets none",
			template: "https://jaeger.example.com/trace/{trace_id}",
			build:    traced(AttrStatus, "resolved"),
		},
		{
			name:     "a record template that fills in to no URL",
			template: "https://jaeger.example.com/trace/{trace_id}",
			build:    traced(AttrTraceURL, "jaeger/{trace_id}"),
			repairs:  repairsOf(RepairLinkInvalid),
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := testOptions()
			opts.TraceURL, opts.TraceText = tc.template, "View trace"
			m := mapWith(t, opts, tc.build)
			require.NoError(t, m.err)
			links, _ := m.doc["links"].([]any)
			assert.Equal(t, tc.links, links)
			assert.Equal(t, tc.repairs, m.Repairs&repairsOf(RepairLinkInvalid))
			assert.NotContains(t, m.details(), AttrTraceURL, "alert.trace_url is a field of its own")
			if tc.links == nil {
				assert.NotContains(t, m.doc, "links")
			}
		})
	}
}

func TestCheckTraceURL(t *testing.T) {
	for template, want := range map[string]string{
		"https://jaeger.example.com/trace/{trace_id}":                "",
		"http://tempo:3200/trace/{trace_id}?span={span_id}":          "",
		"https://jaeger.example.com/trace/{traceid}":                 "unknown placeholder {traceid}",
		"https://jaeger.example.com/trace/{trace_id}/{service}":      "unknown placeholder {service}",
		"https://jaeger.example.com/search":                          "must hold {trace_id}",
		"jaeger.example.com/trace/{trace_id}":                        "absolute http(s) URL",
		"ftp://jaeger.example.com/{trace_id}":                        "absolute http(s) URL",
		"https://jaeger.example.com/trace/{trace_id} and some words": "absolute http(s) URL",
	} {
		t.Run(template, func(t *testing.T) {
			err := CheckTraceURL(template)
			if want == "" {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), want)
		})
	}
}
