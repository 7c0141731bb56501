package main

// The page phase: time to page, before and after per-route, per-priority
// sending queues, in one run. Two scenarios, each against a fresh simulator
// and collector limiting every routing key to o.pagePerMinute events per
// minute (burst o.pageBurst), the simulator at the same limit:
//
//   - quiet route during a storm: route checkout holds a storm of distinct
//     alerts far beyond its limit; while it drains, single critical alerts
//     are posted on route payments at a fixed interval (open loop);
//   - critical behind a backlog: checkout holds a backlog of info alerts;
//     critical alerts on checkout are posted one at a time, each once the
//     previous one is paged.
//
// Time to page: from just before the OTLP request is sent to the
// simulator's receipt time of the alert's event (one machine, one clock). A
// sample not paged within o.pageTimeout is censored: its time to page is only
// known to exceed the time it was watched, and quantiles over such samples
// are lower bounds. The collector is killed at the end of each scenario, not
// drained (a SIGTERM would drain the backlog at the rate limit).

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Routes of the page phase and their fake integration keys.
const (
	busyRoute  = "checkout"
	quietRoute = "payments"
	busyKey    = "c4ec0000000000000000000000000001"
	quietKey   = "9a100000000000000000000000000002"
)

// pageExporter routes service.name checkout and payments to one key each,
// anything else (the warm-up) to the default key.
func pageExporter(perMinute, burst int) exporterConfig {
	return exporterConfig(fmt.Sprintf(`
    routing_key: "%s"
    routing:
      attribute: service.name
      keys:
        %s: "%s"
        %s: "%s"
    rate_limit:
      events_per_minute: %d
      burst: %d`, defaultKey, busyRoute, busyKey, quietRoute, quietKey, perMinute, burst))
}

// pagePoll is how often the page phase reads the simulator while it waits
// for a page.
const pagePoll = 50 * time.Millisecond

// pageSample is one alert whose time to page was measured.
type pageSample struct {
	Sent time.Time `json:"sent"`
	// Wait is the time to page, or when !Paged the time the sample was
	// watched without being paged (a lower bound).
	Wait  time.Duration `json:"wait_ns"`
	Paged bool          `json:"paged"`
	// Ahead: events of the busy route's backlog the simulator received
	// between posting and paging (or the end of the watch).
	Ahead int `json:"ahead"`
	// Backlog: events of the busy route's storm or backlog not yet received
	// by the simulator when the sample was posted.
	Backlog int `json:"backlog"`
}

// quantile is a quantile of times to page with censored samples: at least
// Lo and, unless Unbounded, at most Hi (Lo == Hi when no censored sample
// can reach it).
type quantile struct {
	Lo        time.Duration `json:"lo_ns"`
	Hi        time.Duration `json:"hi_ns"`
	Unbounded bool          `json:"unbounded"`
}

func (q quantile) exact() bool { return !q.Unbounded && q.Lo == q.Hi }

// quantileOf is the nearest-rank q-quantile of the samples' times to page: a
// censored sample counts as its lower bound for Lo and as infinite for Hi.
func quantileOf(ss []pageSample, q float64) quantile {
	if len(ss) == 0 {
		return quantile{}
	}
	lo := make([]time.Duration, len(ss))
	hi := make([]time.Duration, len(ss))
	for i, s := range ss {
		lo[i], hi[i] = s.Wait, s.Wait
		if !s.Paged {
			hi[i] = math.MaxInt64
		}
	}
	slices.Sort(lo)
	slices.Sort(hi)
	i := min(max(int(math.Ceil(q*float64(len(ss))))-1, 0), len(ss)-1)
	r := quantile{Lo: lo[i], Hi: hi[i]}
	if r.Hi == math.MaxInt64 {
		r.Hi, r.Unbounded = 0, true
	}
	return r
}

// pageStats summarizes one scenario on one collector.
type pageStats struct {
	N         int      `json:"n"`
	Paged     int      `json:"paged"`
	P50       quantile `json:"p50"`
	P99       quantile `json:"p99"`
	Max       quantile `json:"max"`
	AheadMax  int      `json:"ahead_max"`
	AheadSum  int      `json:"ahead_sum"`
	BacklogLo int      `json:"backlog_min"`
	BacklogHi int      `json:"backlog_max"`
}

func statsOf(ss []pageSample) pageStats {
	st := pageStats{N: len(ss), P50: quantileOf(ss, 0.5), P99: quantileOf(ss, 0.99), Max: quantileOf(ss, 1)}
	for i, s := range ss {
		if s.Paged {
			st.Paged++
		}
		st.AheadMax = max(st.AheadMax, s.Ahead)
		st.AheadSum += s.Ahead
		if i == 0 || s.Backlog < st.BacklogLo {
			st.BacklogLo = s.Backlog
		}
		st.BacklogHi = max(st.BacklogHi, s.Backlog)
	}
	return st
}

// pageRun is one scenario on one collector.
type pageRun struct {
	Side        string        `json:"side"` // before or after
	Samples     []pageSample  `json:"samples"`
	Stats       pageStats     `json:"stats"`
	Stopped     string        `json:"stopped,omitempty"` // why the series ended early
	BusySent    int           `json:"busy_sent"`         // storm/backlog events received by the end
	Throttled   int           `json:"throttled_429"`
	LogProblems int           `json:"collector_warn_lines"`
	OtherCores  float64       `json:"other_cores"`
	Load1Before float64       `json:"load1_before"`
	Load1After  float64       `json:"load1_after"`
	Elapsed     time.Duration `json:"elapsed_ns"`
}

// pageResult is the page phase: both scenarios, after and (with a baseline
// collector) before.
type pageResult struct {
	PerMinute      int           `json:"events_per_minute"`
	Burst          int           `json:"burst"`
	Timeout        time.Duration `json:"timeout_ns"`
	Baseline       string        `json:"baseline,omitempty"`
	StormN         int           `json:"storm"`
	StormBatch     int           `json:"storm_batch"`
	QuietInterval  time.Duration `json:"quiet_interval_ns"`
	QuietSamples   int           `json:"quiet_samples"`
	BacklogN       int           `json:"backlog"`
	BacklogBatch   int           `json:"backlog_batch"`
	BacklogSamples int           `json:"backlog_samples"`
	Quiet          []*pageRun    `json:"quiet_runs"`   // before (with a baseline), after
	Backlog        []*pageRun    `json:"backlog_runs"` // before (with a baseline), after
}

// side returns the run of the given side, or nil.
func side(runs []*pageRun, name string) *pageRun {
	for _, r := range runs {
		if r.Side == name {
			return r
		}
	}
	return nil
}

const (
	sideBefore = "before"
	sideAfter  = "after"
)

// runPage runs both scenarios, each before (when o.baselineBin is set) and
// after.
func runPage(ctx context.Context, o *options) (*pageResult, error) {
	res := &pageResult{
		PerMinute: o.pagePerMinute, Burst: o.pageBurst, Timeout: o.pageTimeout, Baseline: o.baselineLabel,
		StormN: o.pageStorm, StormBatch: o.pageStormBatch, QuietInterval: o.pageInterval, QuietSamples: o.pageQuietSamples,
		BacklogN: o.pageBacklog, BacklogBatch: o.pageBacklogBatch, BacklogSamples: o.pageBacklogSamples,
	}
	type bin struct{ side, path string }
	bins := []bin{{sideAfter, o.collectorBin}}
	if o.baselineBin != "" {
		bins = []bin{{sideBefore, o.baselineBin}, {sideAfter, o.collectorBin}}
	}
	for _, b := range bins {
		logf("page, quiet route (%s): %d alerts storming %s at %d/min burst %d; %d critical alerts on %s, one every %v",
			b.side, o.pageStorm, busyRoute, o.pagePerMinute, o.pageBurst, o.pageQuietSamples, quietRoute, o.pageInterval)
		r, err := runQuiet(ctx, o, b.side, b.path)
		if err != nil {
			return res, fmt.Errorf("quiet route (%s): %w", b.side, err)
		}
		res.Quiet = append(res.Quiet, r)
	}
	for _, b := range bins {
		logf("page, backlog (%s): %d info alerts on %s; %d critical alerts on %s, one at a time",
			b.side, o.pageBacklog, busyRoute, o.pageBacklogSamples, busyRoute)
		r, err := runBacklog(ctx, o, b.side, b.path)
		if err != nil {
			return res, fmt.Errorf("backlog (%s): %w", b.side, err)
		}
		res.Backlog = append(res.Backlog, r)
	}
	return res, nil
}

// pageStack is a simulator and collector of the page phase.
type pageStack struct {
	o      *options
	sim    *simulator
	col    *collector
	client *http.Client
	// CPU readings at the start, for the other load.
	at                  time.Time
	all, col0, sim0, me time.Duration
}

func startPageStack(ctx context.Context, o *options, name, bin string) (*pageStack, error) {
	sim, err := startSimulator(ctx, o, "pdsim-"+name, o.pagePerMinute)
	if err != nil {
		return nil, err
	}
	col, err := startCollectorBin(ctx, o, bin, "collector-"+name, sim, pageExporter(o.pagePerMinute, o.pageBurst))
	if err != nil {
		sim.p.Stop(stopGrace)
		return nil, err
	}
	s := &pageStack{o: o, sim: sim, col: col, client: newClient(4)}
	// Warm up on the default route, whose budget the scenario does not use.
	if err := s.postAlerts(ctx, []alert{{service: "warmup", dedupKey: "page-warm", time: time.Now()}}); err != nil {
		s.stop()
		return nil, fmt.Errorf("warm-up: %w", err)
	}
	if _, err := s.waitFor(ctx, 30*time.Second, func(sn *simSnapshot) bool { return has(sn, "page-warm") }); err != nil {
		s.stop()
		return nil, fmt.Errorf("warm-up: %w", err)
	}
	if err := sim.reset(ctx); err != nil {
		s.stop()
		return nil, err
	}
	s.at = time.Now()
	s.all, _ = systemBusy()
	s.col0, _ = cpuTime(col.p.Pid())
	s.sim0, _ = cpuTime(sim.p.Pid())
	s.me, _ = cpuTime(pid())
	return s, nil
}

// otherCores is the CPU other processes used since the stack started, in
// cores.
func (s *pageStack) otherCores() float64 {
	all, _ := systemBusy()
	c, _ := cpuTime(s.col.p.Pid())
	m, _ := cpuTime(s.sim.p.Pid())
	me, _ := cpuTime(pid())
	w := time.Since(s.at).Seconds()
	if w <= 0 {
		return 0
	}
	return math.Max(0, ((all-s.all)-(c-s.col0)-(m-s.sim0)-(me-s.me)).Seconds()/w)
}

// stop kills the collector (a SIGTERM would drain the backlog at the rate
// limit) and stops the simulator.
func (s *pageStack) stop() {
	if !s.col.p.Exited() {
		_ = s.col.p.Signal(syscall.SIGKILL)
		<-s.col.p.Done()
	}
	s.sim.p.Stop(stopGrace)
}

func (s *pageStack) postAlerts(ctx context.Context, alerts []alert) error {
	body, err := otlpBody(alerts, s.o.encoding)
	if err != nil {
		return err
	}
	return post(ctx, s.client, s.col.otlpURL, otlpContentType(s.o.encoding), body, http.StatusOK)
}

// postBacklog posts n alerts of severity on the busy route, dedup keys
// prefix000000.., in requests of batch alerts.
func (s *pageStack) postBacklog(ctx context.Context, prefix, severity string, n, batch int) error {
	now := time.Now()
	for lo := 0; lo < n; lo += batch {
		var alerts []alert
		for i := lo; i < min(lo+batch, n); i++ {
			alerts = append(alerts, alert{service: busyRoute, dedupKey: fmt.Sprintf("%s%06d", prefix, i), time: now, severity: severity})
		}
		if err := s.postAlerts(ctx, alerts); err != nil {
			return err
		}
	}
	return nil
}

// waitFor polls the simulator until cond holds; it returns the last
// snapshot, and errTimeout (with that snapshot) when timeout passes first.
func (s *pageStack) waitFor(ctx context.Context, timeout time.Duration, cond func(*simSnapshot) bool) (*simSnapshot, error) {
	deadline := time.Now().Add(timeout)
	for {
		sn, err := s.sim.snapshot(ctx)
		if err != nil {
			return nil, err
		}
		if cond(sn) {
			return sn, nil
		}
		if perr := exited(s.col.p); perr != nil {
			return sn, perr
		}
		if !time.Now().Before(deadline) {
			return sn, errTimeout
		}
		select {
		case <-ctx.Done():
			return sn, ctx.Err()
		case <-time.After(pagePoll):
		}
	}
}

var errTimeout = errors.New("timed out")

// has reports whether the simulator received an event for every dedup key.
func has(sn *simSnapshot, keys ...string) bool {
	seen := make(map[string]bool, len(sn.Events))
	for _, ev := range sn.Events {
		seen[ev.DedupKey] = true
	}
	for _, k := range keys {
		if !seen[k] {
			return false
		}
	}
	return true
}

// firstTimes is the receipt time of the first event of every dedup key.
func firstTimes(sn *simSnapshot) map[string]time.Time {
	t := make(map[string]time.Time, len(sn.Events))
	for _, ev := range sn.Events {
		if _, ok := t[ev.DedupKey]; !ok {
			t[ev.DedupKey] = ev.Time
		}
	}
	return t
}

// busyBetween counts the busy route's events with prefix received in
// (from, to), and busyBefore those received before at.
func busyBetween(sn *simSnapshot, prefix string, from, to time.Time) int {
	n := 0
	for _, ev := range sn.Events {
		if strings.HasPrefix(ev.DedupKey, prefix) && ev.Time.After(from) && ev.Time.Before(to) {
			n++
		}
	}
	return n
}

func busyBefore(sn *simSnapshot, prefix string, at time.Time) int {
	n := 0
	for _, ev := range sn.Events {
		if strings.HasPrefix(ev.DedupKey, prefix) && ev.Time.Before(at) {
			n++
		}
	}
	return n
}

func countPrefix(sn *simSnapshot, prefix string) int {
	n := 0
	for _, ev := range sn.Events {
		if strings.HasPrefix(ev.DedupKey, prefix) {
			n++
		}
	}
	return n
}

// waitFirstBurst waits until the simulator has the busy route's first burst,
// then lets the limiter's bucket run dry for settle.
func (s *pageStack) waitFirstBurst(ctx context.Context, prefix string, settle time.Duration) error {
	if _, err := s.waitFor(ctx, 30*time.Second, func(sn *simSnapshot) bool { return countPrefix(sn, prefix) >= s.o.pageBurst }); err != nil {
		return fmt.Errorf("the first burst of %s: %w", busyRoute, err)
	}
	time.Sleep(settle)
	return nil
}

// runQuiet: a storm on the busy route, then critical alerts on the quiet
// route every o.pageInterval, open loop; each is watched until paged or
// o.pageTimeout after the last was posted.
func runQuiet(ctx context.Context, o *options, sideName, bin string) (*pageRun, error) {
	r := &pageRun{Side: sideName, Load1Before: loadAvg()}
	start := time.Now()
	s, err := startPageStack(ctx, o, "page-quiet-"+sideName, bin)
	if err != nil {
		return nil, err
	}
	defer s.stop()
	const stormPrefix = "storm-"
	if err = s.postBacklog(ctx, stormPrefix, "critical", o.pageStorm, o.pageStormBatch); err != nil {
		return nil, fmt.Errorf("storm: %w", err)
	}
	if err = s.waitFirstBurst(ctx, stormPrefix, time.Second); err != nil {
		return nil, err
	}
	n := o.pageQuietSamples
	sent := make([]time.Time, n)
	keys := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	t0 := time.Now()
	for i := range n {
		keys[i] = fmt.Sprintf("quiet-%03d", i)
		time.Sleep(time.Until(t0.Add(time.Duration(i) * o.pageInterval)))
		wg.Go(func() {
			a := alert{service: quietRoute, dedupKey: keys[i], time: time.Now(), severity: "critical"}
			body, bodyErr := otlpBody([]alert{a}, o.encoding)
			if bodyErr != nil {
				errs[i] = bodyErr
				return
			}
			sent[i] = time.Now()
			errs[i] = post(ctx, s.client, s.col.otlpURL, otlpContentType(o.encoding), body, http.StatusOK)
		})
	}
	wg.Wait()
	if err = firstErr(errs); err != nil {
		return nil, err
	}
	sn, err := s.waitFor(ctx, time.Until(sent[n-1].Add(o.pageTimeout)), func(sn *simSnapshot) bool { return has(sn, keys...) })
	end := time.Now()
	if err != nil && !errors.Is(err, errTimeout) {
		return nil, err
	}
	if errors.Is(err, errTimeout) {
		r.Stopped = fmt.Sprintf("not all paged within %v of the last post", o.pageTimeout)
	}
	paged := firstTimes(sn)
	for i := range n {
		sm := pageSample{Sent: sent[i], Backlog: o.pageStorm - busyBefore(sn, stormPrefix, sent[i])}
		if t, ok := paged[keys[i]]; ok {
			sm.Wait, sm.Paged = t.Sub(sent[i]), true
			sm.Ahead = busyBetween(sn, stormPrefix, sent[i], t)
		} else {
			sm.Wait = end.Sub(sent[i])
			sm.Ahead = busyBetween(sn, stormPrefix, sent[i], end)
		}
		r.Samples = append(r.Samples, sm)
	}
	r.finish(s, sn, stormPrefix, start)
	logf("page, quiet route (%s): %d/%d paged, p50 %s p99 %s; storm events sent meanwhile %d, 429s %d",
		sideName, r.Stats.Paged, r.Stats.N, fmtQ(r.Stats.P50), fmtQ(r.Stats.P99), r.BusySent, r.Throttled)
	return r, nil
}

// runBacklog: a backlog of info alerts on the busy route, then critical
// alerts on the same route, one at a time: each is posted once the previous
// one is paged, at a phase of the limiter's slot period that moves from one
// sample to the next. A sample not paged within o.pageTimeout ends the
// series (every later one would wait behind it).
func runBacklog(ctx context.Context, o *options, sideName, bin string) (*pageRun, error) {
	r := &pageRun{Side: sideName, Load1Before: loadAvg()}
	start := time.Now()
	s, err := startPageStack(ctx, o, "page-backlog-"+sideName, bin)
	if err != nil {
		return nil, err
	}
	defer s.stop()
	const backlogPrefix = "backlog-"
	if err := s.postBacklog(ctx, backlogPrefix, "info", o.pageBacklog, o.pageBacklogBatch); err != nil {
		return nil, fmt.Errorf("backlog: %w", err)
	}
	if err := s.waitFirstBurst(ctx, backlogPrefix, 1500*time.Millisecond); err != nil {
		return nil, err
	}
	slot := time.Minute / time.Duration(o.pagePerMinute)
	var sn *simSnapshot
	for i := range o.pageBacklogSamples {
		// Phases 0, 0.3, 0.6, 0.9, 0.2, ... of a slot after the previous page.
		time.Sleep(time.Duration(i*3%10) * slot / 10)
		key := fmt.Sprintf("urgent-%03d", i)
		before, err := s.sim.snapshot(ctx)
		if err != nil {
			return nil, err
		}
		body, err := otlpBody([]alert{{service: busyRoute, dedupKey: key, time: time.Now(), severity: "critical"}}, o.encoding)
		if err != nil {
			return nil, err
		}
		sent := time.Now()
		if err := post(ctx, s.client, s.col.otlpURL, otlpContentType(o.encoding), body, http.StatusOK); err != nil {
			return nil, err
		}
		var werr error
		sn, werr = s.waitFor(ctx, o.pageTimeout, func(sn *simSnapshot) bool { return has(sn, key) })
		end := time.Now()
		if werr != nil && !errors.Is(werr, errTimeout) {
			return nil, werr
		}
		sm := pageSample{Sent: sent, Backlog: o.pageBacklog - countPrefix(before, backlogPrefix)}
		if t, ok := firstTimes(sn)[key]; ok {
			sm.Wait, sm.Paged = t.Sub(sent), true
			sm.Ahead = busyBetween(sn, backlogPrefix, sent, t)
		} else {
			sm.Wait = end.Sub(sent)
			sm.Ahead = busyBetween(sn, backlogPrefix, sent, end)
		}
		r.Samples = append(r.Samples, sm)
		if !sm.Paged {
			r.Stopped = fmt.Sprintf("sample %d not paged within %v; every later one would wait behind it", i+1, o.pageTimeout)
			break
		}
	}
	r.finish(s, sn, backlogPrefix, start)
	logf("page, backlog (%s): %d/%d paged, p50 %s p99 %s; backlog events ahead max %d; backlog when posted %d–%d; 429s %d",
		sideName, r.Stats.Paged, r.Stats.N, fmtQ(r.Stats.P50), fmtQ(r.Stats.P99), r.Stats.AheadMax, r.Stats.BacklogLo, r.Stats.BacklogHi, r.Throttled)
	return r, nil
}

func (r *pageRun) finish(s *pageStack, sn *simSnapshot, prefix string, start time.Time) {
	r.Stats = statsOf(r.Samples)
	if sn != nil {
		r.BusySent = countPrefix(sn, prefix)
		r.Throttled = sn.Requests.Throttled
	}
	r.LogProblems = s.col.logProblems()
	r.OtherCores = s.otherCores()
	r.Load1After = loadAvg()
	r.Elapsed = time.Since(start)
}

func firstErr(errs []error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// dur prints a time to page: milliseconds below a second, else seconds.
func dur(d time.Duration) string {
	if d < time.Second {
		return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
	}
	return fmt.Sprintf("%.2f s", d.Seconds())
}

// fmtQ prints a quantile: its value, "> lo" when censored samples leave it
// unbounded, or "lo–hi".
func fmtQ(q quantile) string {
	switch {
	case q.Unbounded:
		return "> " + dur(q.Lo)
	case q.Lo == q.Hi:
		return dur(q.Lo)
	}
	return dur(q.Lo) + "–" + dur(q.Hi)
}

// ratioQ is after/before of two quantiles: "0.01×"; "< 0.01×" when before
// is only a lower bound; "lo–hi" when either is known within bounds only;
// "n/a" when after is unbounded.
func ratioQ(after, before quantile) string {
	switch {
	case after.Unbounded || before.Lo <= 0:
		return "n/a"
	case before.Unbounded:
		return "< " + ratioFig(float64(after.Hi)/float64(before.Lo))
	case after.exact() && before.exact():
		return ratioFig(float64(after.Lo) / float64(before.Lo))
	}
	return ratioFig(float64(after.Lo)/float64(before.Hi)) + "–" + ratioFig(float64(after.Hi)/float64(before.Lo))
}

// ratioFig prints a ratio with two significant digits at least, never in
// exponent form.
func ratioFig(x float64) string {
	switch {
	case x >= 0.1:
		return fmt.Sprintf("%.2f×", x)
	case x > 0:
		return fmt.Sprintf("%.*f×", int(-math.Floor(math.Log10(x)))+1, x)
	}
	return "0×"
}

// pageBacklogTarget is the backlog the critical-behind-a-backlog target is
// about.
const pageBacklogTarget = 200

// pageTargets are the page phase's targets, judged on the after side.
func pageTargets(p *pageResult) []target {
	var ts []target
	vs := func(runs []*pageRun, q func(pageStats) quantile) string {
		b := side(runs, sideBefore)
		if b == nil {
			return ""
		}
		return fmt.Sprintf("; before %s, after/before %s", fmtQ(q(b.Stats)), ratioQ(q(side(runs, sideAfter).Stats), q(b.Stats)))
	}
	p99 := func(s pageStats) quantile { return s.P99 }
	if a := side(p.Quiet, sideAfter); a != nil {
		st := a.Stats
		ts = append(ts, target{
			Name: "time to page, quiet route during a storm: p99 ≤ 1 s",
			Figure: fmt.Sprintf("p99 %s, p50 %s (%d/%d paged)%s",
				fmtQ(st.P99), fmtQ(st.P50), st.Paged, st.N, vs(p.Quiet, p99)),
			Met: st.N > 0 && st.Paged == st.N && st.P99.Hi <= time.Second,
		})
	}
	if a := side(p.Backlog, sideAfter); a != nil {
		st := a.Stats
		ts = append(ts, target{
			Name: fmt.Sprintf("time to page behind a backlog: critical paged within 3 s (p99) behind ≥ %d info alerts at %d/min", pageBacklogTarget, p.PerMinute),
			Figure: fmt.Sprintf("p99 %s, p50 %s (%d/%d paged; backlog %d–%d when posted)%s",
				fmtQ(st.P99), fmtQ(st.P50), st.Paged, st.N, st.BacklogLo, st.BacklogHi, vs(p.Backlog, p99)),
			Met: st.N > 0 && st.Paged == st.N && st.P99.Hi <= 3*time.Second && st.BacklogLo >= pageBacklogTarget,
		}, target{
			Name:   "time to page behind a backlog: at most 1 backlog event sent between posting and paging",
			Figure: fmt.Sprintf("max %d, %d over %d samples", st.AheadMax, st.AheadSum, st.N),
			Met:    st.N > 0 && st.Paged == st.N && st.AheadMax <= 1,
		})
	}
	return ts
}
