-- Every key-status report a node sends, kept for ever: the latest per node is
-- the Nodes page, the rest is history and evidence.
--
-- Append-only. UPDATE and TRUNCATE are always rejected. DELETE is rejected
-- too, except when the report's node row is already gone: that happens only
-- through the ON DELETE CASCADE from nodes, which the guards of migration 1
-- allow only for an instance that never became active (compensation of a
-- failed provision). Reports of a shredded instance therefore stay as evidence.

CREATE TABLE key_status_reports (
    id             bigserial PRIMARY KEY,
    instance_id    text NOT NULL,
    node_id        text NOT NULL,
    root_key_id    text NOT NULL CHECK (root_key_id <> ''),
    key_version_id text NOT NULL DEFAULT '',
    state          text NOT NULL
        CONSTRAINT key_status_reports_state_valid CHECK (state IN
            ('pending', 'active', 'rewrap_required', 'suspended', 'unreachable', 'destroyed', 'error')),
    check_value    text NOT NULL DEFAULT '',
    detail         text NOT NULL DEFAULT '',
    reported_at    timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (instance_id, node_id) REFERENCES nodes (instance_id, node_id) ON DELETE CASCADE
);

CREATE INDEX key_status_reports_latest_idx
    ON key_status_reports (instance_id, node_id, reported_at DESC, id DESC);

CREATE FUNCTION key_status_reports_append_only() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    IF TG_OP = 'DELETE' AND NOT EXISTS (
        SELECT 1 FROM nodes WHERE instance_id = OLD.instance_id AND node_id = OLD.node_id
    ) THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'key_status_reports is append-only: % rejected', TG_OP
        USING ERRCODE = 'restrict_violation';
END $$;

CREATE TRIGGER key_status_reports_append_only BEFORE UPDATE OR DELETE ON key_status_reports
    FOR EACH ROW EXECUTE FUNCTION key_status_reports_append_only();

CREATE TRIGGER key_status_reports_no_truncate BEFORE TRUNCATE ON key_status_reports
    FOR EACH STATEMENT EXECUTE FUNCTION key_status_reports_append_only();
