package catalog

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// GetBackup returns the backup, or an error wrapping ErrNotFound.
func (c *Catalog) GetBackup(ctx context.Context, id string) (Backup, error) {
	rows, _ := c.pool.Query(ctx, "SELECT "+backupColumns+" FROM backups WHERE id = $1", id)
	b, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[Backup])
	if errors.Is(err, pgx.ErrNoRows) {
		return Backup{}, fmt.Errorf("get backup %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return Backup{}, fmt.Errorf("get backup %s: %w", id, err)
	}
	return b, nil
}

// ListBackups returns the backups of an instance, in every state, oldest
// first.
func (c *Catalog) ListBackups(ctx context.Context, instanceID string) ([]Backup, error) {
	return c.queryBackups(ctx, "list backups of instance "+instanceID,
		"SELECT "+backupColumns+" FROM backups WHERE instance_id = $1 ORDER BY created_at, id", instanceID)
}

// BackupsByRootKey returns the backups whose DEK is wrapped by the root
// key, in every state, oldest first: rotation rewraps the complete ones, and
// crypto-shredding refuses while complete ones are retained.
func (c *Catalog) BackupsByRootKey(ctx context.Context, rootKeyID string) ([]Backup, error) {
	return c.queryBackups(ctx, "list backups of root key "+rootKeyID,
		"SELECT "+backupColumns+" FROM backups WHERE root_key_id = $1 ORDER BY created_at, id", rootKeyID)
}

func (c *Catalog) queryBackups(ctx context.Context, what, sql string, args ...any) ([]Backup, error) {
	rows, _ := c.pool.Query(ctx, sql, args...)
	out, err := pgx.CollectRows(rows, pgx.RowToStructByName[Backup])
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return out, nil
}
