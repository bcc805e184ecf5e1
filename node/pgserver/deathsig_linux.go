package pgserver

import "syscall"

// dieWithParent makes the kernel kill a tool (initdb, pg_basebackup) when
// the agent that started it dies, so that a killed agent leaves no tool
// writing into a data directory that its retry is about to use. (The
// signal follows the thread that started the tool; the Go runtime does not
// end the threads it forks from.) pg_ctl is left alone: the server it
// starts must outlive the agent.
func dieWithParent(a *syscall.SysProcAttr) { a.Pdeathsig = syscall.SIGKILL }
