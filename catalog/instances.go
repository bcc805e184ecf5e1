package catalog

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/jackc/pgx/v5"
)

// InstanceState is where an instance is in its life. The database accepts
// only the values below (a CHECK constraint).
type InstanceState string

// Instance states.
const (
	InstanceProvisioning InstanceState = "provisioning"
	InstanceActive       InstanceState = "active"
	InstanceRotating     InstanceState = "rotating"
	InstanceFailed       InstanceState = "failed"
	InstanceShredding    InstanceState = "shredding"
	InstanceShredded     InstanceState = "shredded" // terminal
	// InstanceKeyDestroyed: Key Protect destroyed the root key; the nodes
	// stay locked until it is restored or its restore window ends.
	InstanceKeyDestroyed InstanceState = "key_destroyed"
)

var instanceStates = []InstanceState{
	InstanceProvisioning, InstanceActive, InstanceRotating,
	InstanceFailed, InstanceShredding, InstanceShredded, InstanceKeyDestroyed,
}

// Valid reports whether s is one of the instance states.
func (s InstanceState) Valid() bool {
	for _, v := range instanceStates {
		if s == v {
			return true
		}
	}
	return false
}

// Instance is an encrypted database instance. ID is the operator's name for
// it; the key fields name the Key Protect instance and root key chosen at
// creation, which never change afterwards.
type Instance struct {
	ID                 string `db:"id"`
	CRN                string `db:"crn"`
	KPInstanceID       string `db:"kp_instance_id"`
	RootKeyID          string `db:"root_key_id"`
	KeyVersionAtCreate string `db:"key_version_at_create"`
	// KeyVersionID is the current key version: the version every node was
	// last confirmed under, set by SetInstanceKeyVersion when a provision
	// or a rotation completes. Empty until then.
	KeyVersionID  string        `db:"key_version_id"`
	DatabaseName  string        `db:"database_name"`
	State         InstanceState `db:"state"`
	NodeCount     int           `db:"node_count"`
	FailureReason string        `db:"failure_reason"`
	WorkflowID    string        `db:"workflow_id"` // the workflow that created it
	CreatedAt     time.Time     `db:"created_at"`
	UpdatedAt     time.Time     `db:"updated_at"`
	// Attention is set when a compensation failed (SetAttention); its
	// Step is empty otherwise.
	Attention Attention `db:"-"`
	// SuspendedBy says who suspended the instance (SetSuspendedBy): empty,
	// "operator", "key_disabled" or "key_destroyed".
	SuspendedBy string `db:"suspended_by"`
	// KPUnreachableSince and KPDegradedAt are the reconciliation's marks
	// of a Key Protect that does not answer (zero when unset).
	KPUnreachableSince time.Time `db:"kp_unreachable_since"`
	KPDegradedAt       time.Time `db:"kp_degraded_at"`
}

// Attention is the durable mark of a compensation that failed: the
// instance needs an operator until a re-run of Operation clears it.
type Attention struct {
	Operation  string    `json:"operation"`
	Step       string    `json:"step"`
	Subject    string    `json:"subject"` // what the step was about: an instance or a backup id
	Error      string    `json:"error"`   // no secret material
	WorkflowID string    `json:"workflowId"`
	At         time.Time `json:"at"`
}

// Set reports whether the mark is set.
func (a Attention) Set() bool { return a.Step != "" }

const instanceColumns = `id, crn, kp_instance_id, root_key_id, key_version_at_create, key_version_id,
	database_name, state, node_count, failure_reason, workflow_id, created_at, updated_at,
	attention_operation, attention_step, attention_subject, attention_error, attention_workflow_id,
	coalesce(attention_at, 'epoch') AS attention_at, suspended_by,
	coalesce(kp_unreachable_since, 'epoch') AS kp_unreachable_since,
	coalesce(kp_degraded_at, 'epoch') AS kp_degraded_at`

// instanceRow is an instances row as instanceColumns selects it.
type instanceRow struct {
	Instance
	AttentionOperation  string    `db:"attention_operation"`
	AttentionStep       string    `db:"attention_step"`
	AttentionSubject    string    `db:"attention_subject"`
	AttentionError      string    `db:"attention_error"`
	AttentionWorkflowID string    `db:"attention_workflow_id"`
	AttentionAt         time.Time `db:"attention_at"`
}

// scanInstance reads one row of instanceColumns.
func scanInstance(row pgx.CollectableRow) (Instance, error) {
	r, err := pgx.RowToStructByName[instanceRow](row)
	in := r.Instance
	in.KPUnreachableSince, in.KPDegradedAt = unsetEpoch(in.KPUnreachableSince), unsetEpoch(in.KPDegradedAt)
	if r.AttentionStep != "" {
		in.Attention = Attention{Operation: r.AttentionOperation, Step: r.AttentionStep,
			Subject: r.AttentionSubject, Error: r.AttentionError, WorkflowID: r.AttentionWorkflowID,
			At: r.AttentionAt}
	}
	return in, err
}

var instanceIDPattern = regexp.MustCompile(`^[a-z][a-z0-9-]{2,39}$`)

// ValidateInstanceID returns an error unless id is 3 to 40 characters of
// lower-case letters, digits and hyphens, starting with a letter; the
// error wraps ErrInvalidID. The database enforces the same rule.
func ValidateInstanceID(id string) error {
	if !instanceIDPattern.MatchString(id) {
		return fmt.Errorf("%w %q: use 3 to 40 lower-case letters, digits or hyphens, starting with a letter", ErrInvalidID, id)
	}
	return nil
}

// CreateInstance records a new instance in state provisioning (or in.State
// if set) and returns the stored row. It is idempotent per workflow: if an
// instance with in.ID exists and was created by in.WorkflowID, that row is
// returned unchanged; if another workflow created it, the error wraps
// ErrInstanceExists.
func (c *Catalog) CreateInstance(ctx context.Context, in Instance) (Instance, error) {
	if err := ValidateInstanceID(in.ID); err != nil {
		return Instance{}, fmt.Errorf("create instance: %w", err)
	}
	if in.State == "" {
		in.State = InstanceProvisioning
	}
	rows, _ := c.pool.Query(ctx, `INSERT INTO instances (id, crn, kp_instance_id, root_key_id,
		key_version_at_create, key_version_id, database_name, state, node_count, failure_reason, workflow_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
		ON CONFLICT (id) DO NOTHING RETURNING `+instanceColumns,
		in.ID, in.CRN, in.KPInstanceID, in.RootKeyID, in.KeyVersionAtCreate, in.KeyVersionID,
		in.DatabaseName, in.State, in.NodeCount, in.FailureReason, in.WorkflowID)
	created, err := pgx.CollectExactlyOneRow(rows, scanInstance)
	if err == nil {
		return created, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return Instance{}, fmt.Errorf("create instance %s: %w", in.ID, err)
	}
	existing, err := c.GetInstance(ctx, in.ID)
	if err != nil {
		return Instance{}, fmt.Errorf("create instance %s: %w", in.ID, err)
	}
	if existing.WorkflowID != in.WorkflowID {
		return Instance{}, fmt.Errorf("create instance %s: %w by workflow %s; choose another name",
			in.ID, ErrInstanceExists, existing.WorkflowID)
	}
	return existing, nil
}

// GetInstance returns the instance, or an error wrapping ErrNotFound.
func (c *Catalog) GetInstance(ctx context.Context, id string) (Instance, error) {
	rows, _ := c.pool.Query(ctx, "SELECT "+instanceColumns+" FROM instances WHERE id = $1", id)
	in, err := pgx.CollectExactlyOneRow(rows, scanInstance)
	if errors.Is(err, pgx.ErrNoRows) {
		return Instance{}, fmt.Errorf("get instance %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return Instance{}, fmt.Errorf("get instance %s: %w", id, err)
	}
	return in, nil
}

// ListInstances returns every instance, in every state, ordered by id.
func (c *Catalog) ListInstances(ctx context.Context) ([]Instance, error) {
	return c.queryInstances(ctx, "list instances",
		"SELECT "+instanceColumns+" FROM instances ORDER BY id")
}

// InstancesByRootKey returns the instances created with the root key, in
// every state (callers decide which still depend on the key), ordered by id.
func (c *Catalog) InstancesByRootKey(ctx context.Context, rootKeyID string) ([]Instance, error) {
	return c.queryInstances(ctx, "list instances of root key "+rootKeyID,
		"SELECT "+instanceColumns+" FROM instances WHERE root_key_id = $1 ORDER BY id", rootKeyID)
}

func (c *Catalog) queryInstances(ctx context.Context, what, sql string, args ...any) ([]Instance, error) {
	rows, _ := c.pool.Query(ctx, sql, args...)
	out, err := pgx.CollectRows(rows, scanInstance)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return out, nil
}

// SetInstanceState moves the instance to state and records reason (empty
// clears it). Setting the current state again is a no-op apart from the
// reason, so retries are safe. A shredded instance cannot leave that state
// (ErrInvalidState); an unknown id wraps ErrNotFound.
func (c *Catalog) SetInstanceState(ctx context.Context, id string, state InstanceState, reason string) error {
	if !state.Valid() {
		return fmt.Errorf("set instance %s state: unknown state %q", id, state)
	}
	tag, err := c.pool.Exec(ctx, `UPDATE instances SET state = $2, failure_reason = $3, updated_at = now()
		WHERE id = $1 AND (state <> 'shredded' OR $2 = 'shredded')`, id, state, reason)
	if err != nil {
		return fmt.Errorf("set instance %s state %s: %w", id, state, err)
	}
	if tag.RowsAffected() == 1 {
		return nil
	}
	if _, err := c.GetInstance(ctx, id); err != nil {
		return fmt.Errorf("set instance %s state %s: %w", id, state, err)
	}
	return fmt.Errorf("set instance %s state %s: %w: the instance is shredded", id, state, ErrInvalidState)
}
