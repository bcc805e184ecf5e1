package pgserver

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
)

// command prepares one PostgreSQL tool run. Three things matter:
//
//   - it runs as the server's OS user (Credential) when the caller is root;
//   - pg_ctl starts a session of its own (Setsid), so that neither it nor
//     the postmaster it forks shares the caller's process group or
//     controlling terminal: a signal to the agent's group (kill -9 of the
//     agent and its group, Ctrl-C) leaves the server running. (pg_ctl
//     start also detaches the postmaster itself; this does not rely on it.)
//     initdb and pg_basebackup stay in the caller's group and get a
//     parent-death signal (SIGKILL), so they die with it, a lone SIGKILL
//     of the caller included; any that still outlived it is killed by the
//     next Init or BaseBackup (clearStrays);
//   - its environment is built from scratch, never inherited: the agent's
//     environment holds API keys, and the server's environment is readable
//     in /proc by its OS user. extra adds variables (PGPASSWORD).
func (s *Server) command(ctx context.Context, tool string, extra []string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, filepath.Join(s.cfg.Bin, tool), args...)
	cmd.Dir = "/" // the caller's working directory may be closed to the server's user
	cmd.Env = []string{
		"PATH=" + s.cfg.Bin + ":/usr/local/bin:/usr/bin:/bin",
		"HOME=" + s.home,
		"USER=" + s.server,
		"LC_ALL=C",
	}
	if tz, ok := os.LookupEnv("TZ"); ok { // initdb and the logs follow the agent's zone
		cmd.Env = append(cmd.Env, "TZ="+tz)
	}
	cmd.Env = append(cmd.Env, extra...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: tool == "pg_ctl", Credential: s.cred}
	if tool != "pg_ctl" {
		dieWithParent(cmd.SysProcAttr)
	}
	// A canceled tool is killed; WaitDelay bounds the wait for any grandchild
	// that kept our output pipe (pg_ctl's postmaster does not: it writes to
	// the startup log).
	cmd.WaitDelay = 10 * time.Second
	return cmd
}

// run runs tool and returns a *toolError with the last lines of its output
// when it fails.
func (s *Server) run(ctx context.Context, tool string, extra []string, args ...string) error {
	start := time.Now()
	out, err := s.command(ctx, tool, extra, args...).CombinedOutput()
	if err != nil {
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return &toolError{tool: tool, err: err, output: tail(string(out), 8, 1500)}
	}
	s.log.Debug("postgresql tool done", "tool", tool, "args", args, "took", time.Since(start).Round(time.Millisecond))
	return nil
}
