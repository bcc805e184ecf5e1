// Package catalog is byokflow's record of what exists: the node-agent hosts,
// the encrypted database instances and their nodes, the append-only history
// of every node's key status (the Nodes page), backups and their key lineage,
// audit events and crypto-shred certificates. It is PostgreSQL through
// pgx/v5; the schema is a set of versioned migrations embedded in the binary
// and applied by Open.
//
// No secret ever goes in the catalog: no plaintext data encryption key, no
// API key, no passphrase. It holds only identifiers (instance ids, CRNs, key
// ids, key version ids), wrapped keys (a backup's DEK wrapped by the root key
// in Key Protect), key check values and states. A caller that has a plaintext
// key in hand has no function here to pass it to.
//
// The catalog never hard-codes a schema: every object is created in, and
// looked up through, the connection's search_path, so several catalogs (one
// per test, say) can share one database.
//
// Ids are chosen by the caller (workflows supply them) so that a retried
// activity finds, rather than duplicates, what its first attempt wrote.
//
// This package must not import any other byokflow package; it depends on pgx
// and the standard library only. Control-plane activities and the operator
// CLI import it, never the workflows.
package catalog
