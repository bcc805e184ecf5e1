// Package catalogtest gives tests a throwaway catalog: a fresh PostgreSQL
// schema in the database named by BYOK_TEST_DATABASE, migrated, and dropped
// when the test ends. Tests using it may run in parallel. When the variable
// is unset, every helper skips the test with SkipMessage, so `go test ./...`
// passes without a database and `make test` (which sets it) runs them.
//
// It imports catalog and pgx only; import it from _test.go files only.
package catalogtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/byokflow/byokflow/catalog"
	"github.com/byokflow/byokflow/internal/testenv"
)

// EnvVar names the PostgreSQL URL tests run against.
const EnvVar = "BYOK_TEST_DATABASE"

// SkipMessage is the one message with which tests skip when EnvVar is unset.
const SkipMessage = testenv.SkipDatabase

// SchemaPrefix begins the name of every schema these helpers create.
const SchemaPrefix = "byok_test_"

// Config skips t unless EnvVar is set; otherwise it creates an empty schema
// named SchemaPrefix + random hex, drops it (CASCADE) when t ends, and
// returns a pool configuration whose search_path is that schema alone. Each
// call returns a new schema; Copy the config to open it several times.
func Config(t testing.TB) *pgxpool.Config {
	t.Helper()
	url := os.Getenv(EnvVar)
	if url == "" {
		t.Skip(SkipMessage)
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		t.Fatalf("catalogtest: parse %s: %v", EnvVar, err)
	}
	base := cfg.ConnConfig.Copy()
	schema := SchemaPrefix + randomHex(t)
	admin(t, base, "CREATE SCHEMA "+schema)
	t.Cleanup(func() { admin(t, base, "DROP SCHEMA IF EXISTS "+schema+" CASCADE") })
	cfg.ConnConfig.RuntimeParams["search_path"] = schema
	return cfg
}

// Open returns a migrated catalog in a fresh schema (see Config), closed
// when t ends. It skips t unless EnvVar is set.
func Open(t testing.TB) *catalog.Catalog {
	t.Helper()
	return OpenConfig(t, Config(t))
}

// OpenConfig opens a catalog on a copy of cfg, failing t on error, and
// closes it when t ends.
func OpenConfig(t testing.TB, cfg *pgxpool.Config) *catalog.Catalog {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := catalog.OpenConfig(ctx, cfg.Copy())
	if err != nil {
		t.Fatalf("catalogtest: %v", err)
	}
	t.Cleanup(c.Close)
	return c
}

// Pool returns a plain pool on a copy of cfg, closed when t ends: for tests
// that need SQL the catalog does not offer, such as proving a constraint.
func Pool(t testing.TB, cfg *pgxpool.Config) *pgxpool.Pool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	pool, err := pgxpool.NewWithConfig(ctx, cfg.Copy())
	if err != nil {
		t.Fatalf("catalogtest: open pool: %v", err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// admin runs one statement on a short-lived connection to the base database.
func admin(t testing.TB, cfg *pgx.ConnConfig, sql string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatalf("catalogtest: connect to %s: %v", EnvVar, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql); err != nil {
		t.Fatalf("catalogtest: %s: %v", sql, err)
	}
}

func randomHex(t testing.TB) string {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		t.Fatalf("catalogtest: %v", err)
	}
	return hex.EncodeToString(b)
}
