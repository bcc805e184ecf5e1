package catalog

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Node is one database node of an instance, placed on a host whose node
// agent serves TaskQueue. Ordinal 0 is the primary.
type Node struct {
	InstanceID string    `db:"instance_id"`
	NodeID     string    `db:"node_id"`
	Host       string    `db:"host"`
	TaskQueue  string    `db:"task_queue"`
	Ordinal    int       `db:"ordinal"`
	CreatedAt  time.Time `db:"created_at"`
}

const nodeColumns = "instance_id, node_id, host, task_queue, ordinal, created_at"

// AddNodes records the nodes of an instance in one transaction. Each node's
// InstanceID must be empty or instanceID. It is an upsert keyed by
// (instance, node id): a retry with the same placement changes nothing, a
// retry with another placement replaces it. An unknown instance wraps
// ErrNotFound.
func (c *Catalog) AddNodes(ctx context.Context, instanceID string, nodes []Node) error {
	batch := &pgx.Batch{}
	for _, n := range nodes {
		if n.InstanceID != "" && n.InstanceID != instanceID {
			return fmt.Errorf("add nodes to instance %s: node %s belongs to instance %s", instanceID, n.NodeID, n.InstanceID)
		}
		batch.Queue(`INSERT INTO nodes (instance_id, node_id, host, task_queue, ordinal)
			VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (instance_id, node_id) DO UPDATE
			SET host = EXCLUDED.host, task_queue = EXCLUDED.task_queue, ordinal = EXCLUDED.ordinal`,
			instanceID, n.NodeID, n.Host, n.TaskQueue, n.Ordinal)
	}
	err := pgx.BeginFunc(ctx, c.pool, func(tx pgx.Tx) error {
		return tx.SendBatch(ctx, batch).Close()
	})
	if pgCode(err) == codeForeignKeyViolation {
		return fmt.Errorf("add nodes to instance %s: instance %w", instanceID, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("add nodes to instance %s: %w", instanceID, err)
	}
	return nil
}

// ListNodes returns the nodes of an instance ordered by ordinal; none for an
// unknown instance.
func (c *Catalog) ListNodes(ctx context.Context, instanceID string) ([]Node, error) {
	rows, _ := c.pool.Query(ctx, "SELECT "+nodeColumns+" FROM nodes WHERE instance_id = $1 ORDER BY ordinal", instanceID)
	nodes, err := pgx.CollectRows(rows, pgx.RowToStructByName[Node])
	if err != nil {
		return nil, fmt.Errorf("list nodes of instance %s: %w", instanceID, err)
	}
	return nodes, nil
}
