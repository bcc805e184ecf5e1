//go:build !linux

package pgserver

import "syscall"

// dieWithParent needs Linux's parent-death signal; elsewhere a stray tool
// is killed by the next Init or BaseBackup (clearStrays).
func dieWithParent(*syscall.SysProcAttr) {}
