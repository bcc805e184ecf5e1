package catalog

import (
	"context"
	"fmt"
)

// SetAttention marks the instance as needing an operator: a compensation
// of a.Operation failed at a.Step. The latest mark wins; a.At is set by
// the database. An unknown id wraps ErrNotFound.
func (c *Catalog) SetAttention(ctx context.Context, id string, a Attention) error {
	tag, err := c.pool.Exec(ctx, `UPDATE instances SET attention_operation = $2, attention_step = $3,
		attention_subject = $4, attention_error = $5, attention_workflow_id = $6, attention_at = now(),
		updated_at = now() WHERE id = $1`, id, a.Operation, a.Step, a.Subject, a.Error, a.WorkflowID)
	if err != nil {
		return fmt.Errorf("mark instance %s as needing attention: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("mark instance %s as needing attention: %w", id, ErrNotFound)
	}
	return nil
}

// ClearAttention removes the instance's attention mark; an instance without
// one, or unknown, is left as it is.
func (c *Catalog) ClearAttention(ctx context.Context, id string) error {
	_, err := c.pool.Exec(ctx, `UPDATE instances SET attention_operation = '', attention_step = '',
		attention_subject = '', attention_error = '', attention_workflow_id = '', attention_at = NULL,
		updated_at = now() WHERE id = $1 AND attention_step <> ''`, id)
	if err != nil {
		return fmt.Errorf("clear attention mark of instance %s: %w", id, err)
	}
	return nil
}
