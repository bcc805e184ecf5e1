package main

import (
	"context"
	"fmt"
	"io"

	"github.com/byokflow/byokflow/catalog"
	"github.com/byokflow/byokflow/contract"
)

// nodeHealth is a node of an active instance that is not serving, on the
// Nodes page: why, in the node's words or by its host's lapsed lease.
type nodeHealth struct {
	Node   string `json:"node"`
	Host   string `json:"host"`
	Reason string `json:"reason"`
}

// judgeHealth derives the state of an active instance that is neither
// suspended nor marked: degraded when a standby does not serve (its host
// past the lease, or its latest report with its server down), unavailable
// when the primary does not; active otherwise (catalog.JudgeHealth). The
// catalog keeps the instance active throughout: the state shown is
// derived each time, and heals as soon as the nodes serve again.
func judgeHealth(ctx context.Context, cat *catalog.Catalog, inst catalog.Instance, nodes []catalog.NodeStatus,
	out *statusOutput) error {
	if inst.State != catalog.InstanceActive || inst.SuspendedBy != "" || out.Attention != nil {
		return nil
	}
	seen, err := cat.HostsSeen(ctx)
	if err != nil {
		return fmt.Errorf("show status of instance %s: %w", inst.ID, err)
	}
	health, down := catalog.JudgeHealth(nodes, seen, contract.HostLease)
	out.State = string(health)
	for _, d := range down {
		out.Health = append(out.Health, nodeHealth{Node: d.NodeID, Host: d.Host, Reason: d.Reason})
	}
	return nil
}

// printHealth writes why the instance is degraded or unavailable.
func printHealth(w io.Writer, out statusOutput) {
	switch out.State {
	case string(catalog.HealthDegraded):
		fmt.Fprintln(w, "degraded: the primary serves; these nodes do not, and rejoin by themselves when they are back:")
	case string(catalog.HealthUnavailable):
		fmt.Fprintln(w, "unavailable: the primary does not serve; bring its host's node agent back:")
	default:
		return
	}
	for _, h := range out.Health {
		fmt.Fprintf(w, "  %s (host %s): %s\n", h.Node, h.Host, h.Reason)
	}
}
