package e2e

import "syscall"

// childAttrs makes the kernel kill a child when the test binary dies, so
// that a test binary killed by `go test -timeout` leaves no collector or
// simulator behind (t.Cleanup does not run then).
func childAttrs() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
