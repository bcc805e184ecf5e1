package pgserver

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"
)

// Init makes the primary's cluster with initdb unless DataDir holds one,
// and writes the configuration this package owns. It is idempotent: on a
// cluster it made before it only rewrites byokflow.conf and pg_ident.conf;
// the leftovers of an initdb that crashed are removed and initdb is run
// again. It refuses (ErrForeignData) a directory holding anything else.
func (s *Server) Init(ctx context.Context) error {
	if s.initialized() {
		s.log.Info("postgresql cluster already initialized")
		return s.writeSettings()
	}
	if err := s.notRunning(); err != nil {
		return fmt.Errorf("initialize cluster in %s: %w", s.cfg.DataDir, err)
	}
	if err := s.clearStrays(ctx); err != nil {
		return fmt.Errorf("initialize cluster in %s: %w", s.cfg.DataDir, err)
	}
	if err := s.checkLeftovers(); err != nil {
		return fmt.Errorf("initialize cluster in %s: %w", s.cfg.DataDir, err)
	}
	if err := s.ownDir(s.cfg.DataDir); err != nil {
		return fmt.Errorf("initialize cluster: %w", err)
	}
	if err := s.emptyDataDir(); err != nil {
		return fmt.Errorf("initialize cluster: remove what a failed initdb left: %w", err)
	}
	start := time.Now()
	err := s.run(ctx, "initdb", nil, "-D", s.cfg.DataDir,
		"--auth-local=peer", "--auth-host=scram-sha-256", "-U", "postgres",
		"-E", "UTF8", "--no-locale", "--data-checksums", "--no-instructions")
	if err != nil {
		return fmt.Errorf("initialize cluster in %s: %w: fix the cause, then Init again (it starts over)", s.cfg.DataDir, err)
	}
	if err := s.writeFile("pg_hba.conf", hba("")); err != nil {
		return fmt.Errorf("initialize cluster: %w", err)
	}
	if err := s.writeSettings(); err != nil {
		return fmt.Errorf("initialize cluster: %w", err)
	}
	s.log.Info("postgresql cluster initialized", "took", time.Since(start).Round(time.Millisecond))
	return nil
}

// initialized reports whether DataDir holds a cluster this package has
// configured: initdb or pg_basebackup finished, then byokflow.conf was
// written. A copy with backup_label but no backup_manifest is a
// pg_basebackup that did not finish (byokflow.conf came from the primary).
func (s *Server) initialized() bool {
	partial := s.exists("backup_label") && !s.exists("backup_manifest")
	return s.exists("PG_VERSION") && s.exists(settingsFile) && !partial
}

// notRunning refuses a DataDir a server runs on, before anything that
// would remove or kill.
func (s *Server) notRunning() error {
	run, err := s.Running()
	if err != nil {
		return err
	}
	if run {
		return fmt.Errorf("%w: a server runs on it: Stop it (and RemoveData) first", ErrForeignData)
	}
	return nil
}

// checkLeftovers refuses a DataDir that holds anything but what a crashed
// initdb leaves, so that Init never removes a base backup, a cluster that
// has run (postmaster.opts) or someone else's files.
func (s *Server) checkLeftovers() error {
	for _, n := range []string{"backup_label", "standby.signal", "postmaster.opts"} {
		if s.exists(n) {
			return fmt.Errorf("%w: it holds %s, so it is not a failed initdb: call BaseBackup, or RemoveData first", ErrForeignData, n)
		}
	}
	return s.onlyPGData()
}

// onlyPGData refuses a DataDir holding a file whose name a PostgreSQL data
// directory does not use.
func (s *Server) onlyPGData() error {
	entries, err := os.ReadDir(s.cfg.DataDir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	for _, e := range entries {
		if !pgdataName(e.Name()) {
			return fmt.Errorf("%w: it holds %s, which PostgreSQL does not make: remove it or choose another DataDir", ErrForeignData, e.Name())
		}
	}
	return nil
}

// pgdataName reports whether n is a name found at the top of a PostgreSQL
// data directory (or one of ours).
func pgdataName(n string) bool {
	switch n {
	case "PG_VERSION", "base", "global", "log", "backup_label", "backup_manifest",
		"tablespace_map", "standby.signal", "current_logfiles", startupLog, settingsFile:
		return true
	}
	return strings.HasPrefix(n, "pg_") || strings.HasPrefix(n, "postgresql.") ||
		strings.HasPrefix(n, "postmaster.") || strings.HasSuffix(n, ".tmp")
}

// Start starts the server with pg_ctl start -w and returns once it accepts
// connections (a standby: once it is consistent). A server already running
// on DataDir is adopted, provided it listens on Config.Port. After a crash
// (postmaster.pid of a dead server) it waits for or kills the old server's
// orphans and lets PostgreSQL recover. It rewrites byokflow.conf first, so
// the port and socket of Config are the ones used.
func (s *Server) Start(ctx context.Context) error {
	pf, ok, err := s.readPidFile()
	if err != nil {
		return fmt.Errorf("start server on %s: %w", s.cfg.DataDir, err)
	}
	if ok && s.isOurs(pf.pid) {
		return s.adopt(pf)
	}
	if !s.initialized() {
		return fmt.Errorf("start server on %s: %w", s.cfg.DataDir, ErrNotInitialized)
	}
	if err := s.clearCrash(ctx, pf, ok); err != nil {
		return fmt.Errorf("start server on %s: %w", s.cfg.DataDir, err)
	}
	if err := s.ownDir(s.cfg.SocketDir); err != nil {
		return fmt.Errorf("start server: %w", err)
	}
	if err := s.writeSettings(); err != nil {
		return fmt.Errorf("start server: %w", err)
	}
	if err := os.Remove(filepath.Join(s.cfg.DataDir, startupLog)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("start server: %w", err)
	}
	start := time.Now()
	err = s.run(ctx, "pg_ctl", nil, "start", "-D", s.cfg.DataDir, "-w", "-t", "300", "-s",
		"-l", filepath.Join(s.cfg.DataDir, startupLog))
	if err != nil {
		return fmt.Errorf("start server on %s: %w; server said: %s: fix the cause and Start again",
			s.cfg.DataDir, err, s.startupTail())
	}
	s.log.Info("postgresql server started", "took", time.Since(start).Round(time.Millisecond))
	return nil
}

// adopt accepts a server that already runs on DataDir if it is on our port.
func (s *Server) adopt(pf pidFile) error {
	if pf.port != 0 && pf.port != s.cfg.Port {
		return fmt.Errorf("start server on %s: it already runs (pid %d) on port %d, not %d: Stop it first",
			s.cfg.DataDir, pf.pid, pf.port, s.cfg.Port)
	}
	s.log.Info("postgresql server already running", "pid", pf.pid, "status", pf.status)
	return nil
}

// clearCrash prepares a start after a server died: its orphaned children
// must be gone, and lock files naming a pid that is no live postgres must
// go. PostgreSQL itself handles a lock whose pid is dead (and then also
// cleans up the old shared memory), but it takes one whose pid was reused,
// or is a zombie nobody reaped, for a running server.
func (s *Server) clearCrash(ctx context.Context, pf pidFile, ok bool) error {
	if err := s.reap(ctx); err != nil {
		return err
	}
	if ok && syscall.Kill(pf.pid, 0) != syscall.ESRCH {
		if err := s.removeLock(filepath.Join(s.cfg.DataDir, "postmaster.pid"), pf.pid); err != nil {
			return err
		}
	}
	lock := socketPath(s.cfg.SocketDir, s.cfg.Port) + ".lock"
	if pid, err := lockPid(lock); err == nil && !livePostgres(pid) {
		return s.removeLock(lock, pid)
	}
	return nil
}

// removeLock removes a stale lock file of pid.
func (s *Server) removeLock(p string, pid int) error {
	s.log.Warn("removing stale lock file of a dead server", "file", p, "pid", pid)
	if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove stale lock file: %w", err)
	}
	return nil
}

// startupTail returns what the failed postmaster said: the startup log
// (this attempt's, as Start removes it first), or, once the log collector
// took over, the lines of the newest log file that carry that postmaster's
// pid, which are about the start, not about data.
func (s *Server) startupTail() string {
	b, _ := os.ReadFile(filepath.Join(s.cfg.DataDir, startupLog))
	early := string(b)
	m := collectorPid.FindStringSubmatch(early)
	if m == nil {
		return tail(early, 5, 1000)
	}
	logs, _ := filepath.Glob(filepath.Join(s.cfg.DataDir, "log", "*.log"))
	if len(logs) == 0 {
		return "nothing; see the logs in " + filepath.Join(s.cfg.DataDir, "log")
	}
	b, _ = os.ReadFile(logs[len(logs)-1]) // names sort by time
	var said []string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.Contains(l, m[1]) {
			said = append(said, l)
		}
	}
	return tail(strings.Join(said, "\n"), 6, 1500)
}

// collectorPid finds the "[pid]" of the log_line_prefix of the postmaster
// that handed its output to the log collector.
var collectorPid = regexp.MustCompile(`(\[\d+\]) LOG:  redirecting log output to logging collector`)

// Stop stops the server with pg_ctl stop -m fast, falling back to -m
// immediate and then to SIGKILL, and returns only when no process of a
// server on DataDir is left. A server that is not running is success.
func (s *Server) Stop(ctx context.Context) error {
	pf, ok, err := s.readPidFile()
	if err != nil {
		return fmt.Errorf("stop server on %s: %w", s.cfg.DataDir, err)
	}
	if ok && s.isOurs(pf.pid) {
		start := time.Now()
		s.pgctlStop(ctx, pf.pid)
		s.log.Info("postgresql server stopped", "took", time.Since(start).Round(time.Millisecond))
	}
	if err := s.reap(ctx); err != nil {
		return fmt.Errorf("stop server on %s: %w", s.cfg.DataDir, err)
	}
	return nil
}

// pgctlStop asks the postmaster pid to stop, harder at each failure.
func (s *Server) pgctlStop(ctx context.Context, pid int) {
	for _, mode := range []string{"fast", "immediate"} {
		err := s.run(ctx, "pg_ctl", nil, "stop", "-D", s.cfg.DataDir, "-m", mode, "-w", "-t", "60", "-s")
		if err == nil || !s.isOurs(pid) {
			return
		}
		s.log.Warn("pg_ctl stop failed", "mode", mode, "err", err)
	}
	_ = syscall.Kill(pid, syscall.SIGKILL)
}

// RemoveData removes DataDir and SocketDir, for a node that is dropped or
// a standby to be made again. The server must be stopped.
func (s *Server) RemoveData() error {
	pids, err := s.procs()
	if err != nil {
		return fmt.Errorf("remove data of %s: %w", s.cfg.DataDir, err)
	}
	if len(pids) > 0 {
		return fmt.Errorf("remove data of %s: server processes %v still run: Stop first", s.cfg.DataDir, pids)
	}
	for _, dir := range []string{s.cfg.DataDir, s.cfg.SocketDir} {
		if err := os.RemoveAll(dir); err != nil {
			return fmt.Errorf("remove data: %w", err)
		}
	}
	s.log.Info("postgresql data removed")
	return nil
}
