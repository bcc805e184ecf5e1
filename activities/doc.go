// Package activities holds byokflow's control-plane activities: the steps of
// the workflows that talk to IAM (service-to-service authorization
// policies), to Key Protect (root key checks, rotation, registrations, the
// deletion of a crypto-shredded key and the proof that it is gone), to the
// catalog (instances, backups and their key lineage, shred certificates)
// and to the PostgreSQL server that hosts instance databases.
// They are served on contract.ControlTaskQueue under the names of
// contract/names.go; Register registers them.
//
// Every activity takes one contract input struct and returns one result
// struct, is safe to retry (it finds what an earlier attempt made), and
// classifies its errors once: a permanent failure is a non-retryable
// application error whose type is a contract.ErrType constant and whose
// message names the ids involved and says what to do; a transient one
// (network, 429, 5xx, a database hiccup) is returned wrapped and Temporal
// retries it.
//
// Two identities are used, each with one client built once per worker so
// that IAM tokens are cached: the operator (IBMCLOUD_API_KEY) administers
// keys and IAM policies; the DBaaS service (BYOK_SERVICE_API_KEY) creates
// and deletes registrations. No API key, token or plaintext key ever
// enters an input, a result, an error message, a log line or the catalog.
//
// Every state-changing Key Protect call (rotate, delete a key, create or
// delete a registration) is an audit event of its own, with the IAM id it
// was made with and the workflow run's correlation id, which every audit
// event carries (package internal/correlation): byokflow's audit can be
// laid beside Key Protect's own record of the calls.
//
// The SDK clients sit behind small interfaces declared here (KeyAdmin,
// Registrar, PolicyAPI), which the real clients satisfy unchanged.
//
// This package may import contract, catalog, the IBM SDK clients, pgx and
// Temporal's activity packages. It must not import workflows, node or
// encryption.
package activities
