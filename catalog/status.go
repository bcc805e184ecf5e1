package catalog

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// NodeStatus is one line of the Nodes page: a node, where it runs, and its
// latest key-status report. A node that has not reported yet has Reported
// false, State pending and the other report fields zero.
type NodeStatus struct {
	NodeID       string
	Host         string
	TaskQueue    string
	Ordinal      int
	Reported     bool
	ReportID     int64
	RootKeyID    string
	KeyVersionID string
	State        KeyState
	CheckValue   string
	Detail       string
	ReportedAt   time.Time
	Server
}

// latestStatusSQL picks, per node, the report with the newest reported_at
// (the node's own clock, so comparable within one node), the highest id
// breaking ties, and joins it to every node of the instance.
const latestStatusSQL = `SELECT n.node_id, n.host, n.task_queue, n.ordinal,
	r.id, r.root_key_id, r.key_version_id, r.state, r.check_value, r.detail, r.reported_at,
	r.role, r.server_up, r.address, r.replication, r.lag_bytes, r.storage, r.storage_key_id, r.storage_key
FROM nodes n
LEFT JOIN (
	SELECT DISTINCT ON (node_id) *
	FROM key_status_reports
	WHERE instance_id = $1
	ORDER BY node_id, reported_at DESC, id DESC
) r ON r.node_id = n.node_id
WHERE n.instance_id = $1
ORDER BY n.node_id`

// LatestStatus returns, for every node of the instance ordered by node id,
// its latest key-status report. An unknown instance wraps ErrNotFound.
func (c *Catalog) LatestStatus(ctx context.Context, instanceID string) ([]NodeStatus, error) {
	rows, _ := c.pool.Query(ctx, latestStatusSQL, instanceID)
	out, err := pgx.CollectRows(rows, scanNodeStatus)
	if err != nil {
		return nil, fmt.Errorf("read key status of instance %s: %w", instanceID, err)
	}
	if len(out) == 0 {
		if _, err := c.GetInstance(ctx, instanceID); err != nil {
			return nil, fmt.Errorf("read key status: %w", err)
		}
	}
	return out, nil
}

func scanNodeStatus(row pgx.CollectableRow) (NodeStatus, error) {
	var s NodeStatus
	var id *int64
	var rootKey, version, state, check, detail *string
	var at *time.Time
	var role, address, replication, storage, storageKeyID, storageKey *string
	var up *bool
	var lag *int64
	err := row.Scan(&s.NodeID, &s.Host, &s.TaskQueue, &s.Ordinal,
		&id, &rootKey, &version, &state, &check, &detail, &at,
		&role, &up, &address, &replication, &lag, &storage, &storageKeyID, &storageKey)
	if err != nil || id == nil {
		s.State = KeyPending
		return s, err
	}
	s.Server = Server{Role: *role, ServerUp: *up, Address: *address, Replication: *replication,
		LagBytes: *lag, Storage: *storage, StorageKeyID: *storageKeyID, StorageKey: *storageKey}
	s.Reported, s.ReportID = true, *id
	s.RootKeyID, s.KeyVersionID, s.State = *rootKey, *version, KeyState(*state)
	s.CheckValue, s.Detail, s.ReportedAt = *check, *detail, *at
	return s, nil
}
