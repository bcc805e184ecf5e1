package pgserver

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// Source is the primary a standby is made from and then streams from.
type Source struct {
	Host string // the primary's host, e.g. "127.0.0.1"
	Port int    // the primary's port
	// User and Password are the replication role and its password. The
	// password reaches pg_basebackup in its environment (PGPASSWORD) only;
	// pg_basebackup -R then records it in primary_conninfo in DataDir's
	// postgresql.auto.conf, so the standby can reconnect.
	User, Password string
	// AppName is the standby's application_name on the primary, shown in
	// its pg_stat_replication (Server.Standbys); "" leaves PostgreSQL's
	// default.
	AppName string
}

// BaseBackup makes DataDir a streaming standby of src with pg_basebackup
// -R -X stream -c fast: a copy of the primary's cluster, standby.signal and
// primary_conninfo. It is idempotent: a complete standby left by an earlier
// call is success, a partial copy is removed and made again. On failure
// DataDir is left empty; the error wraps ErrPrimaryUnreachable (retry) or
// ErrPrimaryRefused (fix the role or password) when pg_basebackup could not
// connect. DataDir must otherwise be absent or empty (ErrForeignData).
func (s *Server) BaseBackup(ctx context.Context, src Source) error {
	what := fmt.Sprintf("make standby in %s from %s:%d", s.cfg.DataDir, src.Host, src.Port)
	if src.Host == "" || src.Port <= 0 || src.User == "" {
		return fmt.Errorf("%s: source host, port and user are required", what)
	}
	if s.standbyComplete() {
		s.log.Info("standby already made")
		return s.writeSettings()
	}
	if err := s.notRunning(); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if err := s.clearStrays(ctx); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if err := s.prepareStandbyDir(); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	start := time.Now()
	if err := s.run(ctx, "pg_basebackup", sourceEnv(src), "-D", s.cfg.DataDir, "-R", "-X", "stream",
		"-c", "fast", "-h", src.Host, "-p", strconv.Itoa(src.Port), "-U", src.User, "-w"); err != nil {
		if cerr := s.emptyDataDir(); cerr != nil {
			s.log.Error("cannot remove partial standby", "err", cerr)
		}
		return baseBackupError(what, err)
	}
	if err := s.writeSettings(); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	s.log.Info("standby made", "primary", fmt.Sprintf("%s:%d", src.Host, src.Port),
		"took", time.Since(start).Round(time.Millisecond))
	return nil
}

// standbyComplete reports whether pg_basebackup finished in DataDir: it
// renames backup_manifest.tmp to backup_manifest as its very last step,
// after writing standby.signal and syncing every file.
func (s *Server) standbyComplete() bool {
	return s.exists("PG_VERSION") && s.exists("backup_manifest") && s.exists("standby.signal")
}

// prepareStandbyDir makes DataDir, empty and owned by the server's user. It
// removes what a failed pg_basebackup left (it always writes backup_label
// before PG_VERSION) and refuses to remove a cluster.
func (s *Server) prepareStandbyDir() error {
	if s.exists("PG_VERSION") && !s.exists("backup_label") {
		return fmt.Errorf("%w: it holds a cluster that is not a partial base backup: RemoveData first if it is to go", ErrForeignData)
	}
	if err := s.onlyPGData(); err != nil {
		return err
	}
	if err := s.ownDir(s.cfg.DataDir); err != nil {
		return err
	}
	return s.emptyDataDir()
}

// sourceEnv is pg_basebackup's environment: the password, the standby's
// application name (which -R also records in primary_conninfo), and a
// connect timeout so that an unreachable primary fails fast.
func sourceEnv(src Source) []string {
	env := []string{"PGCONNECT_TIMEOUT=10"}
	if src.Password != "" {
		env = append(env, "PGPASSWORD="+src.Password)
	}
	if src.AppName != "" {
		env = append(env, "PGAPPNAME="+src.AppName)
	}
	return env
}

// baseBackupError classifies a failed pg_basebackup by its output.
func baseBackupError(what string, err error) error {
	var te *toolError
	if !errors.As(err, &te) {
		return fmt.Errorf("%s: %w", what, err)
	}
	switch class := baseBackupClass(te.output); class {
	case ErrPrimaryUnreachable:
		return fmt.Errorf("%s: %w: %w: check that the primary runs and listens there, then retry", what, class, err)
	case ErrPrimaryRefused:
		return fmt.Errorf("%s: %w: %w: check the replication role and password (the primary's Bootstrap) and pg_hba.conf", what, class, err)
	}
	return fmt.Errorf("%s: %w: the partial copy was removed; retry", what, err)
}
