// Command pdload is the end-to-end load harness of the PagerDuty exporter
// (`make bench-e2e`). It starts the Events API simulator (cmd/pdsim) and the
// built collector (_build/otelcol-pagerduty) on loopback, drives OTLP/HTTP
// logs into the collector and measures, at the simulator:
//
//   - latency at a fixed offered load (one event per request), from sending
//     the request to the simulator's receipt of the event, through the
//     collector and, as the baseline, posted straight to /v2/enqueue; the
//     difference is the latency the collector adds;
//   - throughput of distinct firing alerts in batches, with the collector's
//     CPU time per 10,000 events (/proc/<pid>/stat) and peak RSS (VmHWM),
//     against the same events posted straight to the simulator;
//   - an alert storm over several routing keys with the rate limit on in
//     both the exporter and the simulator: drain time against the
//     theoretical minimum, and 429s;
//   - time to page (page.go): a critical alert on a quiet route while
//     another route storms, and a critical alert behind a backlog of info
//     alerts on its own route, on this collector and, with
//     -baseline-collector, on a build of an earlier commit (before and
//     after in one run).
//
// Both directions of every comparison run in the same invocation, in
// alternating rounds, because the machine is shared: absolute figures move
// with the load of other processes (reported as "other load"), ratios less.
//
// It prints a markdown report to stdout (and -md FILE), progress to
// stderr, and with -targets FILE one line per target:
// "name<TAB>figure<TAB>met|missed". SMOKE=1 (or -smoke) uses tiny sizes.
// Linux only for the CPU and memory figures (/proc).
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

type options struct {
	collectorBin, pdsimBin string
	workDir                string
	mdOut, targetsOut      string
	jsonOut                string
	smoke                  bool
	encoding               string
	poll                   time.Duration
	phases                 string

	latRate     int
	latPerRound time.Duration
	latRounds   int

	tpEvents, tpBatch, tpSenders, tpDirectWorkers, tpRounds int

	stormN, stormKeys, stormPerMinute, stormBurst, stormBatch, stormSenders int

	baselineBin, baselineLabel                        string
	pagePerMinute, pageBurst                          int
	pageStorm, pageStormBatch, pageQuietSamples       int
	pageBacklog, pageBacklogBatch, pageBacklogSamples int
	pageInterval, pageTimeout                         time.Duration
}

func pid() int { return os.Getpid() }

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "pdload: "+format+"\n", args...)
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout io.Writer) int {
	o := &options{}
	fs := flag.NewFlagSet("pdload", flag.ContinueOnError)
	fs.StringVar(&o.collectorBin, "collector", "_build/otelcol-pagerduty", "collector binary (make build)")
	fs.StringVar(&o.pdsimBin, "pdsim", "_build/pdsim", "simulator binary (make pdsim)")
	fs.StringVar(&o.workDir, "workdir", "_build/bench-e2e", "folder for configs and process logs")
	fs.StringVar(&o.mdOut, "md", "", "also write the markdown report to this file")
	fs.StringVar(&o.targetsOut, "targets", "", "write one line per target to this file")
	fs.StringVar(&o.jsonOut, "json", "", "write every figure as JSON to this file")
	fs.BoolVar(&o.smoke, "smoke", os.Getenv("SMOKE") == "1", "tiny sizes for CI (default from SMOKE=1)")
	fs.StringVar(&o.encoding, "otlp-encoding", "proto", "OTLP/HTTP body encoding: proto or json")
	fs.DurationVar(&o.poll, "poll", 100*time.Millisecond, "how often to scrape the collector's metrics while waiting for a delivery")
	fs.StringVar(&o.phases, "phases", "latency,throughput,storm,page", "phases to run")
	fs.IntVar(&o.latRate, "latency-rate", 200, "offered load of the latency phase, events/s (one event per request)")
	fs.DurationVar(&o.latPerRound, "latency-round", 5*time.Second, "length of one latency round per path")
	fs.IntVar(&o.latRounds, "latency-rounds", 4, "latency rounds per path (alternating paths)")
	fs.IntVar(&o.tpEvents, "events", 20000, "events per throughput round")
	fs.IntVar(&o.tpBatch, "batch", 100, "records per OTLP request in the throughput phase")
	fs.IntVar(&o.tpSenders, "senders", 4, "concurrent OTLP senders in the throughput phase")
	fs.IntVar(&o.tpDirectWorkers, "direct-workers", 10, "concurrent direct posters in the throughput baseline (the queue's default consumers)")
	fs.IntVar(&o.tpRounds, "throughput-rounds", 5, "throughput rounds per path (alternating paths)")
	fs.IntVar(&o.stormN, "storm-events", 240, "alerts in the storm")
	fs.IntVar(&o.stormKeys, "storm-keys", 4, "routing keys of the storm")
	fs.IntVar(&o.stormPerMinute, "storm-rate", 120, "rate limit per key, events per minute, of exporter and simulator")
	fs.IntVar(&o.stormBurst, "storm-burst", 10, "rate_limit.burst of the exporter")
	fs.IntVar(&o.stormBatch, "storm-batch", 10, "alerts per OTLP request in the storm (keys interleaved)")
	fs.IntVar(&o.stormSenders, "storm-senders", 4, "concurrent OTLP senders in the storm")
	fs.StringVar(&o.baselineBin, "baseline-collector", "", "collector built from an earlier commit: the page phase also runs against it (\"before\")")
	fs.StringVar(&o.baselineLabel, "baseline-label", "", "what -baseline-collector was built from, for the report (e.g. a commit id)")
	fs.IntVar(&o.pagePerMinute, "page-rate", 60, "page phase: rate limit per routing key, events per minute, of exporter and simulator")
	fs.IntVar(&o.pageBurst, "page-burst", 5, "page phase: rate_limit.burst of the exporter")
	fs.IntVar(&o.pageStorm, "page-storm", 1000, "page phase: alerts of the storm on the busy route")
	fs.IntVar(&o.pageStormBatch, "page-storm-batch", 20, "page phase: storm alerts per OTLP request")
	fs.IntVar(&o.pageQuietSamples, "page-quiet-samples", 20, "page phase: critical alerts posted on the quiet route during the storm")
	fs.DurationVar(&o.pageInterval, "page-quiet-interval", 1500*time.Millisecond, "page phase: interval between the quiet route's critical alerts")
	fs.IntVar(&o.pageBacklog, "page-backlog", 240, "page phase: info alerts of the backlog on the busy route")
	fs.IntVar(&o.pageBacklogBatch, "page-backlog-batch", 10, "page phase: backlog alerts per OTLP request")
	fs.IntVar(&o.pageBacklogSamples, "page-backlog-samples", 20, "page phase: critical alerts posted behind the backlog, one at a time")
	fs.DurationVar(&o.pageTimeout, "page-timeout", 15*time.Second, "page phase: how long an alert is watched before it counts as not paged (its time to page then only a lower bound)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if o.smoke {
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		for name, v := range map[string]string{
			"latency-round": "1s", "latency-rounds": "2", "events": "1000", "senders": "2",
			"throughput-rounds": "1", "storm-events": "24", "storm-burst": "2", "storm-batch": "6",
			"page-storm": "30", "page-storm-batch": "2", "page-quiet-samples": "3", "page-quiet-interval": "300ms",
			"page-backlog": "24", "page-backlog-batch": "2", "page-backlog-samples": "3", "page-timeout": "5s",
		} {
			if !set[name] {
				_ = fs.Set(name, v)
			}
		}
	}
	if err := o.check(); err != nil {
		fmt.Fprintf(os.Stderr, "pdload: %v\n", err)
		return 2
	}
	if err := os.MkdirAll(o.workDir, 0o755); err != nil {
		fmt.Fprintf(os.Stderr, "pdload: %v\n", err)
		return 1
	}
	// Run private copies: `make build` in another shell must not swap a
	// binary out from under a run.
	for _, c := range []struct {
		bin  *string
		name string
	}{{&o.collectorBin, filepath.Base(o.collectorBin)}, {&o.pdsimBin, filepath.Base(o.pdsimBin)}, {&o.baselineBin, "baseline-" + filepath.Base(o.baselineBin)}} {
		if *c.bin == "" {
			continue
		}
		dst := filepath.Join(o.workDir, "bin", c.name)
		if err := copyFile(*c.bin, dst); err != nil {
			fmt.Fprintf(os.Stderr, "pdload: %v\n", err)
			return 1
		}
		*c.bin = dst
	}
	start := time.Now()
	res, err := runAll(ctx, o)
	res.Elapsed = time.Since(start)
	md := render(o, res, err)
	fmt.Fprint(stdout, md)
	if o.mdOut != "" {
		_ = os.WriteFile(o.mdOut, []byte(md), 0o644)
	}
	if o.targetsOut != "" {
		var b strings.Builder
		for _, t := range res.Targets {
			verdict := "missed"
			if t.Met {
				verdict = "met"
			}
			fmt.Fprintf(&b, "%s\t%s\t%s\n", t.Name, t.Figure, verdict)
		}
		_ = os.WriteFile(o.targetsOut, []byte(b.String()), 0o644)
	}
	if o.jsonOut != "" {
		if b, jerr := json.MarshalIndent(res, "", "  "); jerr == nil {
			_ = os.WriteFile(o.jsonOut, b, 0o644)
		}
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "pdload: %v\n", err)
		return 1
	}
	logf("done in %v", res.Elapsed.Round(time.Second))
	return 0
}

func (o *options) check() error {
	var bad []string
	for _, p := range []struct {
		name string
		v    int
	}{
		{"latency-rate", o.latRate},
		{"latency-rounds", o.latRounds},
		{"events", o.tpEvents},
		{"batch", o.tpBatch},
		{"senders", o.tpSenders},
		{"direct-workers", o.tpDirectWorkers},
		{"throughput-rounds", o.tpRounds},
		{"storm-events", o.stormN},
		{"storm-keys", o.stormKeys},
		{"storm-rate", o.stormPerMinute},
		{"storm-burst", o.stormBurst},
		{"storm-batch", o.stormBatch},
		{"storm-senders", o.stormSenders},
		{"page-rate", o.pagePerMinute},
		{"page-burst", o.pageBurst},
		{"page-storm", o.pageStorm},
		{"page-storm-batch", o.pageStormBatch},
		{"page-quiet-samples", o.pageQuietSamples},
		{"page-backlog", o.pageBacklog},
		{"page-backlog-batch", o.pageBacklogBatch},
		{"page-backlog-samples", o.pageBacklogSamples},
		{"page-quiet-interval", int(o.pageInterval)},
		{"page-timeout", int(o.pageTimeout)},
	} {
		if p.v <= 0 {
			bad = append(bad, "-"+p.name+" must be positive")
		}
	}
	if o.stormBurst > o.stormPerMinute {
		bad = append(bad, "-storm-burst must not exceed -storm-rate")
	}
	if o.pageBurst > o.pagePerMinute {
		bad = append(bad, "-page-burst must not exceed -page-rate")
	}
	if o.encoding != "proto" && o.encoding != "json" {
		bad = append(bad, "-otlp-encoding must be proto or json")
	}
	for _, bin := range []string{o.collectorBin, o.pdsimBin, o.baselineBin} {
		if bin == "" {
			continue
		}
		if _, err := os.Stat(bin); err != nil {
			bad = append(bad, fmt.Sprintf("%s: %v (run make build pdsim)", bin, err))
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("%s", strings.Join(bad, "; "))
	}
	var err error
	o.collectorBin, err = filepath.Abs(o.collectorBin)
	if err == nil {
		o.pdsimBin, err = filepath.Abs(o.pdsimBin)
	}
	if err == nil && o.baselineBin != "" {
		o.baselineBin, err = filepath.Abs(o.baselineBin)
	}
	return err
}

func (o *options) wants(phase string) bool {
	for p := range strings.SplitSeq(o.phases, ",") {
		if strings.TrimSpace(p) == phase {
			return true
		}
	}
	return false
}

// results is everything pdload measured (also its -json output).
type results struct {
	Smoke      bool              `json:"smoke"`
	Elapsed    time.Duration     `json:"elapsed_ns"`
	Latency    *latencyResult    `json:"latency,omitempty"`
	Throughput *throughputResult `json:"throughput,omitempty"`
	Storm      *stormResult      `json:"storm,omitempty"`
	Page       *pageResult       `json:"page,omitempty"`
	Targets    []target          `json:"targets"`
}

type target struct {
	Name   string `json:"name"`
	Figure string `json:"figure"`
	Met    bool   `json:"met"`
}

type latencyResult struct {
	Rate        int           `json:"rate"`
	PerRound    time.Duration `json:"per_round_ns"`
	Rounds      int           `json:"rounds"`
	Direct      latStats      `json:"direct"`
	Collector   latStats      `json:"collector"`
	AddedP50    time.Duration `json:"added_p50_ns"`
	AddedP99    time.Duration `json:"added_p99_ns"`
	OtherCores  float64       `json:"other_cores"`
	Load1Before float64       `json:"load1_before"`
	Load1After  float64       `json:"load1_after"`
}

type latStats struct {
	N        int             `json:"n"`
	Errors   int             `json:"errors"`
	Lost     int             `json:"lost"`
	FirstErr string          `json:"first_error,omitempty"`
	Offered  []float64       `json:"offered_per_round"`
	P50      time.Duration   `json:"p50_ns"`
	P90      time.Duration   `json:"p90_ns"`
	P99      time.Duration   `json:"p99_ns"`
	Max      time.Duration   `json:"max_ns"`
	RoundP99 []time.Duration `json:"round_p99_ns"`
}

func (s *latStats) fill(ds []time.Duration) {
	s.P50, s.P90, s.P99, s.Max = percentile(ds, 0.5), percentile(ds, 0.9), percentile(ds, 0.99), percentile(ds, 1)
}

type tpRound struct {
	Path         string        `json:"path"`
	Round        int           `json:"round"`
	Events       int           `json:"events"`
	Requests     int           `json:"requests"`
	Workers      int           `json:"workers"`
	Delivered    int           `json:"delivered"`
	Errors       int           `json:"errors"`
	FirstErr     string        `json:"first_error,omitempty"`
	Wall         time.Duration `json:"wall_ns"`
	EPS          float64       `json:"events_per_second"`
	CollectorCPU time.Duration `json:"collector_cpu_ns"`
	SimCPU       time.Duration `json:"simulator_cpu_ns"`
	PdloadCPU    time.Duration `json:"pdload_cpu_ns"`
	OtherCores   float64       `json:"other_cores"`
	ClosedConns  int           `json:"closed_connections"`
}

type throughputResult struct {
	Runs               []tpRound     `json:"runs"`
	DirectEPS          float64       `json:"direct_eps"`
	CollectorEPS       float64       `json:"collector_eps"`
	CollectorCPUPer10k float64       `json:"collector_cpu_s_per_10k"`
	SimCPUPer10k       float64       `json:"simulator_cpu_s_per_10k"`
	ClientCPUPer10k    float64       `json:"client_cpu_s_per_10k"`
	IdleRSSKB          int64         `json:"collector_idle_rss_kb"`
	PeakRSSKB          int64         `json:"collector_peak_rss_kb"`
	SimPeakRSSKB       int64         `json:"simulator_peak_rss_kb"`
	IdleCPUPerSecond   time.Duration `json:"collector_idle_cpu_per_s_ns"`
	LogProblems        int           `json:"collector_warn_lines"`
	Load1Before        float64       `json:"load1_before"`
	Load1After         float64       `json:"load1_after"`
}

type keyDrain struct {
	Route  string        `json:"route"`
	Events int           `json:"events"`
	Drain  time.Duration `json:"drain_ns"`
}

type stormResult struct {
	N                 int           `json:"n"`
	Keys              int           `json:"keys"`
	PerMinute         int           `json:"events_per_minute"`
	Burst             int           `json:"burst"`
	Batch             int           `json:"batch"`
	Senders           int           `json:"senders"`
	Minimum           time.Duration `json:"minimum_ns"`
	Drain             time.Duration `json:"drain_ns"`
	Delivered         int           `json:"delivered"`
	PerKey            []keyDrain    `json:"per_key"`
	Throttled         int           `json:"throttled_429"`
	RateLimited       int           `json:"rate_limited_429"`
	ExporterThrottled int           `json:"exporter_throttled"`
	RateLimitWait     time.Duration `json:"rate_limit_wait_ns"`
	OtherCores        float64       `json:"other_cores"`
	LogProblems       int           `json:"collector_warn_lines"`
	Load1Before       float64       `json:"load1_before"`
	Load1After        float64       `json:"load1_after"`
}

// runAll runs the phases in order; results holds whatever was measured
// before an error.
func runAll(ctx context.Context, o *options) (*results, error) {
	res := &results{Smoke: o.smoke}
	if o.wants("latency") || o.wants("throughput") {
		if err := runUnlimited(ctx, o, res); err != nil {
			return res, err
		}
	}
	if o.wants("storm") {
		logf("storm: %d alerts over %d keys, rate limit %d/min burst %d", o.stormN, o.stormKeys, o.stormPerMinute, o.stormBurst)
		s, err := runStorm(ctx, o)
		if err != nil {
			return res, fmt.Errorf("storm: %w", err)
		}
		res.Storm = s
		within := s.Drain <= s.Minimum+s.Minimum/20
		res.Targets = append(res.Targets,
			target{
				Name:   "storm drain within 5% of the theoretical minimum",
				Figure: fmt.Sprintf("%s vs minimum %s (%s)", secs(s.Drain), secs(s.Minimum), ratio(s.Drain.Seconds(), s.Minimum.Seconds())),
				Met:    within && s.Delivered == s.N,
			},
			target{Name: "storm: zero 429s", Figure: fmt.Sprintf("%d 429s", s.Throttled), Met: s.Throttled == 0})
	}
	if o.wants("page") {
		p, err := runPage(ctx, o)
		res.Page = p
		if err != nil {
			return res, fmt.Errorf("page: %w", err)
		}
		res.Targets = append(res.Targets, pageTargets(p)...)
	}
	return res, nil
}

// runUnlimited runs the latency and throughput phases on one simulator and
// one collector, both without rate limit.
func runUnlimited(ctx context.Context, o *options, res *results) error {
	logf("starting the simulator (-rate-limit 0) and the collector (rate_limit.events_per_minute 0)")
	sim, err := startSimulator(ctx, o, "pdsim", 0)
	if err != nil {
		return err
	}
	defer sim.p.Stop(stopGrace)
	col, err := startCollector(ctx, o, "collector", sim, unlimitedExporter)
	if err != nil {
		return err
	}
	defer col.p.Stop(stopGrace)
	h := &harness{o: o, sim: sim, col: col, otlp: newClient(max(o.tpSenders, 16)), direct: newClient(max(o.tpDirectWorkers, 16))}
	if err = h.warmUp(ctx); err != nil {
		return fmt.Errorf("warm-up: %w", err)
	}
	tp := &throughputResult{}
	tp.IdleRSSKB, _ = statusKB(col.p.Pid(), "VmRSS")
	idle := 2 * time.Second
	if o.smoke {
		idle = 500 * time.Millisecond
	}
	if tp.IdleCPUPerSecond, err = h.idleCPU(ctx, idle); err != nil {
		return fmt.Errorf("idle reading: %w", err)
	}
	if o.wants("latency") {
		logf("latency: %d events/s, %d rounds of %v per path", o.latRate, o.latRounds, o.latPerRound)
		l, err := h.runLatency(ctx)
		if err != nil {
			return err
		}
		res.Latency = l
		res.Targets = append(res.Targets, target{
			Name:   "p99 latency added by the collector < 5 ms",
			Figure: fmt.Sprintf("%s (collector p99 %s − direct p99 %s)", ms(l.AddedP99), ms(l.Collector.P99), ms(l.Direct.P99)),
			Met:    l.AddedP99 < 5*time.Millisecond && l.Collector.Lost == 0 && l.Collector.Errors == 0,
		})
	}
	if o.wants("throughput") {
		logf("throughput: %d events per round, batches of %d, %d senders; baseline %d direct workers; %d rounds per path",
			o.tpEvents, o.tpBatch, o.tpSenders, o.tpDirectWorkers, o.tpRounds)
		err := h.runThroughput(ctx, tp)
		tp.PeakRSSKB, _ = statusKB(col.p.Pid(), "VmHWM")
		tp.SimPeakRSSKB, _ = statusKB(sim.p.Pid(), "VmHWM")
		tp.LogProblems = col.logProblems()
		res.Throughput = tp
		if err != nil {
			return err
		}
	}
	return nil
}
