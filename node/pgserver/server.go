package pgserver

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
)

// Config says where one server lives. Every field but Bin, OSUser and
// Logger is required.
type Config struct {
	// Bin is the directory of initdb, pg_ctl, pg_basebackup and postgres;
	// "" searches as FindBin does.
	Bin string
	// DataDir is the cluster's data directory (PGDATA, with its WAL and its
	// logs); keep it on encrypted storage. Its parent must be traversable by
	// OSUser.
	DataDir string
	// SocketDir is the directory of the server's unix socket, made 0700 and
	// owned by OSUser. The socket path (SocketDir/.s.PGSQL.<Port>) must fit
	// in 107 bytes.
	SocketDir string
	// Port is the server's TCP port on 127.0.0.1 (and its socket's name).
	Port int
	// OSUser is the OS user the tools and the server run as when the caller
	// is root; "" means "postgres". It is ignored when the caller is not
	// root: then everything runs as the caller.
	OSUser string
	// Logger receives one line per lifecycle step; nil discards.
	Logger *slog.Logger
}

// Server is one PostgreSQL server on Config.DataDir. Its methods are safe to
// call again after a failure or a crash of the caller; they are not meant to
// be called concurrently on one data directory.
type Server struct {
	cfg    Config
	log    *slog.Logger
	cred   *syscall.Credential // nil: run tools as the caller
	uid    int                 // owner of DataDir and SocketDir; -1: leave as made
	gid    int
	caller string // OS user name of the caller, mapped to role postgres
	server string // OS user name the server runs as
	home   string // its home directory, for the tools' HOME
}

// maxSocketPath is the longest unix socket path Linux accepts (sun_path is
// 108 bytes with its terminating NUL).
const maxSocketPath = 107

// New checks cfg and returns its Server. It finds the binaries and the OS
// user but touches no file.
func New(cfg Config) (*Server, error) {
	if cfg.DataDir == "" || cfg.SocketDir == "" {
		return nil, errors.New("configure postgresql server: DataDir and SocketDir are required")
	}
	if cfg.Port <= 0 || cfg.Port > 65535 {
		return nil, fmt.Errorf("configure postgresql server: port %d out of range: pick one with FreePort", cfg.Port)
	}
	var err error
	if cfg.DataDir, err = filepath.Abs(cfg.DataDir); err != nil {
		return nil, fmt.Errorf("configure postgresql server: data dir: %w", err)
	}
	if cfg.SocketDir, err = filepath.Abs(cfg.SocketDir); err != nil {
		return nil, fmt.Errorf("configure postgresql server: socket dir: %w", err)
	}
	if p := socketPath(cfg.SocketDir, cfg.Port); len(p) > maxSocketPath {
		return nil, fmt.Errorf("configure postgresql server: socket path %s is %d bytes, more than %d: choose a shorter SocketDir",
			p, len(p), maxSocketPath)
	}
	if cfg.Bin == "" {
		if cfg.Bin, err = FindBin(); err != nil {
			return nil, fmt.Errorf("configure postgresql server: %w", err)
		}
	} else if err := checkBin(cfg.Bin); err != nil {
		return nil, fmt.Errorf("configure postgresql server: %w", err)
	}
	s := &Server{cfg: cfg, log: cfg.Logger, uid: -1, gid: -1}
	if s.log == nil {
		s.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s.log = s.log.With("data_dir", cfg.DataDir, "port", cfg.Port)
	if err := s.identify(); err != nil {
		return nil, fmt.Errorf("configure postgresql server: %w", err)
	}
	return s, nil
}

// identify settles which OS user runs the tools: Config.OSUser when the
// caller is root, the caller otherwise.
func (s *Server) identify() error {
	me, err := user.Current()
	if err != nil {
		return fmt.Errorf("look up current os user: %w", err)
	}
	s.caller, s.server, s.home = me.Username, me.Username, me.HomeDir
	if os.Geteuid() != 0 {
		return nil
	}
	name := s.cfg.OSUser
	if name == "" {
		name = "postgres"
	}
	u, err := user.Lookup(name)
	if err != nil {
		return fmt.Errorf("look up os user %s: %w: create it (apt-get install postgresql does) or set Config.OSUser", name, err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	if uid == 0 {
		return fmt.Errorf("os user %s is root: postgres refuses to run as root: set Config.OSUser to an unprivileged user", name)
	}
	groups, err := u.GroupIds()
	if err != nil {
		return fmt.Errorf("look up groups of os user %s: %w", name, err)
	}
	s.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	for _, g := range groups {
		if n, err := strconv.Atoi(g); err == nil {
			s.cred.Groups = append(s.cred.Groups, uint32(n))
		}
	}
	s.uid, s.gid, s.server, s.home = uid, gid, name, u.HomeDir
	return nil
}

// Tools this package runs; FindBin requires all of them in one directory.
var tools = []string{"initdb", "pg_ctl", "pg_basebackup", "postgres"}

// FindBin returns the directory of the PostgreSQL server binaries: the one
// `pg_config --bindir` names, else the newest /usr/lib/postgresql/*/bin,
// else the directory of initdb on PATH. Its error wraps ErrBinariesMissing.
func FindBin() (string, error) {
	var candidates []string
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		candidates = append(candidates, string(bytes.TrimSpace(out)))
	}
	versions, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(versions, func(i, j int) bool { return pgMajor(versions[i]) > pgMajor(versions[j]) })
	candidates = append(candidates, versions...)
	if p, err := exec.LookPath("initdb"); err == nil {
		candidates = append(candidates, filepath.Dir(p))
	}
	for _, dir := range candidates {
		if checkBin(dir) == nil {
			return dir, nil
		}
	}
	return "", fmt.Errorf("find postgresql binaries: %w", ErrBinariesMissing)
}

// pgMajor is the major version in a /usr/lib/postgresql/<major>/bin path.
func pgMajor(dir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(dir)))
	return n
}

// checkBin reports whether dir holds every tool as an executable file.
func checkBin(dir string) error {
	for _, t := range tools {
		fi, err := os.Stat(filepath.Join(dir, t))
		if err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
			return fmt.Errorf("find %s in %s: %w", t, dir, ErrBinariesMissing)
		}
	}
	return nil
}

// socketPath is the path of the server's unix socket.
func socketPath(dir string, port int) string {
	return filepath.Join(dir, ".s.PGSQL."+strconv.Itoa(port))
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago: it
// listens on port 0 and closes. Another process may take it before the
// server binds it; Start then fails and the caller picks again.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// DataDir returns the server's absolute data directory.
func (s *Server) DataDir() string { return s.cfg.DataDir }

// Port returns the server's TCP port on 127.0.0.1.
func (s *Server) Port() int { return s.cfg.Port }

// identUsers lists the OS users pg_ident.conf maps to role postgres.
func (s *Server) identUsers() []string {
	if s.caller == s.server {
		return []string{s.caller}
	}
	return []string{s.caller, s.server}
}

// quoteConf quotes v as a postgresql.conf string value.
func quoteConf(v string) string {
	return "'" + strings.ReplaceAll(v, "'", "''") + "'"
}
