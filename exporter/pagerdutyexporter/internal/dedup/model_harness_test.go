package dedup

import (
	"context"
	"testing"
	"time"

	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/eventsapi"
	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/intentmodel"
)

// The model check's harness: the moves of a schedule and the world they
// drive (see model_test.go).

// move is one move of a schedule.
type move uint8

const (
	stepTrigger        move = iota // a firing record, quiet period 2 s
	stepTriggerOptOut              // a firing record, alert.resolve_after "0s"
	stepAck                        // an acknowledge record
	stepResolve                    // a resolve record
	stepTakeAlert                  // the alert queue's consumer takes its head
	stepTakeAckResolve             // the ack_resolve queue's consumer takes its head
	stepAccepted                   // the event in flight is accepted
	stepThrottled                  // ... answered 429: not applied, retried
	stepUnknownApplied             // ... times out after PagerDuty applied it
	stepUnknownLost                // ... times out before PagerDuty saw it
	stepTick                       // a second passes; the sweep runs
	stepRestart                    // kill -9 and start again, with storage
	numMoves
)

var moveNames = [numMoves]string{"trigger", "trigger(resolve_after 0s)", "acknowledge", "resolve", "take(alert)", "take(ack_resolve)", "accepted", "429", "timeout(applied)", "timeout(lost)", "tick", "restart"}

func (s move) String() string { return moveNames[s] }

// queued is a record in one of the world's queues.
type queued struct {
	ev     Event
	pinned bool // by this run (see Cache.Arrive)
}

const (
	alertQueue = iota
	ackResolveQueue
)

// world is the road of one alert, "k", through the cache.
type world struct {
	t       *testing.T
	ctx     context.Context
	storage walkingStorage
	cache   *Cache
	now     int64 // Unix nanoseconds, on whole seconds: when the last tick was
	arrived int64 // nanoseconds past now of the last arrival or restart: the clock reads now+arrived
	queues  [2][]queued
	// pendingQueue is the queue of the alert's newest waiting firing
	// record, else of its first waiting record, where an acknowledge
	// follows it (the exporter's pending).
	pendingQueue, pendingCount int
	inFlight                   *Turn
	inFlightQueue              int
	foreign                    int // records an earlier run left queued
	pd                         intentmodel.PagerDuty
	refs                       [2]intentmodel.Reference // on time, and late by the most the clocks allow
	failures, restarts, ticks  int
	down                       [][2]int64 // see Cache.Resume
	// triggerUnknown: a trigger was sent whose outcome is unknown, and no
	// event was accepted since: the exporter takes its incident for open.
	triggerUnknown bool
	trace          []string
}

const modelKey = "k"

func newWorld(t *testing.T) *world {
	w := &world{t: t, ctx: context.Background(), storage: walkingStorage{&memStorage{data: map[string][]byte{}}}, now: int64(1_700_000_000) * int64(time.Second)}
	w.refs[1].Slack = time.Nanosecond
	w.open()
	return w
}

func (w *world) open() {
	c, err := Open(w.ctx, Config{RepeatInterval: time.Hour}, func() time.Time { return time.Unix(0, w.now+w.arrived) }, persistence(w.storage))
	if err != nil {
		w.t.Fatalf("open: %v", err)
	}
	w.cache = c
}

// arrival is the next arrival's place: now, a nanosecond after the last.
func (w *world) arrival() int64 {
	w.arrived++
	return w.now + w.arrived
}

// enabled reports whether s can be taken now, within the schedule's bounds.
func (w *world) enabled(s move, b bounds) bool {
	switch s {
	case stepTakeAlert, stepTakeAckResolve:
		q := int(s - stepTakeAlert)
		return w.inFlight == nil && len(w.queues[q]) > 0
	case stepAccepted:
		return w.inFlight != nil
	case stepThrottled, stepUnknownApplied, stepUnknownLost:
		return w.inFlight != nil && w.failures < b.failures
	case stepTick:
		return w.ticks < b.ticks
	case stepRestart:
		return w.restarts < b.restarts
	}
	return true
}

func (w *world) do(s move) {
	w.trace = append(w.trace, s.String())
	switch s {
	case stepTrigger:
		w.record(eventsapi.Trigger, 2*time.Second)
	case stepTriggerOptOut:
		w.record(eventsapi.Trigger, 0)
	case stepAck:
		w.record(eventsapi.Acknowledge, 0)
	case stepResolve:
		w.record(eventsapi.Resolve, 0)
	case stepTakeAlert, stepTakeAckResolve:
		w.take(int(s - stepTakeAlert))
	case stepAccepted:
		w.settle(true, false)
	case stepThrottled:
		w.failures++
		w.settle(false, false)
	case stepUnknownApplied:
		w.failures++
		w.pd.Apply(modelAction(w.inFlight.event.Action))
		w.unknown()
	case stepUnknownLost:
		w.failures++
		w.unknown()
	case stepTick:
		w.ticks++
		w.now += int64(time.Second)
		w.arrived = 0
		w.sweep()
	case stepRestart:
		w.restart()
	}
}

// record is the arrival of a record from the pipeline, as flow.arrive and
// flow.queueOf take it: decided at once when nothing of its alert waits
// (and no earlier run's records are left), else queued and pinned.
func (w *world) record(action eventsapi.Action, quietFor time.Duration) {
	at := w.arrival()
	ev := Event{Action: action, RoutingKey: keyA, PayloadHash: 1, Time: at, Arrival: at, At: at}
	if action == eventsapi.Trigger {
		ev.QuietFor = quietFor
	}
	for i := range w.refs {
		w.refs[i].Arrive(modelAction(action), quietFor, at)
	}
	turn, settled := w.cache.Arrive(w.ctx, modelKey, ev, true)
	if settled {
		turn.Commit(w.ctx)
		turn.Release()
		return
	}
	q := alertQueue
	switch {
	case action == eventsapi.Acknowledge && w.pendingCount > 0:
		q = w.pendingQueue
	case action != eventsapi.Trigger:
		q = ackResolveQueue
	}
	w.enqueue(q, ev)
}

func (w *world) enqueue(q int, ev Event) {
	if w.pendingCount == 0 || (ev.Action == eventsapi.Trigger && !ev.Auto) {
		w.pendingQueue = q
	}
	w.pendingCount++
	w.queues[q] = append(w.queues[q], queued{ev: ev, pinned: true})
}

// take is a consumer taking its queue's head: the alert's turn and its
// decision; a suppressed record settles at once, else it is in flight.
func (w *world) take(q int) {
	head := w.queues[q][0]
	turn, err := w.cache.Begin(w.ctx, modelKey, head.ev)
	if err != nil {
		w.t.Fatalf("begin: %v", err)
	}
	if turn.Reason != "" {
		w.trace[len(w.trace)-1] += " → " + turn.Reason
		turn.Commit(w.ctx)
		turn.Release()
		w.done(q)
		return
	}
	w.inFlight, w.inFlightQueue = &turn, q
}

// unknown ends the delivery in flight with an unknown outcome: it is left
// at its queue's head for the retry.
func (w *world) unknown() {
	w.triggerUnknown = w.triggerUnknown || w.inFlight.event.Action == eventsapi.Trigger
	w.inFlight.Unknown(w.ctx)
	w.settle(false, false)
}

// settle ends the delivery in flight: accepted, or failed and left at its
// queue's head for the retry.
func (w *world) settle(accepted, _ bool) {
	turn := w.inFlight
	w.inFlight = nil
	if accepted {
		w.triggerUnknown = false
		w.pd.Apply(modelAction(turn.event.Action))
		turn.Commit(w.ctx)
		turn.Release()
		w.done(w.inFlightQueue)
		return
	}
	turn.Release()
}

// done takes the head of q off its queue, settled, and lets go of its pin.
func (w *world) done(q int) {
	head := w.queues[q][0]
	w.queues[q] = w.queues[q][1:]
	if head.pinned {
		w.cache.Unpin(modelKey, head.ev.Arrival)
		w.pendingCount--
	} else {
		w.foreign--
		w.cache.ReadBack(-1)
	}
}

// sweep resolves what went quiet and acknowledges what is owed, as
// flow.resolveQuiet does.
func (w *world) sweep() {
	defer func() {
		for _, o := range w.cache.Owed(w.ctx, time.Unix(0, w.now)) {
			ev := Event{Action: eventsapi.Acknowledge, Auto: true, Time: o.Time, Arrival: o.Arrival}
			if _, settled := w.cache.Arrive(w.ctx, o.DedupKey, ev, false); settled {
				w.t.Fatal("an owed acknowledge is never settled on arrival")
			}
			w.enqueue(ackResolveQueue, ev)
		}
	}()
	for i := range w.refs {
		w.refs[i].Sweep(w.now, w.pd.State.Open() || w.triggerUnknown)
	}
	for _, quiet := range w.cache.Quiet(w.ctx, time.Unix(0, w.now)) {
		ev := Event{Action: eventsapi.Resolve, Auto: true, Arrival: quiet.At}
		if _, settled := w.cache.Arrive(w.ctx, quiet.DedupKey, ev, false); settled {
			w.t.Fatal("an auto-resolve is never settled on arrival")
		}
		w.enqueue(ackResolveQueue, ev)
	}
}

// restart is a kill -9 and a new start with storage: the event in flight
// is handed back (PagerDuty applied it or not: the caller applies it
// first), the persistent queues keep their records, no longer pinned, and
// the cache is read back from storage.
func (w *world) restart() {
	w.restarts++
	if w.inFlight != nil {
		w.inFlight = nil // never committed, never released: the process died
	}
	w.pendingCount = 0
	for q := range w.queues {
		for i := range w.queues[q] {
			if w.queues[q][i].pinned {
				w.queues[q][i].pinned = false
				w.foreign++
			}
		}
	}
	w.arrived++ // after every arrival so far
	w.open()
	w.cache.ReadBack(w.foreign)
	// A kill: the clock of every alert starts again.
	w.down = append(w.down, [2]int64{0, w.now + w.arrived})
	w.cache.Resume(w.down)
	for i := range w.refs {
		w.refs[i].Restart(0, w.now+w.arrived, false)
	}
}

// drain delivers everything queued, every event accepted, the ack_resolve
// queue first as priorities order them; then a second passes, as the next
// sweep of the exporter's ticker (a clock whose period ran out before a
// sweep runs out at the next), and it delivers what that sweep decided.
func (w *world) drain() {
	if w.inFlight != nil {
		w.do(stepAccepted)
	}
	w.deliverAll()
	for range 2 {
		w.trace = append(w.trace, "drain tick")
		w.now += int64(time.Second)
		w.arrived = 0
		w.sweep()
		w.deliverAll()
	}
}

// deliverAll delivers what is queued, every event accepted, the
// ack_resolve queue first as priorities order them.
func (w *world) deliverAll() {
	for len(w.queues[0])+len(w.queues[1]) > 0 {
		q := ackResolveQueue
		if len(w.queues[q]) == 0 {
			q = alertQueue
		}
		w.trace = append(w.trace, "drain "+moveNames[stepTakeAlert+move(q)])
		w.take(q)
		if w.inFlight != nil {
			w.settle(true, false)
		}
	}
}

// check compares PagerDuty with the reference model.
func (w *world) check() error { return intentmodel.Agrees(w.pd, &w.refs[0], &w.refs[1]) }

// modelAction is a in the model's terms.
func modelAction(a eventsapi.Action) intentmodel.Action {
	switch a {
	case eventsapi.Acknowledge:
		return intentmodel.Acknowledge
	case eventsapi.Resolve:
		return intentmodel.Resolve
	}
	return intentmodel.Trigger
}
