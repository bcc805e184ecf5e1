package catalog

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Catalog is a handle on the catalog database. It is safe for concurrent
// use; every method is a single statement or a single transaction.
type Catalog struct {
	pool *pgxpool.Pool
}

// Open connects to the PostgreSQL database named by url (a postgres:// URL
// or key=value connection string), applies any pending migration, and
// returns the catalog. Objects live in the connection's search_path; to use
// a schema other than public, add search_path=NAME to the URL.
func Open(ctx context.Context, url string) (*Catalog, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("open catalog: %w", err)
	}
	return OpenConfig(ctx, cfg)
}

// OpenConfig is Open for a pool configuration built by the caller (for
// example with RuntimeParams["search_path"] set). It applies pending
// migrations under an advisory lock, so several processes may start at
// once; it fails with ErrMigrationChanged if an applied migration differs
// from the one embedded in this binary.
func OpenConfig(ctx context.Context, cfg *pgxpool.Config) (*Catalog, error) {
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open catalog: %w", err)
	}
	migrations, err := embeddedMigrations()
	if err == nil {
		err = migrate(ctx, pool, migrations)
	}
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("open catalog: %w", err)
	}
	return &Catalog{pool: pool}, nil
}

// Close releases the catalog's connections. The catalog must not be used
// afterwards.
func (c *Catalog) Close() {
	c.pool.Close()
}
