package pgserver

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
)

// The configuration this package owns inside the data directory.
const (
	settingsFile = "byokflow.conf"
	includeLine  = "include_if_exists = 'byokflow.conf'"
	startupLog   = "startup.log" // pg_ctl -l: what the server says before its log collector runs
)

// settings is byokflow.conf: every setting of the node's server that is not
// initdb's default. It is rewritten before every start, so the port and
// socket of Config win, also on a standby whose files came from the primary.
func (s *Server) settings() string {
	lines := []string{
		"# Settings of a byokflow database node, written by byokflow (node/pgserver)",
		"# before every start: edits are lost.",
		"listen_addresses = '127.0.0.1'",
		fmt.Sprintf("port = %d", s.cfg.Port),
		"unix_socket_directories = " + quoteConf(s.cfg.SocketDir),
		"password_encryption = 'scram-sha-256'",
		"wal_level = replica",
		"max_wal_senders = 10",
		"wal_keep_size = '256MB'",
		"hot_standby = on",
		"fsync = on",
		"# many servers share one small machine",
		"shared_buffers = '32MB'",
		"# server logs can quote data: they stay in the data directory, on encrypted storage",
		"logging_collector = on",
		"log_directory = 'log'",
		"log_line_prefix = '%m [%p] ' # Start quotes the lines of a failed postmaster by its pid",
		"log_file_mode = 0600",
	}
	return strings.Join(lines, "\n") + "\n"
}

// hba is pg_hba.conf. replRole, when set, may open replication connections
// (the standbys' pg_basebackup and WAL receivers) with its SCRAM password.
func hba(replRole string) string {
	lines := []string{
		"# Client authentication of a byokflow database node, written by byokflow",
		"# (node/pgserver): edits are lost. The socket takes peer authentication for",
		"# the OS users of map byokflow (pg_ident.conf); TCP takes SCRAM-SHA-256.",
		"# TYPE  DATABASE     USER  ADDRESS       METHOD",
		"local   all          all                 peer map=byokflow",
		"host    all          all   127.0.0.1/32  scram-sha-256",
	}
	if replRole != "" {
		lines = append(lines, fmt.Sprintf("host    replication  %s  127.0.0.1/32  scram-sha-256", replRole))
	}
	return strings.Join(lines, "\n") + "\n"
}

// ident is pg_ident.conf: the caller and the server's OS user may connect as
// the superuser role postgres over the socket.
func (s *Server) ident() string {
	var b strings.Builder
	b.WriteString("# OS users that may connect as role postgres over the socket; written by\n")
	b.WriteString("# byokflow (node/pgserver): edits are lost.\n# MAPNAME  SYSTEM-USERNAME  PG-USERNAME\n")
	for _, u := range s.identUsers() {
		fmt.Fprintf(&b, "byokflow  %s  postgres\n", u)
	}
	return b.String()
}

// writeSettings writes pg_ident.conf, the include in postgresql.conf and,
// last, byokflow.conf, whose presence marks a data directory as configured.
func (s *Server) writeSettings() error {
	if err := s.writeFile("pg_ident.conf", s.ident()); err != nil {
		return err
	}
	if err := s.ensureInclude(); err != nil {
		return err
	}
	return s.writeFile(settingsFile, s.settings())
}

// ensureInclude appends the include of byokflow.conf to postgresql.conf
// unless it is there. Being last, our settings win over initdb's.
func (s *Server) ensureInclude() error {
	p := filepath.Join(s.cfg.DataDir, "postgresql.conf")
	b, err := os.ReadFile(p)
	if err != nil {
		return fmt.Errorf("configure server: %w", err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.TrimSpace(l) == includeLine {
			return nil
		}
	}
	return s.writeFile("postgresql.conf", string(b)+"\n# byokflow\n"+includeLine+"\n")
}

// writeFile replaces DataDir/name atomically with content, owned by the
// server's OS user and readable by it only.
func (s *Server) writeFile(name, content string) error {
	p := filepath.Join(s.cfg.DataDir, name)
	tmp := p + ".tmp"
	if err := s.writeTemp(tmp, content); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", p, err)
	}
	if err := os.Rename(tmp, p); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", p, err)
	}
	return nil
}

// writeTemp writes and syncs a new file for writeFile.
func (s *Server) writeTemp(p, content string) error {
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(content); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return s.chown(p)
}

// chown gives p to the server's OS user when the caller is root.
func (s *Server) chown(p string) error {
	if s.uid < 0 {
		return nil
	}
	return os.Lchown(p, s.uid, s.gid)
}

// ownDir makes dir (mode 0700, owned by the server's OS user), and any
// missing parent (0755, so the server's user can traverse it).
func (s *Server) ownDir(dir string) error {
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return fmt.Errorf("make %s: %w", filepath.Dir(dir), err)
	}
	if err := os.Mkdir(dir, 0o700); err != nil && !os.IsExist(err) {
		return fmt.Errorf("make %s: %w", dir, err)
	}
	if err := s.checkReach(filepath.Dir(dir)); err != nil {
		return err
	}
	if err := s.chown(dir); err != nil {
		return fmt.Errorf("give %s to os user %s: %w", dir, s.server, err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return fmt.Errorf("make %s private: %w", dir, err)
	}
	return nil
}

// checkReach fails clearly, rather than the tools with "permission
// denied", when the server's OS user cannot traverse dir or a parent of it.
func (s *Server) checkReach(dir string) error {
	if s.cred == nil {
		return nil
	}
	for d := dir; ; d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		if err != nil {
			return fmt.Errorf("check %s: %w", d, err)
		}
		if !s.canTraverse(fi) {
			return fmt.Errorf("os user %s cannot traverse %s: make it and its parents searchable (chmod o+x) or choose another directory", s.server, d)
		}
		if d == filepath.Dir(d) {
			return nil
		}
	}
}

// canTraverse applies the permission bits of fi to the server's OS user.
func (s *Server) canTraverse(fi os.FileInfo) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	mode := fi.Mode().Perm()
	switch {
	case !ok || mode&0o001 != 0:
		return true
	case st.Uid == s.cred.Uid:
		return mode&0o100 != 0
	case st.Gid == s.cred.Gid || slices.Contains(s.cred.Groups, st.Gid):
		return mode&0o010 != 0
	}
	return false
}

// exists reports whether DataDir/name exists.
func (s *Server) exists(name string) bool {
	_, err := os.Lstat(filepath.Join(s.cfg.DataDir, name))
	return err == nil
}

// emptyDataDir removes everything inside DataDir but keeps the directory
// itself, so that an encryption policy set on it survives.
func (s *Server) emptyDataDir() error {
	entries, err := os.ReadDir(s.cfg.DataDir)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("empty %s: %w", s.cfg.DataDir, err)
	}
	for _, e := range entries {
		if err := os.RemoveAll(filepath.Join(s.cfg.DataDir, e.Name())); err != nil {
			return fmt.Errorf("empty %s: %w", s.cfg.DataDir, err)
		}
	}
	return nil
}
