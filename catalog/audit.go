package catalog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// AuditEvent records who did what to which instance and key. Events are
// append-only and outlive the rows they describe. Detail is a JSON object;
// it must hold no secret.
type AuditEvent struct {
	ID         int64           `db:"id"` // assigned by the catalog
	At         time.Time       `db:"at"` // assigned by the catalog
	Actor      string          `db:"actor"`
	Operation  string          `db:"operation"`
	InstanceID string          `db:"instance_id"`
	RootKeyID  string          `db:"root_key_id"`
	WorkflowID string          `db:"workflow_id"`
	EventKey   string          `db:"event_key"` // optional: makes AppendAudit idempotent
	Detail     json.RawMessage `db:"detail"`
	// CorrelationID is the correlation id every Key Protect call of the
	// workflow run carried (empty outside a workflow); IAMID is, for an
	// event that records a Key Protect call, the IAM id Key Protect saw.
	CorrelationID string `db:"correlation_id"`
	IAMID         string `db:"iam_id"`
}

const auditColumns = `id, at, actor, operation, instance_id, root_key_id, workflow_id,
	coalesce(event_key, '') AS event_key, detail, correlation_id, iam_id`

// AppendAudit stores an event and returns it with its ID and time. A caller
// that may retry sets EventKey (say, workflow id + step): appending a second
// event with a key already stored returns the first one unchanged. Empty
// Detail is stored as {}.
func (c *Catalog) AppendAudit(ctx context.Context, e AuditEvent) (AuditEvent, error) {
	detail := e.Detail
	if len(detail) == 0 {
		detail = json.RawMessage("{}")
	}
	var key *string
	if e.EventKey != "" {
		key = &e.EventKey
	}
	rows, _ := c.pool.Query(ctx, `INSERT INTO audit_events (actor, operation, instance_id,
		root_key_id, workflow_id, event_key, detail, correlation_id, iam_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
		ON CONFLICT (event_key) DO NOTHING RETURNING `+auditColumns,
		e.Actor, e.Operation, e.InstanceID, e.RootKeyID, e.WorkflowID, key, detail, e.CorrelationID, e.IAMID)
	stored, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[AuditEvent])
	if errors.Is(err, pgx.ErrNoRows) {
		rows, _ = c.pool.Query(ctx, "SELECT "+auditColumns+" FROM audit_events WHERE event_key = $1", key)
		stored, err = pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[AuditEvent])
	}
	if err != nil {
		return AuditEvent{}, fmt.Errorf("append audit event %s by %s: %w", e.Operation, e.Actor, err)
	}
	return stored, nil
}

// ListAudit returns the audit events of an instance, or of every instance
// when instanceID is empty, oldest first.
func (c *Catalog) ListAudit(ctx context.Context, instanceID string) ([]AuditEvent, error) {
	rows, _ := c.pool.Query(ctx, "SELECT "+auditColumns+` FROM audit_events
		WHERE $1 = '' OR instance_id = $1 ORDER BY id`, instanceID)
	out, err := pgx.CollectRows(rows, pgx.RowToStructByName[AuditEvent])
	if err != nil {
		return nil, fmt.Errorf("list audit events of instance %q: %w", instanceID, err)
	}
	return out, nil
}

// ListAuditOfRuns returns the audit events of an instance and every other
// event of the same workflow runs (the same correlation id: the Key
// Protect calls those runs made, which name no instance), oldest first.
func (c *Catalog) ListAuditOfRuns(ctx context.Context, instanceID string) ([]AuditEvent, error) {
	rows, _ := c.pool.Query(ctx, "SELECT "+auditColumns+` FROM audit_events
		WHERE instance_id = $1 OR correlation_id IN (SELECT correlation_id FROM audit_events
			WHERE instance_id = $1 AND correlation_id <> '')
		ORDER BY id`, instanceID)
	out, err := pgx.CollectRows(rows, pgx.RowToStructByName[AuditEvent])
	if err != nil {
		return nil, fmt.Errorf("list audit events of the workflow runs of instance %q: %w", instanceID, err)
	}
	return out, nil
}
