-- The instance's current key version: the root key version every node of the
-- instance was last confirmed under. Set when a provision completes and at
-- every completed rotation; key_version_at_create keeps the first one.
--
-- Rows that already became active are backfilled with the version they were
-- created under, the only version the catalog knew for them.

ALTER TABLE instances ADD COLUMN key_version_id text NOT NULL DEFAULT '';

UPDATE instances SET key_version_id = key_version_at_create
    WHERE state IN ('active', 'rotating', 'shredding', 'shredded');
