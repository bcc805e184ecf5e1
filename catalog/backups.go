package catalog

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// BackupState is where a backup is in its life.
type BackupState string

// Backup states. The database accepts only these (a CHECK).
const (
	BackupWriting       BackupState = "writing"
	BackupComplete      BackupState = "complete"
	BackupFailed        BackupState = "failed"
	BackupUnrecoverable BackupState = "unrecoverable" // its root key is destroyed
	BackupDeleted       BackupState = "deleted"       // file removed; row kept for lineage
	BackupPruned        BackupState = "pruned"        // retention: wrapped DEK erased, file deleted
)

// Backup is an encrypted backup of an instance and its key lineage: the
// root key and key version that wrap its DEK. WrappedDEK is the DEK as Key
// Protect wrapped it under RootKeyID; the plaintext DEK is never stored.
// A backup may be recorded before its node writes it: while writing (or
// once failed) Location and WrappedDEK may be empty (pass a non-nil empty
// WrappedDEK); a complete or unrecoverable backup must have both.
type Backup struct {
	ID           string      `db:"id"`
	InstanceID   string      `db:"instance_id"`
	Location     string      `db:"location"`
	Bytes        int64       `db:"bytes"`
	SHA256       string      `db:"sha256"` // hex, of the encrypted file
	RootKeyID    string      `db:"root_key_id"`
	KeyVersionID string      `db:"key_version_id"`
	WrappedDEK   []byte      `db:"wrapped_dek"`
	AADContext   string      `db:"aad_context"` // the additional data bound to the wrap
	State        BackupState `db:"state"`
	CreatedAt    time.Time   `db:"created_at"`
	UpdatedAt    time.Time   `db:"updated_at"`
	CompletedAt  *time.Time  `db:"completed_at"`
	// PrunedAt is when retention crypto-erased the backup (state pruned,
	// WrappedDEK empty); FileDeletedAt when its file was then deleted.
	PrunedAt      *time.Time `db:"pruned_at"`
	FileDeletedAt *time.Time `db:"file_deleted_at"`
}

const backupColumns = `id, instance_id, location, bytes, sha256, root_key_id, key_version_id,
	wrapped_dek, aad_context, state, created_at, updated_at, completed_at, pruned_at, file_deleted_at`

// CreateBackup records a backup being written (state writing) and returns
// the stored row. It is an upsert keyed by b.ID while the backup is still
// writing, so a retried backup activity (which writes a fresh wrapped DEK)
// replaces the first attempt's row. Once the backup has left the writing
// state, or if the id belongs to another instance, the error wraps
// ErrInvalidState. An unknown instance wraps ErrNotFound.
func (c *Catalog) CreateBackup(ctx context.Context, b Backup) (Backup, error) {
	rows, _ := c.pool.Query(ctx, `INSERT INTO backups (id, instance_id, location, root_key_id,
		key_version_id, wrapped_dek, aad_context) VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (id) DO UPDATE SET location = EXCLUDED.location, root_key_id = EXCLUDED.root_key_id,
			key_version_id = EXCLUDED.key_version_id, wrapped_dek = EXCLUDED.wrapped_dek,
			aad_context = EXCLUDED.aad_context, updated_at = now()
		WHERE backups.state = 'writing' AND backups.instance_id = EXCLUDED.instance_id
		RETURNING `+backupColumns,
		b.ID, b.InstanceID, b.Location, b.RootKeyID, b.KeyVersionID, b.WrappedDEK, b.AADContext)
	stored, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[Backup])
	switch {
	case pgCode(err) == codeForeignKeyViolation:
		return Backup{}, fmt.Errorf("create backup %s: instance %s %w", b.ID, b.InstanceID, ErrNotFound)
	case errors.Is(err, pgx.ErrNoRows):
		return Backup{}, fmt.Errorf("create backup %s: %w: the id is taken by a finished backup or another instance; choose a new id",
			b.ID, ErrInvalidState)
	case err != nil:
		return Backup{}, fmt.Errorf("create backup %s: %w", b.ID, err)
	}
	return stored, nil
}

// CompleteBackup marks a writing backup complete with the size and SHA-256
// of its file. Completing it again with the same checksum is a no-op; any
// other state, or another checksum, wraps ErrInvalidState.
func (c *Catalog) CompleteBackup(ctx context.Context, id string, bytes int64, sha256Hex string) (Backup, error) {
	rows, _ := c.pool.Query(ctx, `UPDATE backups
		SET state = 'complete', bytes = $2, sha256 = $3, completed_at = coalesce(completed_at, now()), updated_at = now()
		WHERE id = $1 AND (state = 'writing' OR (state = 'complete' AND bytes = $2 AND sha256 = $3))
		RETURNING `+backupColumns, id, bytes, sha256Hex)
	return c.backupUpdated(ctx, rows, "complete backup", id)
}

// SetBackupState moves a backup to state: failed, unrecoverable or deleted.
// Complete it with CompleteBackup. A deleted backup stays deleted.
func (c *Catalog) SetBackupState(ctx context.Context, id string, state BackupState) (Backup, error) {
	switch state {
	case BackupFailed, BackupUnrecoverable, BackupDeleted:
	default:
		return Backup{}, fmt.Errorf("set backup %s state: %w: %q is not failed, unrecoverable or deleted", id, ErrInvalidState, state)
	}
	rows, _ := c.pool.Query(ctx, `UPDATE backups SET state = $2, updated_at = now()
		WHERE id = $1 AND (state <> 'deleted' OR $2 = 'deleted')
		RETURNING `+backupColumns, id, state)
	return c.backupUpdated(ctx, rows, "set backup state", id)
}

// UpdateBackupKey records the rewrap of a backup's DEK after a rotation of
// its root key: the new wrapped DEK and the key version that wrapped it. The
// root key itself never changes. Only a complete or writing backup can be
// rewrapped (ErrInvalidState otherwise); an unknown id wraps ErrNotFound.
func (c *Catalog) UpdateBackupKey(ctx context.Context, id string, wrappedDEK []byte, keyVersionID string) (Backup, error) {
	rows, _ := c.pool.Query(ctx, `UPDATE backups SET wrapped_dek = $2, key_version_id = $3, updated_at = now()
		WHERE id = $1 AND state IN ('writing', 'complete')
		RETURNING `+backupColumns, id, wrappedDEK, keyVersionID)
	return c.backupUpdated(ctx, rows, "rewrap backup", id)
}

// backupUpdated collects the row of an UPDATE … RETURNING and, when the
// update matched nothing, tells a missing backup from one in the wrong state.
func (c *Catalog) backupUpdated(ctx context.Context, rows pgx.Rows, what, id string) (Backup, error) {
	b, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[Backup])
	if err == nil {
		return b, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return Backup{}, fmt.Errorf("%s %s: %w", what, id, err)
	}
	cur, err := c.GetBackup(ctx, id)
	if err != nil {
		return Backup{}, fmt.Errorf("%s: %w", what, err)
	}
	return Backup{}, fmt.Errorf("%s %s: %w: the backup is %s", what, id, ErrInvalidState, cur.State)
}
