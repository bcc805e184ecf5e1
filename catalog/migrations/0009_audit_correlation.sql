-- Audit events say which Key Protect calls they belong to: the correlation
-- id every Key Protect call of the workflow run carried (empty outside a
-- workflow), and for an event that records a Key Protect call the IAM id
-- Key Protect saw on it. Both are ids, never secrets. Events written before
-- this migration keep them empty.

ALTER TABLE audit_events
    ADD COLUMN correlation_id text NOT NULL DEFAULT '',
    ADD COLUMN iam_id         text NOT NULL DEFAULT '';

CREATE INDEX audit_events_correlation_id_idx ON audit_events (correlation_id, id)
    WHERE correlation_id <> '';
