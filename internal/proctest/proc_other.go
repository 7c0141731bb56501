//go:build !linux

package proctest

import "syscall"

// childAttrs: only Linux can tie a child's life to its parent's; elsewhere
// the callers stop their children on the way out.
func childAttrs() *syscall.SysProcAttr { return nil }
