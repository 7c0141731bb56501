// Package e2e holds the end-to-end tests of the otelcol-pagerduty
// distribution: the collector binary built by ocb runs as a real process,
// receives OTLP/HTTP JSON logs and exports them to the local Events API
// simulator (cmd/pdsim), whose /incidents state the tests assert. The
// harness (processes, simulator, collector, OTLP, metrics) is
// internal/e2etest, which the examples tests share.
//
// The tests are skipped unless PAGERDUTY_E2E=1, so `go test ./...` stays
// fast. Run them with `make e2e`, which builds both binaries first, or with
//
//	make build pdsim && PAGERDUTY_E2E=1 go test -count=1 -v ./e2e/
//
// OTELCOL_BIN and PDSIM_BIN override the binaries' paths (default
// _build/otelcol-pagerduty and _build/pdsim). PAGERDUTY_E2E_FULL=1
// (`make e2e-full`) runs the load tests of delivery_test.go and
// storm_test.go at full size, which takes minutes.
package e2e

import (
	"testing"

	"github.com/otelcol-pagerduty/pagerduty/internal/e2etest"
)

// requireE2E skips the test unless the end-to-end tests were asked for.
func requireE2E(t *testing.T) {
	t.Helper()
	e2etest.SkipUnlessE2E(t, "run `make e2e`, or `make build pdsim && PAGERDUTY_E2E=1 go test -count=1 -v ./e2e/` "+
		"(binaries from $OTELCOL_BIN and $PDSIM_BIN, default _build/otelcol-pagerduty and _build/pdsim)")
}
