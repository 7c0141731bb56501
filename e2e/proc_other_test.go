//go:build !linux

package e2e

import (
	"errors"
	"syscall"
	"testing"
)

// childAttrs: only Linux can tie a child's life to its parent's; elsewhere
// t.Cleanup is what stops the children.
func childAttrs() *syscall.SysProcAttr { return nil }

// reservePort: elsewhere a port that was free a moment ago; another
// process may take it before the test's server does.
func reservePort(t *testing.T) (port int, release func()) {
	t.Helper()
	return freePort(t), func() {}
}

// peakRSS is read from /proc, which only Linux has.
func peakRSS(int) (string, error) {
	return "", errors.New("peak RSS is read from /proc/<pid>/status (Linux only)")
}
