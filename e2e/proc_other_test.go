//go:build !linux

package e2e

import "syscall"

// childAttrs: only Linux can tie a child's life to its parent's; elsewhere
// t.Cleanup is what stops the children.
func childAttrs() *syscall.SysProcAttr { return nil }
