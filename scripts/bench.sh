#!/usr/bin/env bash
# Runs every benchmark of the project and writes the report BENCHMARKS.md
# (`make bench`):
#
#   1. micro-benchmarks of the exporter's hot paths, COUNT interleaved rounds:
#      mapping (recordmap BenchmarkMap), dedup cache decide+record serial and
#      parallel (BenchmarkDecideRecord) and bytes per entry at 200,000 and
#      1,000,000 entries, the rate limiter's acquire (BenchmarkLimiterWait);
#   2. bench/run.sh: the full path, exporter vs go-pagerduty vs net/http;
#   3. cmd/pdload: the built collector and the simulator as processes
#      (latency, throughput, CPU, RSS, alert storm);
#
# then writes every figure beside the baseline it is compared with (measured
# in the same run: the machine is shared, so absolute figures move with the
# load of other processes, which the report notes) and each target as met or
# missed, with a CPU profile of the relevant path for each missed one.
#
#   scripts/bench.sh           full run, writes BENCHMARKS.md (about 5 minutes on 2 cores)
#   SMOKE=1 scripts/bench.sh   CI: -benchtime=100x, bench/run.sh SMOKE=1, pdload -smoke;
#                              writes _build/bench/BENCHMARKS.smoke.md; checks only that all runs
#
# Environment: OUTDIR (raw results, default _build/bench), REPORT (report
# path), COUNT and BENCHTIME (micro-benchmarks, default 5 and 1s), PDLOAD_FLAGS
# (extra pdload flags). Needs _build/otelcol-pagerduty and _build/pdsim
# (`make build pdsim`; the make targets build them first).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
SMOKE=${SMOKE:-0}
OUTDIR=${OUTDIR:-_build/bench}
case "$OUTDIR" in /*) ;; *) OUTDIR=$ROOT/$OUTDIR ;; esac
if [[ "$SMOKE" == 1 ]]; then
	COUNT=1
	BENCHTIME=100x
	REPORT=${REPORT:-$OUTDIR/BENCHMARKS.smoke.md}
	PROFILE_BENCHTIME=100x
else
	COUNT=${COUNT:-5}
	BENCHTIME=${BENCHTIME:-1s}
	REPORT=${REPORT:-$ROOT/BENCHMARKS.md}
	PROFILE_BENCHTIME=
fi
mkdir -p "$OUTDIR"
rm -rf "$OUTDIR"/micro.txt "$OUTDIR"/*.medians "$OUTDIR"/fullpath "$OUTDIR"/e2e* "$OUTDIR"/profiles
mkdir -p "$OUTDIR/profiles"
failed=()
script_start=$(date +%s)

for bin in _build/otelcol-pagerduty _build/pdsim; do
	[[ -x "$bin" ]] || { echo "bench: $bin missing; run make build pdsim (make bench does)" >&2; exit 1; }
done
go build -o _build/pdload ./cmd/pdload

# busy_cores SECONDS: cores' worth of CPU the whole machine used over SECONDS.
busy_cores() {
	local a b
	a=$(awk '/^cpu / {print $2+$3+$4+$7+$8+$9, $2+$3+$4+$5+$6+$7+$8+$9}' /proc/stat)
	sleep "$1"
	b=$(awk '/^cpu / {print $2+$3+$4+$7+$8+$9, $2+$3+$4+$5+$6+$7+$8+$9}' /proc/stat)
	awk -v a="$a" -v b="$b" -v n="$(nproc)" 'BEGIN { split(a, x, " "); split(b, y, " "); t = y[2] - x[2]; printf "%.2f", (t > 0) ? (y[1] - x[1]) / t * n : 0 }'
}
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
if [[ "$SMOKE" == 1 ]]; then idle_secs=1; else idle_secs=5; fi
busy_start=$(busy_cores "$idle_secs")
echo "bench: machine load before the run: loadavg $load_start; other processes busy $busy_start cores over ${idle_secs}s" >&2

# medians FILE: "name unit median" for every metric of every benchmark in
# FILE (go test -bench output; the -GOMAXPROCS suffix is dropped).
medians() {
	awk '
	/^Benchmark/ {
		name = $1; sub(/-[0-9]+$/, "", name)
		for (i = 3; i < NF; i += 2) { key = name " " $(i + 1); v[key, ++n[key]] = $i }
	}
	END {
		for (key in n) {
			c = n[key]; delete a
			for (i = 1; i <= c; i++) a[i] = v[key, i]
			for (i = 2; i <= c; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
			printf "%s %s\n", key, (c % 2) ? a[(c + 1) / 2] : (a[c / 2] + a[c / 2 + 1]) / 2
		}
	}' "$1" | sort
}

# --- 1. micro-benchmarks -----------------------------------------------------
# Test binaries are built once and run COUNT times with -count 1, the
# packages taking turns, so a busy spell hits all of them alike.
PKG=exporter/pagerdutyexporter/internal
micro=(
	"recordmap|^BenchmarkMap$"
	"dedup|^(BenchmarkDecideRecord|BenchmarkEntryBytes|BenchmarkEntryBytesMillion)$"
	"eventsapi|^BenchmarkLimiterWait$"
)
micro_start=$(date +%s)
for spec in "${micro[@]}"; do
	pkg=${spec%%|*}
	go test -c -o "$OUTDIR/$pkg.test" "./$PKG/$pkg"
done
echo "bench: micro-benchmarks, $COUNT round(s) of -benchtime $BENCHTIME" >&2
: >"$OUTDIR/micro.txt"
for ((round = 1; round <= COUNT; round++)); do
	for spec in "${micro[@]}"; do
		pkg=${spec%%|*} pattern=${spec#*|}
		if ! (cd "$PKG/$pkg" && "$OUTDIR/$pkg.test" -test.run '^$' -test.bench "$pattern" -test.benchmem \
			-test.count 1 -test.benchtime "$BENCHTIME") >>"$OUTDIR/micro.txt" 2>&1; then
			failed+=("micro-benchmarks of $pkg (round $round)")
		fi
	done
done
micro_secs=$(($(date +%s) - micro_start))
grep -E '^Benchmark' "$OUTDIR/micro.txt" >&2 || true
medians "$OUTDIR/micro.txt" >"$OUTDIR/micro.medians"

# --- 2. full path: bench/run.sh ----------------------------------------------
echo "bench: bench/run.sh (full path: exporter vs go-pagerduty vs net/http)" >&2
fp_start=$(date +%s)
if ! OUT="$OUTDIR/fullpath" SMOKE="$SMOKE" bench/run.sh >"$OUTDIR/fullpath.md" 2>"$OUTDIR/fullpath.log"; then
	failed+=("bench/run.sh (see $OUTDIR/fullpath.log)")
fi
fp_secs=$(($(date +%s) - fp_start))
[[ -f "$OUTDIR/fullpath/bench.txt" ]] && medians "$OUTDIR/fullpath/bench.txt" >"$OUTDIR/fullpath.medians"
touch "$OUTDIR/fullpath.medians"

# --- 3. end to end: pdload ---------------------------------------------------
echo "bench: cmd/pdload (collector and simulator processes)" >&2
e2e_start=$(date +%s)
smoke_flag=()
[[ "$SMOKE" == 1 ]] && smoke_flag=(-smoke)
# shellcheck disable=SC2086 # PDLOAD_FLAGS is a list of flags
if ! _build/pdload "${smoke_flag[@]}" -workdir "$OUTDIR/e2e" -md "$OUTDIR/e2e.md" -targets "$OUTDIR/e2e.targets" \
	-json "$OUTDIR/e2e.json" ${PDLOAD_FLAGS:-} >/dev/null 2>"$OUTDIR/e2e.log"; then
	failed+=("cmd/pdload (see $OUTDIR/e2e.log)")
fi
cat "$OUTDIR/e2e.log" >&2
e2e_secs=$(($(date +%s) - e2e_start))
touch "$OUTDIR/e2e.md" "$OUTDIR/e2e.targets"

load_end=$(cut -d' ' -f1-3 /proc/loadavg)
total_secs=$(($(date +%s) - script_start))

# --- figures -----------------------------------------------------------------
# m FILE NAME UNIT: a median, or empty.
m() { awk -v k="$2" -v u="$3" '$1 == k && $2 == u { print $3 }' "$OUTDIR/$1.medians"; }
# calc EXPR: awk arithmetic on numbers; empty when an operand is missing.
calc() { awk "BEGIN { print $1 }" 2>/dev/null; }
# share A B: A/B as a percentage, or n/a.
share() { if [[ -n "$1" && -n "$2" ]] && awk -v b="$2" 'BEGIN { exit !(b != 0) }'; then awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f %%", 100 * a / b }'; else echo "n/a"; fi; }
# ratio A B: A/B as "0.42×", or n/a.
ratio() { if [[ -n "$1" && -n "$2" ]] && awk -v b="$2" 'BEGIN { exit !(b != 0) }'; then awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f×", a / b }'; else echo "n/a"; fi; }
# num X [DECIMALS]: a figure for the table, n/a when missing.
num() { if [[ -n "$1" ]]; then awk -v x="$1" -v d="${2:-0}" 'BEGIN { printf "%.*f", d, x }'; else echo "n/a"; fi; }
# below A B: exit 0 when A < B.
below() { [[ -n "$1" ]] && awk -v a="$1" -v b="$2" 'BEGIN { exit !(a < b) }'; }
verdict() { if "$@"; then echo "**met**"; else echo "**missed**"; fi; }

map_ns=$(m micro BenchmarkMap ns/op)
map_b=$(m micro BenchmarkMap B/op)
map_allocs=$(m micro BenchmarkMap allocs/op)
dr_serial=$(m micro BenchmarkDecideRecord/serial ns/op)
dr_parallel=$(m micro BenchmarkDecideRecord/parallel ns/op)
eb_200k=$(m micro BenchmarkEntryBytes bytes/entry)
eb_1m=$(m micro BenchmarkEntryBytesMillion bytes/entry)
eb_1m_lookup=$(m micro BenchmarkEntryBytesMillion ns/op)
eb_200k_lookup=$(m micro BenchmarkEntryBytes ns/op)
lim_off=$(m micro BenchmarkLimiterWait/off ns/op)
lim_serial=$(m micro BenchmarkLimiterWait/unthrottled ns/op)
lim_parallel=$(m micro BenchmarkLimiterWait/unthrottled-parallel ns/op)
lim_b=$(m micro BenchmarkLimiterWait/unthrottled B/op)
lim_allocs=$(m micro BenchmarkLimiterWait/unthrottled allocs/op)
fp_ex=$(m fullpath BenchmarkFullPath/exporter ns/op)
fp_nh=$(m fullpath BenchmarkFullPath/nethttp ns/op)

declare -a targets=() missed=()
# target NAME FIGURE BASELINE MET(0/1)
target() {
	local v="**missed**"
	if [[ "$4" == 1 ]]; then v="**met**"; else missed+=("$1"); fi
	targets+=("| $1 | $2 | $3 | $v |")
}
ok() { if "$@"; then echo 1; else echo 0; fi; }
target "mapping < 5 µs per record (BenchmarkMap ns/op)" "$(num "$map_ns") ns/op" "budget 5,000 ns/op: $(ratio "$map_ns" 5000)" "$(ok below "$map_ns" 5000)"
target "mapping < 40 allocs per record (BenchmarkMap allocs/op)" "$(num "$map_allocs") allocs/op" "budget 40: $(ratio "$map_allocs" 40)" "$(ok below "$map_allocs" 40)"
fp_line=$(grep -m1 -E '^\*\*Target exporter' "$OUTDIR/fullpath.md" || true)
if [[ -n "$fp_line" ]]; then
	fp_met=0
	[[ "$fp_line" == *": met**"* ]] && fp_met=1
	fp_ratio=$(sed -E 's/.*\(ratio ([0-9.]+)\).*/\1/' <<<"$fp_line")
	target "full path: exporter ns/op ≤ 1.15 × the faster of go-pagerduty and net/http (bench/run.sh)" \
		"$(num "$fp_ex") ns/op" "ratio ${fp_ratio}× (see the full-path table)" "$fp_met"
else
	target "full path: exporter ns/op ≤ 1.15 × the faster of go-pagerduty and net/http (bench/run.sh)" "n/a (run failed)" "" 0
fi
pd_target() { # pdload target line by name prefix
	local line
	line=$(grep -m1 -F "$1" "$OUTDIR/e2e.targets" || true)
	if [[ -z "$line" ]]; then
		target "$2" "n/a (pdload failed)" "" 0
		return
	fi
	IFS=$'\t' read -r _ fig v <<<"$line"
	target "$2" "$fig" "$3" "$([[ "$v" == met ]] && echo 1 || echo 0)"
}
pd_target "p99 latency added" "end to end: p99 latency added by the collector < 5 ms at 200 events/s" "direct posts to the simulator, same run"
pd_target "storm drain" "storm: drain within 5 % of the theoretical minimum" "(N/K − burst) / rate"
pd_target "storm: zero 429s" "storm: zero 429s" "0"

# --- profiles of missed targets ---------------------------------------------
profile_md=""
# trim: cut pprof lines to 170 characters (generic and closure names run long).
trim() { awk '{ if (length($0) > 170) print substr($0, 1, 169) "…"; else print }'; }
# cpuprofile NAME DIR PATTERN BENCHTIME: profile one benchmark into profiles/NAME.{test,prof}.
cpuprofile() {
	(cd "$2" && go test -run '^$' -bench "$3" -benchmem -count 1 -benchtime "$4" \
		-cpuprofile "$OUTDIR/profiles/$1.prof" -o "$OUTDIR/profiles/$1.test" . >"$OUTDIR/profiles/$1.txt" 2>&1)
}
# profile NAME TITLE DIR PATTERN BENCHTIME [BASE_PATTERN]: pprof -top of one
# benchmark and, with BASE_PATTERN, pprof -diff_base against that baseline
# benchmark of the same package: where the path spends more than its baseline.
profile() {
	local name=$1 title=$2 dir=$3 pattern=$4 bt=$5 base=${6:-}
	echo "bench: profiling $title" >&2
	profile_md+=$'\n'"### $title"$'\n\n'
	if ! cpuprofile "$name" "$dir" "$pattern" "$bt"; then
		profile_md+="profiling failed; see $OUTDIR/profiles/$name.txt"$'\n'
		return
	fi
	profile_md+="\`go test -bench '$pattern' -benchtime $bt -cpuprofile\` in \`$dir\` ($(grep -m1 -E '^Benchmark' "$OUTDIR/profiles/$name.txt" | awk '{print $3, $4}')), then \`go tool pprof -top -nodecount=25\` (own time):"$'\n\n```\n'
	profile_md+=$(go tool pprof -top -nodecount=25 "$OUTDIR/profiles/$name.test" "$OUTDIR/profiles/$name.prof" 2>/dev/null | trim)
	profile_md+=$'\n```\n'
	if [[ -n "$base" ]] && cpuprofile "$name-base" "$dir" "$base" "$bt"; then
		profile_md+=$'\n'"Against its baseline \`$base\` ($(grep -m1 -E '^Benchmark' "$OUTDIR/profiles/$name-base.txt" | awk '{print $3, $4}'), same benchtime): \`go tool pprof -top -cum -nodecount=45 -diff_base base.prof\`, positive = spent only or more on the measured path:"$'\n\n```\n'
		profile_md+=$(go tool pprof -top -cum -nodecount=45 -diff_base "$OUTDIR/profiles/$name-base.prof" \
			"$OUTDIR/profiles/$name.test" "$OUTDIR/profiles/$name.prof" 2>/dev/null | sed -n '/flat%/,$p' | trim)
		profile_md+=$'\n```\n'
	else
		profile_md+=$'\n'"\`go tool pprof -top -cum -nodecount=40\` (cumulative):"$'\n\n```\n'
		profile_md+=$(go tool pprof -top -cum -nodecount=40 "$OUTDIR/profiles/$name.test" "$OUTDIR/profiles/$name.prof" 2>/dev/null | sed -n '/flat%/,$p' | trim)
		profile_md+=$'\n```\n'
	fi
}
for t in "${missed[@]}"; do
	case "$t" in
	mapping*)
		[[ "$profile_md" == *"### mapping"* ]] || profile map "mapping (BenchmarkMap)" "$PKG/recordmap" '^BenchmarkMap$' "${PROFILE_BENCHTIME:-3s}"
		;;
	"full path"* | "end to end"*)
		[[ "$profile_md" == *"### full path"* ]] ||
			profile fullpath "full path of one event (BenchmarkFullPath/exporter)" bench 'BenchmarkFullPath/exporter$' "${PROFILE_BENCHTIME:-50000x}" 'BenchmarkFullPath/nethttp$'
		;;
	storm*)
		[[ "$profile_md" == *"### storm"* ]] || profile_md+=$'\n'"### storm"$'\n\n'"A drain time is spent waiting, not computing, so a CPU profile does not explain it: see the per-key drains, the exporter's rate-limit wait and the simulator's 429 count in the storm table above."$'\n'
		;;
	esac
done
if [[ ${#missed[@]} -eq 0 ]]; then
	profile_md=$'\nEvery target was met; no profile taken.\n'
fi

# --- report ------------------------------------------------------------------
cpu=$(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ *//')
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
if [[ -n "$(GIT_OPTIONAL_LOCKS=0 git status --porcelain 2>/dev/null)" ]]; then commit+=" (working tree with uncommitted changes)"; fi
mode="full"
[[ "$SMOKE" == 1 ]] && mode="SMOKE: tiny sizes for CI, figures not meaningful"
mb_1m=$(calc "($eb_1m + 40) * 1000000 / 1048576" || true)

{
	echo "# Benchmarks"
	echo
	echo "Generated by \`make bench\` (\`scripts/bench.sh\`); do not edit by hand. Mode: $mode."
	echo
	echo "| | |"
	echo "|---|---|"
	echo "| machine | $(nproc) cores, ${cpu:-unknown CPU}, Linux $(uname -r) |"
	echo "| Go | $(go version | awk '{print $3, $4}') |"
	echo "| date | $(date -u '+%Y-%m-%d %H:%M UTC') |"
	echo "| commit | $commit |"
	echo "| load | shared machine. Before the run: load average $load_start, other processes busy $busy_start cores (over ${idle_secs} s); after: load average $load_end. Each end-to-end phase below reports the CPU other processes took while it ran. Absolute figures move with that load; every comparison is against a baseline measured in the same run, alternating with it. |"
	echo "| wall time | ${total_secs} s: micro-benchmarks ${micro_secs} s, bench/run.sh ${fp_secs} s, pdload ${e2e_secs} s |"
	echo
	echo "## Targets"
	echo
	echo "| target | measured | baseline / budget | verdict |"
	echo "|---|---:|---|---|"
	printf '%s\n' "${targets[@]}"
	if [[ ${#failed[@]} -gt 0 ]]; then
		echo
		echo "**Runs that failed:** ${failed[*]}"
	fi
	echo
	echo "## Micro-benchmarks"
	echo
	echo "Medians of $COUNT interleaved round(s) of \`-benchtime $BENCHTIME -benchmem\` (the three test binaries taking turns), GOMAXPROCS $(nproc). The full-path figure is the exporter's \`BenchmarkFullPath/exporter\` ns/op from bench/run.sh below (same run): one event mapped, deduplicated, rate-limited and sent over HTTP to an in-process server."
	echo
	echo "| benchmark | figure | baseline | baseline figure | ratio |"
	echo "|---|---:|---|---:|---:|"
	echo "| BenchmarkMap: one typical alert (8 attributes) to its Events API JSON body | $(num "$map_ns") ns/op | target budget | 5000 ns/op | $(ratio "$map_ns" 5000) |"
	echo "| | | full path of one event (exporter) | $(num "$fp_ex") ns/op | $(share "$map_ns" "$fp_ex") of it |"
	echo "| BenchmarkMap allocs | $(num "$map_allocs") allocs/op, $(num "$map_b") B/op | target budget | 40 allocs/op | $(ratio "$map_allocs" 40) |"
	echo "| BenchmarkDecideRecord/serial: dedup lookup+update, 1,000 keys | $(num "$dr_serial") ns/op | full path of one event (exporter) | $(num "$fp_ex") ns/op | $(share "$dr_serial" "$fp_ex") of it |"
	echo "| BenchmarkDecideRecord/parallel ($(nproc) goroutines) | $(num "$dr_parallel") ns/op | serial, same run | $(num "$dr_serial") ns/op | $(ratio "$dr_parallel" "$dr_serial") |"
	echo "| BenchmarkLimiterWait/unthrottled: acquire on a key under its budget, rate limit on | $(num "$lim_serial") ns/op ($(num "$lim_b") B/op, $(num "$lim_allocs") allocs/op) | BenchmarkLimiterWait/off (events_per_minute 0) | $(num "$lim_off" 1) ns/op | $(ratio "$lim_serial" "$lim_off") |"
	echo "| | | full path of one event (exporter) | $(num "$fp_ex") ns/op | $(share "$lim_serial" "$fp_ex") of it |"
	echo "| BenchmarkLimiterWait/unthrottled-parallel ($(nproc) goroutines, one key each, shared limiter) | $(num "$lim_parallel") ns/op | unthrottled serial, same run | $(num "$lim_serial") ns/op | $(ratio "$lim_parallel" "$lim_serial") |"
	echo "| BenchmarkEntryBytesMillion: dedup cache heap per entry at 1,000,000 entries (40-byte keys, keys not counted) | $(num "$eb_1m" 1) bytes/entry | BenchmarkEntryBytes at 200,000 entries | $(num "$eb_200k" 1) bytes/entry | $(ratio "$eb_1m" "$eb_200k") |"
	echo "| | with the keys: $(num "$(calc "$eb_1m + 40")" 1) bytes/entry, $(num "$mb_1m" 1) MiB for 1,000,000 | | | |"
	echo "| lookup in the full cache (Decide of a known key) | $(num "$eb_1m_lookup") ns/op | same at 200,000 entries | $(num "$eb_200k_lookup") ns/op | $(ratio "$eb_1m_lookup" "$eb_200k_lookup") |"
	echo
	echo "The limiter's B/op is the amortized growth of each key's log of send times, which the benchmark lets grow to 65,536 entries to never wait; with a real events_per_minute (120) the log stops at 120 entries. A parallel benchmark's ns/op is wall time per op over all $(nproc) goroutines: perfect scaling would show 0.50× its serial run, 1.00× means no gain from the second core (on this shared machine other processes also hold part of it). The 1,000,000-entry lookup misses the CPU caches on every op (the keys are visited with a stride), the 200,000-entry one repeats one key."
	echo
	echo "<details><summary>raw micro-benchmark output</summary>"
	echo
	echo '```'
	grep -E '^(Benchmark|goos|goarch|cpu|pkg)' "$OUTDIR/micro.txt" | awk '!(/^(goos|goarch|cpu|pkg)/ && seen[$0]++)'
	echo '```'
	echo
	echo "</details>"
	echo
	echo "## Full path: exporter vs go-pagerduty vs net/http (bench/run.sh)"
	echo
	if [[ -s "$OUTDIR/fullpath.md" ]]; then
		sed -E 's/^### /### /' "$OUTDIR/fullpath.md" | sed -e '/^$/N;/^\n$/D'
	else
		echo "bench/run.sh failed; see $OUTDIR/fullpath.log."
	fi
	echo
	echo "## End to end"
	echo
	if [[ -s "$OUTDIR/e2e.md" ]]; then cat "$OUTDIR/e2e.md"; else echo "pdload failed; see $OUTDIR/e2e.log."; fi
	echo "## Profiles of missed targets"
	echo "$profile_md"
	echo "## Reproduce"
	echo
	echo '```'
	echo "make bench          # this report (scripts/bench.sh); raw results in _build/bench/"
	echo "make bench-e2e      # only the end-to-end harness (_build/pdload; SMOKE=1 for tiny sizes)"
	echo "make bench-smoke    # everything with tiny sizes, for CI (report in _build/bench/BENCHMARKS.smoke.md)"
	echo "go test -run '^\$' -bench EntryBytes ./exporter/pagerdutyexporter/internal/dedup/"
	echo "bench/run.sh         # full path only; PROFILE=1 adds a CPU profile"
	echo '```'
} >"$REPORT"

echo "bench: wrote $REPORT in ${total_secs}s (raw results in $OUTDIR)" >&2
if [[ ${#failed[@]} -gt 0 ]]; then
	echo "bench: failed: ${failed[*]}" >&2
	exit 1
fi
