package catalog

import (
	"context"
	"errors"
	"fmt"
)

// DeleteInstance removes an instance that never became active, with its
// nodes and their key-status history: it is the compensation of a failed
// provision. Deleting an id that does not exist succeeds, so compensation
// may be retried. An instance in any state other than provisioning or
// failed is kept (ErrInvalidState): its history is evidence, and the
// database refuses the deletion as well. An instance with recorded backups
// is kept too.
func (c *Catalog) DeleteInstance(ctx context.Context, id string) error {
	tag, err := c.pool.Exec(ctx,
		"DELETE FROM instances WHERE id = $1 AND state IN ('provisioning', 'failed')", id)
	if pgCode(err) == codeForeignKeyViolation {
		return fmt.Errorf("delete instance %s: %w: it has backups or a shred certificate", id, ErrInvalidState)
	}
	if err != nil {
		return fmt.Errorf("delete instance %s: %w", id, err)
	}
	if tag.RowsAffected() == 1 {
		return nil
	}
	in, err := c.GetInstance(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return nil // already gone: the compensation ran before
	}
	if err != nil {
		return fmt.Errorf("delete instance %s: %w", id, err)
	}
	return fmt.Errorf("delete instance %s: %w: the instance is %s; only a provisioning or failed instance may be deleted",
		id, ErrInvalidState, in.State)
}
