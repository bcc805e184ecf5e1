package catalog

import (
	"context"
	"time"
)

// ExpiredBackups returns what a prune of instanceID removes, oldest first:
// its complete backups created before before, and its pruned backups whose
// file is not yet recorded deleted (a prune that stopped half way); never
// the backup except.
func (c *Catalog) ExpiredBackups(ctx context.Context, instanceID string, before time.Time, except string) ([]Backup, error) {
	return c.queryBackups(ctx, "list expired backups of instance "+instanceID, "SELECT "+backupColumns+
		` FROM backups WHERE instance_id = $1 AND id <> $3
		AND ((state = 'complete' AND created_at < $2) OR (state = 'pruned' AND file_deleted_at IS NULL))
		ORDER BY created_at, id`, instanceID, before, except)
}

// PruneBackup crypto-erases a complete backup: state pruned, wrapped DEK
// cleared, pruned_at now. Pruning a pruned backup again returns it
// unchanged. Any other state wraps ErrInvalidState; an unknown id
// ErrNotFound.
func (c *Catalog) PruneBackup(ctx context.Context, id string) (Backup, error) {
	rows, _ := c.pool.Query(ctx, `UPDATE backups SET state = 'pruned', wrapped_dek = '\x',
		pruned_at = coalesce(pruned_at, now()),
		updated_at = CASE WHEN state = 'pruned' THEN updated_at ELSE now() END
		WHERE id = $1 AND state IN ('complete', 'pruned')
		RETURNING `+backupColumns, id)
	return c.backupUpdated(ctx, rows, "prune backup", id)
}

// MarkBackupFileDeleted records that a pruned backup's file is deleted.
// Idempotent; a backup that is not pruned wraps ErrInvalidState.
func (c *Catalog) MarkBackupFileDeleted(ctx context.Context, id string) (Backup, error) {
	rows, _ := c.pool.Query(ctx, `UPDATE backups SET file_deleted_at = coalesce(file_deleted_at, now())
		WHERE id = $1 AND state = 'pruned'
		RETURNING `+backupColumns, id)
	return c.backupUpdated(ctx, rows, "record deleted file of backup", id)
}
