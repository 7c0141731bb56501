package dedup

import (
	"time"

	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/eventsapi"
)

// alert is the decision core: what PagerDuty shows of one alert as far as
// the exporter knows, and the alert's newest intent. Its methods are the one
// place an alert's fate is decided, whoever the intent comes from (a record
// from the pipeline or the exporter's own auto-resolve). They take every time
// as an argument, read no clock, start no goroutine and do no I/O: the cache
// calls them under its lock, and the model check drives them through every
// interleaving of arrivals, deliveries, outcomes and sweeps
// (model_test.go).
//
// Every intent has its place in its alert's order when it reaches the
// exporter: its Event.Arrival. A record from the pipeline arrives with its
// request; an auto-resolve arrives when the sweep decides it. Among records,
// the record contract orders by record time (Event.Time, the stale rule);
// between a record and an auto-resolve, arrival decides, since only arrival
// is on the exporter's clock.
type alert struct {
	payloadHash uint64 // severity and summary last sent
	sentAt      int64  // Unix nanoseconds of the last accepted event
	// eventTime is the newest time of a trigger or resolve applied or
	// suppressed: an older trigger or resolve is stale. An acknowledge
	// orders nothing: an older resolve still closes the incident (PagerDuty
	// drops an acknowledge of a closed one), and an older trigger leaves it
	// acknowledged.
	eventTime int64
	// incidentTime is the newest time of a trigger that opened an incident
	// or a resolve that closed one: an older acknowledge is stale, as it
	// was meant for an incident that is gone.
	incidentTime int64
	// firingAt is the arrival of the newest firing record seen, 0 for none;
	// quietFor is its quiet period in whole seconds, 0 when never
	// auto-resolved. The quiet clock runs from firingAt.
	firingAt int64
	quietFor uint32
	// autoAt is when the newest auto-resolve was decided (its Arrival), 0
	// for none: a firing record that arrived before it is superseded, since
	// the alert's quiet period had run out after it.
	autoAt int64
	state  State
	// uncertain: an event was sent whose outcome is unknown (the request
	// failed after it may have reached PagerDuty), and no event was accepted
	// since. PagerDuty may show it or not, so nothing is suppressed as
	// already shown until an event is accepted.
	uncertain bool
	// dirty: a field that survives a restart (firingAt, quietFor, autoAt,
	// uncertain) changed since the entry was last written to the storage.
	dirty bool
}

// decideUnknown is the decision for ev on an alert the cache does not know:
// an auto-resolve of an alert forgotten since has nothing to resolve; an
// acknowledge waits while an older record of its alert may (olderWaits);
// else it is sent, so that an incident opened before a restart without
// storage still closes.
func decideUnknown(ev *Event, olderWaits bool) string {
	switch {
	case ev.Auto:
		return ReasonStale
	case ev.Action == eventsapi.Acknowledge && olderWaits:
		return ReasonWait
	}
	return ""
}

// decide is the decision for ev, offered at now (Unix nanoseconds), on an
// alert the cache knows: "" to send it, else the reason it is suppressed,
// or ReasonWait. repeatInterval is Config.RepeatInterval in nanoseconds;
// olderWaits, whether a record of the alert that arrived before ev may
// still wait in a queue.
func (a *alert) decide(ev *Event, now, repeatInterval int64, olderWaits bool) string {
	if ev.Auto {
		switch {
		case a.autoAt > ev.Arrival, a.firingAt >= ev.Arrival, a.quietFor == 0:
			// A newer decision, or a firing record that came after this one
			// was decided (it restarted the clock or opted the alert out).
			return ReasonStale
		case a.state == Resolved && !a.uncertain:
			return ReasonAlreadyApplied
		}
		return ""
	}
	if ev.Time != 0 && (ev.Time < a.eventTime && ev.Action != eventsapi.Acknowledge || ev.Time < a.incidentTime) {
		return ReasonStale
	}
	if ev.Action == eventsapi.Trigger && ev.Arrival < a.autoAt {
		// The alert went quiet for this record's period after it arrived:
		// the auto-resolve decided since is its alert's newer intent.
		return ReasonStale
	}
	if a.uncertain {
		if ev.Action == eventsapi.Acknowledge && olderWaits {
			// The trigger it needs may be among them.
			return ReasonWait
		}
		return ""
	}
	switch ev.Action {
	case eventsapi.Trigger:
		if a.state.open() && a.payloadHash == ev.PayloadHash && now-a.sentAt < repeatInterval {
			return ReasonDuplicate
		}
	case eventsapi.Acknowledge:
		switch {
		case a.state == Acknowledged:
			return ReasonAlreadyApplied
		case a.state != Triggered && olderWaits:
			// Such as the trigger it acknowledges, after a resolve.
			return ReasonWait
		case a.state != Triggered:
			return ReasonAlreadyApplied
		}
	case eventsapi.Resolve:
		if a.state == Resolved {
			return ReasonAlreadyApplied
		}
	}
	return ""
}

// accepted applies ev, which PagerDuty accepted at now.
func (a *alert) accepted(ev *Event, now int64) {
	switch ev.Action {
	case eventsapi.Trigger:
		if !a.state.open() {
			a.incidentTime = max(a.incidentTime, ev.Time)
		}
		if a.state != Acknowledged || a.uncertain {
			a.state = Triggered
		}
		a.payloadHash = ev.PayloadHash
		a.firing(ev)
	case eventsapi.Acknowledge:
		if a.state.open() {
			a.state = Acknowledged
		}
	case eventsapi.Resolve:
		a.state = Resolved
		a.incidentTime = max(a.incidentTime, ev.Time)
	}
	if a.uncertain && ev.Action != eventsapi.Acknowledge {
		// A trigger leaves the incident open and a resolve closes it,
		// whatever became of the event before; an acknowledge of an
		// incident that may be closed tells nothing.
		a.uncertain, a.dirty = false, true
	}
	a.sentAt = now
	if ev.Action != eventsapi.Acknowledge {
		a.eventTime = max(a.eventTime, ev.Time)
	}
}

// suppressed applies ev, suppressed for reason: a duplicate or an event
// already applied holds as of its time, and a firing record, whether sent
// or not, even stale, is its alert's newest firing record if it arrived
// last: its arrival shows the alert was not quiet, and its quiet period is
// the newest. It reports whether the quiet clock must restart.
func (a *alert) suppressed(ev *Event, reason string) bool {
	if (reason == ReasonDuplicate || reason == ReasonAlreadyApplied) && ev.Action != eventsapi.Acknowledge {
		a.eventTime = max(a.eventTime, ev.Time)
		if ev.Action == eventsapi.Resolve {
			a.incidentTime = max(a.incidentTime, ev.Time)
		}
	}
	return a.firing(ev)
}

// unknown notes that the event just applied (accepted) was sent and its
// outcome is not known.
func (a *alert) unknown() {
	if !a.uncertain {
		a.uncertain, a.dirty = true, true
	}
}

// firing notes a firing record: when it arrived last, its quiet period is
// the alert's. It reports whether the clock must restart.
func (a *alert) firing(ev *Event) bool {
	if ev.Auto || ev.Action != eventsapi.Trigger || ev.Arrival < a.firingAt {
		return false
	}
	quietFor := quietSeconds(ev.QuietFor)
	if quietFor != a.quietFor || a.firingAt == 0 {
		a.dirty = true
	}
	a.firingAt, a.quietFor = ev.Arrival, quietFor
	return true
}

// quietFrom is when the alert's quiet clock started: its newest firing
// record's arrival, or started, the start of this process, when later
// (time the exporter was not running never counts as quiet). ok is false
// when no clock runs: the alert is not open, or never auto-resolved.
func (a *alert) quietFrom(started int64) (from int64, ok bool) {
	if !a.state.open() || a.quietFor == 0 {
		return 0, false
	}
	return max(a.firingAt, started), true
}

// quietDue reports whether the alert's quiet period has run out by now.
func (a *alert) quietDue(now, started int64) bool {
	from, ok := a.quietFrom(started)
	return ok && now-from >= int64(a.quietFor)*int64(time.Second)
}

// decideAuto notes an auto-resolve decided at, as its alert's newest intent.
func (a *alert) decideAuto(at int64) {
	a.autoAt, a.dirty = at, true
}

// awaitsAutoResolve reports whether the alert's quiet clock runs: it is
// open and auto-resolved.
func (a *alert) awaitsAutoResolve() bool { return a.state.open() && a.quietFor > 0 }
