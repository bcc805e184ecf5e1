// Package testenv gates the test tiers of design.md section 8 on the
// environment `make test` provides. `go test ./...` alone runs tiers 1 and 2
// and skips the rest, each with one fixed message.
//
// It imports nothing of ours and is imported only by tests.
package testenv

import (
	"os"
	"testing"
)

// Messages a skipped test prints; fixed so a reader sees at a glance why.
const (
	SkipDatabase = "tier 3: set BYOK_TEST_DATABASE to a PostgreSQL URL to run this test (make test does)"
	SkipStack    = "tier 4: set BYOK_TEST_TEMPORAL_CLI and BYOK_TEST_DATABASE to run this end-to-end test (make test does)"
)

// DatabaseURL returns BYOK_TEST_DATABASE or skips the test.
func DatabaseURL(t testing.TB) string {
	t.Helper()
	url := os.Getenv("BYOK_TEST_DATABASE")
	if url == "" {
		t.Skip(SkipDatabase)
	}
	return url
}

// TemporalCLI returns the path of the Temporal CLI binary for end-to-end
// tests, BYOK_TEST_TEMPORAL_CLI, or skips the test; it also requires a
// database, as every end-to-end test needs the catalog.
func TemporalCLI(t testing.TB) (cli, databaseURL string) {
	t.Helper()
	cli = os.Getenv("BYOK_TEST_TEMPORAL_CLI")
	databaseURL = os.Getenv("BYOK_TEST_DATABASE")
	if cli == "" || databaseURL == "" {
		t.Skip(SkipStack)
	}
	return cli, databaseURL
}
