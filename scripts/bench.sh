#!/usr/bin/env bash
# Runs every benchmark of the project and writes the report BENCHMARKS.md
# (`make bench`):
#
#   1. micro-benchmarks of the exporter's hot paths, COUNT interleaved rounds:
#      identifying a record (recordmap BenchmarkIdentify), dedup cache
#      decide+record serial and parallel (BenchmarkDecideRecord) and bytes per
#      entry at 200,000 and 1,000,000 entries, the rate limiter's acquire
#      (BenchmarkLimiterWait);
#   2. bench/run.sh: the full path, exporter vs go-pagerduty vs net/http;
#   3. cmd/pdload: the built collector and the simulator as processes
#      (latency, throughput, CPU, RSS, alert storm, time to page);
#
# and two earlier commits, each built in the same run from a temporary git
# worktree in _build/ (removed on the way out):
#
#   - PREVIOUS_COMMIT (90c133c, main before newest intent, whoever decides), whose
#     test binaries run in the same rounds as this tree's, the two trees
#     taking turns: mapping cost (BenchmarkMap) and suppressed-record
#     throughput (bench/ BenchmarkSuppressed), COUNT rounds; the full path
#     (its BenchmarkFullPath in bench/run.sh's rounds); the heap per tracked
#     alert (its BenchmarkEntryBytesMillion against this tree's
#     BenchmarkQuietClockMillion, whose quiet clocks run, MEM_COUNT rounds of
#     -benchtime MEM_BENCHTIME);
#   - BASELINE_COMMIT (334c901, the last commit with one FIFO sending queue),
#     whose collector runs pdload's time-to-page phase too (before and after
#     per-route, per-priority queues);
#
# then writes every figure beside the baseline it is compared with (measured
# in the same run: the machine is shared, so absolute figures move with the
# load of other processes, which the report notes) and each target as met or
# missed, with a profile of the relevant path for each missed one.
#
#   scripts/bench.sh           full run, writes BENCHMARKS.md (about 10 to 15 minutes on 2 cores)
#   SMOKE=1 scripts/bench.sh   CI: -benchtime=100x, bench/run.sh SMOKE=1, pdload -smoke, no
#                              builds of earlier commits (this tree's benchmarks only);
#                              writes _build/bench/BENCHMARKS.smoke.md; checks only that all runs
#
# Environment: OUTDIR (raw results, default _build/bench), REPORT (report
# path), COUNT and BENCHTIME (micro-benchmarks and the comparisons, default 5
# and 1s), MEM_COUNT and MEM_BENCHTIME (the 1,000,000-alert benchmarks,
# default 3 and 1000x: their set-up dominates), PDLOAD_FLAGS (extra pdload
# flags), PREVIOUS_COMMIT and BASELINE_COMMIT (see below). Needs
# _build/otelcol-pagerduty and _build/pdsim (`make build pdsim`; the make
# targets build them first) and, for the baseline, ocb in .tools/ (`make
# builder`, installed here when missing).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
SMOKE=${SMOKE:-0}
OUTDIR=${OUTDIR:-_build/bench}
case "$OUTDIR" in /*) ;; *) OUTDIR=$ROOT/$OUTDIR ;; esac
if [[ "$SMOKE" == 1 ]]; then
	COUNT=1
	BENCHTIME=100x
	MEM_COUNT=1
	MEM_BENCHTIME=10x
	REPORT=${REPORT:-$OUTDIR/BENCHMARKS.smoke.md}
	PROFILE_BENCHTIME=100x
else
	COUNT=${COUNT:-5}
	BENCHTIME=${BENCHTIME:-1s}
	MEM_COUNT=${MEM_COUNT:-3}
	MEM_BENCHTIME=${MEM_BENCHTIME:-1000x}
	REPORT=${REPORT:-$ROOT/BENCHMARKS.md}
	PROFILE_BENCHTIME=
fi
# The "before" of every before/after comparison: the last commit with one
# FIFO sending queue for all routing keys, i.e. the parent of the series
# that brought per-route, per-priority queues (4aa996e..c252406). Its direct
# parent 4aa996e is not used: it changed the limiter's API before the
# exporter used it and does not build.
# It is the "before" of the time to page only.
BASELINE_COMMIT=${BASELINE_COMMIT:-334c901599df0b9fd2f2ae582b72a5f88aca21d8}
BASE_SRC=$ROOT/_build/baseline-src # temporary worktree of BASELINE_COMMIT
BASE_BIN=$ROOT/_build/baseline/otelcol-pagerduty
# The "before" of the mapping cost, the suppressed-record throughput, the
# full path's ratio to net/http and the heap per tracked alert: main before
# the current round of work (before auto-resolve's quiet clocks, among
# others).
PREVIOUS_COMMIT=${PREVIOUS_COMMIT:-90c133c043895da2838867b3d7741c209975b298}
PREV_SRC=$ROOT/_build/previous-src # temporary worktree of PREVIOUS_COMMIT
mkdir -p "$OUTDIR"
rm -rf "$OUTDIR"/micro.txt "$OUTDIR"/*.medians "$OUTDIR"/fullpath "$OUTDIR"/e2e* "$OUTDIR"/profiles "$OUTDIR"/cmp-*.txt "$OUTDIR"/mem-*.txt \
	"$OUTDIR"/baseline-build.log "$OUTDIR"/previous-build.log "$OUTDIR"/*.test
mkdir -p "$OUTDIR/profiles"
failed=()
script_start=$(date +%s)
PKG=exporter/pagerdutyexporter/internal

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

# --- 0. builds of the earlier commits ----------------------------------------
# BASELINE_COMMIT: a temporary worktree built with ocb from its own
# builder-config.yaml (output in its _build/, the binary copied to
# _build/baseline/). PREVIOUS_COMMIT: a temporary worktree, the test binaries
# of the compared benchmarks only. Both worktrees are removed on exit,
# whatever happens.
remove_worktree() { # DIR
	if [[ -e "$1" ]]; then
		git worktree remove --force "$1" 2>/dev/null || rm -rf "$1"
	fi
}
remove_worktrees() {
	remove_worktree "$BASE_SRC"
	remove_worktree "$PREV_SRC"
}
trap remove_worktrees EXIT
base_ok=0
base_secs=0
base_short=$(git rev-parse --short "$BASELINE_COMMIT" 2>/dev/null || echo "$BASELINE_COMMIT")
prev_ok=0
prev_secs=0
prev_short=$(git rev-parse --short "$PREVIOUS_COMMIT" 2>/dev/null || echo "$PREVIOUS_COMMIT")
if [[ "$SMOKE" != 1 ]]; then
	echo "bench: building the baseline $base_short (temporary worktree $BASE_SRC)" >&2
	base_start=$(date +%s)
	remove_worktree "$BASE_SRC"
	[[ -x .tools/builder ]] || make builder >&2
	if git worktree add --force --detach "$BASE_SRC" "$BASELINE_COMMIT" >"$OUTDIR/baseline-build.log" 2>&1 &&
		(cd "$BASE_SRC" && "$ROOT/.tools/builder" --config builder-config.yaml) >>"$OUTDIR/baseline-build.log" 2>&1 &&
		mkdir -p "$(dirname "$BASE_BIN")" && cp "$BASE_SRC/_build/otelcol-pagerduty" "$BASE_BIN"; then
		base_ok=1
	else
		failed+=("baseline build of $base_short (see $OUTDIR/baseline-build.log)")
		tail -20 "$OUTDIR/baseline-build.log" >&2
	fi
	remove_worktree "$BASE_SRC" # only its collector is used from here on
	base_secs=$(($(date +%s) - base_start))

	echo "bench: building the test binaries of $prev_short (temporary worktree $PREV_SRC)" >&2
	prev_start=$(date +%s)
	remove_worktree "$PREV_SRC"
	if git worktree add --force --detach "$PREV_SRC" "$PREVIOUS_COMMIT" >"$OUTDIR/previous-build.log" 2>&1 &&
		(cd "$PREV_SRC" && go test -c -o "$OUTDIR/recordmap-prev.test" "./$PKG/recordmap") >>"$OUTDIR/previous-build.log" 2>&1 &&
		(cd "$PREV_SRC" && go test -c -o "$OUTDIR/dedup-prev.test" "./$PKG/dedup") >>"$OUTDIR/previous-build.log" 2>&1 &&
		(cd "$PREV_SRC/bench" && go test -c -o "$OUTDIR/bench-prev.test" .) >>"$OUTDIR/previous-build.log" 2>&1; then
		prev_ok=1
	else
		failed+=("build of $prev_short (see $OUTDIR/previous-build.log)")
		tail -20 "$OUTDIR/previous-build.log" >&2
	fi
	prev_secs=$(($(date +%s) - prev_start))
fi

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
# BenchmarkMap runs in 1b, in the same rounds as PREVIOUS_COMMIT's.
micro=(
	"recordmap|^BenchmarkIdentify$"
	"dedup|^(BenchmarkDecideRecord|BenchmarkEntryBytes|BenchmarkEntryBytesMillion)$"
	"eventsapi|^BenchmarkLimiterWait$"
)
micro_start=$(date +%s)
for spec in "${micro[@]}"; do
	pkg=${spec%%|*}
	go test -c -o "$OUTDIR/$pkg.test" "./$PKG/$pkg"
done
(cd bench && go test -c -o "$OUTDIR/bench-cur.test" .)
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

# --- 1b. against the previous commit: mapping and suppressed records ---------
# BenchmarkMap (recordmap) and BenchmarkSuppressed (bench/: ConsumeLogs of
# 100 records whose incidents are open, all suppressed as duplicates) of this
# tree and of PREVIOUS_COMMIT, COUNT rounds, the four runs taking turns and
# the two trees swapping order every round. Without the previous build
# (SMOKE, or a failed build), this tree's runs alone.
# cmp_run TREE(cur|prev) BENCH(map|suppressed|mem) BENCHTIME OUTFILE
cmp_run() {
	local dir bin pattern src=$ROOT
	[[ "$1" == prev ]] && src=$PREV_SRC
	case "$2" in
	map) pattern='^BenchmarkMap$' dir=$src/$PKG/recordmap bin=$OUTDIR/recordmap ;;
	suppressed) pattern='^BenchmarkSuppressed$' dir=$src/bench bin=$OUTDIR/bench ;;
	mem)
		# The same 1,000,000 alerts (40-byte keys, open incidents): with their
		# quiet clocks running in this tree, before auto-resolve in the
		# previous one.
		dir=$src/$PKG/dedup bin=$OUTDIR/dedup
		if [[ "$1" == cur ]]; then pattern='^BenchmarkQuietClockMillion$'; else pattern='^BenchmarkEntryBytesMillion$'; fi
		;;
	esac
	case "$1:$2" in
	cur:map | cur:mem) bin=$bin.test ;;
	*) bin=$bin-$1.test ;;
	esac
	(cd "$dir" && "$bin" -test.run '^$' -test.bench "$pattern" -test.benchmem -test.count 1 -test.benchtime "$3") >>"$4" 2>&1
}
trees=(cur)
[[ "$prev_ok" == 1 ]] && trees=(cur prev)
: >"$OUTDIR/cmp-cur.txt"
: >"$OUTDIR/cmp-prev.txt"
echo "bench: mapping and suppressed-record throughput, ${trees[*]}, $COUNT round(s) of -benchtime $BENCHTIME" >&2
cmp_start=$(date +%s)
for ((round = 1; round <= COUNT; round++)); do
	order=("${trees[@]}")
	((round % 2 == 0 && ${#trees[@]} == 2)) && order=(prev cur)
	for b in map suppressed; do
		for tree in "${order[@]}"; do
			cmp_run "$tree" "$b" "$BENCHTIME" "$OUTDIR/cmp-$tree.txt" || failed+=("comparison $b $tree (round $round)")
		done
	done
done
cmp_secs=$(($(date +%s) - cmp_start))
grep -E '^Benchmark' "$OUTDIR/cmp-cur.txt" "$OUTDIR/cmp-prev.txt" >&2 || true
medians "$OUTDIR/cmp-cur.txt" >"$OUTDIR/cmp-cur.medians"
medians "$OUTDIR/cmp-prev.txt" >"$OUTDIR/cmp-prev.medians"

# --- 1c. auto-resolve: heap per tracked alert, idle sweep ---------------------
# BenchmarkQuietClockMillion (this tree: 1,000,000 open alerts whose
# 15-minute quiet clocks run; ns/op is one idle sweep) and PREVIOUS_COMMIT's
# BenchmarkEntryBytesMillion (the same 1,000,000 entries, no clocks),
# MEM_COUNT rounds of -benchtime MEM_BENCHTIME (the set-up of a million
# entries dominates), the trees taking turns.
: >"$OUTDIR/mem-cur.txt"
: >"$OUTDIR/mem-prev.txt"
echo "bench: heap per tracked alert and idle sweep, ${trees[*]}, $MEM_COUNT round(s) of -benchtime $MEM_BENCHTIME" >&2
mem_start=$(date +%s)
for ((round = 1; round <= MEM_COUNT; round++)); do
	order=("${trees[@]}")
	((round % 2 == 0 && ${#trees[@]} == 2)) && order=(prev cur)
	for tree in "${order[@]}"; do
		cmp_run "$tree" mem "$MEM_BENCHTIME" "$OUTDIR/mem-$tree.txt" || failed+=("1,000,000-alert benchmark $tree (round $round)")
	done
done
mem_secs=$(($(date +%s) - mem_start))
grep -E '^Benchmark' "$OUTDIR/mem-cur.txt" "$OUTDIR/mem-prev.txt" >&2 || true
medians "$OUTDIR/mem-cur.txt" >"$OUTDIR/mem-cur.medians"
medians "$OUTDIR/mem-prev.txt" >"$OUTDIR/mem-prev.medians"

# --- 2. full path: bench/run.sh ----------------------------------------------
# With the previous build, its BenchmarkFullPath runs in the same rounds.
echo "bench: bench/run.sh (full path: exporter vs go-pagerduty vs net/http)" >&2
fp_start=$(date +%s)
prev_env=()
[[ "$prev_ok" == 1 ]] && prev_env=(PREVIOUS_TEST="$OUTDIR/bench-prev.test" PREVIOUS_DIR="$PREV_SRC/bench" PREVIOUS_LABEL="$prev_short")
if ! env "${prev_env[@]}" OUT="$OUTDIR/fullpath" SMOKE="$SMOKE" bench/run.sh >"$OUTDIR/fullpath.md" 2>"$OUTDIR/fullpath.log"; then
	failed+=("bench/run.sh (see $OUTDIR/fullpath.log)")
fi
fp_secs=$(($(date +%s) - fp_start))
[[ -f "$OUTDIR/fullpath/bench.txt" ]] && medians "$OUTDIR/fullpath/bench.txt" >"$OUTDIR/fullpath.medians"
[[ -f "$OUTDIR/fullpath/bench-previous.txt" ]] && medians "$OUTDIR/fullpath/bench-previous.txt" >"$OUTDIR/fullpath-prev.medians"
touch "$OUTDIR/fullpath.medians" "$OUTDIR/fullpath-prev.medians"

# --- 3. end to end: pdload ---------------------------------------------------
echo "bench: cmd/pdload (collector and simulator processes)" >&2
e2e_start=$(date +%s)
smoke_flag=()
[[ "$SMOKE" == 1 ]] && smoke_flag=(-smoke)
base_flags=()
[[ "$base_ok" == 1 ]] && base_flags=(-baseline-collector "$BASE_BIN" -baseline-label "$base_short")
# shellcheck disable=SC2086 # PDLOAD_FLAGS is a list of flags
if ! _build/pdload "${smoke_flag[@]}" "${base_flags[@]}" -workdir "$OUTDIR/e2e" -md "$OUTDIR/e2e.md" -targets "$OUTDIR/e2e.targets" \
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
# minus A B: A − B, empty when either is missing.
minus() { if [[ -n "$1" && -n "$2" ]]; then calc "$1 - $2"; fi; }
# share A B: A/B as a percentage, or n/a.
share() { if [[ -n "$1" && -n "$2" ]] && awk -v b="$2" 'BEGIN { exit !(b != 0) }'; then awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f %%", 100 * a / b }'; else echo "n/a"; fi; }
# ratio A B: A/B as "0.42×", or n/a.
ratio() { if [[ -n "$1" && -n "$2" ]] && awk -v b="$2" 'BEGIN { exit !(b != 0) }'; then awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f×", a / b }'; else echo "n/a"; fi; }
# num X [DECIMALS]: a figure for the table, n/a when missing.
num() { if [[ -n "$1" ]]; then awk -v x="$1" -v d="${2:-0}" 'BEGIN { printf "%.*f", d, x }'; else echo "n/a"; fi; }
# below A B: exit 0 when A < B; atmost A B: when A <= B.
below() { [[ -n "$1" ]] && awk -v a="$1" -v b="$2" 'BEGIN { exit !(a < b) }'; }
atmost() { [[ -n "$1" ]] && awk -v a="$1" -v b="$2" 'BEGIN { exit !(a <= b) }'; }
verdict() { if "$@"; then echo "**met**"; else echo "**missed**"; fi; }

# BenchmarkMap: this tree's figures come from the rounds shared with the
# previous commit (1b).
map_ns=$(m cmp-cur BenchmarkMap ns/op)
map_b=$(m cmp-cur BenchmarkMap B/op)
map_allocs=$(m cmp-cur BenchmarkMap allocs/op)
id_ns=$(m micro BenchmarkIdentify ns/op)
id_b=$(m micro BenchmarkIdentify B/op)
id_allocs=$(m micro BenchmarkIdentify allocs/op)
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
fp_gp=$(m fullpath BenchmarkFullPath/gopagerduty ns/op)
fp_prev_ex=$(m fullpath-prev BenchmarkFullPath/exporter ns/op)
fp_prev_nh=$(m fullpath-prev BenchmarkFullPath/nethttp ns/op)
fp_ratio=$(calc "$fp_ex / $fp_nh" || true)
fp_prev_ratio=$(calc "$fp_prev_ex / $fp_prev_nh" || true)
fp_min=$(calc "(($fp_gp < $fp_nh) ? $fp_gp : $fp_nh)" || true)
fp_min_name=$(awk -v g="$fp_gp" -v h="$fp_nh" 'BEGIN { print (g != "" && g < h) ? "go-pagerduty" : "net/http" }')
fp_min_ratio=$(calc "$fp_ex / $fp_min" || true)
# The comparison with the previous commit (cur: this tree).
cmap_prev=$(m cmp-prev BenchmarkMap ns/op)
cmap_allocs_prev=$(m cmp-prev BenchmarkMap allocs/op)
cmap_b_prev=$(m cmp-prev BenchmarkMap B/op)
csup_cur=$(m cmp-cur BenchmarkSuppressed records/s)
csup_prev=$(m cmp-prev BenchmarkSuppressed records/s)
csup_ns_cur=$(m cmp-cur BenchmarkSuppressed ns/op)
csup_ns_prev=$(m cmp-prev BenchmarkSuppressed ns/op)
csup_allocs_cur=$(m cmp-cur BenchmarkSuppressed allocs/op)
csup_allocs_prev=$(m cmp-prev BenchmarkSuppressed allocs/op)
csup_b_cur=$(m cmp-cur BenchmarkSuppressed B/op)
csup_b_prev=$(m cmp-prev BenchmarkSuppressed B/op)
csup_ratio=$(calc "$csup_cur / $csup_prev" || true)
# Auto-resolve: heap per tracked alert and the idle sweep.
qc_bytes=$(m mem-cur BenchmarkQuietClockMillion bytes/alert)
qc_sweep=$(m mem-cur BenchmarkQuietClockMillion ns/op)
qc_prev_bytes=$(m mem-prev BenchmarkEntryBytesMillion bytes/entry)
qc_delta=$(minus "$qc_bytes" "$qc_prev_bytes")
qc_budget=$(calc "$qc_prev_bytes + 16" || true)
qc_core=$(calc "$qc_sweep / 1e9 * 100" || true) # % of a core at one sweep a second

declare -a targets=() missed=()
# target NAME FIGURE BASELINE MET(0/1)
target() {
	local v="**missed**"
	if [[ "$4" == 1 ]]; then v="**met**"; else missed+=("$1"); fi
	targets+=("| $1 | $2 | $3 | $v |")
}
# info NAME FIGURE BASELINE NOTE: a row with no target.
info() { targets+=("| $1 | $2 | $3 | $4 |"); }
ok() { if "$@"; then echo 1; else echo 0; fi; }
# signed X: "+1.5" or "−1.5".
signed() { if [[ -n "$1" ]]; then awk -v x="$1" 'BEGIN { if (x < 0) printf "−%.1f", -x; else printf "+%.1f", x }'; else echo "n/a"; fi; }
# verdict_prev CHECK ARGS...: verdict, or "not measured" without the previous build.
verdict_prev() { if [[ "$prev_ok" == 1 ]]; then verdict "$@"; else echo "not measured"; fi; }
if [[ "$prev_ok" == 1 ]]; then
	prev_map="; $prev_short: $(num "$cmap_prev") ns/op, this / $prev_short $(ratio "$map_ns" "$cmap_prev") (same rounds)"
	prev_allocs="; $prev_short: $(num "$cmap_allocs_prev") allocs/op"
else
	prev_map="; no build of $prev_short in this run"
	prev_allocs=$prev_map
fi
target "mapping ≤ 1.5 µs per record (BenchmarkMap ns/op)" "$(num "$map_ns") ns/op" \
	"budget 1,500 ns/op: $(ratio "$map_ns" 1500)$prev_map" "$(ok atmost "$map_ns" 1500)"
target "mapping ≤ 10 allocs per record (BenchmarkMap allocs/op)" "$(num "$map_allocs") allocs/op" \
	"budget 10: $(ratio "$map_allocs" 10)$prev_allocs" "$(ok atmost "$map_allocs" 10)"
if [[ "$prev_ok" == 1 ]]; then
	target "mapping no more than 5 % slower than $prev_short's (BenchmarkMap ns/op, same rounds)" "$(num "$map_ns") ns/op" \
		"$prev_short: $(num "$cmap_prev") ns/op; ratio $(ratio "$map_ns" "$cmap_prev"), budget ≤ 1.05×" "$(ok atmost "$(awk -v a="$map_ns" -v b="$cmap_prev" 'BEGIN { printf "%.4f", a / b }')" 1.05)"
fi
# unmeasured NAME FIGURE: a target against the previous commit without its
# build: not measured in SMOKE mode, missed when the build failed.
unmeasured() {
	if [[ "$SMOKE" == 1 ]]; then
		info "$1" "$2" "no build of $prev_short in SMOKE mode" "not measured"
	else
		target "$1" "$2" "the build of $prev_short failed" 0
	fi
}
if [[ "$prev_ok" == 1 ]]; then
	target "suppressed path no more than 5 % slower than $prev_short's (BenchmarkSuppressed records/s ≥ 0.95 × its)" "$(num "$csup_cur") records/s" \
		"$prev_short: $(num "$csup_prev") records/s, same rounds; ratio $(ratio "$csup_cur" "$csup_prev"), budget ≥ 0.95×" "$(ok atmost 0.95 "$csup_ratio")"
else
	unmeasured "suppressed path no more than 5 % slower than $prev_short's (BenchmarkSuppressed records/s ≥ 0.95 × its)" "$(num "$csup_cur") records/s"
fi
if [[ -n "$fp_ex" && -n "$fp_nh" ]]; then
	if [[ -n "$fp_prev_ratio" ]]; then
		fp_prev="$prev_short: $(ratio "$fp_prev_ex" "$fp_prev_nh") ($(num "$fp_prev_ex") vs $(num "$fp_prev_nh") ns/op), same rounds"
	else
		fp_prev="no run of $prev_short"
	fi
	target "full path: exporter ns/op ≤ 1.25 × the bare net/http loop, same run (bench/run.sh)" \
		"$(ratio "$fp_ex" "$fp_nh"): $(num "$fp_ex") vs $(num "$fp_nh") ns/op" "$fp_prev; budget 1.25×" "$(ok atmost "$fp_ratio" 1.25)"
	info "full path, former target: exporter ns/op ≤ 1.15 × the faster of go-pagerduty and net/http" \
		"$(ratio "$fp_ex" "$fp_min") of $fp_min_name ($(num "$fp_min") ns/op)" "budget 1.15×" \
		"$(if atmost "$fp_min_ratio" 1.15; then echo "met"; else echo "missed"; fi) (information)"
else
	target "full path: exporter ns/op ≤ 1.25 × the bare net/http loop, same run (bench/run.sh)" "n/a (run failed)" "" 0
fi
info "identifying a record again at delivery (BenchmarkIdentify)" "$(num "$id_ns") ns/op, $(num "$id_allocs") allocs/op" \
	"$(share "$id_ns" "$fp_ex") of the full path's exporter ns/op ($(num "$fp_ex"))" "information"
if [[ "$prev_ok" == 1 ]]; then
	info "heap per tracked alert against $prev_short (BenchmarkQuietClockMillion bytes/alert, 1,000,000 alerts; no target this round)" \
		"$(num "$qc_bytes" 1) bytes/alert ($(signed "$qc_delta"))" \
		"$prev_short BenchmarkEntryBytesMillion: $(num "$qc_prev_bytes" 1) bytes/entry, same rounds" "information"
else
	info "heap per tracked alert (BenchmarkQuietClockMillion bytes/alert, 1,000,000 alerts)" "$(num "$qc_bytes" 1) bytes/alert" "" "information"
fi
target "auto-resolve CPU: an idle exporter's sweeps (one a second) well under 1 % of a core (BenchmarkQuietClockMillion ns/op, 1,000,000 clocks)" \
	"$(num "$qc_sweep" 1) ns per sweep: $(awk -v x="$qc_core" 'BEGIN { if (x == "") print "n/a"; else printf "%.6f %%", x }') of a core" \
	"budget < 1 % (10,000,000 ns per second)" "$(ok below "$qc_core" 1)"
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
if [[ "$SMOKE" == 1 ]]; then
	page_base="no baseline in SMOKE mode"
	page_base2=$page_base
else
	page_base="before: $base_short (one FIFO queue), same run"
	page_base2="before: $base_short, same run (not a target)"
fi
pd_target "time to page, quiet route" "time to page, quiet route during a storm on another route: p99 ≤ 1 s" "$page_base"
pd_target "time to page behind a backlog: critical" "time to page, critical behind a 200-event backlog on its own route at 60/min: p99 ≤ 3 s" "$page_base"
pd_target "time to page behind a backlog: at most" "time to page behind a backlog: ≤ 1 backlog event sent between posting and paging" "$page_base2"

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
# profile_vs_prev NAME TITLE DIR PATTERN BENCHTIME [PREV_PATTERN]: one
# benchmark of this tree and of the previous commit (PREV_PATTERN, default
# the same, in the same DIR of its worktree, same fixed BENCHTIME, so the
# totals compare per op): pprof -diff_base of CPU time and of bytes
# allocated, this tree against the previous commit. Without the previous
# build: profile.
profile_vs_prev() {
	local name=$1 title=$2 dir=$3 pattern=$4 bt=$5 prev_pattern=${6:-$4} tree
	if [[ "$prev_ok" != 1 ]]; then
		profile "$name" "$title" "$dir" "$pattern" "$bt"
		return
	fi
	echo "bench: profiling $title" >&2
	profile_md+=$'\n'"### $title"$'\n\n'
	for tree in cur prev; do
		local d=$dir out=$OUTDIR/profiles/$name pat=$pattern
		[[ "$tree" == prev ]] && d=$PREV_SRC/$dir out=$OUTDIR/profiles/$name-prev pat=$prev_pattern
		if ! (cd "$d" && go test -run '^$' -bench "$pat" -benchmem -count 1 -benchtime "$bt" \
			-cpuprofile "$out.prof" -memprofile "$out.mem" -o "$out.test" . >"$out.txt" 2>&1); then
			profile_md+="profiling failed; see $out.txt"$'\n'
			return
		fi
	done
	local p=$OUTDIR/profiles/$name
	profile_md+="\`go test -bench '$pattern' -benchtime $bt -cpuprofile -memprofile\` in \`$dir\` of this tree ($(grep -m1 -E '^Benchmark' "$p.txt" | awk '{print $3, $4}')) and \`-bench '$prev_pattern'\` of $prev_short ($(grep -m1 -E '^Benchmark' "$p-prev.txt" | awk '{print $3, $4}')). CPU, \`go tool pprof -top -cum -nodecount=30 -diff_base prev.prof\`: positive = more time in this tree than in $prev_short for the same number of ops:"$'\n\n```\n'
	profile_md+=$(go tool pprof -top -cum -nodecount=30 -diff_base "$p-prev.prof" "$p.test" "$p.prof" 2>/dev/null | sed -n '/flat%/,$p' | trim)
	profile_md+=$'\n```\n\n'"Bytes allocated, \`go tool pprof -sample_index=alloc_space -top -nodecount=20 -diff_base prev.mem\`:"$'\n\n```\n'
	profile_md+=$(go tool pprof -sample_index=alloc_space -top -nodecount=20 -diff_base "$p-prev.mem" "$p.test" "$p.mem" 2>/dev/null | sed -n '/flat%/,$p' | trim)
	profile_md+=$'\n```\n'
}
for t in "${missed[@]}"; do
	case "$t" in
	mapping*)
		[[ "$profile_md" == *"### mapping"* ]] ||
			profile_vs_prev map "mapping (BenchmarkMap) against $prev_short" "$PKG/recordmap" '^BenchmarkMap$' "${PROFILE_BENCHTIME:-2000000x}"
		;;
	"full path"* | "end to end"*)
		[[ "$profile_md" == *"### full path"* ]] ||
			profile fullpath "full path of one event (BenchmarkFullPath/exporter)" bench 'BenchmarkFullPath/exporter$' "${PROFILE_BENCHTIME:-50000x}" 'BenchmarkFullPath/nethttp$'
		;;
	"auto-resolve memory"*)
		# Where the set-up's bytes went, against the previous commit's same
		# 1,000,000 entries (the CPU part of this profile is mostly set-up).
		[[ "$profile_md" == *"### auto-resolve memory"* ]] ||
			profile_vs_prev quietmem "auto-resolve memory (BenchmarkQuietClockMillion) against $prev_short's BenchmarkEntryBytesMillion" "$PKG/dedup" \
				'^BenchmarkQuietClockMillion$' "${PROFILE_BENCHTIME:-1000x}" '^BenchmarkEntryBytesMillion$'
		;;
	"auto-resolve CPU"*)
		# Enough idle sweeps for them to outweigh the set-up in the profile.
		[[ "$profile_md" == *"### auto-resolve CPU"* ]] ||
			profile quietcpu "auto-resolve CPU: idle sweeps (BenchmarkQuietClockMillion)" "$PKG/dedup" '^BenchmarkQuietClockMillion$' "${PROFILE_BENCHTIME:-30000000x}"
		;;
	storm*)
		[[ "$profile_md" == *"### storm"* ]] || profile_md+=$'\n'"### storm"$'\n\n'"A drain time is spent waiting, not computing, so a CPU profile does not explain it: see the per-key drains, the exporter's rate-limit wait and the simulator's 429 count in the storm table above."$'\n'
		;;
	"time to page"*)
		[[ "$profile_md" == *"### time to page"* ]] || profile_md+=$'\n'"### time to page"$'\n\n'"A time to page is spent waiting for a queue's consumer or a rate-limit slot, not computing, so a CPU profile does not explain it: see the backlog sent between posting and paging in the time-to-page tables above."$'\n'
		;;
	suppressed*)
		[[ "$profile_md" == *"### suppressed"* ]] ||
			profile_vs_prev suppressed "suppressed records (BenchmarkSuppressed) against $prev_short" bench '^BenchmarkSuppressed$' "${PROFILE_BENCHTIME:-5000x}"
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
	echo "| wall time | ${total_secs} s: builds of $base_short ${base_secs} s and $prev_short ${prev_secs} s, micro-benchmarks ${micro_secs} s, mapping and suppressed records against $prev_short ${cmp_secs} s, 1,000,000 alerts ${mem_secs} s, bench/run.sh ${fp_secs} s, pdload ${e2e_secs} s |"
	if [[ "$SMOKE" == 1 ]]; then
		echo "| earlier commits | none in SMOKE mode: this tree's figures only |"
	else
		echo "| previous | $prev_short ($(git log -1 --format=%s "$PREVIOUS_COMMIT" 2>/dev/null | cut -c1-80)…): main before the current round of work; the \"before\" of mapping cost, suppressed-record throughput, the full path's ratio to net/http and the heap per tracked alert; its test binaries built in this run from a temporary worktree and run in the same rounds as this tree's |"
		echo "| baseline | $base_short ($(git log -1 --format=%s "$BASELINE_COMMIT" 2>/dev/null | cut -c1-80)…): the last commit with one FIFO sending queue for all routing keys; the \"before\" of the time to page; its collector built in this run from a temporary worktree |"
	fi
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
	echo "| BenchmarkMap: one typical alert (8 attributes) to its Events API JSON body (median of the rounds shared with $prev_short, below) | $(num "$map_ns") ns/op | target budget | 1500 ns/op | $(ratio "$map_ns" 1500) |"
	echo "| | | full path of one event (exporter) | $(num "$fp_ex") ns/op | $(share "$map_ns" "$fp_ex") of it |"
	echo "| BenchmarkMap allocs | $(num "$map_allocs") allocs/op, $(num "$map_b") B/op | target budget | 10 allocs/op | $(ratio "$map_allocs" 10) |"
	echo "| BenchmarkIdentify: the same alert identified (type, action, dedup key, severity, summary, source, time, ordering time, routing value), no details, links or JSON | $(num "$id_ns") ns/op ($(num "$id_b") B/op, $(num "$id_allocs") allocs/op) | full path of one event (exporter) | $(num "$fp_ex") ns/op | $(share "$id_ns" "$fp_ex") of it |"
	echo "| | | BenchmarkMap | $(num "$map_ns") ns/op | $(ratio "$id_ns" "$map_ns") |"
	echo "| BenchmarkDecideRecord/serial: dedup lookup+update, 1,000 keys | $(num "$dr_serial") ns/op | full path of one event (exporter) | $(num "$fp_ex") ns/op | $(share "$dr_serial" "$fp_ex") of it |"
	echo "| BenchmarkDecideRecord/parallel ($(nproc) goroutines) | $(num "$dr_parallel") ns/op | serial, same run | $(num "$dr_serial") ns/op | $(ratio "$dr_parallel" "$dr_serial") |"
	echo "| BenchmarkLimiterWait/unthrottled: acquire on a key under its budget, rate limit on | $(num "$lim_serial") ns/op ($(num "$lim_b") B/op, $(num "$lim_allocs") allocs/op) | BenchmarkLimiterWait/off (events_per_minute 0) | $(num "$lim_off" 1) ns/op | $(ratio "$lim_serial" "$lim_off") |"
	echo "| | | full path of one event (exporter) | $(num "$fp_ex") ns/op | $(share "$lim_serial" "$fp_ex") of it |"
	echo "| BenchmarkLimiterWait/unthrottled-parallel ($(nproc) goroutines, one key each, shared limiter) | $(num "$lim_parallel") ns/op | unthrottled serial, same run | $(num "$lim_serial") ns/op | $(ratio "$lim_parallel" "$lim_serial") |"
	echo "| BenchmarkEntryBytesMillion: dedup cache heap per entry at 1,000,000 entries (40-byte keys, keys not counted) | $(num "$eb_1m" 1) bytes/entry | BenchmarkEntryBytes at 200,000 entries | $(num "$eb_200k" 1) bytes/entry | $(ratio "$eb_1m" "$eb_200k") |"
	echo "| | with the keys: $(num "$(calc "$eb_1m + 40")" 1) bytes/entry, $(num "$mb_1m" 1) MiB for 1,000,000 | | | |"
	echo "| lookup in the full cache (Decide of a known key) | $(num "$eb_1m_lookup") ns/op | same at 200,000 entries | $(num "$eb_200k_lookup") ns/op | $(ratio "$eb_1m_lookup" "$eb_200k_lookup") |"
	echo
	echo "The limiter's B/op is the amortized growth of each key's log of send times, which the benchmark lets grow to 65,536 entries to never wait; with a real events_per_minute (120) the log stops at 120 entries. A parallel benchmark's ns/op is wall time per op over all $(nproc) goroutines: perfect scaling would show 0.50× its serial run, 1.00× means no gain from the second core (on this shared machine other processes also hold part of it). The 1,000,000-entry lookup misses the CPU caches on every op (the keys are visited with a stride), the 200,000-entry one repeats one key. The sending queues keep the OTLP records rather than mapped events, so each record is identified a second time at delivery: BenchmarkIdentify is that second identification, $(share "$id_ns" "$fp_ex") of one event's full path."
	echo
	echo "<details><summary>raw micro-benchmark output</summary>"
	echo
	echo '```'
	grep -E '^(Benchmark|goos|goarch|cpu|pkg)' "$OUTDIR/micro.txt" | awk '!(/^(goos|goarch|cpu|pkg)/ && seen[$0]++)'
	echo '```'
	echo
	echo "</details>"
	echo
	echo "## Against $prev_short: mapping cost, suppressed-record throughput, auto-resolve cost"
	echo
	if [[ "$SMOKE" == 1 ]]; then
		echo "No build of $prev_short in SMOKE mode: this tree's figures only."
		echo
	elif [[ "$prev_ok" != 1 ]]; then
		echo "The build of $prev_short failed (see $OUTDIR/previous-build.log): this tree's figures only."
		echo
	fi
	echo "Mapping and suppressed records: medians of $COUNT interleaved round(s) of \`-benchtime $BENCHTIME -benchmem\`: each round runs BenchmarkMap of this tree and of $prev_short, then BenchmarkSuppressed of both (the order of the trees swapping every round), from test binaries built in this run, $prev_short's in a temporary worktree. BenchmarkMap: one typical alert (8 attributes) mapped to its Events API body. BenchmarkSuppressed (bench/): \`ConsumeLogs\` of a batch of 100 firing alerts whose incidents are open, every record suppressed as a duplicate."
	echo
	echo "Auto-resolve: medians of $MEM_COUNT round(s) of \`-benchtime $MEM_BENCHTIME\` (the set-up of 1,000,000 entries dominates a run), the trees taking turns. This tree's BenchmarkQuietClockMillion holds 1,000,000 open alerts (40-byte dedup keys, not counted) whose 15-minute quiet clocks run and reports the heap per alert; its ns/op is one idle sweep (nothing has run out), and the exporter sweeps once a second, so ns/op / 1e9 is the fraction of a core an idle exporter spends on its clocks. $prev_short's BenchmarkEntryBytesMillion holds the same 1,000,000 entries, before auto-resolve."
	echo
	echo "| benchmark | this tree | $prev_short | this / $prev_short | budget | verdict |"
	echo "|---|---:|---:|---:|---|---|"
	echo "| BenchmarkMap ns/op (mapping cost) | $(num "$map_ns") | $(num "$cmap_prev") | $(ratio "$map_ns" "$cmap_prev") | ≤ 1,500 ns/op | $(verdict atmost "$map_ns" 1500) |"
	echo "| BenchmarkMap allocs/op | $(num "$map_allocs") | $(num "$cmap_allocs_prev") | $(ratio "$map_allocs" "$cmap_allocs_prev") | ≤ 10 | $(verdict atmost "$map_allocs" 10) |"
	echo "| BenchmarkMap B/op | $(num "$map_b") | $(num "$cmap_b_prev") | $(ratio "$map_b" "$cmap_b_prev") | | |"
	echo "| BenchmarkSuppressed records/s (suppressed-record throughput) | $(num "$csup_cur") | $(num "$csup_prev") | $(ratio "$csup_cur" "$csup_prev") | ≥ 0.95× | $(verdict_prev atmost 0.95 "$csup_ratio") |"
	echo "| BenchmarkSuppressed ns/op (100 records) | $(num "$csup_ns_cur") | $(num "$csup_ns_prev") | $(ratio "$csup_ns_cur" "$csup_ns_prev") | | |"
	echo "| BenchmarkSuppressed allocs/op | $(num "$csup_allocs_cur") | $(num "$csup_allocs_prev") | $(ratio "$csup_allocs_cur" "$csup_allocs_prev") | | |"
	echo "| BenchmarkSuppressed B/op | $(num "$csup_b_cur") | $(num "$csup_b_prev") | $(ratio "$csup_b_cur" "$csup_b_prev") | | |"
	echo "| heap per tracked alert, 1,000,000 alerts (this tree: BenchmarkQuietClockMillion bytes/alert, clocks running; $prev_short: BenchmarkEntryBytesMillion bytes/entry) | $(num "$qc_bytes" 1) | $(num "$qc_prev_bytes" 1) | $(signed "$qc_delta") bytes | no target | information |"
	echo "| idle sweep of 1,000,000 quiet clocks (BenchmarkQuietClockMillion ns/op) | $(num "$qc_sweep" 1) ns: $(awk -v x="$qc_core" 'BEGIN { if (x == "") print "n/a"; else printf "%.6f %%", x }') of a core at one sweep a second | | | < 1 % of a core | $(verdict below "$qc_core" 1) |"
	echo
	clocks_delta=$(minus "$qc_bytes" "$eb_1m")
	if [[ -n "$clocks_delta" ]] && awk -v d="$clocks_delta" 'BEGIN { exit !(d < 1 && d > -1) }'; then
		clocks_note="within a byte of the figure with the clocks running ($(signed "$clocks_delta")): the difference with $prev_short is in every entry, whether its clock runs or not"
	elif [[ -z "$clocks_delta" ]]; then
		clocks_note="no figure with the clocks running to compare it with"
	else
		clocks_note="$(signed "$clocks_delta") bytes per alert from the figure with the clocks running: that much is the running clocks' own cost"
	fi
	echo "This tree's BenchmarkEntryBytesMillion (the same 1,000,000 entries, no clock running; micro-benchmarks above): $(num "$eb_1m" 1) bytes/entry, $clocks_note."
	echo
	bs=""
	if [[ -x .tools/benchstat ]]; then bs=.tools/benchstat; elif command -v benchstat >/dev/null 2>&1; then bs=$(command -v benchstat); fi
	if [[ -n "$bs" && "$prev_ok" == 1 ]]; then
		echo "<details><summary>benchstat $prev_short vs this tree (mapping, suppressed records)</summary>"
		echo
		echo '```'
		"$bs" "$prev_short=$OUTDIR/cmp-prev.txt" "this-tree=$OUTDIR/cmp-cur.txt" 2>&1 || true
		echo '```'
		echo
		echo "</details>"
		echo
	fi
	echo "<details><summary>raw output: mapping, suppressed records and the 1,000,000-alert benchmarks, both trees</summary>"
	echo
	echo '```'
	for f in cmp-cur cmp-prev mem-cur mem-prev; do
		[[ -s "$OUTDIR/$f.txt" ]] || continue
		case "$f" in
		cmp-cur) echo "# this tree: mapping, suppressed records" ;;
		cmp-prev) echo "# $prev_short: mapping, suppressed records" ;;
		mem-cur) echo "# this tree: 1,000,000 alerts" ;;
		mem-prev) echo "# $prev_short: 1,000,000 alerts" ;;
		esac
		grep -E '^(Benchmark|goos|goarch|cpu|pkg)' "$OUTDIR/$f.txt" | awk '!(/^(goos|goarch|cpu|pkg)/ && seen[$0]++)'
	done
	echo '```'
	echo
	echo "</details>"
	echo
	echo "## Full path: exporter vs go-pagerduty vs net/http, this tree and $prev_short (bench/run.sh)"
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
	echo "PREVIOUS_COMMIT=<commit> scripts/bench.sh   # mapping, suppressed records, full path, auto-resolve against another commit (default $prev_short)"
	echo "BASELINE_COMMIT=<commit> scripts/bench.sh   # time to page against another commit (default $base_short)"
	echo "_build/pdload -phases page -baseline-collector <otelcol built from the baseline>   # time to page only"
	echo "go test -run '^\$' -bench EntryBytes ./exporter/pagerdutyexporter/internal/dedup/"
	echo "go test -run '^\$' -bench QuietClockMillion -benchtime 1000x ./exporter/pagerdutyexporter/internal/dedup/"
	echo "bench/run.sh         # full path only; PROFILE=1 adds a CPU profile"
	echo '```'
} >"$REPORT"

echo "bench: wrote $REPORT in ${total_secs}s (raw results in $OUTDIR)" >&2
if [[ ${#failed[@]} -gt 0 ]]; then
	echo "bench: failed: ${failed[*]}" >&2
	exit 1
fi
