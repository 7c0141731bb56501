package telemetry

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componentstatus"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/exporter/exporterhelper"

	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/eventsapi"
	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/pdtest"
)

// fakeClock is a clock the test moves.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time          { return c.t }
func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }

func newTestHealth() (*Health, *pdtest.StatusLog, *fakeClock) {
	log := &pdtest.StatusLog{}
	clock := &fakeClock{t: time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)}
	return NewHealth(log.Report, clock.now), log, clock
}

// Answers as the client returns them.
var (
	accepted202 = eventsapi.Result{Outcome: eventsapi.Accepted, StatusCode: 202}
	failed503   = eventsapi.Result{
		Outcome: eventsapi.Failed, StatusCode: 503,
		Err: &eventsapi.StatusError{Code: 503, Messages: []string{"upstream unavailable"}},
	}
	throttled429 = eventsapi.Result{
		Outcome: eventsapi.Throttled, StatusCode: 429,
		Err: exporterhelper.NewThrottleRetry(&eventsapi.StatusError{Code: 429, Messages: []string{"Enhance Your Calm."}}, time.Second),
	}
	noAnswer = eventsapi.Result{
		Outcome: eventsapi.Failed,
		Err:     errors.New("sending event to /v2/enqueue: dial tcp 127.0.0.1:1: connect: connection refused"),
	}
	invalidEvent400 = eventsapi.Result{
		Outcome: eventsapi.Rejected, StatusCode: 400,
		Err: consumererror.NewPermanent(&eventsapi.StatusError{Code: 400, Messages: []string{"'payload.source' is missing or blank"}}),
	}
	unknownKey404 = eventsapi.Result{
		Outcome: eventsapi.Rejected, StatusCode: 404,
		Err: consumererror.NewPermanent(&eventsapi.StatusError{Code: 404, Messages: []string{"integration not found"}}),
	}
)

// TestHealthOneRetriedRequestReportsNothing: a request that fails and then
// goes through on its retry, or a burst of failures shorter than
// FailingAfter, changes no status.
func TestHealthOneRetriedRequestReportsNothing(t *testing.T) {
	h, log, clock := newTestHealth()
	h.Settled("checkout", failed503)
	clock.advance(5 * time.Second) // the retry sender's first interval
	h.Settled("checkout", accepted202)

	for range 50 {
		h.Settled("payments", failed503)
		h.Settled("payments", throttled429)
		clock.advance(50 * time.Millisecond)
	}
	h.Settled("payments", accepted202)
	assert.Empty(t, log.All())
	assert.Zero(t, h.unwell.Load(), "every route is well again")
}

// TestHealthOutageIsOneRecoverableError: failures that last FailingAfter
// report one StatusRecoverableError, which keeps its time while the outage
// goes on and spreads to another route; its message follows the routes.
// StatusOK follows once every route has delivered again.
func TestHealthOutageIsOneRecoverableError(t *testing.T) {
	h, log, clock := newTestHealth()
	began := clock.now()
	h.Settled("checkout", failed503)
	clock.advance(FailingAfter - time.Millisecond)
	h.Settled("checkout", failed503)
	require.Empty(t, log.All(), "not yet FailingAfter")
	clock.advance(time.Millisecond)
	h.Settled("checkout", failed503)
	require.Equal(t, []componentstatus.Status{componentstatus.StatusRecoverableError}, log.Statuses())
	outage := log.All()[0]
	assert.Equal(t, `PagerDuty is not taking events: route "checkout" failing since `+began.Format(time.RFC3339)+
		` (3 failed attempts, last: events API responded 503 Service Unavailable: upstream unavailable)`, outage.Err().Error())

	// An hour of retries, and a second route failing: nothing is reported.
	for range 720 {
		clock.advance(5 * time.Second)
		h.Settled("checkout", failed503)
		h.Settled("default", noAnswer)
		h.Settled("payments", accepted202)
	}
	require.Len(t, log.All(), 1, "one report for the whole outage")
	msg := outage.Err().Error()
	assert.Contains(t, msg, `route "checkout" failing since `+began.Format(time.RFC3339)+" (723 failed attempts")
	assert.Contains(t, msg, `route "default" failing since`)
	assert.Contains(t, msg, "connection refused")
	assert.Less(t, strings.Index(msg, `"checkout"`), strings.Index(msg, `"default"`), "routes in name order")

	h.Settled("checkout", accepted202)
	require.Len(t, log.All(), 1, "default still fails")
	assert.NotContains(t, outage.Err().Error(), "checkout")
	h.Settled("default", accepted202)
	assert.Equal(t, []componentstatus.Status{componentstatus.StatusRecoverableError, componentstatus.StatusOK}, log.Statuses())
	assert.Contains(t, outage.Err().Error(), `route "default"`, "the reported outage keeps its last message")

	// A later outage is a new event, with a time of its own.
	h.Settled("payments", throttled429)
	clock.advance(FailingAfter)
	h.Settled("payments", throttled429)
	require.Equal(t, []componentstatus.Status{
		componentstatus.StatusRecoverableError, componentstatus.StatusOK, componentstatus.StatusRecoverableError,
	}, log.Statuses())
	assert.Contains(t, log.All()[2].Err().Error(), "429 Too Many Requests")
}

// TestHealthRefusedEventsAreNoOutage: PagerDuty refusing an event for its
// content answered, and the record is dropped: no status, and no break in
// a run of failures either (health.failed). A refusal between two failures
// neither ends the run (the route is no better: it is not an acceptance) nor
// counts as a failed attempt of it.
func TestHealthRefusedEventsAreNoOutage(t *testing.T) {
	t.Run("refusals alone", func(t *testing.T) {
		h, log, clock := newTestHealth()
		for range 10 {
			h.Settled("checkout", invalidEvent400)
			clock.advance(time.Second)
		}
		assert.Empty(t, log.All())
		assert.Zero(t, h.unwell.Load())
	})
	t.Run("503, 400, 503", func(t *testing.T) {
		h, log, clock := newTestHealth()
		began := clock.now()
		h.Settled("checkout", failed503)
		clock.advance(FailingAfter / 2)
		h.Settled("checkout", invalidEvent400)
		require.Empty(t, log.All(), "a refusal is no outage")
		assert.Equal(t, int32(1), h.unwell.Load(), "a refusal is no recovery: the route stays doubtful")
		clock.advance(FailingAfter - FailingAfter/2)
		h.Settled("checkout", failed503)
		require.Equal(t, []componentstatus.Status{componentstatus.StatusRecoverableError}, log.Statuses(),
			"the run of failures went on through the refusal: failing since its first 503")
		assert.Equal(t, `PagerDuty is not taking events: route "checkout" failing since `+began.Format(time.RFC3339)+
			` (2 failed attempts, last: events API responded 503 Service Unavailable: upstream unavailable)`, log.All()[0].Err().Error(),
			"the refusal is neither an attempt of the run nor its last answer")

		h.Settled("checkout", invalidEvent400)
		assert.Len(t, log.All(), 1, "a refusal during the outage does not end it")
		h.Settled("checkout", accepted202)
		assert.Equal(t, []componentstatus.Status{componentstatus.StatusRecoverableError, componentstatus.StatusOK}, log.Statuses())
	})
}

// TestHealthRefusedKeyIsPermanent: refusalsBeforePermanent events of a route
// in a row refused for its routing key are a StatusPermanentError naming
// the route and PagerDuty's answer; an accepted event in between starts
// the count again. Nothing is reported after it, as the collector allows
// nothing but a restart.
func TestHealthRefusedKeyIsPermanent(t *testing.T) {
	h, log, clock := newTestHealth()
	h.Settled("payments", unknownKey404)
	h.Settled("payments", unknownKey404)
	h.Settled("payments", accepted202)
	h.Settled("payments", unknownKey404)
	h.Settled("payments", unknownKey404)
	require.Empty(t, log.All(), "an acceptance between refusals")

	h.Settled("checkout", failed503)
	clock.advance(FailingAfter)
	h.Settled("checkout", failed503)
	require.Equal(t, []componentstatus.Status{componentstatus.StatusRecoverableError}, log.Statuses())

	h.Settled("payments", unknownKey404)
	require.Equal(t, []componentstatus.Status{componentstatus.StatusRecoverableError, componentstatus.StatusPermanentError}, log.Statuses())
	msg := log.All()[1].Err().Error()
	assert.Contains(t, msg, `PagerDuty refused 3 events of route "payments" in a row for its routing key (last: events API responded 404 Not Found: integration not found)`)
	assert.Contains(t, msg, "restart the collector")
	assert.Contains(t, msg, `also PagerDuty is not taking events: route "checkout"`)

	for _, route := range []string{"payments", "checkout"} {
		h.Settled(route, accepted202)
		h.Settled(route, unknownKey404)
		h.Settled(route, failed503)
	}
	assert.Len(t, log.All(), 2, "nothing after a permanent error")
	assert.Zero(t, h.unwell.Load(), "accepted events cost nothing any more")
}

func TestRefusesKey(t *testing.T) {
	key400 := func(msg string) error {
		return consumererror.NewPermanent(&eventsapi.StatusError{Code: 400, Messages: []string{"'payload.source' is missing or blank", msg}})
	}
	for _, tc := range []struct {
		code int
		err  error
		want bool
	}{
		{http.StatusNotFound, unknownKey404.Err, true},
		{http.StatusForbidden, nil, true},
		{http.StatusUnauthorized, nil, true},
		{http.StatusBadRequest, key400("Length of 'routing_key' is incorrect (should be 32 characters)"), true},
		{http.StatusBadRequest, key400("'routing_key' cannot contain non-alphanumeric characters."), true},
		{http.StatusBadRequest, key400("Invalid Routing Key"), true},
		{http.StatusBadRequest, invalidEvent400.Err, false},
		// A proxy quoting the request names the field, not a fault of it.
		{http.StatusBadRequest, key400(`cannot parse {'routing_key':'[REDACTED]','event_action':'trigger'}`), false},
		{http.StatusRequestEntityTooLarge, nil, false},
		{http.StatusUnprocessableEntity, nil, false},
	} {
		assert.Equal(t, tc.want, refusesKey(tc.code, tc.err), "%d %v", tc.code, tc.err)
	}
}

// TestHealthAnswerIsCut: a long answer, such as a proxy's page, is quoted
// in part, on a rune boundary.
func TestHealthAnswerIsCut(t *testing.T) {
	long := errors.New(strings.Repeat("é", maxAnswer))
	got := answerOf(long)
	assert.LessOrEqual(t, len(got), maxAnswer+len("…"))
	assert.True(t, strings.HasSuffix(got, "é…"), got)
	assert.Equal(t, "no answer", answerOf(nil))
}

// TestHealthStopsAtShutdown: from shutdown on, nothing is reported; a nil
// Health (an exporter never started) takes every call.
func TestHealthStopsAtShutdown(t *testing.T) {
	h, log, clock := newTestHealth()
	h.Stop()
	h.Settled("checkout", failed503)
	clock.advance(FailingAfter)
	h.Settled("checkout", failed503)
	assert.Empty(t, log.All())

	var none *Health
	none.Settled("checkout", failed503)
	none.Settled("checkout", accepted202)
	none.Stop()
}

// TestHealthAcceptedAllocatesNothing: an accepted event of a well route
// takes no lock and allocates nothing, also while another route fails.
func TestHealthAcceptedAllocatesNothing(t *testing.T) {
	h, _, clock := newTestHealth()
	assert.Zero(t, testing.AllocsPerRun(1000, func() { h.Settled("checkout", accepted202) }))
	h.Settled("payments", failed503)
	clock.advance(FailingAfter)
	h.Settled("payments", failed503)
	assert.Zero(t, testing.AllocsPerRun(1000, func() { h.Settled("checkout", accepted202) }))
}

func BenchmarkHealthAccepted(b *testing.B) {
	h, _, clock := newTestHealth()
	b.Run("all well", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			h.Settled("checkout", accepted202)
		}
	})
	h.Settled("payments", failed503)
	clock.advance(FailingAfter)
	h.Settled("payments", failed503)
	b.Run("another route failing", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			h.Settled("checkout", accepted202)
		}
	})
}
