package catalog

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Health is what an active instance's nodes make of it: every node
// serving, its primary serving and one or more standbys not, or its
// primary not serving.
type Health string

const (
	HealthActive      Health = "active"
	HealthDegraded    Health = "degraded"
	HealthUnavailable Health = "unavailable"
)

// NodeHealth names a node that is not serving and why.
type NodeHealth struct {
	NodeID string
	Host   string
	Reason string
}

// HostsSeen returns, for every registered host, how long ago the control
// plane last recorded a check-in of it (UpsertHost), by the catalog
// database's clock: no node's clock is compared.
func (c *Catalog) HostsSeen(ctx context.Context) (map[string]time.Duration, error) {
	rows, _ := c.pool.Query(ctx, `SELECT name, extract(epoch FROM now() - last_seen_at)::float8 FROM hosts`)
	seen := map[string]time.Duration{}
	var name string
	var secs float64
	_, err := pgx.ForEachRow(rows, []any{&name, &secs}, func() error {
		seen[name] = time.Duration(secs * float64(time.Second))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read the hosts' last check-ins: %w", err)
	}
	return seen, nil
}

// JudgeHealth decides the health of an active instance from its nodes'
// latest reports and how long ago each host was seen (HostsSeen): a node
// serves when its host checked in within lease and its latest report has
// its server up. It returns the nodes that do not serve, in nodes' order,
// with the reason. The primary is the node of ordinal 0.
func JudgeHealth(nodes []NodeStatus, seen map[string]time.Duration, lease time.Duration) (Health, []NodeHealth) {
	var down []NodeHealth
	primaryDown := false
	for _, n := range nodes {
		reason := nodeDownReason(n, seen, lease)
		if reason == "" {
			continue
		}
		down = append(down, NodeHealth{NodeID: n.NodeID, Host: n.Host, Reason: reason})
		primaryDown = primaryDown || n.Ordinal == 0
	}
	switch {
	case primaryDown:
		return HealthUnavailable, down
	case len(down) > 0:
		return HealthDegraded, down
	}
	return HealthActive, nil
}

// nodeDownReason says why n does not serve, or "" when it does.
func nodeDownReason(n NodeStatus, seen map[string]time.Duration, lease time.Duration) string {
	age, known := seen[n.Host]
	switch {
	case !known:
		return fmt.Sprintf("host %s is not registered: start its node agent (worker node --host %s)", n.Host, n.Host)
	case age > lease:
		return fmt.Sprintf("host %s has not checked in for %s (lease %s): its node agent is down or cut off "+
			"from the control plane (or the control-plane worker is stopped); the node rejoins when the agent is back",
			n.Host, age.Round(time.Second), lease)
	case !n.Reported:
		return "the node has not reported yet"
	case !n.ServerUp:
		msg := fmt.Sprintf("the node reported %s with its server down", n.State)
		if n.Detail != "" {
			msg += ": " + n.Detail
		}
		return msg
	}
	return ""
}
