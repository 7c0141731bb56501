#!/usr/bin/env bash
# Runs the full-path benchmarks (fullpath_test.go) and prints a markdown
# table: the exporter against go-pagerduty v1.8.0 and bare net/http, each
# sending one event per op to the same in-process Events API double.
#
#   ./run.sh                 full run (COUNT=10, BENCHTIME=10000x; about a minute on 2 cores)
#   SMOKE=1 ./run.sh         -benchtime=100x -count=1, for CI (a few seconds once built)
#   PROFILE=1 ./run.sh       also CPU-profile the exporter sub-benchmark, print pprof -top
#
# Environment: COUNT, BENCHTIME (override the full run), INTERLEAVE=0 (one
# `go test -count COUNT` instead of COUNT interleaved rounds), PROFILE_BENCHTIME
# (default 50000x), OUT (folder for the raw results; default a new temp dir),
# NO_INSTALL=1 (never install benchstat). benchstat is used when found in
# ../.tools or on PATH; a full run installs it into ../.tools when missing.
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
: >"$RAW"
start=$(date +%s)
if [[ "${INTERLEAVE:-1}" == 1 && "$COUNT" -gt 1 ]]; then
	go test -c -o "$OUT/bench.test" .
	echo "$COUNT rounds of: go test -run '^\$' -bench . -benchmem -count 1 -benchtime $BENCHTIME  (raw results: $RAW)" >&2
	for ((round = 1; round <= COUNT; round++)); do
		(cd "$BENCH_DIR" && "$OUT/bench.test" -test.run '^$' -test.bench . -test.benchmem -test.count 1 \
			-test.benchtime "$BENCHTIME") | tee -a "$RAW" >&2
	done
else
	echo "go test -run '^\$' -bench . -benchmem -count $COUNT -benchtime $BENCHTIME  (raw results: $RAW)" >&2
	go test -run '^$' -bench . -benchmem -count "$COUNT" -benchtime "$BENCHTIME" . | tee "$RAW" >&2
fi
elapsed=$(($(date +%s) - start))
if ! grep -q '^PASS' "$RAW" || grep -q -e '--- FAIL' -e '^FAIL' "$RAW"; then
	echo "benchmarks failed" >&2
	exit 1
fi

if [[ -n "$BENCHSTAT" ]]; then
	echo
	echo '```'
	"$BENCHSTAT" "results=$RAW"
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
echo "| run | \`-count $COUNT -benchtime $BENCHTIME\`, ${elapsed}s; each figure is the median of $COUNT run(s) |"
echo

awk -v count="$COUNT" '
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
	name = $1
	sub(/-[0-9]+$/, "", name)
	for (i = 3; i < NF; i += 2) {
		key = name SUBSEP $(i + 1)
		val[key, ++cnt[key]] = $i
	}
}
END {
	ex = "BenchmarkFullPath/exporter"; gp = "BenchmarkFullPath/gopagerduty"; nh = "BenchmarkFullPath/nethttp"
	print "| metric | exporter | gopagerduty | nethttp | exporter / min(gopagerduty, nethttp) |"
	print "|---|---:|---:|---:|---:|"
	split("ns/op B/op allocs/op", units, " ")
	for (u = 1; u <= 3; u++) {
		unit = units[u]
		e = median(ex SUBSEP unit); g = median(gp SUBSEP unit); h = median(nh SUBSEP unit)
		ratio = "n/a"
		if (e != "" && g != "" && h != "") {
			m = (g < h) ? g : h
			if (m > 0) ratio = sprintf("%.2f", e / m)
		}
		printf "| %s | %s | %s | %s | %s |\n", unit, fmt(e), fmt(g), fmt(h), ratio
		if (unit == "ns/op") { ens = e; mns = (g < h) ? g : h; fastest = (g < h) ? "gopagerduty" : "nethttp" }
	}
	print ""
	if (ens != "" && mns > 0) {
		r = ens / mns
		if (r <= 1.15)
			printf "**Target exporter ns/op <= 1.15 x the faster baseline (%s, %s ns/op): met** (ratio %.2f).\n", fastest, fmt(mns), r
		else
			printf "**Target exporter ns/op <= 1.15 x the faster baseline (%s, %s ns/op): missed** (ratio %.2f): the exporter is %.0f%% over the %s ns/op budget, %s ns/op too slow.\n", fastest, fmt(mns), r, (r / 1.15 - 1) * 100, fmt(1.15 * mns), fmt(ens - 1.15 * mns)
	}
	sp = "BenchmarkSuppressed"
	if (cnt[sp SUBSEP "ns/op"] > 0) {
		print ""
		print "| BenchmarkSuppressed (100 suppressed records per op) | ns/op | records/s | B/op | allocs/op |"
		print "|---|---:|---:|---:|---:|"
		printf "| exporter | %s | %s | %s | %s |\n", fmt(median(sp SUBSEP "ns/op")), fmt(median(sp SUBSEP "records/s")), fmt(median(sp SUBSEP "B/op")), fmt(median(sp SUBSEP "allocs/op"))
	}
}
' "$RAW"

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
