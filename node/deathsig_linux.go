package node

import "syscall"

// dieWithParent makes the kernel kill a child of the agent (pg_dump) when
// the agent dies, as a supervisor would: a dump of a killed agent does not
// keep reading its snapshot or holding its locks while the retry runs.
// (The signal follows the thread that started the child; the Go runtime
// does not end the threads it forks from.)
func dieWithParent() *syscall.SysProcAttr { return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} }
