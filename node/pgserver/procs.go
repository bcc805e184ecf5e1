package pgserver

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// pidFile is what the postmaster writes to DataDir/postmaster.pid (see
// PostgreSQL's pidfile.h): its pid, data directory, port, socket directory
// and status ("starting", "ready", "standby", "stopping").
type pidFile struct {
	pid       int
	dataDir   string
	port      int
	socketDir string
	status    string
}

// readPidFile reads postmaster.pid; ok is false when there is none.
func (s *Server) readPidFile() (pf pidFile, ok bool, err error) {
	b, err := os.ReadFile(filepath.Join(s.cfg.DataDir, "postmaster.pid"))
	if errors.Is(err, os.ErrNotExist) {
		return pidFile{}, false, nil
	}
	if err != nil {
		return pidFile{}, false, fmt.Errorf("read postmaster.pid: %w", err)
	}
	lines := strings.Split(string(b), "\n")
	for len(lines) < 8 {
		lines = append(lines, "") // a pid file being written has fewer lines
	}
	pf.pid, _ = strconv.Atoi(strings.TrimSpace(lines[0]))
	pf.dataDir = strings.TrimSpace(lines[1])
	pf.port, _ = strconv.Atoi(strings.TrimSpace(lines[3]))
	pf.socketDir = strings.TrimSpace(lines[4])
	pf.status = strings.TrimSpace(lines[7])
	return pf, pf.pid > 0, nil
}

// Running reports whether a postmaster runs on DataDir: postmaster.pid
// names a live process that is a postgres whose working directory is
// DataDir. A pid file left by a killed server, or whose pid now belongs to
// another process, is not running.
func (s *Server) Running() (bool, error) {
	pf, ok, err := s.readPidFile()
	if err != nil || !ok {
		return false, err
	}
	return s.isOurs(pf.pid), nil
}

// isOurs reports whether pid is a live postgres process working in DataDir;
// every process of a server (postmaster and children) is one, as the
// postmaster chdirs into its data directory before it forks.
func (s *Server) isOurs(pid int) bool {
	real, err := filepath.EvalSymlinks(s.cfg.DataDir)
	if err != nil {
		return false
	}
	if !livePostgres(pid) {
		return false
	}
	cwd, err := os.Readlink("/proc/" + strconv.Itoa(pid) + "/cwd")
	return err == nil && cwd == real
}

// livePostgres reports whether pid is a running postgres process: not gone,
// not a zombie (/proc/<pid>/exe cannot be read for either).
func livePostgres(pid int) bool {
	exe, err := os.Readlink("/proc/" + strconv.Itoa(pid) + "/exe")
	return err == nil && filepath.Base(strings.TrimSuffix(exe, " (deleted)")) == "postgres"
}

// lockPid reads the pid on the first line of a PostgreSQL lock file.
func lockPid(p string) (int, error) {
	b, err := os.ReadFile(p)
	if err != nil {
		return 0, err
	}
	first, _, _ := strings.Cut(string(b), "\n")
	return strconv.Atoi(strings.TrimSpace(first))
}

// procs returns the pids of every process of a server on DataDir, the
// postmaster's orphaned children included.
func (s *Server) procs() ([]int, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, fmt.Errorf("list processes: %w", err)
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err == nil && s.isOurs(pid) {
			pids = append(pids, pid)
		}
	}
	return pids, nil
}

// reapGrace is how long reap waits for processes to exit on their own (the
// children of a dead postmaster notice within a second or so) before it
// kills them.
const reapGrace = 5 * time.Second

// reap waits until no process of a server on DataDir is left, killing the
// survivors with SIGKILL after reapGrace. Shared memory still attached by
// an orphan would keep a new postmaster from starting, rightly: two
// servers must never write one data directory.
func (s *Server) reap(ctx context.Context) error {
	deadline := time.Now().Add(reapGrace)
	for {
		pids, err := s.procs()
		if err != nil || len(pids) == 0 {
			return err
		}
		if time.Now().After(deadline) {
			s.log.Warn("killing leftover postgresql processes", "pids", pids)
			for _, p := range pids {
				_ = syscall.Kill(p, syscall.SIGKILL)
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for server processes %v to exit: %w", pids, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// clearStrays kills what an earlier caller that died may have left working
// on DataDir: an initdb or pg_basebackup (found by its -D argument), and the
// postgres processes initdb runs. A retry must not race them.
func (s *Server) clearStrays(ctx context.Context) error {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return fmt.Errorf("list processes: %w", err)
	}
	for _, e := range entries {
		if pid, err := strconv.Atoi(e.Name()); err == nil && s.isStrayTool(pid) {
			s.log.Warn("killing a tool left by an earlier attempt", "pid", pid)
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	return s.reap(ctx)
}

// isStrayTool reports whether pid runs initdb or pg_basebackup on DataDir.
func (s *Server) isStrayTool(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	if err != nil {
		return false
	}
	args := strings.Split(strings.TrimSuffix(string(b), "\x00"), "\x00")
	if t := filepath.Base(args[0]); t != "initdb" && t != "pg_basebackup" {
		return false
	}
	for i := 1; i < len(args)-1; i++ {
		if args[i] == "-D" && args[i+1] == s.cfg.DataDir {
			return true
		}
	}
	return false
}
