package pagerdutyexporter // import "github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter"

import (
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/eventsapi"
	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/recordmap"
)

// httpURL is a configured URL that must be empty or an absolute http(s)
// URL. The collector's config validation calls Validate on the field, and
// prefixes the error with its name.
type httpURL string

func (u httpURL) Validate() error {
	if s := strings.TrimSpace(string(u)); s != "" && !eventsapi.IsHTTPURL(s) {
		return errors.New("must be empty or an absolute http(s) URL, e.g. https://grafana.example.com/alerting/list")
	}
	return nil
}

// defaultTraceText is the text of a trace link unless links.trace_text
// says otherwise.
const defaultTraceText = "View trace"

// LinksConfig adds links to triggers from what their records carry.
type LinksConfig struct {
	// TraceURL is a URL template of the link to a record's trace, added to
	// each trigger whose record has a trace id: {trace_id} is filled in
	// with it, and {span_id} with the span id ("" when the record has
	// none), both in lower-case hex, e.g.
	// https://jaeger.example.com/trace/{trace_id}. A record's
	// alert.trace_url takes its place. "", the default, adds none.
	TraceURL string `mapstructure:"trace_url"`
	// TraceText is the trace link's text; "View trace" by default.
	TraceText string `mapstructure:"trace_text"`

	_ struct{}
}

// validate checks the trace URL template (Config.Validate calls it).
func (lc *LinksConfig) validate() []error {
	if lc.TraceURL == "" {
		return nil
	}
	if err := recordmap.CheckTraceURL(lc.TraceURL); err != nil {
		return []error{fmt.Errorf("links.trace_url: %w", err)}
	}
	return nil
}

// isLoopback reports whether host, a URL's host name without its port, is
// this machine's: localhost, or a loopback address.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// isPagerDutyHost reports whether host is one of PagerDuty's, as its
// Events API endpoints are (events.pagerduty.com, events.eu.pagerduty.com).
func isPagerDutyHost(host string) bool {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	return host == "pagerduty.com" || strings.HasSuffix(host, ".pagerduty.com")
}
