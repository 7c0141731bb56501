package road // import "github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/road"

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/dedup"
	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/eventsapi"
	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/recordmap"
)

// OwnEvents queues the events the exporter decides itself, as of now on its
// arrival clock: the resolves of alerts gone quiet, and the acknowledges it
// owes.
func (r *Road) OwnEvents(ctx context.Context, now time.Time) error {
	return errors.Join(r.resolveQuiet(ctx, now), r.acknowledgeOwed(ctx, now))
}

// resolveQuiet sends a resolve for every alert whose quiet clock ran out by
// now. Should a queue refuse some, their clocks start again, so that they
// are tried after another quiet period rather than forgotten; the resolves
// queued are left as they are.
func (r *Road) resolveQuiet(ctx context.Context, now time.Time) error {
	quiet := r.cache.Quiet(ctx, now)
	if len(quiet) == 0 {
		return nil
	}
	refused, err := r.take(ctx, autoResolves(quiet, now), arrival{received: pcommon.NewTimestampFromTime(now), auto: true, run: r.run})
	for _, dedupKey := range refused {
		r.cache.Refused(dedupKey)
	}
	if err != nil {
		return fmt.Errorf("resolving %d quiet alerts, %d refused: %w", len(quiet), len(refused), err)
	}
	return nil
}

// acknowledgeOwed sends the acknowledges the exporter owes (see
// dedup.Cache.Owed): records whose incident opened after they were decided.
// Each keeps its record's time and arrival, its place in its alert's order.
func (r *Road) acknowledgeOwed(ctx context.Context, now time.Time) error {
	var errs []error
	for _, o := range r.cache.Owed(ctx, now) {
		ld := plog.NewLogs()
		lr := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
		lr.SetObservedTimestamp(pcommon.Timestamp(o.Time)) //nolint:gosec // G115: Unix nanoseconds until 2262
		lr.Attributes().PutStr(recordmap.AttrDedupKey, o.DedupKey)
		lr.Attributes().PutStr(recordmap.AttrEventAction, string(eventsapi.Acknowledge))
		if _, err := r.take(ctx, ld, arrival{received: pcommon.Timestamp(o.Arrival), auto: true, run: r.run}); err != nil { //nolint:gosec // G115: as above
			errs = append(errs, fmt.Errorf("acknowledging %q: %w", o.DedupKey, err))
		}
	}
	return errors.Join(errs...)
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
