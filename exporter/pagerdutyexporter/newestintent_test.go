package pagerdutyexporter

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.uber.org/zap"

	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/clock"
	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/intentmodel"
	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/metadatatest"
	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/pdtest"
)

// The randomized model check of newest intent on the wired exporter: seeded
// schedules of firing records, repeats, escalations, acknowledges and
// resolves, with per-record quiet periods, over two routes and several
// consumers, against an Events API double that behaves as PagerDuty does;
// with faults (429s per routing key, 5xx before and after PagerDuty
// applied the event), tiny caches, restarts with storage, sweeps at times
// of the schedule's choosing and wall-clock steps across restarts. After
// each schedule the exporter drains, and PagerDuty's state of every alert
// is compared with the reference model (intentmodel).
//
// NEWEST_INTENT_SCHEDULES sets how many schedules run (default 1,000; the
// long mode, `make soak`, runs more), NEWEST_INTENT_SEED the first seed; a
// failure prints its seed and the schedule that reproduces it.

// schedule is one seeded run: the exporter's configuration and the moves.
type schedule struct {
	seed       uint64
	rng        *rand.Rand
	persistent bool
	consumers  int
	maxEntries int
	ttl        time.Duration
	log        []string
}

func (s *schedule) note(format string, args ...any) {
	s.log = append(s.log, fmt.Sprintf(format, args...))
}

// alertRun is the wired exporter under one schedule, with the clock it runs
// on, and the references of its alerts.
type alertRun struct {
	t     *testing.T
	s     *schedule
	api   *pdDouble
	host  extHost
	cfg   *Config
	e     *pagerdutyExporter
	clock *steppedClock
	tel   *componenttest.Telemetry
	refs  map[string]*[2]intentmodel.Reference
}

var scheduleAlerts = []struct{ key, service string }{
	{"ni-a", "checkout"}, {"ni-b", "checkout"}, {"ni-c", "payments"}, {"ni-d", "payments"},
}

func newAlertRun(t *testing.T, s *schedule) *alertRun {
	api := newPDDouble(s.seed)
	storageID := component.MustNewID("file_storage")
	run := &alertRun{t: t, s: s, api: api, host: extHost{storageID: &mapStorage{data: map[string][]byte{}}}, clock: &steppedClock{}, refs: map[string]*[2]intentmodel.Reference{}}
	cfg := testConfig(&fakeEventsAPI{Server: api.Server})
	queue := exporterhelper.NewDefaultQueueConfig()
	queue.NumConsumers = s.consumers
	if s.persistent {
		queue.StorageID = &storageID
	}
	cfg.QueueConfig = configoptional.Some(queue)
	cfg.BackOffConfig.Enabled = true
	cfg.BackOffConfig.InitialInterval = time.Millisecond
	cfg.BackOffConfig.MaxInterval = 5 * time.Millisecond
	cfg.BackOffConfig.RandomizationFactor = 0
	cfg.BackOffConfig.MaxElapsedTime = 0 // never give up: every intent must land
	cfg.AutoResolve.After = 3 * time.Second
	if s.maxEntries < len(scheduleAlerts) {
		// An evicted alert's clock goes with it: a cache too small for the
		// alerts is checked for the order of records alone.
		cfg.AutoResolve.After = 0
	}
	cfg.Dedup.MaxEntries = s.maxEntries
	cfg.Dedup.TTL = s.ttl
	cfg.ClientConfig.Timeout = 5 * time.Second
	run.cfg = cfg
	for _, a := range scheduleAlerts {
		// The exporter reads its clock a little after the harness does.
		run.refs[a.key] = &[2]intentmodel.Reference{{}, {Slack: time.Millisecond}}
	}
	run.start()
	return run
}

// start starts a new run of the exporter, on the schedule's clock, with no
// ticker: the schedule sweeps.
func (r *alertRun) start() {
	r.tel = componenttest.NewTelemetry()
	set := metadatatest.NewSettings(r.tel)
	set.Logger = zap.NewNop()
	e := newExporter(r.cfg, set)
	e.arrival = clock.NewArrival(r.clock.now)
	e.background = false
	require.NoError(r.t, e.start(context.Background(), r.host))
	r.e = e
}

func (r *alertRun) stop() {
	require.NoError(r.t, r.e.shutdown(context.Background()))
	require.NoError(r.t, r.tel.Shutdown(context.Background()))
}

// request sends one OTLP request of 1 to 3 records.
func (r *alertRun) request() {
	rng := r.s.rng
	var parts []plog.Logs
	var notes []string
	at := r.e.arrival.Now().UnixNano()
	for range 1 + rng.IntN(3) {
		a := scheduleAlerts[rng.IntN(len(scheduleAlerts))]
		attrs := []any{"alert.fingerprint", a.key, "alert.summary", "down"}
		action, quietFor := intentmodel.Trigger, r.cfg.AutoResolve.After
		switch roll := rng.IntN(20); {
		case roll < 3:
			action = intentmodel.Acknowledge
			attrs = append(attrs, "alert.status", "acknowledged")
		case roll < 6:
			action = intentmodel.Resolve
			attrs = append(attrs, "alert.status", "resolved")
		case roll < 8:
			attrs[3] = "escalated" // a new summary: sent at once
		}
		if action == intentmodel.Trigger && r.cfg.AutoResolve.After > 0 {
			switch rng.IntN(4) {
			case 0:
				quietFor = 0
				attrs = append(attrs, "alert.resolve_after", "0s")
			case 1:
				quietFor = 5 * time.Second
				attrs = append(attrs, "alert.resolve_after", "5s")
			}
		}
		parts = append(parts, untimed(pdtest.Alert(a.service, attrs...)))
		for i := range r.refs[a.key] {
			r.refs[a.key][i].Arrive(action, quietFor, at)
		}
		notes = append(notes, fmt.Sprintf("%s %v %v", a.key, action, quietFor))
	}
	r.s.note("request [%s]", strings.Join(notes, "; "))
	require.NoError(r.t, r.e.layers.road.Admit(context.Background(), pdtest.Batch(parts...)))
}

// untimed drops a record's time: the exporter times it by its arrival, on
// its own clock, as the reference does.
func untimed(ld plog.Logs) plog.Logs {
	ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).SetTimestamp(0)
	return ld
}

// advance lets the exporter settle what it holds, then moves the clock d
// forward and sweeps: the model can then tell the incidents the exporter
// could resolve (those PagerDuty shows open). Sweeps while records wait in
// their queues are the exhaustive check's (internal/dedup), and the e2e
// tests'.
func (r *alertRun) advance(d time.Duration) {
	r.drain()
	r.clock.reach(r.clock.now().Add(d))
	now := r.e.arrival.Now()
	r.s.note("advance %v and sweep", d)
	for key, refs := range r.refs {
		opened := r.api.state(key).State.Open()
		for i := range refs {
			refs[i].Sweep(now.UnixNano(), opened)
		}
	}
	require.NoError(r.t, r.e.layers.road.OwnEvents(context.Background(), now))
}

// restart stops the exporter and starts it again on the same storage; the
// wall clock may have stepped an hour either way meanwhile.
func (r *alertRun) restart() {
	stopped := r.e.arrival.Now().UnixNano()
	r.stop()
	step := time.Duration(r.s.rng.IntN(3)-1) * time.Hour
	r.s.note("restart, wall clock stepped %v", step)
	r.clock.step(step)
	r.start()
	// The time between, on the exporter's clock, never counts as quiet.
	started := r.e.arrival.Now().UnixNano()
	for _, refs := range r.refs {
		for i := range refs {
			refs[i].Restart(stopped, started, true)
		}
	}
}

// drain waits until every record is settled.
func (r *alertRun) drain() {
	deadline := time.Now().Add(20 * time.Second)
	for {
		st := r.e.layers.state.cache.Stats()
		if st.Pinned == 0 && st.ReadBack == 0 {
			return
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("seed %d: the exporter did not drain (%+v)\n  schedule: %s", r.s.seed, st, strings.Join(r.s.log, "\n    "))
		}
		time.Sleep(time.Millisecond)
	}
}

// check compares PagerDuty with the references, alert by alert.
func (r *alertRun) check() {
	for _, a := range scheduleAlerts {
		refs := r.refs[a.key]
		if err := intentmodel.Agrees(r.api.state(a.key), &refs[0], &refs[1]); err != nil {
			r.t.Fatalf("seed %d, alert %s: %v\n  events it got: %s\n  reproduce: NEWEST_INTENT_SEED=%d NEWEST_INTENT_SCHEDULES=1 go test -run TestNewestIntentRandomized ./exporter/pagerdutyexporter/\n  schedule:\n    %s",
				r.s.seed, a.key, err, r.api.events(a.key), r.s.seed, strings.Join(r.s.log, "\n    "))
		}
	}
}

// runSchedule runs the schedule of seed to its end and checks it.
func runSchedule(t *testing.T, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 0))
	s := &schedule{seed: seed, rng: rng, persistent: rng.IntN(2) == 0, consumers: 1 + rng.IntN(3), maxEntries: []int{1, 2, 100}[rng.IntN(3)]}
	if rng.IntN(3) == 0 {
		s.ttl = time.Duration(1+rng.IntN(8)) * time.Second
	}
	s.note("persistent queue %v, %d consumers, dedup.max_entries %d, dedup.ttl %v", s.persistent, s.consumers, s.maxEntries, s.ttl)
	r := newAlertRun(t, s)
	defer r.api.Close()
	for range 8 + rng.IntN(8) {
		switch roll := rng.IntN(20); {
		case roll < 10:
			r.request()
		case roll < 15:
			r.advance(time.Duration(500+rng.IntN(3000)) * time.Millisecond)
		case roll < 16 && s.persistent:
			r.restart()
		default:
			f := pdFaults{failBefore: 0.1 * rng.Float64(), failAfter: 0.1 * rng.Float64(), throttle: 0.1 * rng.Float64()}
			if rng.IntN(2) == 0 {
				f.perWindow, f.window = 1+rng.IntN(3), 10*time.Millisecond
			}
			r.s.note("faults %+v", f)
			r.api.setFaults(f)
		}
	}
	r.api.setFaults(pdFaults{})
	r.s.note("faults off, drain")
	r.drain()
	// Two sweeps a second apart: a clock whose period ran out before a
	// sweep runs out at the next.
	for range 2 {
		r.advance(time.Second)
		r.drain()
	}
	r.check()
	r.stop()
}

// TestNewestIntentRandomized runs seeded schedules on the wired exporter
// and compares each with the reference model.
func TestNewestIntentRandomized(t *testing.T) {
	schedules, first := 1000, uint64(1)
	if n, err := strconv.Atoi(os.Getenv("NEWEST_INTENT_SCHEDULES")); err == nil {
		schedules = n
	}
	if n, err := strconv.ParseUint(os.Getenv("NEWEST_INTENT_SEED"), 10, 64); err == nil {
		first = n
	}
	start := time.Now()
	for seed := first; seed < first+uint64(schedules); seed++ {
		runSchedule(t, seed)
	}
	t.Logf("%d schedules from seed %d in %v", schedules, first, time.Since(start).Round(time.Millisecond))
}
