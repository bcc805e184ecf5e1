package main

import (
	"context"
	"fmt"
	"time"

	"github.com/byokflow/byokflow/contract"
)

func runShred(ctx context.Context, a *app, args []string) error {
	fs := newFlags(a, "shred")
	in := contract.ShredInput{RequestedBy: requester()}
	fs.StringVar(&in.InstanceID, "instance", "", "name of the instance to crypto-shred (required)")
	fs.BoolVar(&in.KeepRootKey, "keep-root-key", false, "destroy only this instance's node keys; keep the root key other instances or backups use")
	fs.BoolVar(&in.IncludeBackups, "include-backups", false, "acknowledge that the backups under the root key become unrecoverable")
	fs.BoolVar(&in.RequireApproval, "require-approval", false, "wait for `starter approve` by another operator before destroying anything")
	durationVar(fs, &in.ApprovalTimeout, "approval-timeout", contract.DefaultApprovalTimeout, "how long to wait for the approval")
	durationVar(fs, &in.NodeDeadline, "node-deadline", contract.DefaultNodeDeadline, "how long to wait for a node agent that is down")
	asJSON := fs.Bool("json", false, "print one JSON document")
	if err := parse(fs, args, map[string]*string{"instance": &in.InstanceID}); err != nil {
		return err
	}
	if err := in.Validate(); err != nil {
		return usagef("shred: %v", err)
	}
	id := "shred-" + in.InstanceID
	if in.RequireApproval {
		fmt.Fprintf(a.stderr, "waiting for approval: another operator runs `starter approve --workflow %s`\n", id)
	}
	var res contract.ShredResult
	err := a.startAndWait(ctx, id, in.InstanceID, "", contract.OperationShred, contract.WorkflowCryptoShred, in, &res)
	if err != nil {
		return fmt.Errorf("crypto-shred instance %s: %w", in.InstanceID, err)
	}
	if err := removeCredentials(in.InstanceID); err != nil {
		fmt.Fprintf(a.stderr, "warning: remove the admin password of shredded instance %s: %v\n", in.InstanceID, err)
	}
	if *asJSON {
		return a.printJSON(res.Certificate)
	}
	fmt.Fprintln(a.stdout, res.Certificate.Statement)
	fmt.Fprintf(a.stdout, "certificate: starter shred-certificate --instance %s\n", in.InstanceID)
	return nil
}

// runApprove sends the approve signal of the two-person rule.
func runApprove(ctx context.Context, a *app, args []string) error {
	fs := newFlags(a, "approve")
	workflowID := fs.String("workflow", "", "id of the workflow waiting for approval, e.g. shred-orders (required)")
	comment := fs.String("comment", "", "why you approve, for the certificate")
	if err := parse(fs, args, map[string]*string{"workflow": workflowID}); err != nil {
		return err
	}
	c, err := dialTemporal()
	if err != nil {
		return err
	}
	defer c.Close()
	sig := contract.ApproveSignal{Principal: requester(), Comment: *comment}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := c.SignalWorkflow(ctx, *workflowID, "", contract.SignalApprove, sig); err != nil {
		return fmt.Errorf("approve workflow %s: %w", *workflowID, err)
	}
	fmt.Fprintf(a.stdout, "approved workflow %s as %s\n", *workflowID, sig.Principal)
	return nil
}
