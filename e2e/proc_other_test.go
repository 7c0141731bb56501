//go:build !linux

package e2e

import (
	"errors"
	"testing"

	"github.com/otelcol-pagerduty/pagerduty/internal/e2etest"
)

// reservePort: elsewhere a port that was free a moment ago; another
// process may take it before the test's server does.
func reservePort(t *testing.T) (port int, release func()) {
	t.Helper()
	return e2etest.FreePort(t), func() {}
}

// peakRSS is read from /proc, which only Linux has.
func peakRSS(int) (string, error) {
	return "", errors.New("peak RSS is read from /proc/<pid>/status (Linux only)")
}
