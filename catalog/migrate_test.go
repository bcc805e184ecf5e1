package catalog_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/byokflow/byokflow/catalog"
	"github.com/byokflow/byokflow/catalog/catalogtest"
)

// migrationFiles lists migrations/ as the binary embeds it.
func migrationFiles(t *testing.T) []string {
	t.Helper()
	names, err := filepath.Glob(filepath.Join("migrations", "*.sql"))
	require.NoError(t, err)
	require.NotEmpty(t, names)
	for i, n := range names {
		names[i] = filepath.Base(n)
	}
	return names
}

type appliedRow struct {
	Version   int       `db:"version"`
	Name      string    `db:"name"`
	Checksum  string    `db:"checksum"`
	AppliedAt time.Time `db:"applied_at"`
}

func appliedMigrations(t *testing.T, raw *pgxpool.Pool) []appliedRow {
	t.Helper()
	rows, _ := raw.Query(context.Background(),
		"SELECT version, name, checksum, applied_at FROM schema_migrations ORDER BY version")
	out, err := pgx.CollectRows(rows, pgx.RowToStructByName[appliedRow])
	require.NoError(t, err)
	return out
}

func appliedNames(rows []appliedRow) []string {
	var names []string
	for _, r := range rows {
		names = append(names, r.Name)
	}
	return names
}

func TestOpen_AppliesEveryMigration(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	require.Equal(t, migrationFiles(t), appliedNames(appliedMigrations(t, e.raw)))
	for _, table := range []string{"hosts", "instances", "nodes", "key_status_reports",
		"backups", "audit_events", "shred_certificates"} {
		var exists bool
		err := e.raw.QueryRow(context.Background(), "SELECT to_regclass($1) IS NOT NULL", table).Scan(&exists)
		require.NoError(t, err)
		require.True(t, exists, "table %s", table)
	}
}

func TestOpen_ReopenIsNoop(t *testing.T) {
	t.Parallel()
	cfg := catalogtest.Config(t)
	catalogtest.OpenConfig(t, cfg)
	raw := catalogtest.Pool(t, cfg)
	before := appliedMigrations(t, raw)

	catalogtest.OpenConfig(t, cfg)
	require.Equal(t, before, appliedMigrations(t, raw))
}

func TestOpen_ConcurrentStartsMigrateOnce(t *testing.T) {
	t.Parallel()
	cfg := catalogtest.Config(t)
	const starts = 5
	errs := make([]error, starts)
	var wg sync.WaitGroup
	for i := range starts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := catalog.OpenConfig(context.Background(), cfg.Copy())
			errs[i] = err
			if err == nil {
				c.Close()
			}
		}()
	}
	wg.Wait()
	for i, err := range errs {
		require.NoError(t, err, "start %d", i)
	}
	raw := catalogtest.Pool(t, cfg)
	require.Equal(t, migrationFiles(t), appliedNames(appliedMigrations(t, raw)))
}

func TestOpen_AppliedMigrationDrift(t *testing.T) {
	tests := []struct {
		name        string
		tamper      string
		wantChanged bool
		wantText    string
	}{
		{name: "checksum changed", tamper: "UPDATE schema_migrations SET checksum = 'edited' WHERE version = 1",
			wantChanged: true, wantText: "check migration 0001"},
		{name: "renamed", tamper: "UPDATE schema_migrations SET name = '0001_old.sql' WHERE version = 1",
			wantChanged: true, wantText: "0001_old.sql"},
		{name: "unknown newer version", tamper: "INSERT INTO schema_migrations (version, name, checksum) VALUES (9999, '9999_future.sql', 'x')",
			wantText: "upgrade byokflow"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := catalogtest.Config(t)
			catalogtest.OpenConfig(t, cfg)
			_, err := catalogtest.Pool(t, cfg).Exec(context.Background(), tt.tamper)
			require.NoError(t, err)

			c, err := catalog.OpenConfig(context.Background(), cfg.Copy())
			require.Nil(t, c)
			require.ErrorContains(t, err, tt.wantText)
			require.Equal(t, tt.wantChanged, errors.Is(err, catalog.ErrMigrationChanged), err.Error())
		})
	}
}

func TestOpen_MissingSchemaFails(t *testing.T) {
	t.Parallel()
	cfg := catalogtest.Config(t)
	cfg.ConnConfig.RuntimeParams["search_path"] = catalogtest.SchemaPrefix + "does_not_exist"
	c, err := catalog.OpenConfig(context.Background(), cfg)
	require.Nil(t, c)
	require.ErrorContains(t, err, "no schema of the search_path exists")
}

func TestOpen_URLWithSearchPath(t *testing.T) {
	t.Parallel()
	cfg := catalogtest.Config(t)
	schema := cfg.ConnConfig.RuntimeParams["search_path"]
	c, err := catalog.Open(context.Background(), withParam(os.Getenv(catalogtest.EnvVar), "search_path", schema))
	require.NoError(t, err)
	defer c.Close()
	raw := catalogtest.Pool(t, cfg)
	require.Equal(t, migrationFiles(t), appliedNames(appliedMigrations(t, raw)))
}

// withParam adds a run-time parameter to a URL or key=value connection string.
func withParam(conn, key, value string) string {
	switch {
	case !strings.Contains(conn, "://"):
		return conn + " " + key + "=" + value
	case strings.Contains(conn, "?"):
		return conn + "&" + key + "=" + value
	default:
		return conn + "?" + key + "=" + value
	}
}
