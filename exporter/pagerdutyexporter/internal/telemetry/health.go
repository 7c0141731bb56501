package telemetry // import "github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/telemetry"

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componentstatus"

	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/eventsapi"
)

// The rules of the exporter's component status (docs/health-and-probes.md).
const (
	// FailingAfter is how long a route's attempts must keep failing, with no
	// event of the route accepted in between, before the route counts as
	// failing. A request that fails once and then goes through on its retry
	// reports nothing; so does a burst of failures shorter than this.
	FailingAfter = 3 * time.Second
	// refusalsBeforePermanent is how many events of a route in a row, with
	// none accepted in between, PagerDuty must refuse for the route's
	// routing key (see refusesKey) before the route is reported as needing
	// a person.
	refusalsBeforePermanent = 3
	// maxAnswer bounds, in bytes, what a status message quotes of one
	// answer: a proxy's error page can be long, and a status is read by
	// probes and people, not parsed.
	maxAnswer = 256
)

// States of a route. A route that never failed has no routeHealth at all,
// and reads as routeOK.
const (
	// routeOK: its last event was accepted, or none of its events failed.
	routeOK int32 = iota
	// routeDoubtful: an attempt failed, or an event was refused for the
	// key, since the last acceptance; not yet enough to report.
	routeDoubtful
	// routeFailing: attempts have failed for FailingAfter or longer, with
	// nothing accepted since.
	routeFailing
	// routeRefused: refusalsBeforePermanent events in a row were refused
	// for the route's routing key.
	routeRefused
)

// routeHealth is what the exporter knows of one route's deliveries.
type routeHealth struct {
	name string
	// state is written under health.mu, and read without it by accepted.
	state atomic.Int32

	// Under health.mu, and reset when an event of the route is accepted:
	since    time.Time // first failed attempt; zero when none failed
	attempts int       // failed attempts since then
	refusals int       // events refused for the routing key
	answer   string    // what PagerDuty, or the network, last answered
}

// Health owns the exporter's component status: it learns what became of
// every event sent (Settled) and reports to the collector only when the
// status changes, which healthcheckv2 needs to time an outage:
//
//   - StatusRecoverableError once some route is failing (FailingAfter). The
//     event is reported once for the whole outage, so that its time is when
//     the outage was found, however long it lasts; its message names every
//     route failing now, with what PagerDuty last answered (statusError).
//   - StatusOK once every failing route has had an event accepted again.
//   - StatusPermanentError once a route is refused (refusalsBeforePermanent).
//     The collector allows no way out of it but a restart, so nothing is
//     reported after it, and its message stays what it was.
//
// Routes are named, never their keys: the answers it quotes come from the
// client, which removes keys from them.
type Health struct {
	report func(*componentstatus.Event)
	now    func() time.Time

	// unwell counts the routes not in routeOK; while it is 0, an accepted
	// event has nothing to clear. It stays 0 once the status is final.
	unwell atomic.Int32
	// routes is replaced, never changed, under mu: accepted reads it
	// without the lock.
	routes atomic.Pointer[map[string]*routeHealth]

	mu sync.Mutex
	// status is the last status the exporter reported; StatusOK until then,
	// which the collector reports itself once start returns.
	status componentstatus.Status
	// outage is the error of a reported StatusRecoverableError, nil when
	// none is.
	outage *statusError
	// final is set once the status can change no more: a permanent error
	// was reported, or shutdown began. Read without mu by failed.
	final atomic.Bool
}

// NewHealth returns a health that reports through report, with now as its
// clock.
func NewHealth(report func(*componentstatus.Event), now func() time.Time) *Health {
	h := &Health{report: report, now: now, status: componentstatus.StatusOK}
	h.routes.Store(&map[string]*routeHealth{})
	return h
}

// ReportTo returns the report function of a component started on host.
func ReportTo(host component.Host) func(*componentstatus.Event) {
	return func(ev *componentstatus.Event) { componentstatus.ReportStatus(host, ev) }
}

// Settled records what became of one event sent under route's key. A nil
// health records nothing.
func (h *Health) Settled(route string, sent eventsapi.Result) {
	if sent.Outcome == eventsapi.Accepted {
		h.accepted(route)
		return
	}
	h.failed(route, sent.Outcome, sent.StatusCode, sent.Err)
}

// accepted records that PagerDuty accepted an event of route. While route
// is well it costs two atomic loads at most, and a map lookup.
func (h *Health) accepted(route string) {
	if h == nil || h.unwell.Load() == 0 {
		return
	}
	r := (*h.routes.Load())[route]
	if r == nil || r.state.Load() == routeOK {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.final.Load() {
		return
	}
	r.since, r.attempts, r.refusals = time.Time{}, 0, 0
	h.set(r, routeOK)
	h.update()
}

// failed records that an event of route was not accepted: outcome, with
// the HTTP status code (0 when no answer came) and the error the client
// returned, whose text holds no routing key. An event refused for its own
// content (a 400 that does not name the key) says nothing of the route:
// PagerDuty answered, and the record is dropped and counted elsewhere.
func (h *Health) failed(route string, outcome eventsapi.Outcome, statusCode int, err error) {
	if h == nil || h.final.Load() {
		return
	}
	refused := outcome == eventsapi.Rejected
	if refused && !refusesKey(statusCode, err) {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.final.Load() {
		return
	}
	r := h.route(route)
	r.answer = answerOf(err)
	now := h.now()
	if refused {
		r.refusals++
	} else {
		if r.since.IsZero() {
			r.since = now
		}
		r.attempts++
	}
	next := routeDoubtful
	switch {
	case r.refusals >= refusalsBeforePermanent:
		next = routeRefused
	case !r.since.IsZero() && now.Sub(r.since) >= FailingAfter:
		next = routeFailing
	}
	h.set(r, next)
	h.update()
}

// Stop makes the status final: from shutdown on, the collector reports the
// exporter's status itself, and accepts no error after it.
func (h *Health) Stop() {
	if h == nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.finish()
}

// route returns route's routeHealth, adding it if it has none; h.mu must be
// held.
func (h *Health) route(name string) *routeHealth {
	old := *h.routes.Load()
	if r, ok := old[name]; ok {
		return r
	}
	r := &routeHealth{name: name}
	routes := make(map[string]*routeHealth, len(old)+1)
	for k, v := range old {
		routes[k] = v
	}
	routes[name] = r
	h.routes.Store(&routes)
	return r
}

// set moves r to state, keeping unwell; h.mu must be held.
func (h *Health) set(r *routeHealth, state int32) {
	was := r.state.Swap(state)
	switch {
	case was == routeOK && state != routeOK:
		h.unwell.Add(1)
	case was != routeOK && state == routeOK:
		h.unwell.Add(-1)
	}
}

// finish makes the status final; h.mu must be held.
func (h *Health) finish() {
	h.final.Store(true)
	h.unwell.Store(0)
}

// update reports the status the routes now make, if it changed, and keeps
// the message of a reported outage current; h.mu must be held. It reports
// under the lock, so that two changes are reported in the order they
// happened.
func (h *Health) update() {
	var refused, failing []*routeHealth
	for _, r := range *h.routes.Load() {
		switch r.state.Load() {
		case routeRefused:
			refused = append(refused, r)
		case routeFailing:
			failing = append(failing, r)
		}
	}
	byName := func(a, b *routeHealth) int { return strings.Compare(a.name, b.name) }
	slices.SortFunc(refused, byName)
	slices.SortFunc(failing, byName)
	switch {
	case len(refused) > 0:
		h.status, h.outage = componentstatus.StatusPermanentError, nil
		h.finish()
		h.report(componentstatus.NewPermanentErrorEvent(errors.New(refusedMessage(refused, failing))))
	case len(failing) > 0:
		msg := failingMessage(failing)
		if h.outage != nil {
			h.outage.set(msg)
			return
		}
		h.status, h.outage = componentstatus.StatusRecoverableError, &statusError{}
		h.outage.set(msg)
		h.report(componentstatus.NewRecoverableErrorEvent(h.outage))
	case h.status == componentstatus.StatusRecoverableError:
		h.status, h.outage = componentstatus.StatusOK, nil
		h.report(componentstatus.NewEvent(componentstatus.StatusOK))
	}
}

// failingMessage says which routes PagerDuty is not taking events of, since
// when, and what it last answered.
func failingMessage(failing []*routeHealth) string {
	var b strings.Builder
	b.WriteString("PagerDuty is not taking events: ")
	for i, r := range failing {
		if i > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "route %q failing since %s (%d failed attempts, last: %s)",
			r.name, r.since.UTC().Format(time.RFC3339), r.attempts, r.answer)
	}
	return b.String()
}

// refusedMessage says which routes PagerDuty refuses, what it answered and
// what to do; routes failing at the same time are named after them.
func refusedMessage(refused, failing []*routeHealth) string {
	var b strings.Builder
	for i, r := range refused {
		if i > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "PagerDuty refused %d events of route %q in a row for its routing key (last: %s)",
			r.refusals, r.name, r.answer)
	}
	b.WriteString(": check the route's integration key, in PagerDuty and in the config, and the endpoint, then restart the collector")
	if len(failing) > 0 {
		b.WriteString("; also ")
		b.WriteString(failingMessage(failing))
	}
	return b.String()
}

// refusesKey reports whether PagerDuty refused an event for the routing key
// it was sent under, rather than for its content: a 401, 403 or 404 (the
// key, or the endpoint, is not one that takes events; PagerDuty does not
// document its answer to a key it does not know), or a 400 whose errors
// name the routing key as invalid, as PagerDuty's own texts do
// ("Length of 'routing_key' is incorrect (should be 32 characters)").
func refusesKey(statusCode int, err error) bool {
	switch statusCode {
	case http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound:
		return true
	case http.StatusBadRequest:
		se, ok := errors.AsType[*eventsapi.StatusError](err)
		return ok && slices.ContainsFunc(se.Messages, namesKey)
	}
	return false
}

// keyErrors begin PagerDuty's error texts that are about the routing key
// (lower case). Each is matched at the start of one error, so that a proxy
// quoting the request, "routing_key" field included, is not taken for one.
var keyErrors = []string{"'routing_key'", "length of 'routing_key'", "invalid routing key", "invalid routing_key", "invalid integration key"}

func namesKey(msg string) bool {
	msg = strings.ToLower(strings.TrimSpace(msg))
	return slices.ContainsFunc(keyErrors, func(prefix string) bool { return strings.HasPrefix(msg, prefix) })
}

// answerOf is what err says PagerDuty, or the network, answered, without
// the wrapping that tells the retry sender what to do with it, cut to
// maxAnswer bytes on a rune boundary.
func answerOf(err error) string {
	if err == nil {
		return "no answer"
	}
	var s string
	if se, ok := errors.AsType[*eventsapi.StatusError](err); ok {
		s = se.Error()
	} else {
		s = err.Error()
	}
	if len(s) <= maxAnswer {
		return s
	}
	cut := maxAnswer
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// statusError is the error of a reported StatusRecoverableError. Its
// message follows the routes as they fail and recover, while the event
// keeps the time the outage was found: healthcheckv2 times
// recovery_duration from that time, so reporting the event again for each
// change would keep a long outage looking new, and healthy.
type statusError struct {
	msg atomic.Pointer[string]
}

// Error is the message as it is now; healthcheckv2 reads it whenever its
// status endpoint is asked.
func (e *statusError) Error() string { return *e.msg.Load() }

func (e *statusError) set(msg string) { e.msg.Store(&msg) }
