package recordmap // import "github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/recordmap"

import (
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/eventsapi"
)

// The placeholders of a trace URL template, filled in with the record's
// trace and span ids in lower-case hex, as tracing UIs take them.
const (
	TraceIDPlaceholder = "{trace_id}"
	SpanIDPlaceholder  = "{span_id}"
)

// placeholder finds anything that looks like a placeholder in a template.
var placeholder = regexp.MustCompile(`\{[^{}]*\}`)

// CheckTraceURL reports what is wrong with a trace URL template: it must
// hold {trace_id}, may hold {span_id} and no other placeholder, and must be
// an absolute http(s) URL once they are filled in.
func CheckTraceURL(template string) error {
	for _, p := range placeholder.FindAllString(template, -1) {
		if p != TraceIDPlaceholder && p != SpanIDPlaceholder {
			return fmt.Errorf("unknown placeholder %s: only %s and %s are filled in", p, TraceIDPlaceholder, SpanIDPlaceholder)
		}
	}
	if !strings.Contains(template, TraceIDPlaceholder) {
		return fmt.Errorf("must hold %s, e.g. https://jaeger.example.com/trace/%s", TraceIDPlaceholder, TraceIDPlaceholder)
	}
	sample := fillTraceURL(template, strings.Repeat("0", 32), strings.Repeat("0", 16))
	if !eventsapi.IsHTTPURL(sample) {
		return errors.New("must be an absolute http(s) URL once its placeholders are filled in")
	}
	return nil
}

// traceLink is the link to the trace of a record with a trace id: its
// alert.trace_url, else opts.TraceURL, filled in, with opts.TraceText. No
// link (an empty Href) for a record without a trace id, or whose template
// is "". An invalid result is dropped by links, as link_invalid.
func (r *record) traceLink(opts *Options) eventsapi.Link {
	traceID := r.lr.TraceID()
	if traceID.IsEmpty() {
		return eventsapi.Link{}
	}
	template := opts.TraceURL
	if v, ok := r.get(attrTraceURL); ok {
		template = r.text(v)
	}
	if template == "" {
		return eventsapi.Link{}
	}
	var spanID string
	if id := r.lr.SpanID(); !id.IsEmpty() {
		spanID = hex.EncodeToString(id[:])
	}
	return eventsapi.Link{Href: fillTraceURL(template, hex.EncodeToString(traceID[:]), spanID), Text: opts.TraceText}
}

// fillTraceURL fills the placeholders of template in.
func fillTraceURL(template, traceID, spanID string) string {
	return strings.NewReplacer(TraceIDPlaceholder, traceID, SpanIDPlaceholder, spanID).Replace(template)
}
