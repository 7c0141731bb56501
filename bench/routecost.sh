#!/usr/bin/env bash
# Measures what a route costs in the pagerduty exporter (TestRouteCost in
# routecost_test.go): start time, goroutines, storage files and memory, idle
# and with 10,000 records queued against an Events API double in an outage
# (503 to every request; ROUTE_COST_API=hang holds them instead), and
# shutdown time, for 1, 10, 100 and 1000 routes on a
# persistent queue (file_storage). Prints a markdown table.
#
#   ./routecost.sh                  1, 10, 100 and 1000 routes (about a minute on 2 cores)
#   ROUTES=1,10,100 ./routecost.sh  other route counts
#
# Environment: ROUTES, ROUTE_COST_API (down or hang), ROUTE_COST_OUT (where the table is kept; default a
# new temp file).
set -euo pipefail

cd "$(dirname "$0")"
out=${ROUTE_COST_OUT:-$(mktemp "${TMPDIR:-/tmp}/pagerduty-routecost.XXXXXX")}
PAGERDUTY_ROUTE_COST=1 ROUTE_COST_OUT=$out \
	go test -run '^TestRouteCost$' -count 1 -v -timeout 30m . >&2
cpu=$(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ *//')
echo
echo "### pagerduty exporter: what a route costs"
echo
echo "$(nproc) cores, ${cpu:-unknown CPU}; $(go version | awk '{print $3, $4}'); ulimit -n $(ulimit -n); Events API ${ROUTE_COST_API:-down}; $(date -u '+%Y-%m-%d %H:%M UTC')"
echo
cat "$out"
echo >&2
echo "table kept in $out" >&2
