package pagerdutyexporter // import "github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter"

import (
	"fmt"

	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/exporter/exporterhelper"

	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/eventsapi"
)

// retryError is what the collector's retry sender is told of res, the answer
// to one event sent on route: nil when PagerDuty accepted it; a permanent
// error when it refused it, since resending cannot succeed; a throttle
// carrying the server's delay when it asked for one, so that the retry waits
// at least that long; else a plain error, retried after the configured
// back-off. The error names the route, never its routing key.
func retryError(route string, res eventsapi.Result) error {
	if res.Outcome == eventsapi.Accepted {
		return nil
	}
	err := fmt.Errorf("routing %q: %w", route, res.Err)
	switch {
	case res.Outcome == eventsapi.Rejected:
		return consumererror.NewPermanent(err)
	case res.RetryAfter > 0:
		return exporterhelper.NewThrottleRetry(err, res.RetryAfter)
	}
	return err
}
