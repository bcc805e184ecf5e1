// Package e2e holds the end-to-end tests (tier 4 of design.md section 8): a
// real Temporal dev server (the official CLI), the emulator, a real
// PostgreSQL, the control-plane worker and node agents as separate processes,
// driven through the starter CLI as an operator would.
//
// It has no code outside its tests; `make test` provides what it needs.
package e2e
