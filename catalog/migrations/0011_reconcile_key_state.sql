-- Reconciliation with Key Protect. An instance whose root key Key Protect
-- destroyed is key_destroyed: its nodes stay locked until the key is
-- restored (the instance is active again) or the restore window ends (its
-- storage is removed and it is shredded).
ALTER TABLE instances DROP CONSTRAINT instances_state_valid;
ALTER TABLE instances ADD CONSTRAINT instances_state_valid CHECK (state IN
    ('provisioning', 'active', 'rotating', 'failed', 'shredding', 'shredded', 'key_destroyed'));

-- Who suspended the instance: '' (not suspended), an operator (starter
-- suspend; the reconciliation never resumes it), or the reconciliation on a
-- disabled or destroyed key (it resumes the instance once the key is Active).
-- kp_unreachable_since: the first reconciliation that found Key Protect not
-- answering for the instance's key; kp_degraded_at: when one raised it after
-- the grace window. Both are cleared when Key Protect answers again.
ALTER TABLE instances
    ADD COLUMN suspended_by text NOT NULL DEFAULT ''
        CONSTRAINT instances_suspended_by_valid CHECK (suspended_by IN
            ('', 'operator', 'key_disabled', 'key_destroyed')),
    ADD COLUMN kp_unreachable_since timestamptz,
    ADD COLUMN kp_degraded_at timestamptz;
