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
// The wire form is JSON (Temporal's default payload converter, under the
// payload codec) with camelCase names, acronyms written as words
// ("instanceId", "kpInstanceId", "instanceCrn", "wrappedDek", "sha256"), and
// durations as Go's strings ("4h0m0s", see Duration), so inputs and results
// read as written in the Web UI and the CLI. Histories written before,
// with the Go field names and durations in nanoseconds, still decode:
// encoding/json matches member names to fields regardless of case, every
// JSON name differs from its Go name only by case, and Duration also reads a
// number. A replay of those histories therefore sees the same values and
// needs no workflow.GetVersion. Tests hold every wire struct to this.
// Programs that read durations as strings are the newer ones: upgrade the
// control-plane worker before the starter.
//
// No plaintext key, API key or token ever appears in a struct of this
// package: only ids, CRNs, key versions, wrapped keys and key check values.
// A test walks every struct and fails on secret-looking field names.
//
// This package imports only the standard library and go.temporal.io/sdk/temporal.
// It must not import workflows, activities, node, catalog, encryption or any
// client SDK: every other package may import it, so it stays a leaf.
package contract
