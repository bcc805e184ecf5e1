package main

import (
	"context"
	"fmt"

	"github.com/byokflow/byokflow/contract"
)

// runSuspend takes an instance's keys away from its nodes: every server
// stops, every fscrypt key leaves the kernel, every DEK is zeroized; the
// key slots stay for `starter resume`.
func runSuspend(ctx context.Context, a *app, args []string) error {
	fs := newFlags(a, "suspend")
	in := contract.SuspendInput{RequestedBy: requester()}
	fs.StringVar(&in.InstanceID, "instance", "", "name of the instance (required)")
	fs.StringVar(&in.Reason, "reason", "suspended by an operator", "why, for the Nodes page and the audit")
	durationVar(fs, &in.NodeDeadline, "node-deadline", contract.DefaultNodeDeadline, "how long to wait for a node agent that is down")
	asJSON := fs.Bool("json", false, "print one JSON document")
	if err := parse(fs, args, map[string]*string{"instance": &in.InstanceID}); err != nil {
		return err
	}
	if err := in.Validate(); err != nil {
		return usagef("suspend: %v", err)
	}
	return a.nodesCommand(ctx, "suspend", in.InstanceID, contract.OperationSuspend, contract.WorkflowSuspendInstance,
		in, *asJSON, "suspended: servers stopped, storage locked, keys zeroized")
}

// runResume brings a suspended instance back.
func runResume(ctx context.Context, a *app, args []string) error {
	fs := newFlags(a, "resume")
	in := contract.ResumeInput{RequestedBy: requester()}
	fs.StringVar(&in.InstanceID, "instance", "", "name of the instance (required)")
	durationVar(fs, &in.NodeDeadline, "node-deadline", contract.DefaultNodeDeadline, "how long to wait for a node agent that is down")
	asJSON := fs.Bool("json", false, "print one JSON document")
	if err := parse(fs, args, map[string]*string{"instance": &in.InstanceID}); err != nil {
		return err
	}
	if err := in.Validate(); err != nil {
		return usagef("resume: %v", err)
	}
	return a.nodesCommand(ctx, "resume", in.InstanceID, contract.OperationResume, contract.WorkflowResumeInstance,
		in, *asJSON, "serving again")
}

// nodesCommand runs a workflow that acts on every node of an instance and
// prints the nodes' reports.
func (a *app) nodesCommand(ctx context.Context, verb, instance, operation, workflow string, in any,
	asJSON bool, done string) error {
	var res contract.NodesResult
	err := a.startAndWait(ctx, verb+"-"+instance, instance, "", operation, workflow, in, &res)
	if err != nil {
		return fmt.Errorf("%s instance %s: %w", verb, instance, err)
	}
	rows := rowsFromReports(res.Nodes)
	if asJSON {
		return a.printJSON(statusOutput{Instance: instance, Nodes: rows})
	}
	fmt.Fprintf(a.stdout, "instance %s %s\n", instance, done)
	printNodes(a.stdout, rows)
	return nil
}
