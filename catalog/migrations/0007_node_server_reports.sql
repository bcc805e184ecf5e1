-- Every node is a PostgreSQL server on fscrypt-encrypted storage, and its
-- reports say so: its role, whether its server runs and where, a standby's
-- replication state and lag, and the protection of its data directory with
-- the fscrypt key identifier (a public hash of the key, never the key).
-- Older reports keep the defaults.

ALTER TABLE key_status_reports
    ADD COLUMN role           text    NOT NULL DEFAULT ''
        CONSTRAINT key_status_reports_role_valid CHECK (role IN ('', 'primary', 'standby')),
    ADD COLUMN server_up      boolean NOT NULL DEFAULT false,
    ADD COLUMN address        text    NOT NULL DEFAULT '',
    ADD COLUMN replication    text    NOT NULL DEFAULT '',
    ADD COLUMN lag_bytes      bigint  NOT NULL DEFAULT 0,
    ADD COLUMN storage        text    NOT NULL DEFAULT '',
    ADD COLUMN storage_key_id text    NOT NULL DEFAULT '',
    ADD COLUMN storage_key    text    NOT NULL DEFAULT '';
