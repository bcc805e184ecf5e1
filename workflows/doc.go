// Package workflows holds the byokflow workflow definitions: deterministic,
// thin orchestration of the activities named in package contract, one
// workflow per file, with their activity options, progress query, search
// attributes and compensations.
//
// Workflows call activities by their registered names (contract.Activity*),
// so this package does not import the activities or node packages, and must
// not: it must not do I/O, read the clock (use workflow.Now), use rand, start
// goroutines or range over maps where order matters. Decisions that need
// thought are plain functions in decide.go with ordinary unit tests.
package workflows
