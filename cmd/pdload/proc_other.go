//go:build !linux

package main

import "syscall"

// childAttrs: only Linux can tie a child's life to pdload's; elsewhere the
// children are stopped on the way out. (CPU and memory figures need Linux's
// /proc anyway and are reported as n/a.)
func childAttrs() *syscall.SysProcAttr { return nil }
