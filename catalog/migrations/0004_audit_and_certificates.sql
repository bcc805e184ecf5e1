-- Audit events and crypto-shred certificates: both are evidence, so both are
-- append-only. Audit events carry no foreign key: they outlive what they
-- describe.

CREATE TABLE audit_events (
    id          bigserial PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    actor       text NOT NULL CHECK (actor <> ''),
    operation   text NOT NULL CHECK (operation <> ''),
    instance_id text NOT NULL DEFAULT '',
    root_key_id text NOT NULL DEFAULT '',
    workflow_id text NOT NULL DEFAULT '',
    -- Set by callers that may retry: a second event with the same key is dropped.
    event_key   text UNIQUE CHECK (event_key <> ''),
    detail      jsonb NOT NULL DEFAULT '{}'
);

CREATE INDEX audit_events_instance_id_idx ON audit_events (instance_id, id);

CREATE TABLE shred_certificates (
    instance_id text PRIMARY KEY REFERENCES instances (id),
    certificate jsonb NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE FUNCTION reject_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % rejected', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'restrict_violation';
END $$;

CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION reject_change();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION reject_change();
CREATE TRIGGER shred_certificates_append_only BEFORE UPDATE OR DELETE ON shred_certificates
    FOR EACH ROW EXECUTE FUNCTION reject_change();
CREATE TRIGGER shred_certificates_no_truncate BEFORE TRUNCATE ON shred_certificates
    FOR EACH STATEMENT EXECUTE FUNCTION reject_change();
