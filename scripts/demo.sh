#!/usr/bin/env bash
# The demo: the Events API simulator and the collector on loopback, a realistic
# alert lifecycle sent as OTLP logs, then the simulator's incident table.
# Run it with `make demo`, which builds both binaries first.
set -euo pipefail
cd "$(dirname "$0")/.."

SIM_PORT=${DEMO_SIM_PORT:-18090}
OTLP_PORT=${DEMO_OTLP_PORT:-14318}
HEALTH_PORT=${DEMO_HEALTH_PORT:-13133}
STATUS_PORT=${DEMO_STATUS_PORT:-13134}
METRICS_PORT=${DEMO_METRICS_PORT:-18888}
export DEMO_SIM_PORT=$SIM_PORT DEMO_OTLP_PORT=$OTLP_PORT DEMO_HEALTH_PORT=$HEALTH_PORT DEMO_STATUS_PORT=$STATUS_PORT DEMO_METRICS_PORT=$METRICS_PORT
SIM_URL=http://127.0.0.1:$SIM_PORT
OTLP_URL=http://127.0.0.1:$OTLP_PORT/v1/logs
LOGS=_demo
mkdir -p "$LOGS"

pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT

# wait_for URL WHAT: poll until URL answers 2xx, for at most 30 s.
wait_for() {
  for _ in $(seq 300); do
    curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "demo: $2 did not come up; see $LOGS/" >&2
  exit 1
}

# requests: the simulator's count of requests so far.
requests() { curl -fsS "$SIM_URL/incidents" | sed -E 's/.*"total":([0-9]+).*/\1/'; }

# send FILE EXPECTED: post one OTLP JSON file, then wait until the simulator has
# seen EXPECTED more requests (0 for a record the exporter must suppress).
send() {
  local file=$1 expected=$2 before
  before=$(requests)
  printf '  %-34s ' "$(basename "$file")"
  curl -fsS -o /dev/null -H 'Content-Type: application/json' --data-binary "@$file" "$OTLP_URL"
  for _ in $(seq 100); do
    [ "$(requests)" -ge $((before + expected)) ] && break
    sleep 0.1
  done
  # Give a suppressed record the time it would have needed to arrive.
  [ "$expected" -eq 0 ] && sleep 1
  echo "-> $(( $(requests) - before )) request(s) to PagerDuty"
}

echo "demo: starting the Events API simulator on $SIM_URL"
_build/pdsim -addr "127.0.0.1:$SIM_PORT" >"$LOGS/pdsim.log" 2>&1 &
pids+=($!)
wait_for "$SIM_URL/healthz" "the simulator"

echo "demo: starting the collector (testdata/demo.yaml), OTLP/HTTP on 127.0.0.1:$OTLP_PORT"
_build/otelcol-pagerduty --config testdata/demo.yaml >"$LOGS/collector.log" 2>&1 &
pids+=($!)
wait_for "http://127.0.0.1:$HEALTH_PORT/" "the collector"

echo "demo: sending the alert lifecycle"
send testdata/alerts/01-checkout-firing.json 1
send testdata/alerts/02-checkout-firing-repeat.json 0
send testdata/alerts/03-checkout-escalated.json 1
send testdata/alerts/04-payments-firing.json 1
send testdata/alerts/05-checkout-acknowledged.json 1
send testdata/alerts/06-deploy-change.json 1
send testdata/alerts/07-checkout-resolved.json 1

echo
_build/pdsim -print-table -url "$SIM_URL"
echo
echo "demo: the exporter's own metrics, series above 0 (http://127.0.0.1:$METRICS_PORT/metrics):"
curl -fsS "http://127.0.0.1:$METRICS_PORT/metrics" | grep -E '^otelcol_exporter_pagerduty_(events|suppressed)' | grep -v ' 0$' || true
echo
echo "demo: the exporter's component status (http://127.0.0.1:$STATUS_PORT/status?verbose):"
curl -sS "http://127.0.0.1:$STATUS_PORT/status?verbose" |
  sed -nE 's/.*"exporter:pagerduty":\{"healthy":([a-z]+),"status":"([A-Za-z]+)".*/exporter:pagerduty  \2  (healthy: \1)/p' || true
echo
echo "demo: done. Logs are in $LOGS/. To look at the simulator's incident page, run the"
echo "      simulator and collector yourself (docs/simulator.md) and open $SIM_URL/."
