package dedup

import (
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
	// resolvedTime is the newest time of a resolve applied or already
	// applied; incidentTime the time of the oldest trigger of the open
	// incident since: an acknowledge older than either was meant for an
	// incident that is gone (see decideAcknowledge).
	resolvedTime, incidentTime int64
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
// an auto-resolve has nothing to resolve (the alert was forgotten since its
// clock ran out); an acknowledge that older records of its alert are ahead
// of is deferred (olderWaits); anything else is sent, as an incident the
// cache forgot, or opened before a restart without storage, must still
// close, and an acknowledge owed to it still reach it.
func decideUnknown(ev *Event, olderWaits bool) string {
	switch {
	case ev.Auto && ev.Action == eventsapi.Resolve:
		return ReasonStale
	case olderWaits:
		return ReasonDeferred
	}
	return ""
}

// decide is the decision for ev, offered at now (Unix nanoseconds), on an
// alert the cache knows: "" to send it, else the reason it is suppressed.
// repeatInterval is Config.RepeatInterval in nanoseconds; olderWaits, for
// an acknowledge record, whether records of its alert that arrived before
// it still wait in a queue.
func (a *alert) decide(ev *Event, now, repeatInterval int64, olderWaits bool) string {
	switch {
	case ev.Auto && ev.Action == eventsapi.Acknowledge:
		return a.decideOwedAcknowledge()
	case ev.Auto:
		return a.decideAuto(ev)
	case ev.Action == eventsapi.Acknowledge:
		reason := a.decideAcknowledge(ev)
		if olderWaits {
			// They may close this incident and open the one it is meant
			// for: it goes after them (see Cache.Owed).
			return ReasonDeferred
		}
		return reason
	}
	switch {
	case ev.Time != 0 && ev.Time < a.eventTime:
		return ReasonStale
	case ev.Action == eventsapi.Trigger && ev.Arrival < a.autoAt:
		// The alert went quiet for this record's period after it arrived:
		// the auto-resolve decided since is its alert's newer intent.
		return ReasonStale
	case a.uncertain:
		return ""
	case ev.Action == eventsapi.Trigger && a.state.open() && a.payloadHash == ev.PayloadHash && now-a.sentAt < repeatInterval:
		return ReasonDuplicate
	case ev.Action == eventsapi.Resolve && a.state == Resolved:
		return ReasonAlreadyApplied
	}
	return ""
}

// decideAuto decides an auto-resolve: it goes only while it is its alert's
// newest intent.
func (a *alert) decideAuto(ev *Event) string {
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

// decideOwedAcknowledge decides an acknowledge the exporter sends itself,
// for an acknowledge record that came before the trigger of its incident
// was accepted (see Cache.Owed): only a triggered incident takes it.
func (a *alert) decideOwedAcknowledge() string {
	switch {
	case a.state == Acknowledged:
		return ReasonAlreadyApplied
	case a.state != Triggered:
		return ReasonStale
	}
	return ""
}

// owes reports whether an acknowledge record of time t, which could not
// apply when it was decided, is owed now: its incident is open and not
// acknowledged, and it is newer than the incident's oldest trigger and the
// last resolve.
func (a *alert) owes(t int64) bool {
	return a.state == Triggered && t >= a.incidentTime && t > a.resolvedTime
}

// decideAcknowledge decides an acknowledge. It is stale when it is older
// than the incident it would acknowledge: than a resolve since, or than the
// oldest trigger of the open incident (it was meant for an incident gone
// since). Only an open, unacknowledged incident takes it.
func (a *alert) decideAcknowledge(ev *Event) string {
	switch {
	case ev.Time != 0 && (ev.Time < a.resolvedTime || a.state.open() && ev.Time < a.incidentTime):
		return ReasonStale
	case a.uncertain:
		return ""
	case a.state != Triggered:
		return ReasonAlreadyApplied
	}
	return ""
}

// accepted applies ev, which PagerDuty accepted at now.
func (a *alert) accepted(ev *Event, now int64) {
	switch ev.Action {
	case eventsapi.Trigger:
		if a.state == Resolved {
			// A new incident. One the cache knew nothing of may be the
			// incident an older trigger opened, which it forgot: no
			// acknowledge is stale by it.
			a.incidentTime = ev.Time
		}
		a.trigger(ev)
		if a.state != Acknowledged || a.uncertain {
			a.state = Triggered
		}
		a.payloadHash = ev.PayloadHash
		a.firing(ev)
	case eventsapi.Acknowledge:
		// While uncertain, PagerDuty may have dropped it: it is owed
		// instead (see Cache.record).
		if a.state.open() && !a.uncertain {
			a.state = Acknowledged
		}
	case eventsapi.Resolve:
		a.state = Resolved
		a.resolve(ev)
	}
	if a.uncertain && ev.Action != eventsapi.Acknowledge {
		// A trigger leaves the incident open and a resolve closes it,
		// whatever became of the event before; an acknowledge of an
		// incident that may be closed tells nothing.
		a.uncertain, a.dirty = false, true
	}
	a.sentAt = now
}

// suppressed applies ev, suppressed for reason: a trigger or resolve, even
// stale, tells the order of the alert's records (see trigger and resolve),
// and a firing record, whether sent or not, even stale, is its alert's
// newest firing record if it arrived last: its arrival shows the alert was
// not quiet, and its quiet period is the newest. It reports whether the
// quiet clock must restart.
func (a *alert) suppressed(ev *Event, reason string) bool {
	switch {
	case ev.Auto:
		return false
	case ev.Action == eventsapi.Trigger:
		a.trigger(ev)
		return a.firing(ev)
	case ev.Action == eventsapi.Resolve && reason != ReasonStale:
		a.resolve(ev)
	}
	return false
}

// trigger notes a trigger's time, sent or not: a newer one makes older
// triggers and resolves stale; an older one that came after the last
// resolve belongs to the open incident, which it opened as far as the
// order of records goes (see decideAcknowledge).
func (a *alert) trigger(ev *Event) {
	if ev.Time == 0 {
		return
	}
	a.eventTime = max(a.eventTime, ev.Time)
	if a.state.open() && ev.Time > a.resolvedTime && ev.Time < a.incidentTime {
		a.incidentTime = ev.Time
	}
}

// resolve notes a resolve's time, applied or already applied.
func (a *alert) resolve(ev *Event) {
	a.eventTime = max(a.eventTime, ev.Time)
	a.resolvedTime = max(a.resolvedTime, ev.Time)
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

// quietFrom is when the alert's quiet clock started, on this run's clock:
// its newest firing record's arrival, moved later by the time the exporter
// was not running since, which never counts as quiet. down lists those
// times, oldest first, each from a stop to the next start (Unix
// nanoseconds); a stop of 0, unknown, makes all time before the start
// down. ok is false when no clock runs: the alert is not open, or never
// auto-resolved.
func (a *alert) quietFrom(down [][2]int64) (from int64, ok bool) {
	if !a.state.open() || a.quietFor == 0 {
		return 0, false
	}
	from = a.firingAt
	for _, d := range down {
		from += max(0, d[1]-max(d[0], a.firingAt))
	}
	return from, true
}

// autoResolveDecided notes an auto-resolve decided at, as its alert's
// newest intent.
func (a *alert) autoResolveDecided(at int64) {
	a.autoAt, a.dirty = at, true
}

// awaitsAutoResolve reports whether the alert's quiet clock runs: it is
// open and auto-resolved.
func (a *alert) awaitsAutoResolve() bool { return a.state.open() && a.quietFor > 0 }
