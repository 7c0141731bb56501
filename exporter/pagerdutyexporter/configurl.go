package pagerdutyexporter // import "github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter"

import (
	"errors"
	"strings"

	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/eventsapi"
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
