package main

import (
	"context"
	"fmt"
	"os"

	"github.com/byokflow/byokflow/catalog"
	"github.com/byokflow/byokflow/contract"
)

// statusOutput is the JSON document of `starter status --json`: the Nodes page.
type statusOutput struct {
	Instance  string    `json:"instance"`
	RootKeyID string    `json:"rootKeyId"`
	State     string    `json:"state"`
	Nodes     []nodeRow `json:"nodes"`
	// Operation is the workflow holding the instance's lock, if any.
	Operation *runningOperation `json:"operation,omitempty"`
	// Attention is the mark of a failed compensation (state needs_attention).
	Attention *catalog.Attention `json:"attention,omitempty"`
	// KeyProtect is the reconciliation's mark while Key Protect does not
	// answer for the instance's root key.
	KeyProtect *kpMarks `json:"keyProtect,omitempty"`
	// Health names the nodes of an active instance that do not serve
	// (state degraded or unavailable).
	Health []nodeHealth `json:"health,omitempty"`
}

// kpMarks say since when Key Protect has not answered for the root key,
// and when the reconciliation raised it (past its grace window).
type kpMarks struct {
	UnreachableSince string `json:"unreachableSince"`
	RaisedAt         string `json:"raisedAt,omitempty"`
}

// line is the status line of the marks.
func (m kpMarks) line(rootKeyID string) string {
	l := fmt.Sprintf("key protect: no answer for root key %s since %s; the nodes keep serving from their keys in "+
		"memory and nothing is suspended until Key Protect answers", rootKeyID, m.UnreachableSince)
	if m.RaisedAt != "" {
		l += "; past the grace window since " + m.RaisedAt + ": check Key Protect and IAM reachability from the control plane"
	}
	return l
}

// runningOperation is the operation that holds an instance.
type runningOperation struct {
	Operation  string `json:"operation"`
	WorkflowID string `json:"workflowId"`
	RunID      string `json:"runId"`
	Since      string `json:"since"`
}

func runStatus(ctx context.Context, a *app, args []string) error {
	fs := newFlags(a, "status")
	instance := fs.String("instance", "", "name of the instance (required)")
	asJSON := fs.Bool("json", false, "print one JSON document")
	if err := parse(fs, args, map[string]*string{"instance": instance}); err != nil {
		return err
	}
	if err := contract.ValidateInstanceName(*instance); err != nil {
		return usagef("status: %v", err)
	}
	cat, err := openCatalog(ctx)
	if err != nil {
		return err
	}
	defer cat.Close()
	out, err := nodesPage(ctx, cat, *instance)
	if err != nil {
		return err
	}
	if *asJSON {
		return a.printJSON(out)
	}
	fmt.Fprintf(a.stdout, "instance %s (%s), root key %s\n", out.Instance, out.State, out.RootKeyID)
	if op := out.Operation; op != nil {
		fmt.Fprintf(a.stdout, "operation %s running: workflow %s (run %s) since %s\n", op.Operation, op.WorkflowID,
			op.RunID, op.Since)
	}
	if m := out.Attention; m != nil {
		fmt.Fprintf(a.stdout, "needs attention: step %s of %s %s failed: %s: run the %s again to finish it\n",
			m.Step, m.Operation, m.WorkflowID, m.Error, m.Operation)
	}
	if m := out.KeyProtect; m != nil {
		fmt.Fprintln(a.stdout, m.line(out.RootKeyID))
	}
	printHealth(a.stdout, out)
	printNodes(a.stdout, out.Nodes)
	return nil
}

func openCatalog(ctx context.Context) (*catalog.Catalog, error) {
	url := os.Getenv("BYOK_DATABASE_URL")
	if url == "" {
		return nil, fmt.Errorf("open catalog: BYOK_DATABASE_URL is not set: run 'make stack' and '. .run/env'")
	}
	cat, err := catalog.Open(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("%w: check BYOK_DATABASE_URL and that its PostgreSQL server runs (`make stack`)", err)
	}
	return cat, nil
}

// nodesPage reads the instance and the latest report of every node.
func nodesPage(ctx context.Context, cat *catalog.Catalog, id string) (statusOutput, error) {
	inst, err := getInstance(ctx, cat, id)
	if err != nil {
		return statusOutput{}, fmt.Errorf("show status of instance %s: %w", id, err)
	}
	nodes, err := cat.LatestStatus(ctx, id)
	if err != nil {
		return statusOutput{}, err
	}
	out := statusOutput{Instance: inst.ID, RootKeyID: inst.RootKeyID, State: string(inst.State), Nodes: []nodeRow{}}
	if inst.Attention.Set() && inst.State != catalog.InstanceShredded {
		out.State, out.Attention = string(contract.InstanceNeedsAttention), &inst.Attention
	}
	if !inst.KPUnreachableSince.IsZero() {
		out.KeyProtect = &kpMarks{UnreachableSince: rfc3339(inst.KPUnreachableSince)}
		if !inst.KPDegradedAt.IsZero() {
			out.KeyProtect.RaisedAt = rfc3339(inst.KPDegradedAt)
		}
	}
	if err := judgeHealth(ctx, cat, inst, nodes, &out); err != nil {
		return out, err
	}
	if op, err := cat.CurrentOperation(ctx, id); err == nil {
		out.Operation = &runningOperation{Operation: op.Operation, WorkflowID: op.WorkflowID, RunID: op.RunID,
			Since: rfc3339(op.AcquiredAt)}
	}
	for _, n := range nodes {
		out.Nodes = append(out.Nodes, nodeRow{
			Node: n.NodeID, Host: n.Host, Role: n.Role, State: string(n.State), ServerUp: n.ServerUp,
			Address: n.Address, Replication: n.Replication, LagBytes: n.LagBytes, Storage: n.Storage,
			StorageKeyID: n.StorageKeyID, StorageKey: n.StorageKey, KeyVersion: n.KeyVersionID,
			CheckValue: n.CheckValue, ReportedAt: rfc3339(n.ReportedAt), Detail: n.Detail,
		})
	}
	return out, nil
}
