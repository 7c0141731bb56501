// Package intentmodel is the reference model of newest intent that the
// exporter's model checks compare PagerDuty's final state with, and a
// PagerDuty state machine for their doubles. It has no queue, no cache and
// no clock of its own: it is the simplest statement of what the final state
// of one alert must be, and is used by tests only.
package intentmodel // import "github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/intentmodel"

import (
	"fmt"
	"strings"
	"time"
)

// Action is what an intent asks of an alert's incident.
type Action uint8

const (
	Trigger Action = iota + 1
	Acknowledge
	Resolve
)

// State is what PagerDuty shows of one dedup key.
type State uint8

const (
	None State = iota
	Triggered
	Acknowledged
	Resolved
)

// Open reports whether an incident is open.
func (s State) Open() bool { return s == Triggered || s == Acknowledged }

func (s State) String() string {
	return [...]string{"none", "triggered", "acknowledged", "resolved"}[s]
}

// Reference is the newest intent of one alert: the action of its newest
// record in arrival order, an auto-resolve taking its place at the first
// sweep at which the alert has been quiet for its newest firing record's
// period since that record arrived (time the exporter was not running never
// counts) and its incident is open in PagerDuty (the exporter resolves only
// what it opened and PagerDuty accepted), plus Slack, for a check whose
// clock reads come a little before the exporter's: a check may keep two
// references, with no slack and with some, and PagerDuty must agree with
// one of them (see Agrees). Times are Unix nanoseconds.
type Reference struct {
	Slack time.Duration

	state    State
	firingAt int64
	quietFor time.Duration
	down     [][2]int64 // from stop to start, each time the exporter was not running
	openings int        // incidents the newest-intent order justifies
}

// Arrive is the arrival of a record at at; quietFor is a firing record's
// quiet period, 0 for never.
func (r *Reference) Arrive(action Action, quietFor time.Duration, at int64) {
	switch action {
	case Trigger:
		if !r.state.Open() {
			r.state = Triggered
			r.openings++
		}
		r.firingAt, r.quietFor = at, quietFor
	case Acknowledge:
		if r.state.Open() {
			r.state = Acknowledged
		}
	case Resolve:
		if r.state.Open() {
			r.state = Resolved
		}
	}
}

// Sweep resolves the alert when it has been quiet for its period, and the
// slack, by now, and PagerDuty shows its incident open (opened).
func (r *Reference) Sweep(now int64, opened bool) {
	if !opened || !r.state.Open() || r.quietFor <= 0 {
		return
	}
	quiet := now - r.firingAt
	for _, d := range r.down {
		quiet -= max(0, min(d[1], now)-max(d[0], r.firingAt))
	}
	if quiet >= int64(r.quietFor+r.Slack) {
		r.state = Resolved
	}
}

// Restart notes that the exporter stopped at stop and started again at
// start: the time between never counts as quiet. After a stop that was not
// clean (a kill), no time before start counts.
func (r *Reference) Restart(stop, start int64, clean bool) {
	if !clean {
		stop = 0
	}
	r.down = append(r.down, [2]int64{stop, start})
}

// State is the alert's state by the model.
func (r *Reference) State() State { return r.state }

// PagerDuty applies events as PagerDuty does: a trigger of a closed key opens
// a new incident, and one of an acknowledged incident leaves it
// acknowledged; an acknowledge or resolve of no open incident is dropped
// (https://developer.pagerduty.com/docs/send-alert-event#alert-de-duplication).
type PagerDuty struct {
	State     State
	Incidents int
}

// Apply applies one accepted event.
func (p *PagerDuty) Apply(action Action) {
	switch action {
	case Trigger:
		if !p.State.Open() {
			p.State = Triggered
			p.Incidents++
		}
	case Acknowledge:
		if p.State == Triggered {
			p.State = Acknowledged
		}
	case Resolve:
		if p.State.Open() {
			p.State = Resolved
		}
	}
}

// Agrees returns nil when pd agrees with one of refs: the same state (a
// closed incident and none are alike; a trigger leaves an acknowledged
// incident acknowledged), and no more incidents than its order justifies.
func Agrees(pd PagerDuty, refs ...*Reference) error {
	for _, ref := range refs {
		want := ref.state
		same := want == pd.State || (!want.Open() && !pd.State.Open()) ||
			(want == Triggered && pd.State == Acknowledged)
		if same && pd.Incidents <= ref.openings {
			return nil
		}
	}
	wants := make([]string, len(refs))
	for i, ref := range refs {
		wants[i] = fmt.Sprintf("%v (%d incidents) with %v slack", ref.state, ref.openings, ref.Slack)
	}
	return fmt.Errorf("PagerDuty shows %v after opening %d incidents; the newest intent is %s", pd.State, pd.Incidents, strings.Join(wants, ", "))
}
