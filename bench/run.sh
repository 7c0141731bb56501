#!/usr/bin/env bash
# Runs the full-path benchmarks (fullpath_test.go) and prints a markdown
# table: the exporter against go-pagerduty v1.8.0 and bare net/http, each
# sending one event per op to the same in-process Events API double.
#
#   ./run.sh                 full run (COUNT=10, BENCHTIME=10000x; about a minute on 2 cores)
#   SMOKE=1 ./run.sh         -benchtime=100x -count=1, for CI (a few seconds once built)
#   PROFILE=1 ./run.sh       also CPU-profile the exporter sub-benchmark, print pprof -top
#
# Target: the exporter's ns/op at most 1.25 x the bare net/http loop's in the
# same run. The former target (1.15 x the faster of go-pagerduty and
# net/http) is printed as information.
#
# Environment: COUNT, BENCHTIME (override the full run), INTERLEAVE=0 (one
# `go test -count COUNT` instead of COUNT interleaved rounds), PROFILE_BENCHTIME
# (default 50000x), OUT (folder for the raw results; default a new temp dir),
# NO_INSTALL=1 (never install benchstat). benchstat is used when found in
# ../.tools or on PATH; a full run installs it into ../.tools when missing.
# PREVIOUS_TEST: a test binary built from the bench/ folder of an earlier
# commit (`go test -c` there); its BenchmarkFullPath then runs in the same
# rounds, the two trees taking turns (the order swapped every round), in
# PREVIOUS_DIR (default this folder), raw results in OUT/bench-previous.txt,
# and the table shows its exporter / net/http ratio beside this tree's,
# labelled PREVIOUS_LABEL (default "previous").
set -euo pipefail

cd "$(dirname "$0")"
BENCH_DIR=$(pwd)
TOOLS=$(cd .. && pwd)/.tools

if [[ "${SMOKE:-0}" == 1 ]]; then
	COUNT=1
	BENCHTIME=100x
else
	COUNT=${COUNT:-10}
	BENCHTIME=${BENCHTIME:-10000x}
fi
PROFILE_BENCHTIME=${PROFILE_BENCHTIME:-50000x}
OUT=${OUT:-$(mktemp -d "${TMPDIR:-/tmp}/pagerduty-bench.XXXXXX")}
mkdir -p "$OUT"
RAW=$OUT/bench.txt
PREV_RAW=$OUT/bench-previous.txt
PREVIOUS_TEST=${PREVIOUS_TEST:-}
PREVIOUS_DIR=${PREVIOUS_DIR:-$BENCH_DIR}
PREVIOUS_LABEL=${PREVIOUS_LABEL:-previous}
rm -f "$PREV_RAW"

# --- benchstat ---------------------------------------------------------------
BENCHSTAT=""
if [[ -x "$TOOLS/benchstat" ]]; then
	BENCHSTAT=$TOOLS/benchstat
elif command -v benchstat >/dev/null 2>&1; then
	BENCHSTAT=$(command -v benchstat)
elif [[ "${SMOKE:-0}" != 1 && "${NO_INSTALL:-0}" != 1 ]]; then
	echo "installing golang.org/x/perf/cmd/benchstat into $TOOLS" >&2
	if GOBIN=$TOOLS go install golang.org/x/perf/cmd/benchstat@latest >&2; then
		BENCHSTAT=$TOOLS/benchstat
	else
		echo "benchstat could not be installed; printing the table only" >&2
	fi
fi

# --- run ---------------------------------------------------------------------
# By default the COUNT runs are interleaved: the test binary is built once and
# run COUNT times with -count 1, so each round runs exporter, gopagerduty,
# nethttp and Suppressed one after the other and a slow spell of the machine
# hits all of them alike instead of whichever sub-benchmark -count N was
# repeating at the time. INTERLEAVE=0 runs the single
# `go test ... -count COUNT` instead (each sub-benchmark COUNT times in a row).
# With PREVIOUS_TEST, each round also runs the earlier tree's
# BenchmarkFullPath, before or after this tree's (swapped every round).
: >"$RAW"
start=$(date +%s)
run_previous() { # COUNT
	(cd "$PREVIOUS_DIR" && "$PREVIOUS_TEST" -test.run '^$' -test.bench '^BenchmarkFullPath$' -test.benchmem \
		-test.count "$1" -test.benchtime "$BENCHTIME") | tee -a "$PREV_RAW" >&2
}
if [[ -n "$PREVIOUS_TEST" ]]; then
	: >"$PREV_RAW"
	echo "and $PREVIOUS_LABEL's BenchmarkFullPath ($PREVIOUS_TEST, raw results: $PREV_RAW)" >&2
fi
if [[ "${INTERLEAVE:-1}" == 1 && "$COUNT" -gt 1 ]]; then
	go test -c -o "$OUT/bench.test" .
	echo "$COUNT rounds of: go test -run '^\$' -bench . -benchmem -count 1 -benchtime $BENCHTIME  (raw results: $RAW)" >&2
	for ((round = 1; round <= COUNT; round++)); do
		if [[ -n "$PREVIOUS_TEST" ]] && ((round % 2 == 0)); then run_previous 1; fi
		(cd "$BENCH_DIR" && "$OUT/bench.test" -test.run '^$' -test.bench . -test.benchmem -test.count 1 \
			-test.benchtime "$BENCHTIME") | tee -a "$RAW" >&2
		if [[ -n "$PREVIOUS_TEST" ]] && ((round % 2 == 1)); then run_previous 1; fi
	done
else
	echo "go test -run '^\$' -bench . -benchmem -count $COUNT -benchtime $BENCHTIME  (raw results: $RAW)" >&2
	go test -run '^$' -bench . -benchmem -count "$COUNT" -benchtime "$BENCHTIME" . | tee "$RAW" >&2
	if [[ -n "$PREVIOUS_TEST" ]]; then run_previous "$COUNT"; fi
fi
elapsed=$(($(date +%s) - start))
for f in "$RAW" ${PREVIOUS_TEST:+"$PREV_RAW"}; do
	if ! grep -q '^PASS' "$f" || grep -q -e '--- FAIL' -e '^FAIL' "$f"; then
		echo "benchmarks failed ($f)" >&2
		exit 1
	fi
done

if [[ -n "$BENCHSTAT" ]]; then
	echo
	echo '```'
	if [[ -n "$PREVIOUS_TEST" ]]; then
		"$BENCHSTAT" "$PREVIOUS_LABEL=$PREV_RAW" "this-tree=$RAW"
	else
		"$BENCHSTAT" "results=$RAW"
	fi
	echo '```'
fi

# --- table -------------------------------------------------------------------
cpu=$(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ *//')
echo
echo "### pagerduty exporter: one event per op, full path"
echo
echo "| | |"
echo "|---|---|"
echo "| machine | $(nproc) cores, ${cpu:-unknown CPU} |"
echo "| Go | $(go version | awk '{print $3, $4}') |"
echo "| date | $(date -u '+%Y-%m-%d %H:%M UTC') |"
if [[ -n "$PREVIOUS_TEST" ]]; then
	echo "| run | \`-count $COUNT -benchtime $BENCHTIME\`, ${elapsed}s, this tree's runs and $PREVIOUS_LABEL's BenchmarkFullPath taking turns; each figure is the median of $COUNT run(s) |"
else
	echo "| run | \`-count $COUNT -benchtime $BENCHTIME\`, ${elapsed}s; each figure is the median of $COUNT run(s) |"
fi
echo

files=("$RAW")
[[ -n "$PREVIOUS_TEST" ]] && files+=("$PREV_RAW")
awk -v prevfile="$PREV_RAW" -v prevlabel="$PREVIOUS_LABEL" '
function median(key,    n, i, j, t, a) {
	n = cnt[key]
	if (n == 0) return ""
	for (i = 1; i <= n; i++) a[i] = val[key, i]
	for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
	return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
function fmt(x) {
	if (x == "") return "n/a"
	if (x >= 100 || x == int(x)) return sprintf("%.0f", x)
	return sprintf("%.1f", x)
}
/^Benchmark/ {
	tree = (FILENAME == prevfile) ? "prev" : "cur"
	name = $1
	sub(/-[0-9]+$/, "", name)
	for (i = 3; i < NF; i += 2) {
		key = tree SUBSEP name SUBSEP $(i + 1)
		val[key, ++cnt[key]] = $i
	}
}
END {
	ex = "BenchmarkFullPath/exporter"; gp = "BenchmarkFullPath/gopagerduty"; nh = "BenchmarkFullPath/nethttp"
	print "| metric | exporter | gopagerduty | nethttp | exporter / nethttp | exporter / min(gopagerduty, nethttp) |"
	print "|---|---:|---:|---:|---:|---:|"
	split("ns/op B/op allocs/op", units, " ")
	for (u = 1; u <= 3; u++) {
		unit = units[u]
		e = median("cur" SUBSEP ex SUBSEP unit); g = median("cur" SUBSEP gp SUBSEP unit); h = median("cur" SUBSEP nh SUBSEP unit)
		ratio = "n/a"; rh = "n/a"
		if (e != "" && g != "" && h != "") {
			m = (g < h) ? g : h
			if (m > 0) ratio = sprintf("%.2f", e / m)
		}
		if (e != "" && h != "" && h > 0) rh = sprintf("%.2f", e / h)
		printf "| %s | %s | %s | %s | %s | %s |\n", unit, fmt(e), fmt(g), fmt(h), rh, ratio
		if (unit == "ns/op") { ens = e; hns = h; mns = (g < h) ? g : h; fastest = (g < h) ? "gopagerduty" : "nethttp" }
	}
	print ""
	if (ens != "" && hns > 0) {
		r = ens / hns
		if (r <= 1.25)
			printf "**Target exporter ns/op <= 1.25 x the bare net/http loop (nethttp, %s ns/op, same run): met** (ratio %.2f).\n", fmt(hns), r
		else
			printf "**Target exporter ns/op <= 1.25 x the bare net/http loop (nethttp, %s ns/op, same run): missed** (ratio %.2f): the exporter is %.0f%% over the %s ns/op budget, %s ns/op too slow.\n", fmt(hns), r, (r / 1.25 - 1) * 100, fmt(1.25 * hns), fmt(ens - 1.25 * hns)
	}
	if (ens != "" && mns > 0) {
		r = ens / mns
		print ""
		printf "Former target, information only: exporter ns/op <= 1.15 x the faster of go-pagerduty and net/http (%s, %s ns/op): %s (ratio %.2f).\n", fastest, fmt(mns), (r <= 1.15) ? "met" : "missed", r
	}
	pe = median("prev" SUBSEP ex SUBSEP "ns/op"); ph = median("prev" SUBSEP nh SUBSEP "ns/op")
	if (pe != "" && ph > 0) {
		print ""
		printf "Before and after: each tree'"'"'s exporter against its own net/http loop, %s'"'"'s BenchmarkFullPath running in the same rounds as this tree'"'"'s.\n", prevlabel
		print ""
		print "| tree | exporter ns/op | nethttp ns/op | exporter / nethttp | exporter B/op | exporter allocs/op |"
		print "|---|---:|---:|---:|---:|---:|"
		printf "| this tree | %s | %s | %.2f | %s | %s |\n", fmt(ens), fmt(hns), ens / hns, fmt(median("cur" SUBSEP ex SUBSEP "B/op")), fmt(median("cur" SUBSEP ex SUBSEP "allocs/op"))
		printf "| %s | %s | %s | %.2f | %s | %s |\n", prevlabel, fmt(pe), fmt(ph), pe / ph, fmt(median("prev" SUBSEP ex SUBSEP "B/op")), fmt(median("prev" SUBSEP ex SUBSEP "allocs/op"))
	}
	sp = "BenchmarkSuppressed"
	if (cnt["cur" SUBSEP sp SUBSEP "ns/op"] > 0) {
		print ""
		print "| BenchmarkSuppressed (100 suppressed records per op) | ns/op | records/s | B/op | allocs/op |"
		print "|---|---:|---:|---:|---:|"
		printf "| exporter | %s | %s | %s | %s |\n", fmt(median("cur" SUBSEP sp SUBSEP "ns/op")), fmt(median("cur" SUBSEP sp SUBSEP "records/s")), fmt(median("cur" SUBSEP sp SUBSEP "B/op")), fmt(median("cur" SUBSEP sp SUBSEP "allocs/op"))
	}
}
' "${files[@]}"

# --- profile -----------------------------------------------------------------
if [[ "${PROFILE:-0}" == 1 ]]; then
	echo
	echo "CPU profile of BenchmarkFullPath/exporter, -benchtime $PROFILE_BENCHTIME ($OUT/exporter.prof):"
	go test -run '^$' -bench 'BenchmarkFullPath/exporter$' -benchmem -count 1 -benchtime "$PROFILE_BENCHTIME" \
		-cpuprofile "$OUT/exporter.prof" -o "$OUT/bench.test" . >&2
	echo
	echo '```'
	go tool pprof -top -nodecount=15 "$OUT/bench.test" "$OUT/exporter.prof" 2>/dev/null
	echo '```'
fi
echo >&2
echo "raw results in $RAW (bench dir: $BENCH_DIR)" >&2
