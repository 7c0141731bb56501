package pagerdutyexporter // import "github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter"

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.opentelemetry.io/collector/extension/xextension/storage"

	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/eventsapi"
)

// sendLogPrefix namespaces the send logs in the dedup cache's storage, one
// per route, under the route's name, never its key.
const sendLogPrefix = "limiter/"

// sendLog keeps each route's send times of the last minute in the dedup
// cache's storage, so that after a restart the limiter knows what its
// predecessor sent, and a server enforcing PagerDuty's limit over a sliding
// minute (https://developer.pagerduty.com/docs/events-api-rate-limits) sees
// no burst past it. It is saved once a tick; a process killed between two
// saves may have sent more, so each save also counts, a tick ahead, as many
// sends as the limiter could let out in a tick (pad). A graceful shutdown
// saves the exact log.
type sendLog struct {
	client  storage.Client
	limiter *eventsapi.Limiter
	routes  []*route
	pad     int // sends the limiter can let out in one tick: its burst and a tick's refill

	saved map[*route]time.Time // newest send saved per route, to skip idle routes
}

func newSendLog(client storage.Client, limiter *eventsapi.Limiter, routes []*route, rate RateLimitConfig) *sendLog {
	perTick := (rate.EventsPerMinute*int(tick/time.Millisecond) + 59_999) / 60_000
	return &sendLog{client: client, limiter: limiter, routes: routes, pad: rate.Burst + perTick, saved: map[*route]time.Time{}}
}

// restore gives the limiter the send times saved by the previous process.
func (s *sendLog) restore(ctx context.Context) error {
	var errs []error
	for _, rt := range s.routes {
		b, err := s.client.Get(ctx, sendLogPrefix+rt.name)
		if err != nil || b == nil {
			errs = append(errs, err)
			continue
		}
		sends, err := eventsapi.DecodeSends(b)
		if err != nil {
			errs = append(errs, fmt.Errorf("send log of route %q: %w", rt.name, err))
			continue
		}
		s.limiter.Restore(rt.key, sends)
	}
	return errors.Join(errs...)
}

// save writes the send log of every route that sent since the last save;
// exact leaves out the pad, for a process that is stopping.
func (s *sendLog) save(ctx context.Context, now time.Time, exact bool) error {
	var ops []*storage.Operation
	for _, rt := range s.routes {
		sends := s.limiter.Sends(rt.key)
		if len(sends) == 0 || (!exact && sends[len(sends)-1].Equal(s.saved[rt])) {
			continue
		}
		s.saved[rt] = sends[len(sends)-1]
		if !exact {
			for range s.pad {
				sends = append(sends, now.Add(tick))
			}
		}
		ops = append(ops, storage.SetOperation(sendLogPrefix+rt.name, eventsapi.EncodeSends(sends)))
	}
	if len(ops) == 0 {
		return nil
	}
	return s.client.Batch(ctx, ops...)
}
