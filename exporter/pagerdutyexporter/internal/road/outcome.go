package road // import "github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/road"

import (
	"errors"
	"fmt"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/dedup"
	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/eventsapi"
	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/recordmap"
	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/routes"
	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/telemetry"
)

// errShuttingDown hands a record back to its queue at shutdown.
var errShuttingDown = errors.New("the exporter is shutting down")

// outcomeKind is how a record leaves the road.
type outcomeKind uint8

const (
	// outcomeAccepted: its event was sent, and PagerDuty accepted it.
	outcomeAccepted outcomeKind = iota
	// outcomeSuppressed: PagerDuty already shows its effect (reason).
	outcomeSuppressed
	// outcomeRejected: it can never become an event (rejection, err).
	outcomeRejected
	// outcomeFailed: it must be retried, and so must the later events of
	// failKey (when not "") in the same push, to keep their order.
	outcomeFailed
	// outcomeBehindFailure: it waits for the retry of an earlier failed
	// event of its routing key.
	outcomeBehindFailure
	// outcomeHeld: the exporter is stopping; it goes back to its queue.
	outcomeHeld
)

// outcome is what became of one record, for settle to settle: how it left
// the road, and what each stage learned of it, as far as it got.
type outcome struct {
	kind outcomeKind
	ref  recordRef
	carried
	identity
	verdict
	answer
}

// carried is what the record's queue carried with it (deliver.go).
type carried struct {
	priority routes.Priority
	auto     bool // a resolve the exporter made itself
	received pcommon.Timestamp
	ours     bool // queued by this run, which pinned its dedup key (see runAttr)
}

// identity is what the record is, as an event (admit.go, decide.go).
type identity struct {
	action   eventsapi.Action
	dedupKey string
	route    *routes.Route // the route its event went, or would have gone, to
}

// verdict is its alert's turn, and why it went no further (decide.go, and
// send.go for PagerDuty's answer).
type verdict struct {
	turn      dedup.Turn                 // committed and released by settle
	reason    string                     // outcomeSuppressed: a dedup reason
	tally     *telemetry.SuppressedTally // on its way in: where a suppression is counted until the request is sorted
	rejection telemetry.Rejection
	err       error
	failKey   string
	tombstone bool // outcomeRejected: commit the turn all the same (see goesNoFurther)
}

// answer is what sending its event took, and what PagerDuty answered
// (send.go).
type answer struct {
	repairs recordmap.Repairs // counted once the event is completed
	sent    bool              // its event was sent: result says what PagerDuty answered
	waited  time.Duration     // for the rate limiter
	result  eventsapi.Result
	took    time.Duration
}

// unrouted makes o the outcome of a record no routing key takes.
func (r *Road) unrouted(o *outcome, m *recordmap.Result) {
	o.kind, o.rejection = outcomeRejected, telemetry.RejectNoRoutingKey
	o.action, o.dedupKey = m.Event.Action, m.Event.DedupKey
	o.err = fmt.Errorf("%s %q matches no routing.keys entry and routing_key is not set", r.mapping.RoutingAttribute, bounded(m.RoutingValue))
}
