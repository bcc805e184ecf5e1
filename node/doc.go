// Package node is the byokflow node agent: the process on a database host
// that holds the data encryption keys (DEKs) of the database nodes placed on
// it, runs their PostgreSQL servers on encrypted storage, and serves the
// node activities of package contract on the host's task queue:
// InstallKey, RewrapKey, DropKeySlot, ReportStatus and ShredKeySlot for
// node keys; StartPrimary, StartStandby, SuspendNode and ResumeNode for the
// servers; BackupDatabase, RestoreDatabase and RewrapBackupKey for the data
// path.
//
// A node's DEK lives in three forms only. In memory, as an
// *encryption.DataKey, for as long as the node is served; on disk, wrapped
// by the customer's root key in Key Protect, in the node's key slot (see
// Slots); and, derived from it with HKDF-SHA512, as the node's fscrypt v2
// master key in the kernel (storage.go), which encrypts the node's data
// directory — PGDATA, WAL and server logs — with AES-256-XTS and its file
// names with AES-256-CTS. Only the service identity's KeyWrapper can turn
// the second into the first. The plaintext DEK never reaches a log line,
// an error, a report, or a workflow.
//
// Every node is a PostgreSQL server of its own (server.go, package
// pgserver): the instance's first node is the primary, made with initdb in
// its encrypted directory; the others are streaming standbys, made with
// pg_basebackup from it, each under its own DEK. A node whose key goes
// (suspend, drop, shred, a revoked root key) stops its server, then loses
// its fscrypt key, then its DEK, and only then reports (suspend.go).
//
// The data path (backup.go, restore.go) moves an instance database in and
// out of the backup store (Config.BackupDir) as a logical dump (dump.go:
// pg_dump's schema and every table's COPY data), read from and loaded into
// the node's own server, sealed by the encryption library under a fresh
// backup DEK per backup, wrapped by the instance's root key.
//
// Node agents hold no catalog connection: activities return their reports
// and the workflow records them through the control plane; the reports of
// Pending and Recover (recover.go), which bring the nodes back in the
// background after a start, and of Watch (watch.go), which restarts a
// server whose postmaster died, reach it through a workflow the agent's
// main starts.
//
// Every activity classifies its failure once, at its boundary (errors.go,
// and storageError and serverError for fscrypt and PostgreSQL): permanent
// failures are non-retryable errors typed with contract.ErrType*,
// transient ones are returned as they are so Temporal retries them.
//
// This package may import encryption, contract, pgx, its subpackages
// fscrypt and pgserver, and the Temporal activity/worker packages. It must
// not import catalog, workflows or activities, nor a KMS client: the worker
// main builds the KeyWrapper (for example with encryption/keyprotect) and
// hands it to New.
package node
