package catalog

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Operation is the lock of one instance by one workflow run: the operation
// running on it (rotate, backup, shred, ...).
type Operation struct {
	InstanceID string    `db:"instance_id"`
	WorkflowID string    `db:"workflow_id"`
	RunID      string    `db:"run_id"`
	Operation  string    `db:"operation"`
	AcquiredAt time.Time `db:"acquired_at"`
}

// Holds reports whether o is held by the run workflowID/runID.
func (o Operation) Holds(workflowID, runID string) bool {
	return o.WorkflowID == workflowID && o.RunID == runID
}

const operationColumns = "instance_id, workflow_id, run_id, operation, acquired_at"

// AcquireOperation takes the instance's lock for op when nobody holds it,
// and returns the lock as stored: op's own (acquired, also when op's run
// already held it: a retry), or another run's.
func (c *Catalog) AcquireOperation(ctx context.Context, op Operation) (Operation, error) {
	rows, _ := c.pool.Query(ctx, `INSERT INTO instance_operations (instance_id, workflow_id, run_id, operation)
		VALUES ($1, $2, $3, $4) ON CONFLICT (instance_id) DO NOTHING RETURNING `+operationColumns,
		op.InstanceID, op.WorkflowID, op.RunID, op.Operation)
	got, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[Operation])
	if errors.Is(err, pgx.ErrNoRows) {
		return c.CurrentOperation(ctx, op.InstanceID)
	}
	if err != nil {
		return Operation{}, fmt.Errorf("lock instance %s for %s: %w", op.InstanceID, op.Operation, err)
	}
	return got, nil
}

// TakeOverOperation gives the lock held by holder to op, only while holder
// still holds it; false when another run changed it first.
func (c *Catalog) TakeOverOperation(ctx context.Context, holder, op Operation) (bool, error) {
	tag, err := c.pool.Exec(ctx, `UPDATE instance_operations
		SET workflow_id = $4, run_id = $5, operation = $6, acquired_at = now()
		WHERE instance_id = $1 AND workflow_id = $2 AND run_id = $3`,
		op.InstanceID, holder.WorkflowID, holder.RunID, op.WorkflowID, op.RunID, op.Operation)
	if err != nil {
		return false, fmt.Errorf("take over lock of instance %s from workflow %s: %w", op.InstanceID, holder.WorkflowID, err)
	}
	return tag.RowsAffected() == 1, nil
}

// ReleaseOperation deletes the instance's lock if the run
// workflowID/runID holds it; releasing a lock not held is a no-op.
func (c *Catalog) ReleaseOperation(ctx context.Context, instanceID, workflowID, runID string) error {
	_, err := c.pool.Exec(ctx, `DELETE FROM instance_operations
		WHERE instance_id = $1 AND workflow_id = $2 AND run_id = $3`, instanceID, workflowID, runID)
	if err != nil {
		return fmt.Errorf("release lock of instance %s: %w", instanceID, err)
	}
	return nil
}

// CurrentOperation returns the instance's lock, or an error wrapping
// ErrNotFound when no operation holds it.
func (c *Catalog) CurrentOperation(ctx context.Context, instanceID string) (Operation, error) {
	rows, _ := c.pool.Query(ctx, "SELECT "+operationColumns+" FROM instance_operations WHERE instance_id = $1",
		instanceID)
	got, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[Operation])
	if errors.Is(err, pgx.ErrNoRows) {
		return Operation{}, fmt.Errorf("read lock of instance %s: %w", instanceID, ErrNotFound)
	}
	if err != nil {
		return Operation{}, fmt.Errorf("read lock of instance %s: %w", instanceID, err)
	}
	return got, nil
}
