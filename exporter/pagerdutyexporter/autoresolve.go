package pagerdutyexporter // import "github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter"

import (
	"context"
	"fmt"
	"sync"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.uber.org/zap"

	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/dedup"
	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/eventsapi"
	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/recordmap"
)

// quietTick is how often the quiet clocks are swept: they count whole
// seconds.
const quietTick = time.Second

// quietWatch resolves the alerts whose firing records stopped: once a
// second it takes the alerts whose quiet clocks ran out from the dedup
// cache and sends a resolve for each down the road every event takes, with
// its queue, priority, rate limit, retries and persistence.
type quietWatch struct {
	flow   *flow
	logger *zap.Logger
	stop   context.CancelFunc
	done   sync.WaitGroup
}

// start runs the sweeps until shutdown.
func (w *quietWatch) start() {
	ctx, stop := context.WithCancel(context.Background())
	w.stop = stop
	w.done.Go(func() {
		tick := time.NewTicker(quietTick)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case now := <-tick.C:
				if err := w.flow.resolveQuiet(ctx, now); err != nil {
					w.logger.Warn("Could not queue the resolves of alerts gone quiet; their clocks start again", zap.Error(err))
				}
			}
		}
	})
}

// shutdown ends the sweeps; the clocks stay in the cache.
func (w *quietWatch) shutdown() {
	if w.stop != nil {
		w.stop()
		w.done.Wait()
	}
}

// resolveQuiet sends a resolve for every alert whose quiet clock ran out by
// now. Should the queue refuse them, their clocks start again, so that they
// are tried after another quiet period rather than forgotten.
func (f *flow) resolveQuiet(ctx context.Context, now time.Time) error {
	quiet := f.cache.Quiet(now)
	if len(quiet) == 0 {
		return nil
	}
	if err := f.take(ctx, autoResolves(quiet, now), true); err != nil {
		for _, q := range quiet {
			f.cache.Firing(q.DedupKey, q.QuietFor)
		}
		return fmt.Errorf("resolving %d quiet alerts: %w", len(quiet), err)
	}
	return nil
}

// autoResolves are the records of the resolves of quiet alerts: a resolve
// names only its dedup key, and goes to the routing key that opened the
// incident, which the cache knows.
func autoResolves(quiet []dedup.QuietAlert, now time.Time) plog.Logs {
	ld := plog.NewLogs()
	lrs := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords()
	for _, q := range quiet {
		lr := lrs.AppendEmpty()
		lr.SetObservedTimestamp(pcommon.NewTimestampFromTime(now))
		lr.Attributes().PutStr(recordmap.AttrDedupKey, q.DedupKey)
		lr.Attributes().PutStr(recordmap.AttrEventAction, string(eventsapi.Resolve))
		lr.Attributes().PutStr(recordmap.AttrSummary, fmt.Sprintf("No firing record for %v: resolved by the exporter", q.QuietFor))
	}
	return ld
}
