//go:build !linux

package node

import "syscall"

// dieWithParent needs Linux's parent-death signal; elsewhere a child of a
// killed agent runs to its end.
func dieWithParent() *syscall.SysProcAttr { return nil }
