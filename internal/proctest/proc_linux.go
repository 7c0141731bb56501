package proctest

import "syscall"

// childAttrs makes the kernel kill a child when its parent dies, so that a
// test binary killed by `go test -timeout` (no cleanup runs then) or an
// interrupted load run leaves no collector or simulator behind.
func childAttrs() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
