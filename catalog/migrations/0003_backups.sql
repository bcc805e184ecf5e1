-- Backups and their key lineage: which root key and key version wrap the
-- backup's DEK. wrapped_dek is the DEK as Key Protect wrapped it; the
-- plaintext DEK is never stored. A rotation rewraps it in place (new
-- wrapped_dek and key_version_id, same root key). A backup whose file was
-- removed is marked deleted rather than dropped, so its lineage stays.

CREATE TABLE backups (
    id             text PRIMARY KEY CHECK (id <> ''),
    instance_id    text NOT NULL REFERENCES instances (id),
    location       text NOT NULL CHECK (location <> ''),
    bytes          bigint NOT NULL DEFAULT 0 CHECK (bytes >= 0),
    sha256         text NOT NULL DEFAULT '',
    root_key_id    text NOT NULL CHECK (root_key_id <> ''),
    key_version_id text NOT NULL DEFAULT '',
    wrapped_dek    bytea NOT NULL CHECK (length(wrapped_dek) > 0),
    aad_context    text NOT NULL DEFAULT '',
    state          text NOT NULL DEFAULT 'writing'
        CONSTRAINT backups_state_valid CHECK (state IN
            ('writing', 'complete', 'failed', 'unrecoverable', 'deleted')),
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    completed_at   timestamptz,
    CHECK (state <> 'complete' OR completed_at IS NOT NULL)
);

CREATE INDEX backups_instance_id_idx ON backups (instance_id, created_at);
CREATE INDEX backups_root_key_id_idx ON backups (root_key_id);
