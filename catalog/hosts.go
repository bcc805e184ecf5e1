package catalog

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Host is a machine running a node agent, which polls TaskQueue for the
// node-side activities of every database node placed on it.
type Host struct {
	Name       string    `db:"name"`
	TaskQueue  string    `db:"task_queue"`
	CreatedAt  time.Time `db:"created_at"`
	LastSeenAt time.Time `db:"last_seen_at"`
}

const hostColumns = "name, task_queue, created_at, last_seen_at"

// UpsertHost registers a node agent's host, or refreshes its task queue and
// last-seen time if it is known. Node agents call it when they start and
// periodically after. It returns the stored row.
func (c *Catalog) UpsertHost(ctx context.Context, name, taskQueue string) (Host, error) {
	rows, _ := c.pool.Query(ctx, `INSERT INTO hosts (name, task_queue) VALUES ($1, $2)
		ON CONFLICT (name) DO UPDATE SET task_queue = EXCLUDED.task_queue, last_seen_at = now()
		RETURNING `+hostColumns, name, taskQueue)
	h, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[Host])
	if err != nil {
		return Host{}, fmt.Errorf("register host %s: %w", name, err)
	}
	return h, nil
}

// ListHosts returns every registered host ordered by name. Callers judge
// liveness from LastSeenAt.
func (c *Catalog) ListHosts(ctx context.Context) ([]Host, error) {
	rows, _ := c.pool.Query(ctx, "SELECT "+hostColumns+" FROM hosts ORDER BY name")
	hosts, err := pgx.CollectRows(rows, pgx.RowToStructByName[Host])
	if err != nil {
		return nil, fmt.Errorf("list hosts: %w", err)
	}
	return hosts, nil
}
