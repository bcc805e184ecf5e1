// Package contract is the wire contract of byokflow: the registered names,
// task queues, inputs, results, key-status states, search attributes and
// error types shared by the workflows, the control-plane activities and the
// node agents.
//
// Everything here crosses a process boundary through Temporal's history, so
// it is a compatibility promise: renaming a constant or a field breaks
// running workflows and deployed node agents. Add fields; do not rename or
// repurpose them.
//
// No plaintext key, API key or token ever appears in a struct of this
// package: only ids, CRNs, key versions, wrapped keys and key check values.
// A test walks every struct and fails on secret-looking field names.
//
// This package imports only the standard library and go.temporal.io/sdk/temporal.
// It must not import workflows, activities, node, catalog, encryption or any
// client SDK: every other package may import it, so it stays a leaf.
package contract
