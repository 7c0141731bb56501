package main

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Paths an event can take to the simulator.
const (
	pathDirect    = "direct"
	pathCollector = "collector"
)

// harness is the simulator and collector of the latency and throughput
// phases (rate limits off), and pdload's clients.
type harness struct {
	o      *options
	sim    *simulator
	col    *collector
	otlp   *http.Client
	direct *http.Client
}

// usage is a reading of the CPU time of the processes involved and of the
// whole machine, to tell how much of it other processes took.
type usage struct {
	at                  time.Time
	col, sim, self, all time.Duration
}

func (h *harness) usage() usage {
	u := usage{at: time.Now()}
	u.col, _ = cpuTime(h.col.p.Pid())
	u.sim, _ = cpuTime(h.sim.p.Pid())
	u.self, _ = cpuTime(pid())
	u.all, _ = systemBusy()
	return u
}

// otherCores is how many cores' worth of CPU processes other than pdload,
// the collector and the simulator used between a and b.
func otherCores(a, b usage) float64 {
	ours := (b.col - a.col) + (b.sim - a.sim) + (b.self - a.self)
	wall := b.at.Sub(a.at)
	if wall <= 0 {
		return 0
	}
	return math.Max(0, (b.all-a.all-ours).Seconds()/wall.Seconds())
}

// warmUp sends a few events both ways, so that connections, the collector's
// pipeline and both processes' heaps are warm before anything is measured.
func (h *harness) warmUp(ctx context.Context) error {
	before, err := h.col.sent(ctx)
	if err != nil {
		return err
	}
	now := time.Now()
	var batch []alert
	for i := range h.o.tpBatch {
		batch = append(batch, alert{service: "checkout", dedupKey: fmt.Sprintf("warm-collector-%d", i), time: now})
	}
	body, err := otlpBody(batch, h.o.encoding)
	if err != nil {
		return err
	}
	if err := post(ctx, h.otlp, h.col.otlpURL, otlpContentType(h.o.encoding), body, http.StatusOK); err != nil {
		return err
	}
	for i := range 50 {
		body, err := otlpBody([]alert{{service: "checkout", dedupKey: fmt.Sprintf("warm-single-%d", i), time: now}}, h.o.encoding)
		if err != nil {
			return err
		}
		if err := post(ctx, h.otlp, h.col.otlpURL, otlpContentType(h.o.encoding), body, http.StatusOK); err != nil {
			return err
		}
	}
	for i := range 200 {
		a := alert{service: "checkout", dedupKey: fmt.Sprintf("warm-direct-%d", i), time: now}
		if err := post(ctx, h.direct, h.sim.url+"/v2/enqueue", "application/json", eventBody(a, defaultKey), http.StatusAccepted); err != nil {
			return err
		}
	}
	if err := h.col.waitSent(ctx, before+float64(h.o.tpBatch+50), h.o.poll, 60*time.Second); err != nil {
		return err
	}
	return h.sim.reset(ctx)
}

// idleCPU measures the collector's CPU use while idle but scraped every
// poll interval, as it is while pdload waits for a delivery.
func (h *harness) idleCPU(ctx context.Context, d time.Duration) (perSecond time.Duration, err error) {
	start := time.Now()
	c0, err := cpuTime(h.col.p.Pid())
	if err != nil {
		return 0, err
	}
	for time.Since(start) < d {
		if _, err = h.col.sent(ctx); err != nil {
			return 0, err
		}
		time.Sleep(h.o.poll)
	}
	c1, err := cpuTime(h.col.p.Pid())
	if err != nil {
		return 0, err
	}
	return time.Duration(float64(c1-c0) / time.Since(start).Seconds()), nil
}

// latencyRound offers o.latRate events per second for o.latPerRound, one
// event per request, on one path, and returns for each event the time from
// sending its request to the simulator's receipt of its event.
func (h *harness) latencyRound(ctx context.Context, path string, round int) (latencyRun, error) {
	o := h.o
	n := int(float64(o.latRate) * o.latPerRound.Seconds())
	interval := time.Second / time.Duration(o.latRate)
	prefix := fmt.Sprintf("lat-%s-%d-", path, round)
	now := time.Now()
	bodies := make([][]byte, n)
	for i := range n {
		a := alert{service: "checkout", dedupKey: fmt.Sprintf("%s%06d", prefix, i), time: now}
		if path == pathDirect {
			bodies[i] = eventBody(a, defaultKey)
			continue
		}
		b, err := otlpBody([]alert{a}, o.encoding)
		if err != nil {
			return latencyRun{}, err
		}
		bodies[i] = b
	}
	before, err := h.col.sent(ctx)
	if err != nil {
		return latencyRun{}, err
	}
	run := latencyRun{n: n}
	sent := make([]time.Time, n)
	var wg sync.WaitGroup
	var errs atomic.Int64
	var firstErr atomic.Value
	start := time.Now().Add(10 * time.Millisecond)
	for i := range n {
		time.Sleep(time.Until(start.Add(time.Duration(i) * interval)))
		wg.Go(func() {
			sent[i] = time.Now()
			h.send(ctx, path, bodies[i], &errs, &firstErr)
		})
	}
	wg.Wait()
	run.errors = int(errs.Load())
	if e := firstErr.Load(); e != nil {
		run.firstErr = e.(string)
	}
	if n > 1 {
		run.offered = float64(n-1) / sent[n-1].Sub(sent[0]).Seconds()
	}
	if path == pathCollector {
		if err = h.col.waitSent(ctx, before+float64(n-run.errors), o.poll, 60*time.Second); err != nil {
			return run, err
		}
	}
	snap, err := h.sim.snapshot(ctx)
	if err != nil {
		return run, err
	}
	received := make(map[string]time.Time, n)
	for _, ev := range snap.Events {
		if strings.HasPrefix(ev.DedupKey, prefix) {
			if _, dup := received[ev.DedupKey]; !dup {
				received[ev.DedupKey] = ev.Time
			}
		}
	}
	for i := range n {
		t, ok := received[fmt.Sprintf("%s%06d", prefix, i)]
		if !ok {
			run.lost++
			continue
		}
		run.latencies = append(run.latencies, t.Sub(sent[i]))
	}
	return run, h.sim.reset(ctx)
}

// send posts one request body on path: to the simulator's Events API as a
// PagerDuty client would, or as OTLP to the collector. A failure is counted
// in errs and the first one's message kept in firstErr for the round's
// report. The latency and throughput rounds both send through it, so that
// the two phases cannot drift apart in what a path's request is (endpoint,
// content type, expected status) or in how its failures are reported.
func (h *harness) send(ctx context.Context, path string, body []byte, errs *atomic.Int64, firstErr *atomic.Value) {
	var err error
	if path == pathDirect {
		err = post(ctx, h.direct, h.sim.url+"/v2/enqueue", "application/json", body, http.StatusAccepted)
	} else {
		err = post(ctx, h.otlp, h.col.otlpURL, otlpContentType(h.o.encoding), body, http.StatusOK)
	}
	if err != nil {
		errs.Add(1)
		firstErr.CompareAndSwap(nil, err.Error())
	}
}

type latencyRun struct {
	n, errors, lost int
	firstErr        string
	offered         float64 // events/s actually offered
	latencies       []time.Duration
}

// runLatency alternates direct and collector rounds (the order swapping
// every round), so that a busy spell of the machine hits both paths alike.
func (h *harness) runLatency(ctx context.Context) (*latencyResult, error) {
	o := h.o
	r := &latencyResult{Rate: o.latRate, PerRound: o.latPerRound, Rounds: o.latRounds, Load1Before: loadAvg()}
	var pooled [2][]time.Duration
	u0 := h.usage()
	for round := 1; round <= o.latRounds; round++ {
		order := []string{pathDirect, pathCollector}
		if round%2 == 0 {
			order = []string{pathCollector, pathDirect}
		}
		for _, path := range order {
			run, err := h.latencyRound(ctx, path, round)
			if err != nil {
				return nil, fmt.Errorf("latency round %d (%s): %w", round, path, err)
			}
			s := &r.Direct
			idx := 0
			if path == pathCollector {
				s, idx = &r.Collector, 1
			}
			s.N += run.n
			s.Errors += run.errors
			s.Lost += run.lost
			if s.FirstErr == "" {
				s.FirstErr = run.firstErr
			}
			s.Offered = append(s.Offered, run.offered)
			s.RoundP99 = append(s.RoundP99, percentile(run.latencies, 0.99))
			pooled[idx] = append(pooled[idx], run.latencies...)
			logf("latency round %d %-9s: %d events at %.0f/s, p50 %v p99 %v, lost %d, errors %d",
				round, path, run.n, run.offered, percentile(run.latencies, 0.5), percentile(run.latencies, 0.99), run.lost, run.errors)
		}
	}
	r.OtherCores = otherCores(u0, h.usage())
	r.Load1After = loadAvg()
	r.Direct.fill(pooled[0])
	r.Collector.fill(pooled[1])
	r.AddedP50 = r.Collector.P50 - r.Direct.P50
	r.AddedP99 = r.Collector.P99 - r.Direct.P99
	return r, nil
}

// throughputRound sends o.tpEvents distinct firing alerts as fast as the
// path takes them and measures, at the simulator, how fast they arrive.
func (h *harness) throughputRound(ctx context.Context, path string, round int) (tpRound, error) {
	o := h.o
	n := o.tpEvents
	prefix := fmt.Sprintf("tp-%s-%d-", path, round)
	now := time.Now()
	var bodies [][]byte
	workers := o.tpDirectWorkers
	if path == pathDirect {
		for i := range n {
			bodies = append(bodies, eventBody(alert{service: "checkout", dedupKey: fmt.Sprintf("%s%06d", prefix, i), time: now}, defaultKey))
		}
	} else {
		workers = o.tpSenders
		for lo := 0; lo < n; lo += o.tpBatch {
			var batch []alert
			for i := lo; i < min(lo+o.tpBatch, n); i++ {
				batch = append(batch, alert{service: "checkout", dedupKey: fmt.Sprintf("%s%06d", prefix, i), time: now})
			}
			b, err := otlpBody(batch, o.encoding)
			if err != nil {
				return tpRound{}, err
			}
			bodies = append(bodies, b)
		}
	}
	before, err := h.col.sent(ctx)
	if err != nil {
		return tpRound{}, err
	}
	r := tpRound{Path: path, Round: round, Events: n, Requests: len(bodies), Workers: workers}
	tw0 := timeWaitTo(h.sim.port)
	u0 := h.usage()
	var next, errs atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(bodies) {
					return
				}
				h.send(ctx, path, bodies[i], &errs, &firstErr)
			}
		})
	}
	wg.Wait()
	r.Errors = int(errs.Load())
	if e := firstErr.Load(); e != nil {
		r.FirstErr = e.(string)
	}
	if path == pathCollector && r.Errors == 0 {
		if err = h.col.waitSent(ctx, before+float64(n), o.poll, 120*time.Second); err != nil {
			return r, err
		}
	}
	u1 := h.usage()
	r.ClosedConns = closedSince(tw0, h.sim.port)
	r.CollectorCPU, r.SimCPU, r.PdloadCPU = u1.col-u0.col, u1.sim-u0.sim, u1.self-u0.self
	r.OtherCores = otherCores(u0, u1)
	snap, err := h.sim.snapshot(ctx)
	if err != nil {
		return r, err
	}
	var last time.Time
	seen := make(map[string]bool, n)
	for _, ev := range snap.Events {
		if strings.HasPrefix(ev.DedupKey, prefix) && !seen[ev.DedupKey] {
			seen[ev.DedupKey] = true
			if ev.Time.After(last) {
				last = ev.Time
			}
		}
	}
	r.Delivered = len(seen)
	if r.Delivered > 0 {
		r.Wall = last.Sub(u0.at)
		r.EPS = float64(r.Delivered) / r.Wall.Seconds()
	}
	logf("throughput round %d %-9s: %d/%d events in %v = %.0f events/s; CPU collector %v simulator %v pdload %v; %d connections to the simulator closed; other load %.2f cores",
		round, path, r.Delivered, n, r.Wall.Round(time.Millisecond), r.EPS, r.CollectorCPU, r.SimCPU, r.PdloadCPU, r.ClosedConns, r.OtherCores)
	return r, h.sim.reset(ctx)
}

func (h *harness) runThroughput(ctx context.Context, res *throughputResult) error {
	o := h.o
	res.Load1Before = loadAvg()
	for round := 1; round <= o.tpRounds; round++ {
		order := []string{pathDirect, pathCollector}
		if round%2 == 0 {
			order = []string{pathCollector, pathDirect}
		}
		for _, path := range order {
			r, err := h.throughputRound(ctx, path, round)
			res.Runs = append(res.Runs, r)
			if err != nil {
				return fmt.Errorf("throughput round %d (%s): %w", round, path, err)
			}
		}
	}
	res.Load1After = loadAvg()
	var dEPS, cEPS, colCPU, simCPU, clientCPU []float64
	for _, r := range res.Runs {
		per10k := 10000 / float64(max(r.Delivered, 1))
		if r.Path == pathDirect {
			dEPS = append(dEPS, r.EPS)
			clientCPU = append(clientCPU, r.PdloadCPU.Seconds()*per10k)
		} else {
			cEPS = append(cEPS, r.EPS)
			colCPU = append(colCPU, r.CollectorCPU.Seconds()*per10k)
			simCPU = append(simCPU, r.SimCPU.Seconds()*per10k)
		}
	}
	res.DirectEPS, res.CollectorEPS = median(dEPS), median(cEPS)
	res.CollectorCPUPer10k, res.SimCPUPer10k, res.ClientCPUPer10k = median(colCPU), median(simCPU), median(clientCPU)
	return nil
}

// runStorm sends o.stormN alerts over o.stormKeys routing keys, all at
// once, to a collector and simulator both limiting each key to
// o.stormPerMinute events per minute, and times the drain.
func runStorm(ctx context.Context, o *options) (*stormResult, error) {
	res := &stormResult{
		N: o.stormN, Keys: o.stormKeys, PerMinute: o.stormPerMinute, Burst: o.stormBurst,
		Batch: o.stormBatch, Senders: o.stormSenders, Load1Before: loadAvg(),
	}
	perKey := float64(o.stormN) / float64(o.stormKeys)
	rate := float64(o.stormPerMinute) / 60
	res.Minimum = time.Duration(math.Max(0, perKey-float64(o.stormBurst)) / rate * float64(time.Second))

	sim, err := startSimulator(ctx, o, "pdsim-storm", o.stormPerMinute)
	if err != nil {
		return nil, err
	}
	defer sim.p.Stop(stopGrace)
	col, err := startCollector(ctx, o, "collector-storm", sim, stormExporter(o.stormKeys, o.stormPerMinute, o.stormBurst))
	if err != nil {
		return nil, err
	}
	defer col.p.Stop(stopGrace)
	client := newClient(o.stormSenders)

	// Warm up on the default route, whose budget the storm does not use.
	now := time.Now()
	var warm []alert
	for i := range 5 {
		warm = append(warm, alert{service: "warmup", dedupKey: fmt.Sprintf("storm-warm-%d", i), time: now})
	}
	body, err := otlpBody(warm, o.encoding)
	if err != nil {
		return nil, err
	}
	before, err := col.sent(ctx)
	if err != nil {
		return nil, err
	}
	if err = post(ctx, client, col.otlpURL, otlpContentType(o.encoding), body, http.StatusOK); err != nil {
		return nil, err
	}
	if err = col.waitSent(ctx, before+float64(len(warm)), o.poll, 30*time.Second); err != nil {
		return nil, err
	}
	if err = sim.reset(ctx); err != nil {
		return nil, err
	}

	// Alert i belongs to service svc<i mod keys>: every request mixes keys,
	// as a storm from many services does.
	now = time.Now()
	var bodies [][]byte
	for lo := 0; lo < o.stormN; lo += o.stormBatch {
		var batch []alert
		for i := lo; i < min(lo+o.stormBatch, o.stormN); i++ {
			batch = append(batch, alert{service: fmt.Sprintf("svc%d", i%o.stormKeys), dedupKey: fmt.Sprintf("storm-%06d", i), time: now})
		}
		b, bodyErr := otlpBody(batch, o.encoding)
		if bodyErr != nil {
			return nil, bodyErr
		}
		bodies = append(bodies, b)
	}
	if before, err = col.sent(ctx); err != nil {
		return nil, err
	}
	m0, _ := col.metrics(ctx, metricRateLimitWait, metricThrottled)
	c0, _ := cpuTime(col.p.Pid())
	all0, _ := systemBusy()
	s0, _ := cpuTime(sim.p.Pid())
	self0, _ := cpuTime(pid())
	start := time.Now()
	var next atomic.Int64
	var wg sync.WaitGroup
	var postErr atomic.Value
	for range o.stormSenders {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(bodies) {
					return
				}
				if perr := post(ctx, client, col.otlpURL, otlpContentType(o.encoding), bodies[i], http.StatusOK); perr != nil {
					postErr.CompareAndSwap(nil, perr)
				}
			}
		})
	}
	wg.Wait()
	if e := postErr.Load(); e != nil {
		return nil, e.(error)
	}
	timeout := 3*res.Minimum + time.Minute
	if err = col.waitSent(ctx, before+float64(o.stormN), o.poll, timeout); err != nil {
		return nil, err
	}
	end := time.Now()
	c1, _ := cpuTime(col.p.Pid())
	all1, _ := systemBusy()
	s1, _ := cpuTime(sim.p.Pid())
	self1, _ := cpuTime(pid())
	if w := end.Sub(start).Seconds(); w > 0 {
		res.OtherCores = math.Max(0, ((all1-all0)-(c1-c0)-(s1-s0)-(self1-self0)).Seconds()/w)
	}
	m1, _ := col.metrics(ctx, metricRateLimitWait, metricThrottled)
	res.RateLimitWait = time.Duration((m1[metricRateLimitWait] - m0[metricRateLimitWait]) * float64(time.Second))
	res.ExporterThrottled = int(m1[metricThrottled] - m0[metricThrottled])

	snap, err := sim.snapshot(ctx)
	if err != nil {
		return nil, err
	}
	res.Throttled, res.RateLimited = snap.Requests.Throttled, snap.Requests.RateLimited
	lastByKey := map[string]time.Time{}
	countByKey := map[string]int{}
	seen := map[string]bool{}
	var last time.Time
	for _, ev := range snap.Events {
		if !strings.HasPrefix(ev.DedupKey, "storm-") || seen[ev.DedupKey] {
			continue
		}
		seen[ev.DedupKey] = true
		countByKey[ev.RoutingKey]++
		if ev.Time.After(lastByKey[ev.RoutingKey]) {
			lastByKey[ev.RoutingKey] = ev.Time
		}
		if ev.Time.After(last) {
			last = ev.Time
		}
	}
	res.Delivered = len(seen)
	res.Drain = last.Sub(start)
	for i := range o.stormKeys {
		k := stormKey(i)
		res.PerKey = append(res.PerKey, keyDrain{Route: fmt.Sprintf("svc%d", i), Events: countByKey[k], Drain: lastByKey[k].Sub(start)})
	}
	res.Load1After = loadAvg()
	res.LogProblems = col.logProblems()
	logf("storm: %d/%d events over %d keys drained in %v (minimum %v); 429s %d",
		res.Delivered, o.stormN, o.stormKeys, res.Drain.Round(time.Millisecond), res.Minimum, res.Throttled)
	return res, nil
}

// percentile is the nearest-rank q-quantile of ds (0 when empty).
func percentile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(math.Ceil(q*float64(len(s)))) - 1
	return s[min(max(i, 0), len(s)-1)]
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
