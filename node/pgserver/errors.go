package pgserver

import (
	"errors"
	"fmt"
	"strings"
)

// Errors the node agent can classify with errors.Is.
var (
	// ErrBinariesMissing: initdb, pg_ctl, pg_basebackup or postgres is not
	// installed where Config.Bin (or the search of FindBin) points.
	ErrBinariesMissing = errors.New("postgresql server binaries not found: apt-get install postgresql, or set Config.Bin")
	// ErrNotInitialized: the data directory holds no cluster yet; call Init
	// (primary) or BaseBackup (standby) first.
	ErrNotInitialized = errors.New("data directory holds no cluster: run Init or BaseBackup first")
	// ErrPrimaryUnreachable: BaseBackup could not get a replication
	// connection to the primary (connection refused or timed out, unknown
	// host, primary starting, stopping or out of WAL senders). Transient:
	// retry.
	ErrPrimaryUnreachable = errors.New("primary unreachable")
	// ErrPrimaryRefused: the primary answered but refused the replication
	// connection (password, role or pg_hba.conf). Retrying will not help
	// until the primary's Bootstrap or the Source is fixed.
	ErrPrimaryRefused = errors.New("primary refused the replication connection")
	// ErrForeignData: the data directory holds something this package did
	// not make or cannot safely remove (a cluster that is not a partial base
	// backup, or a server that is not ours). Nothing was changed.
	ErrForeignData = errors.New("data directory holds data this server did not make")
)

// toolError is a failed run of a PostgreSQL tool: which tool, its exit
// error and the last lines of its output. Tools never see a password in
// argv, so the output cannot echo one.
type toolError struct {
	tool   string
	err    error
	output string
}

func (e *toolError) Error() string {
	if e.output == "" {
		return fmt.Sprintf("%s: %v", e.tool, e.err)
	}
	return fmt.Sprintf("%s: %v: %s", e.tool, e.err, e.output)
}

func (e *toolError) Unwrap() error { return e.err }

// tail returns the last n non-empty lines of out, joined with " | " and cut
// to max bytes, for an error message.
func tail(out string, n, max int) string {
	var lines []string
	for _, l := range strings.Split(out, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	s := strings.Join(lines, " | ")
	if len(s) > max {
		s = "…" + s[len(s)-max:]
	}
	return s
}

// Fragments of libpq's and the walsender's messages (PostgreSQL 12+, C
// locale) by which baseBackupClass tells why pg_basebackup could not start.
var (
	unreachableHints = []string{
		"Connection refused", "timeout expired", "No route to host",
		"could not translate host name", "Network is unreachable",
		"the database system is starting up", "the database system is shutting down",
		"server closed the connection unexpectedly", "too many connections",
		"number of requested standby connections exceeds max_wal_senders",
	}
	refusedHints = []string{
		"password authentication failed", "no pg_hba.conf entry",
		"does not exist", "must be superuser or replication role",
		"permission denied to start WAL sender", "password supplied",
	}
)

// baseBackupClass classifies pg_basebackup's output: ErrPrimaryUnreachable,
// ErrPrimaryRefused, or nil when the failure came after connecting.
func baseBackupClass(output string) error {
	for _, h := range refusedHints {
		if strings.Contains(output, h) {
			return ErrPrimaryRefused
		}
	}
	for _, h := range unreachableHints {
		if strings.Contains(output, h) {
			return ErrPrimaryUnreachable
		}
	}
	return nil
}
