-- Backup retention: a backup schedule's --keep prunes the backups older
-- than the window. Pruning crypto-erases the backup first (state pruned,
-- wrapped_dek cleared, pruned_at set), then its file is deleted from the
-- backup store (file_deleted_at). The row stays, with its id and key
-- lineage (root key, key version, checksum), so a restore of it is refused
-- by name and the audit can tell its story.

ALTER TABLE backups DROP CONSTRAINT backups_state_valid;
ALTER TABLE backups ADD CONSTRAINT backups_state_valid CHECK (state IN
    ('writing', 'complete', 'failed', 'unrecoverable', 'deleted', 'pruned'));
ALTER TABLE backups ADD COLUMN pruned_at timestamptz;
ALTER TABLE backups ADD COLUMN file_deleted_at timestamptz;
ALTER TABLE backups ADD CONSTRAINT backups_pruned_erased CHECK (
    state <> 'pruned' OR (pruned_at IS NOT NULL AND length(wrapped_dek) = 0));
ALTER TABLE backups ADD CONSTRAINT backups_file_deleted_pruned CHECK (
    file_deleted_at IS NULL OR state = 'pruned');
