package main

import "syscall"

// childAttrs makes the kernel kill a child when pdload dies, so that an
// interrupted run leaves no collector or simulator behind.
func childAttrs() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
