// Package node is the byokflow node agent: the process on a database host
// that holds the data encryption keys (DEKs) of the database nodes placed on
// it, and serves the node activities of package contract (InstallKey,
// RewrapKey, DropKeySlot, ReportStatus) on the host's task queue.
//
// A node's DEK lives in two forms only. In memory, as an *encryption.DataKey,
// for as long as the node is served; and on disk, wrapped by the customer's
// root key in Key Protect, in the node's key slot (see Slots). Only the
// service identity's KeyWrapper can turn the second into the first. The
// plaintext DEK never reaches a log line, an error, a report, the catalog or
// a workflow.
//
// Every activity classifies its failure once, at its boundary (errors.go):
// permanent failures are non-retryable errors typed with contract.ErrType*
// (or KeySlotInvalid/KeySlotMissing below), transient ones are returned as
// they are so Temporal retries them. Each activity appends its NodeReport to
// the catalog's key-status history before returning it.
//
// This package may import encryption, contract, catalog and the Temporal
// activity/worker packages. It must not import workflows or activities, nor
// a KMS client: the worker main builds the KeyWrapper (for example with
// encryption/keyprotect) and hands it to New.
package node
