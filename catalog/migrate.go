package catalog

import (
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strconv"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migration is one file of migrations/, named NNNN_name.sql.
type migration struct {
	version  int
	name     string // the file name without directory
	sql      string
	checksum string // hex SHA-256 of the file's bytes
}

var migrationName = regexp.MustCompile(`^([0-9]{4})_[a-z0-9_]+\.sql$`)

// migrationLockClass is the first key of the advisory lock that serializes
// migrations; the second is a hash of the schema, so catalogs in different
// schemas of one database migrate independently.
const migrationLockClass int32 = 0x62796f6b // "byok"

func embeddedMigrations() ([]migration, error) {
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return nil, err
	}
	return loadMigrations(sub)
}

// loadMigrations reads every *.sql file at the root of fsys, ordered by
// version. Names must be NNNN_name.sql and versions unique.
func loadMigrations(fsys fs.FS) ([]migration, error) {
	names, err := fs.Glob(fsys, "*.sql")
	if err != nil {
		return nil, err
	}
	var out []migration
	seen := map[int]string{}
	for _, name := range names {
		m := migrationName.FindStringSubmatch(name)
		if m == nil {
			return nil, fmt.Errorf("load migration %s: name must be NNNN_lower_case.sql", name)
		}
		version, _ := strconv.Atoi(m[1])
		if prev, dup := seen[version]; dup {
			return nil, fmt.Errorf("load migration %s: version %04d already used by %s", name, version, prev)
		}
		seen[version] = name
		body, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("load migration %s: %w", name, err)
		}
		sum := sha256.Sum256(body)
		out = append(out, migration{version, path.Base(name), string(body), hex.EncodeToString(sum[:])})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	return out, nil
}

// migrate applies the pending migrations in one transaction holding a
// transaction-scoped advisory lock, after checking that the applied ones
// are unchanged. Concurrent callers queue on the lock; the later ones find
// nothing left to do.
func migrate(ctx context.Context, pool *pgxpool.Pool, migrations []migration) error {
	return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		schema, err := lockSchema(ctx, tx)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, createMigrationsTable); err != nil {
			return fmt.Errorf("create schema_migrations in schema %s: %w", schema, err)
		}
		applied, err := appliedMigrations(ctx, tx)
		if err != nil {
			return err
		}
		pending, err := pendingMigrations(migrations, applied)
		if err != nil {
			return err
		}
		for _, m := range pending {
			if err := apply(ctx, tx, m); err != nil {
				return err
			}
		}
		return nil
	})
}

const createMigrationsTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
	version    integer PRIMARY KEY,
	name       text NOT NULL,
	checksum   text NOT NULL,
	applied_at timestamptz NOT NULL DEFAULT now()
)`

// lockSchema takes the migration lock for the current schema and returns
// the schema's name.
func lockSchema(ctx context.Context, tx pgx.Tx) (string, error) {
	var schema *string
	if err := tx.QueryRow(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
		return "", fmt.Errorf("read current schema: %w", err)
	}
	if schema == nil {
		return "", fmt.Errorf("find schema: no schema of the search_path exists; create it first")
	}
	h := fnv.New32a()
	h.Write([]byte(*schema))
	key := int32(h.Sum32())
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1, $2)", migrationLockClass, key); err != nil {
		return "", fmt.Errorf("lock schema %s for migration: %w", *schema, err)
	}
	return *schema, nil
}

func appliedMigrations(ctx context.Context, tx pgx.Tx) (map[int]migration, error) {
	rows, err := tx.Query(ctx, "SELECT version, name, checksum FROM schema_migrations")
	if err != nil {
		return nil, fmt.Errorf("read schema_migrations: %w", err)
	}
	applied := map[int]migration{}
	var m migration
	_, err = pgx.ForEachRow(rows, []any{&m.version, &m.name, &m.checksum}, func() error {
		applied[m.version] = m
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read schema_migrations: %w", err)
	}
	return applied, nil
}

// pendingMigrations checks every applied migration against the embedded one
// and returns those not applied yet, in order. A database migrated by a newer
// binary (a version this one does not know) is refused too.
func pendingMigrations(embedded []migration, applied map[int]migration) ([]migration, error) {
	known := map[int]bool{}
	var pending []migration
	for _, m := range embedded {
		known[m.version] = true
		got, ok := applied[m.version]
		switch {
		case !ok:
			pending = append(pending, m)
		case got.name != m.name || got.checksum != m.checksum:
			return nil, fmt.Errorf("check migration %04d: applied as %s (sha256 %s), this binary has %s (sha256 %s): %w; restore the original file and add a new migration",
				m.version, got.name, got.checksum, m.name, m.checksum, ErrMigrationChanged)
		}
	}
	for v, m := range applied {
		if !known[v] {
			return nil, fmt.Errorf("check migration %04d: %s was applied by a newer byokflow and is unknown to this binary; upgrade byokflow", v, m.name)
		}
	}
	return pending, nil
}

func apply(ctx context.Context, tx pgx.Tx, m migration) error {
	if _, err := tx.Exec(ctx, m.sql); err != nil {
		return fmt.Errorf("apply migration %s: %w", m.name, err)
	}
	_, err := tx.Exec(ctx, "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
		m.version, m.name, m.checksum)
	if err != nil {
		return fmt.Errorf("record migration %s: %w", m.name, err)
	}
	return nil
}
