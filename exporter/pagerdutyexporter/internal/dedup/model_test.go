package dedup

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
)

// The model check of newest intent. A world drives one alert through the
// cache as the exporter's road does (arrivals, queues, deliveries, outcomes,
// sweeps, restarts with storage), with PagerDuty as a state machine that
// behaves as the real one does. After each schedule the world drains its
// queues, sweeps, and compares what PagerDuty shows with the reference
// model: the simplest statement of what the final state must be.

// bounds limit a schedule.
type bounds struct {
	depth, failures, ticks, restarts int
}

// explore runs every schedule of at most b.depth steps, each from the
// start, drained and checked after each prefix; it returns the number of
// schedules and the first failure.
func explore(t *testing.T, b bounds) (schedules int, failure string) {
	var walk func(prefix []move) bool
	walk = func(prefix []move) bool {
		schedules++
		w := newWorld(t)
		for _, s := range prefix {
			w.do(s)
		}
		var next []move
		for s := range numMoves {
			if w.enabled(s, b) {
				next = append(next, s)
			}
		}
		w.drain()
		if err := w.check(); err != nil {
			failure = fmt.Sprintf("%v\n  schedule: %s", err, strings.Join(w.trace, ", "))
			return false
		}
		if len(prefix) == b.depth {
			return true
		}
		for _, s := range next {
			if !walk(append(prefix[:len(prefix):len(prefix)], s)) {
				return false
			}
		}
		return true
	}
	walk(nil)
	return schedules, failure
}

// TestNewestIntentModelCheck walks every schedule of arrivals (firing,
// opted-out firing, acknowledge, resolve), queue takes, delivery outcomes
// (accepted, 429, a timeout PagerDuty applied or not), sweeps and restarts
// up to its depth, and compares each with the reference model.
// NEWEST_INTENT_DEPTH sets a deeper run (see CONTRIBUTING.md,
// "Model checks").
func TestNewestIntentModelCheck(t *testing.T) {
	b := bounds{depth: 6, failures: 1, ticks: 3, restarts: 1}
	if d, err := strconv.Atoi(os.Getenv("NEWEST_INTENT_DEPTH")); err == nil {
		b.depth = d
	}
	schedules, failure := explore(t, b)
	if failure != "" {
		t.Fatalf("after %d schedules: %s", schedules, failure)
	}
	t.Logf("depth %d: %d schedules, each drained and checked", b.depth, schedules)
}
