package main

import (
	"fmt"
	"math"
	"strings"
	"time"
)

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond)) }

func secs(d time.Duration) string { return fmt.Sprintf("%.2f s", d.Seconds()) }

func ratio(a, b float64) string {
	if b == 0 || math.IsNaN(a) || math.IsNaN(b) {
		return "n/a"
	}
	return fmt.Sprintf("%.2f×", a/b)
}

func mb(kb int64) string {
	if kb <= 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.1f MB", float64(kb)/1024)
}

func verdict(met bool) string {
	if met {
		return "**met**"
	}
	return "**missed**"
}

// render is pdload's markdown report; err, when set, is reported at the end.
func render(o *options, r *results, err error) string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	mode := "full"
	if o.smoke {
		mode = "SMOKE (tiny sizes, figures not meaningful)"
	}
	p("### End-to-end: collector and simulator processes on loopback (`cmd/pdload`)")
	p("")
	p("Mode: %s; OTLP/HTTP %s bodies; %s in all. The collector runs `_build/otelcol-pagerduty` with OTLP/HTTP → memory_limiter → pagerduty (default sending_queue: 10 consumers, no batching), logs at warn; the simulator `_build/pdsim -quiet`. Every event is a distinct firing alert (8 record attributes). *Other load* is the CPU that processes other than pdload, the collector and the simulator used during the phase, in cores (of %s), from `/proc/stat`.",
		mode, o.encoding, r.Elapsed.Round(time.Second), "the machine's")
	p("")

	if l := r.Latency; l != nil {
		p("#### Latency at a fixed offered load")
		p("")
		p("%d events/s, one event per request, %d rounds of %v per path, the two paths alternating (order swapped each round). Latency: from just before the request is sent to the simulator's receipt time of the event (`time` in `GET /incidents`, matched by dedup key; one machine, one clock). Baseline: the same events as Events API JSON posted by pdload straight to the simulator's `/v2/enqueue`. Load average %.2f → %.2f; other load %.2f cores.",
			l.Rate, l.Rounds, l.PerRound, l.Load1Before, l.Load1After, l.OtherCores)
		p("")
		p("| path | events | lost | errors | offered ev/s | p50 | p90 | p99 | max | p99 per round |")
		p("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
		row := func(name string, s latStats) {
			var rounds []string
			for _, d := range s.RoundP99 {
				rounds = append(rounds, fmt.Sprintf("%.2f", float64(d)/float64(time.Millisecond)))
			}
			p("| %s | %d | %d | %d | %.0f | %s | %s | %s | %s | %s ms |", name, s.N, s.Lost, s.Errors, median(s.Offered),
				ms(s.P50), ms(s.P90), ms(s.P99), ms(s.Max), strings.Join(rounds, ", "))
		}
		row("direct to the simulator (baseline)", l.Direct)
		row("through the collector", l.Collector)
		p("| **added by the collector** (collector − direct) | | | | | **%s** | %s | **%s** | | |",
			ms(l.AddedP50), ms(l.Collector.P90-l.Direct.P90), ms(l.AddedP99))
		p("")
		p("Ratio collector / direct: p50 %s, p99 %s. Target p99 added < 5 ms: %s.",
			ratio(float64(l.Collector.P50), float64(l.Direct.P50)), ratio(float64(l.Collector.P99), float64(l.Direct.P99)),
			verdict(l.AddedP99 < 5*time.Millisecond && l.Collector.Lost == 0 && l.Collector.Errors == 0))
		for _, s := range []latStats{l.Direct, l.Collector} {
			if s.FirstErr != "" {
				p("")
				p("First error: `%s`", s.FirstErr)
			}
		}
		p("")
	}

	if t := r.Throughput; t != nil {
		p("#### Throughput, CPU and memory")
		p("")
		p("Per round %d distinct firing alerts. Collector path: OTLP requests of %d records from %d concurrent senders. Baseline (direct): the same events posted one per request straight to the simulator by %d concurrent workers (as many as the exporter's queue consumers), on kept-alive connections. Events/s = events delivered / (last receipt at the simulator − first send). CPU from `/proc/<pid>/stat` (utime+stime, 10 ms ticks) between the first send and the delivery of the last event. *Connections closed*: TCP sockets toward the simulator's port that entered TIME_WAIT during the round, i.e. client connections closed rather than kept alive (the exporter's HTTP client keeps at most `max_idle_conns_per_host` idle connections, net/http's default 2 when unset, for its 10 consumers). Load average %.2f → %.2f.",
			o.tpEvents, o.tpBatch, o.tpSenders, o.tpDirectWorkers, t.Load1Before, t.Load1After)
		p("")
		p("| round | path | delivered | wall | events/s | collector CPU | simulator CPU | pdload CPU | connections closed | other load |")
		p("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|")
		for _, run := range t.Runs {
			p("| %d | %s | %d/%d | %s | %.0f | %s | %s | %s | %d | %.2f cores |", run.Round, run.Path, run.Delivered, run.Events,
				secs(run.Wall), run.EPS, secs(run.CollectorCPU), secs(run.SimCPU), secs(run.PdloadCPU), run.ClosedConns, run.OtherCores)
		}
		p("")
		p("| figure | collector | baseline | ratio |")
		p("|---|---:|---|---:|")
		p("| events/s delivered (median of rounds) | %.0f | %.0f direct to the simulator | %s |", t.CollectorEPS, t.DirectEPS, ratio(t.CollectorEPS, t.DirectEPS))
		p("| CPU seconds per 10,000 events | %.3f s | %.3f s: pdload's bare net/http client sending them directly (direct rounds) | %s |",
			t.CollectorCPUPer10k, t.ClientCPUPer10k, ratio(t.CollectorCPUPer10k, t.ClientCPUPer10k))
		p("| | | %.3f s: the simulator receiving them (collector rounds) | %s |", t.SimCPUPer10k, ratio(t.CollectorCPUPer10k, t.SimCPUPer10k))
		p("| peak RSS (VmHWM, whole run incl. latency phase) | %s | %s: the collector's RSS idle after start-up and warm-up | %s |",
			mb(t.PeakRSSKB), mb(t.IdleRSSKB), ratio(float64(t.PeakRSSKB), float64(t.IdleRSSKB)))
		p("")
		p("Idle collector CPU while pdload scrapes its metrics every %v: %.1f ms/s (included in the CPU figures above). Simulator peak RSS %s. Collector warn/error log lines: %d.",
			o.poll, float64(t.IdleCPUPerSecond)/float64(time.Millisecond), mb(t.SimPeakRSSKB), t.LogProblems)
		for _, run := range t.Runs {
			if run.FirstErr != "" {
				p("")
				p("Round %d %s: %d request errors, first: `%s`", run.Round, run.Path, run.Errors, run.FirstErr)
			}
		}
		p("")
	}

	if s := r.Storm; s != nil {
		perKey := float64(s.N) / float64(s.Keys)
		rate := float64(s.PerMinute) / 60
		p("#### Alert storm under the rate limit")
		p("")
		p("%d alerts over %d routing keys (alert i → key i mod %d, so every request mixes keys), sent at once as OTLP requests of %d records by %d senders. Exporter `rate_limit: {events_per_minute: %d, burst: %d}`; simulator `-rate-limit %d` (429 past %d events per key in any sliding 60 s). Load average %.2f → %.2f; other load %.2f cores.",
			s.N, s.Keys, s.Keys, s.Batch, s.Senders, s.PerMinute, s.Burst, s.PerMinute, s.PerMinute, s.Load1Before, s.Load1After, s.OtherCores)
		p("")
		p("Theoretical minimum: each key holds n = N/K = %.0f events; with burst b = %d the first b go at once and the rest at the rate r = %d/60 = %.2f events/s, so the last leaves after (n − b) / r = (%.0f − %d) / %.2f = **%s** (valid while n ≤ events_per_minute, when the sliding-window log never binds). Drain: from the first OTLP request sent to the simulator's receipt of the last event.",
			perKey, s.Burst, s.PerMinute, rate, perKey, s.Burst, rate, secs(s.Minimum))
		p("")
		p("| figure | measured | baseline (theoretical minimum) | ratio |")
		p("|---|---:|---:|---:|")
		p("| drain, all keys | %s | %s | %s |", secs(s.Drain), secs(s.Minimum), ratio(s.Drain.Seconds(), s.Minimum.Seconds()))
		for _, k := range s.PerKey {
			p("| drain, key %s (%d events) | %s | %s | %s |", k.Route, k.Events, secs(k.Drain), secs(s.Minimum), ratio(k.Drain.Seconds(), s.Minimum.Seconds()))
		}
		p("")
		p("Delivered %d/%d. 429s from the simulator: %d (rate limit: %d); exporter `throttled`: %d; exporter rate-limit wait, summed over events: %s. Collector warn/error log lines: %d.",
			s.Delivered, s.N, s.Throttled, s.RateLimited, s.ExporterThrottled, secs(s.RateLimitWait), s.LogProblems)
		p("Targets: drain within 5%% of the minimum (≤ %s): %s; zero 429s: %s.",
			secs(s.Minimum+s.Minimum/20), verdict(s.Drain <= s.Minimum+s.Minimum/20 && s.Delivered == s.N), verdict(s.Throttled == 0))
		p("")
	}
	if err != nil {
		p("**pdload failed:** `%v`", err)
		p("")
	}
	return b.String()
}
