-- One operation per instance at a time: the row names the workflow run that
-- holds the instance. It is taken at the start of a workflow and deleted at
-- its end; a row whose run is no longer running in Temporal (closed,
-- terminated, timed out) is taken over by the next operation. instance_id is
-- not a foreign key: a provision or restore locks a name before its
-- instance exists.
CREATE TABLE instance_operations (
    instance_id text PRIMARY KEY CHECK (instance_id <> ''),
    workflow_id text NOT NULL CHECK (workflow_id <> ''),
    run_id      text NOT NULL CHECK (run_id <> ''),
    operation   text NOT NULL CHECK (operation <> ''),
    acquired_at timestamptz NOT NULL DEFAULT now()
);

-- A compensation that failed: the instance needs an operator. The mark names
-- the operation, the step that failed, what it was about (an instance or a
-- backup id), the error (never secret material) and the workflow; a re-run of
-- the operation clears it.
ALTER TABLE instances
    ADD COLUMN attention_operation   text NOT NULL DEFAULT '',
    ADD COLUMN attention_step        text NOT NULL DEFAULT '',
    ADD COLUMN attention_subject     text NOT NULL DEFAULT '',
    ADD COLUMN attention_error       text NOT NULL DEFAULT '',
    ADD COLUMN attention_workflow_id text NOT NULL DEFAULT '',
    ADD COLUMN attention_at          timestamptz;
