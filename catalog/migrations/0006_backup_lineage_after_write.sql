-- A backup is recorded before its node writes it (state writing, so that a
-- failed backup leaves a failed record), and the node reports the file's
-- location and the wrapped DEK only when it is done. So a writing or failed
-- backup may lack them; a complete or unrecoverable backup must have its
-- whole lineage.

ALTER TABLE backups DROP CONSTRAINT backups_location_check;
ALTER TABLE backups DROP CONSTRAINT backups_wrapped_dek_check;
ALTER TABLE backups ADD CONSTRAINT backups_lineage_recorded CHECK (
    state NOT IN ('complete', 'unrecoverable') OR (location <> '' AND length(wrapped_dek) > 0));
