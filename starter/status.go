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
	inst, err := cat.GetInstance(ctx, id)
	if err != nil {
		return statusOutput{}, fmt.Errorf("show status of instance %s: %w", id, err)
	}
	nodes, err := cat.LatestStatus(ctx, id)
	if err != nil {
		return statusOutput{}, err
	}
	out := statusOutput{Instance: inst.ID, RootKeyID: inst.RootKeyID, State: string(inst.State), Nodes: []nodeRow{}}
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
