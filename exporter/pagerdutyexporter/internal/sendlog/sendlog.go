// Package sendlog keeps the rate limiter's memory across restarts: each
// route's send times of the last minute, in the exporter's storage.
package sendlog // import "github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/sendlog"

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.opentelemetry.io/collector/extension/xextension/storage"

	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/clock"
	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/eventsapi"
	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/routes"
)

// prefix namespaces the send logs in the dedup cache's storage, one
// per route, under the route's name, never its key.
const prefix = "limiter/"

// Log keeps each route's send times of the last minute in the dedup
// cache's storage, so that after a restart the limiter knows what its
// predecessor sent, and a server enforcing PagerDuty's limit over a sliding
// minute (https://developer.pagerduty.com/docs/events-api-rate-limits) sees
// no burst past it. It is saved once a tick; a process killed between two
// saves may have sent more, so each save also counts, a tick ahead, as many
// sends as the limiter could let out in a tick (pad). A graceful shutdown
// saves the exact log.
type Log struct {
	client  storage.Client
	limiter *eventsapi.Limiter
	routes  []*routes.Route
	pad     int // sends the limiter can let out in one tick: its burst and a tick's refill

	saved map[*routes.Route]time.Time // newest send saved per route, to skip idle routes
}

// New keeps the send log of limiter's routes in client; eventsPerMinute
// and burst are the limiter's (rate_limit).
func New(client storage.Client, limiter *eventsapi.Limiter, queued []*routes.Route, eventsPerMinute, burst int) *Log {
	perTick := (eventsPerMinute*int(clock.Tick/time.Millisecond) + 59_999) / 60_000
	return &Log{client: client, limiter: limiter, routes: queued, pad: burst + perTick, saved: map[*routes.Route]time.Time{}}
}

// Restore gives the limiter the send times saved by the previous process.
func (s *Log) Restore(ctx context.Context) error {
	var errs []error
	for _, rt := range s.routes {
		b, err := s.client.Get(ctx, prefix+rt.Name)
		if err != nil || b == nil {
			errs = append(errs, err)
			continue
		}
		sends, err := eventsapi.DecodeSends(b)
		if err != nil {
			errs = append(errs, fmt.Errorf("send log of route %q: %w", rt.Name, err))
			continue
		}
		s.limiter.Restore(rt.Key, sends)
	}
	return errors.Join(errs...)
}

// Save writes the send log of every route that sent since the last save;
// exact leaves out the pad, for a process that is stopping.
func (s *Log) Save(ctx context.Context, now time.Time, exact bool) error {
	var ops []*storage.Operation
	for _, rt := range s.routes {
		sends := s.limiter.Sends(rt.Key)
		if len(sends) == 0 || (!exact && sends[len(sends)-1].Equal(s.saved[rt])) {
			continue
		}
		s.saved[rt] = sends[len(sends)-1]
		if !exact {
			for range s.pad {
				sends = append(sends, now.Add(clock.Tick))
			}
		}
		ops = append(ops, storage.SetOperation(prefix+rt.Name, eventsapi.EncodeSends(sends)))
	}
	if len(ops) == 0 {
		return nil
	}
	return s.client.Batch(ctx, ops...)
}
