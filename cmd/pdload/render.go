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
	if pg := r.Page; pg != nil {
		renderPage(p, o, pg)
	}
	if err != nil {
		p("**pdload failed:** `%v`", err)
		p("")
	}
	return b.String()
}

// renderPage is the page phase's section.
func renderPage(p func(string, ...any), o *options, pg *pageResult) {
	before := "no baseline collector given (-baseline-collector): the after side only"
	if pg.Baseline != "" || o.baselineBin != "" {
		label := pg.Baseline
		if label == "" {
			label = "`" + o.baselineBin + "`"
		}
		before = "**before**: the collector built from " + label + ", one FIFO sending queue for all routing keys and priorities"
	}
	rate := float64(pg.PerMinute) / 60
	p("#### Time to page: before and after per-route, per-priority sending queues")
	p("")
	p("%s; **after**: this tree's collector, one sending queue per route and priority, the rate limiter handing the next free slot to the most urgent waiter. Each scenario and side runs on a fresh simulator and collector: routes `%s` and `%s` (routing on `service.name`, one integration key each), exporter `rate_limit: {events_per_minute: %d, burst: %d}` per routing key, default `sending_queue` (10 consumers per queue), simulator `-rate-limit %d`. *Time to page*: from just before the OTLP request carrying the alert is sent to the simulator's receipt of its event (`GET /incidents`, one machine, one clock). An alert not paged within %v is *not paged*: its time to page is only known to exceed the time it was watched, and a percentile that falls on such alerts is a lower bound, shown as \"> x\" (its ratio as \"< x\"). Each collector is killed at the end of its scenario, not drained. With %d samples the p99 is their maximum.",
		before, busyRoute, quietRoute, pg.PerMinute, pg.Burst, pg.PerMinute, pg.Timeout, max(pg.QuietSamples, pg.BacklogSamples))
	p("")
	table := func(runs []*pageRun, backlogCol string) {
		p("| collector | alerts paged | p50 | p99 | max | %s when posted | %s events sent between posting and paging (max / sum over alerts) | 429s | wall | load average | other load |", backlogCol, busyRoute)
		p("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|")
		for _, r := range runs {
			name := "after (this tree)"
			if r.Side == sideBefore {
				name = "before (" + pg.Baseline + ")"
				if pg.Baseline == "" {
					name = "before (baseline)"
				}
			}
			st := r.Stats
			p("| %s | %d/%d | %s | %s | %s | %d–%d | %d / %d | %d | %s | %.2f → %.2f | %.2f cores |", name, st.Paged, st.N,
				fmtQ(st.P50), fmtQ(st.P99), fmtQ(st.Max), st.BacklogLo, st.BacklogHi, st.AheadMax, st.AheadSum, r.Throttled,
				secs(r.Elapsed), r.Load1Before, r.Load1After, r.OtherCores)
		}
		b, a := side(runs, sideBefore), side(runs, sideAfter)
		if b != nil && a != nil {
			p("| **after / before** | | **%s** | **%s** | %s | | | | | | |",
				ratioQ(a.Stats.P50, b.Stats.P50), ratioQ(a.Stats.P99, b.Stats.P99), ratioQ(a.Stats.Max, b.Stats.Max))
		}
		p("")
		for _, r := range runs {
			if r.Stopped != "" {
				p("%s: %s.", r.Side, r.Stopped)
			}
			if r.LogProblems > 0 {
				p("%s: %d collector warn/error log lines.", r.Side, r.LogProblems)
			}
		}
	}

	p("##### Quiet route during a storm")
	p("")
	p("%d distinct critical alerts on `%s` in %d OTLP requests of %d (more requests than a queue's 10 consumers, so that one FIFO queue holds a backlog of them; far beyond the route's %d per minute: at %.2f events/s it would drain in about %.0f s); once its first burst reached the simulator and a second passed, %d single critical alerts on `%s`, one request each, one every %v (posted on schedule whether or not the previous one was paged); watched until %v after the last was posted. The storm is critical too, so the quiet route's alerts gain nothing from priority, only from having their own queues.",
		pg.StormN, busyRoute, ceilDiv(pg.StormN, pg.StormBatch), pg.StormBatch, pg.PerMinute, rate, float64(pg.StormN)/rate, pg.QuietSamples, quietRoute, pg.QuietInterval, pg.Timeout)
	p("")
	table(pg.Quiet, "storm alerts not yet sent")
	if a := side(pg.Quiet, sideAfter); a != nil {
		st := a.Stats
		p("Target p99 ≤ 1 s: %s.", verdict(st.N > 0 && st.Paged == st.N && st.P99.Hi <= time.Second))
		p("")
	}

	p("##### Critical behind a backlog on its own route")
	p("")
	p("%d info alerts on `%s` in %d OTLP requests of %d (more than a queue's 10 consumers: with fewer, one FIFO queue would leave a consumer free for the critical alert, which would then wait only behind the other waiters at the rate limiter); once its first burst reached the simulator and 1.5 s passed, %d critical alerts on `%s`, one request each, one at a time: each is posted once the previous one is paged, after a pause of 0, 0.3, 0.6, 0.9, 0.2, … of the limiter's slot period (%v), so that the samples fall at every phase of it; a sample not paged within %v ends the series (every later one would wait behind it). *Events sent between posting and paging*: events of the info backlog the simulator received in that interval (for a sample not paged: until the watch ended).",
		pg.BacklogN, busyRoute, ceilDiv(pg.BacklogN, pg.BacklogBatch), pg.BacklogBatch, pg.BacklogSamples, busyRoute, time.Minute/time.Duration(max(pg.PerMinute, 1)), pg.Timeout)
	p("")
	table(pg.Backlog, "info alerts not yet sent")
	if a := side(pg.Backlog, sideAfter); a != nil {
		st := a.Stats
		p("Targets: p99 ≤ 3 s behind ≥ %d info alerts: %s; at most 1 backlog event sent between posting and paging: %s.",
			pageBacklogTarget, verdict(st.N > 0 && st.Paged == st.N && st.P99.Hi <= 3*time.Second && st.BacklogLo >= pageBacklogTarget),
			verdict(st.N > 0 && st.Paged == st.N && st.AheadMax <= 1))
		p("")
	}
}

func ceilDiv(a, b int) int { return (a + max(b, 1) - 1) / max(b, 1) }
