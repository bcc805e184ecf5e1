// Package node is the byokflow node agent: the process on a database host
// that holds the data encryption keys (DEKs) of the database nodes placed on
// it, and serves the node activities of package contract on the host's
// task queue: InstallKey, RewrapKey, DropKeySlot, ReportStatus and
// ShredKeySlot for node keys; BackupDatabase, RestoreDatabase and
// RewrapBackupKey for the data path.
//
// A node's DEK lives in two forms only. In memory, as an *encryption.DataKey,
// for as long as the node is served; and on disk, wrapped by the customer's
// root key in Key Protect, in the node's key slot (see Slots). Only the
// service identity's KeyWrapper can turn the second into the first. The
// plaintext DEK never reaches a log line, an error, a report, the catalog or
// a workflow.
//
// The data path (backup.go, restore.go) moves an instance database in and
// out of the backup store (Config.BackupDir) as a logical dump (dump.go:
// pg_dump's schema and every table's COPY data) sealed by the encryption
// library under a fresh backup DEK per backup, wrapped by the instance's
// root key. Like node DEKs, backup DEKs exist in plaintext only in the
// agent's memory, for the duration of one activity.
//
// Every activity classifies its failure once, at its boundary (errors.go):
// permanent failures are non-retryable errors typed with contract.ErrType*
// (or KeySlotInvalid/KeySlotMissing below), transient ones are returned as
// they are so Temporal retries them. Each activity that reports a node's
// key appends its NodeReport to the catalog's key-status history before
// returning it.
//
// This package may import encryption, contract, catalog, pgx and the
// Temporal activity/worker packages, and runs pg_dump for schemas. It must
// not import workflows or activities, nor a KMS client: the worker main
// builds the KeyWrapper (for example with encryption/keyprotect) and hands
// it to New.
package node
