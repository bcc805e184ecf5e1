package catalog

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// KeyState is a node's key status, as the node reports it.
type KeyState string

// Key states (design §5). The database accepts only these (a CHECK).
const (
	KeyPending        KeyState = "pending"
	KeyActive         KeyState = "active"
	KeyRewrapRequired KeyState = "rewrap_required"
	KeySuspended      KeyState = "suspended"   // root key disabled; DEK flushed
	KeyUnreachable    KeyState = "unreachable" // KMS down; DEK kept for a grace window
	KeyDestroyed      KeyState = "destroyed"
	KeyError          KeyState = "error"
)

// KeyStatusReport is one report of one node's key status. Reports are
// append-only: the catalog keeps every one.
type KeyStatusReport struct {
	ID           int64     `db:"id"` // assigned by the catalog
	InstanceID   string    `db:"instance_id"`
	NodeID       string    `db:"node_id"`
	RootKeyID    string    `db:"root_key_id"`
	KeyVersionID string    `db:"key_version_id"`
	State        KeyState  `db:"state"`
	CheckValue   string    `db:"check_value"` // key check value of the DEK, never the DEK
	Detail       string    `db:"detail"`
	ReportedAt   time.Time `db:"reported_at"` // the node's clock; zero means the catalog's
	Server
}

// Server is what a report says of the node's PostgreSQL server and its
// encrypted storage (see contract.NodeReport).
type Server struct {
	Role         string `db:"role"` // primary, standby, or empty before the server was made
	ServerUp     bool   `db:"server_up"`
	Address      string `db:"address"`
	Replication  string `db:"replication"`
	LagBytes     int64  `db:"lag_bytes"`
	Storage      string `db:"storage"`
	StorageKeyID string `db:"storage_key_id"` // fscrypt key identifier: a public hash, not the key
	StorageKey   string `db:"storage_key"`
}

const reportColumns = `id, instance_id, node_id, root_key_id, key_version_id, state,
	check_value, detail, reported_at, role, server_up, address, replication, lag_bytes,
	storage, storage_key_id, storage_key`

// AppendReport stores a report and returns it with its ID and time. The
// node must be recorded (AddNodes) first; otherwise the error wraps
// ErrNotFound. A retried append stores a second, identical report, which is
// harmless: the latest per node wins.
func (c *Catalog) AppendReport(ctx context.Context, r KeyStatusReport) (KeyStatusReport, error) {
	var at *time.Time
	if !r.ReportedAt.IsZero() {
		at = &r.ReportedAt
	}
	rows, _ := c.pool.Query(ctx, `INSERT INTO key_status_reports (instance_id, node_id, root_key_id,
		key_version_id, state, check_value, detail, reported_at, role, server_up, address,
		replication, lag_bytes, storage, storage_key_id, storage_key)
		VALUES ($1, $2, $3, $4, $5, $6, $7, coalesce($8, now()), $9, $10, $11, $12, $13, $14, $15, $16)
		RETURNING `+reportColumns,
		r.InstanceID, r.NodeID, r.RootKeyID, r.KeyVersionID, r.State, r.CheckValue, r.Detail, at,
		r.Role, r.ServerUp, r.Address, r.Replication, r.LagBytes, r.Storage, r.StorageKeyID, r.StorageKey)
	stored, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[KeyStatusReport])
	if pgCode(err) == codeForeignKeyViolation {
		return KeyStatusReport{}, fmt.Errorf("append key status of node %s of instance %s: node %w",
			r.NodeID, r.InstanceID, ErrNotFound)
	}
	if err != nil {
		return KeyStatusReport{}, fmt.Errorf("append key status of node %s of instance %s: %w",
			r.NodeID, r.InstanceID, err)
	}
	return stored, nil
}

// ReportHistory returns the reports of an instance, of one node when nodeID
// is not empty, oldest first.
func (c *Catalog) ReportHistory(ctx context.Context, instanceID, nodeID string) ([]KeyStatusReport, error) {
	rows, _ := c.pool.Query(ctx, "SELECT "+reportColumns+` FROM key_status_reports
		WHERE instance_id = $1 AND ($2 = '' OR node_id = $2)
		ORDER BY reported_at, id`, instanceID, nodeID)
	out, err := pgx.CollectRows(rows, pgx.RowToStructByName[KeyStatusReport])
	if err != nil {
		return nil, fmt.Errorf("read key status history of instance %s: %w", instanceID, err)
	}
	return out, nil
}
