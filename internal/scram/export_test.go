package scram

// Build exposes build to the external tests: the verifier of a password
// under a given salt, as PostgreSQL would compute it.
var Build = build
