package main

import (
	"context"
	"fmt"

	"github.com/byokflow/byokflow/contract"
)

// rotateOutput is the JSON document of `starter rotate --json`.
type rotateOutput struct {
	Instance    string    `json:"instance"`
	RootKeyID   string    `json:"rootKeyId"`
	FromVersion string    `json:"fromKeyVersion"`
	KeyVersion  string    `json:"keyVersion"`
	Rotated     bool      `json:"rotated"`
	WorkflowID  string    `json:"workflowId"`
	Nodes       []nodeRow `json:"nodes"`
}

func runRotate(ctx context.Context, a *app, args []string) error {
	fs := newFlags(a, "rotate")
	in := contract.RotateInput{RequestedBy: requester()}
	fs.StringVar(&in.InstanceID, "instance", "", "name of the instance (required)")
	fs.BoolVar(&in.RewrapOnly, "rewrap-only", false, "do not rotate; bring every node to the key's current version")
	durationVar(fs, &in.NodeDeadline, "node-deadline", contract.DefaultNodeDeadline, "how long to wait for a node agent that is down")
	file := fs.String("material-file", "", "rotate an imported root key with this file of new material (16, 24 or 32 raw bytes)")
	secure := fs.Bool("secure", true, "with --material-file: send the material through an import token")
	asJSON := fs.Bool("json", false, "print one JSON document")
	if err := parse(fs, args, map[string]*string{"instance": &in.InstanceID}); err != nil {
		return err
	}
	if err := contract.ValidateInstanceName(in.InstanceID); err != nil {
		return usagef("rotate: %v", err)
	}
	if err := rotateFirst(ctx, a, &in, *file, *secure); err != nil {
		return err
	}
	id := "rotate-" + in.InstanceID
	var res contract.RotateResult
	err := a.startAndWait(ctx, id, in.InstanceID, "", contract.OperationRotate, contract.WorkflowRotateRootKey, in, &res)
	if err != nil {
		return fmt.Errorf("rotate root key of instance %s: %w", in.InstanceID, err)
	}
	out := rotateOutput{res.InstanceID, res.RootKeyID, res.FromVersionID, res.KeyVersionID, res.Rotated, id, rowsFromReports(res.Nodes)}
	if *asJSON {
		return a.printJSON(out)
	}
	verb := "rotated"
	if !res.Rotated {
		verb = "rewrapped (no new rotation)"
	}
	fmt.Fprintf(a.stdout, "root key %s of instance %s %s: every node under version %s\n",
		out.RootKeyID, out.Instance, verb, out.KeyVersion)
	printNodes(a.stdout, out.Nodes)
	return nil
}

// rotateFirst rotates an imported key with the material of file, when one
// is given, before the workflow starts (which then only rewraps).
func rotateFirst(ctx context.Context, a *app, in *contract.RotateInput, file string, secure bool) error {
	if file == "" {
		return nil
	}
	if in.RewrapOnly {
		return usagef("rotate: --material-file rotates the key, --rewrap-only does not: give one of them")
	}
	if err := rotateWithMaterial(ctx, a, in.InstanceID, file, secure); err != nil {
		return err
	}
	in.MaterialRotated = true
	return nil
}
