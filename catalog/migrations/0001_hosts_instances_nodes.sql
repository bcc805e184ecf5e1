-- Hosts run node agents; instances are encrypted databases; nodes place an
-- instance's members on hosts. Every object lives in the current schema (the
-- connection's search_path): nothing here names a schema.

CREATE TABLE hosts (
    name         text PRIMARY KEY CHECK (name <> ''),
    task_queue   text NOT NULL CHECK (task_queue <> ''),
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE instances (
    id                    text PRIMARY KEY
        CONSTRAINT instances_id_format CHECK (id ~ '^[a-z][a-z0-9-]{2,39}$'),
    crn                   text NOT NULL CHECK (crn <> ''),
    kp_instance_id        text NOT NULL CHECK (kp_instance_id <> ''),
    root_key_id           text NOT NULL CHECK (root_key_id <> ''),
    key_version_at_create text NOT NULL DEFAULT '',
    database_name         text NOT NULL CHECK (database_name <> ''),
    state                 text NOT NULL DEFAULT 'provisioning'
        CONSTRAINT instances_state_valid CHECK (state IN
            ('provisioning', 'active', 'rotating', 'failed', 'shredding', 'shredded')),
    node_count            integer NOT NULL CHECK (node_count >= 1),
    failure_reason        text NOT NULL DEFAULT '',
    workflow_id           text NOT NULL CHECK (workflow_id <> ''),
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX instances_root_key_id_idx ON instances (root_key_id);

-- host is not a foreign key to hosts: a node keeps the queue it was placed on
-- even if its host later re-registers under another queue.
CREATE TABLE nodes (
    instance_id text NOT NULL REFERENCES instances (id) ON DELETE CASCADE,
    node_id     text NOT NULL CHECK (node_id <> ''),
    host        text NOT NULL CHECK (host <> ''),
    task_queue  text NOT NULL CHECK (task_queue <> ''),
    ordinal     integer NOT NULL CHECK (ordinal >= 0),
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (instance_id, node_id),
    UNIQUE (instance_id, ordinal)
);

-- A shredded instance stays shredded: its rows are the evidence.
CREATE FUNCTION instances_guard_update() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    IF OLD.state = 'shredded' AND NEW.state <> 'shredded' THEN
        RAISE EXCEPTION 'instance % is shredded and cannot become %', OLD.id, NEW.state
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER instances_guard_update BEFORE UPDATE ON instances
    FOR EACH ROW EXECUTE FUNCTION instances_guard_update();

-- Only the compensation of a provision that never completed may delete an
-- instance (and, by cascade, its nodes and their key-status history). An
-- instance that became active keeps its history for ever.
CREATE FUNCTION instances_guard_delete() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    IF OLD.state NOT IN ('provisioning', 'failed') THEN
        RAISE EXCEPTION 'instance % is %: only a provisioning or failed instance may be deleted',
            OLD.id, OLD.state USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN OLD;
END $$;

CREATE TRIGGER instances_guard_delete BEFORE DELETE ON instances
    FOR EACH ROW EXECUTE FUNCTION instances_guard_delete();

-- Nodes go with their instance, or while it is still provisioning or failed.
CREATE FUNCTION nodes_guard_delete() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
    instance_state text;
BEGIN
    SELECT state INTO instance_state FROM instances WHERE id = OLD.instance_id;
    IF FOUND AND instance_state NOT IN ('provisioning', 'failed') THEN
        RAISE EXCEPTION 'node % of instance % cannot be deleted: the instance is %',
            OLD.node_id, OLD.instance_id, instance_state USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN OLD;
END $$;

CREATE TRIGGER nodes_guard_delete BEFORE DELETE ON nodes
    FOR EACH ROW EXECUTE FUNCTION nodes_guard_delete();
