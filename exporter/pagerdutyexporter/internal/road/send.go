package road // import "github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/road"

import (
	"context"
	"fmt"
	"time"

	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/eventsapi"
	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/recordmap"
	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/routes"
	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/telemetry"
)

// send sends the event of m, decided in o, under its turn's routing key,
// once the rate limiter lets it go at priority p, and settles o by what
// PagerDuty answered: accepted, refused for good, or failed (retried).
func (r *Road) send(ctx context.Context, o *outcome, p routes.Priority, m *recordmap.Result) {
	ev := &m.Event
	routingKey := o.turn.RoutingKey
	// Only an event that will be sent needs its details, links and images.
	m.Complete()
	o.repairs = m.Repairs
	var err error
	if o.waited, err = r.limiter.Wait(ctx, routingKey, int(p), arrivedAt(o.received)); err != nil {
		o.kind, o.failKey, o.err = outcomeFailed, routingKey, fmt.Errorf("waiting for the rate limiter: %w", err)
		return
	}
	ev.RoutingKey = routingKey
	start := time.Now()
	// A stop does not cancel a request in flight at once: canceling it
	// would lose whether PagerDuty applied it. The client's timeout bounds
	// it, and the shutdown's bound (see shutdownDrain).
	o.result = r.client.Send(r.sends, ev) //nolint:contextcheck // a request outlives its push's cancellation until the shutdown's bound
	o.sent, o.took = true, time.Since(start)
	switch o.result.Outcome {
	case eventsapi.Accepted:
		o.kind = outcomeAccepted
	case eventsapi.Rejected:
		o.kind, o.rejection, o.err = outcomeRejected, telemetry.RejectByAPI, o.result.Err
	default:
		o.kind, o.failKey, o.err = outcomeFailed, o.route.Key, retryError(o.route.Name, o.result)
		if o.result.Unknown() {
			// It may have reached PagerDuty all the same.
			o.turn.Unknown(ctx)
		}
	}
}

// arrivedAt is when a record reached the exporter, the zero time when
// unknown (the limiter then ages it from now, never from 1970).
func arrivedAt(received pcommon.Timestamp) time.Time {
	if received == 0 {
		return time.Time{}
	}
	return received.AsTime()
}

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
