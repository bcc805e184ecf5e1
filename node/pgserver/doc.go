// Package pgserver runs one PostgreSQL server of a database node: the
// primary's cluster, made with initdb, or a streaming standby, made with
// pg_basebackup from the primary; started, stopped and watched with pg_ctl
// and a few SQL queries. The node agent (package node) drives it, one Server
// per database node, on a data directory that the agent keeps on the node's
// fscrypt-encrypted storage.
//
// It leans on PostgreSQL's own tools (initdb, pg_ctl, pg_basebackup) for the
// cluster's lifecycle instead of reimplementing any of it; what it writes by
// hand is only the configuration it owns:
//
//   - byokflow.conf, included from postgresql.conf with include_if_exists and
//     rewritten from Config before every start: loopback only, the node's
//     port and socket directory, SCRAM passwords, streaming replication
//     settings, logs inside the data directory (they can quote data, so they
//     stay on the encrypted storage);
//   - pg_hba.conf: peer authentication over the unix socket for the OS users
//     in pg_ident.conf's map "byokflow", SCRAM-SHA-256 over TCP on 127.0.0.1,
//     and never trust;
//   - pg_ident.conf: the calling OS user and the server's OS user may connect
//     as the superuser role postgres, over the socket only.
//
// When the caller is root (the node agent is), every tool and the server run
// as Config.OSUser in a session of their own (setsid), so the server outlives
// the agent: an agent that is killed finds the server running when it comes
// back, and a new Server on the same data directory adopts it.
//
// Passwords never reach a command line, a log line, an error or a file this
// package writes: roles get SCRAM verifiers (package internal/scram), and
// the replication password reaches pg_basebackup in its environment only.
// pg_basebackup -R itself records it in primary_conninfo inside the data
// directory, which is why the data directory must be on encrypted storage.
//
// The package is Linux only (it reads /proc to tell its server's processes).
// It imports the standard library, pgx/v5 and internal/scram, nothing else of
// ours, and must stay that way: it knows nothing of keys, workflows or the
// catalog.
package pgserver
