package main

import (
	"context"
	"fmt"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/byokflow/byokflow/contract"
	"github.com/byokflow/byokflow/internal/ibmenv"
)

func runShred(ctx context.Context, a *app, args []string) error {
	fs := newFlags(a, "shred")
	in := contract.ShredInput{RequestedBy: requester()}
	fs.StringVar(&in.InstanceID, "instance", "", "name of the instance to crypto-shred (required)")
	fs.BoolVar(&in.KeepRootKey, "keep-root-key", false, "destroy only this instance's node keys; keep the root key other instances or backups use")
	fs.BoolVar(&in.IncludeBackups, "include-backups", false, "acknowledge that the backups under the root key become unrecoverable")
	fs.BoolVar(&in.RequireApproval, "require-approval", false, "wait, before destroying anything, until a second operator's `starter approve` (their own API key) sets the root key for deletion in Key Protect")
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
		fmt.Fprintf(a.stderr, "waiting for approval: a second operator runs `starter approve --workflow %s` with their "+
			"own API key (Key Protect then holds the root key set for deletion by them)\n", id)
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

// runApprove is the second person of the two-person rule: with the
// approver's own API key (IBMCLOUD_API_KEY) it sets the waiting shred's
// root key for deletion in Key Protect, then tells the workflow, which
// checks Key Protect's records. It refuses, changing nothing, when the API
// key is the requester's.
func runApprove(ctx context.Context, a *app, args []string) error {
	fs := newFlags(a, "approve")
	workflowID := fs.String("workflow", "", "id of the workflow waiting for approval, e.g. shred-orders (required)")
	comment := fs.String("comment", "", "why you approve, for the certificate")
	if err := parse(fs, args, map[string]*string{"workflow": workflowID}); err != nil {
		return err
	}
	c, err := dialTemporal(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	state, err := approvalState(ctx, c, *workflowID)
	if err != nil {
		return err
	}
	env := ibmenv.Read(nil).ForKPInstance(state.KPInstanceID)
	me, err := iamIDOf(env)
	if err != nil {
		return fmt.Errorf("approve workflow %s: %w: check IBMCLOUD_API_KEY and BYOK_IAM_URL", *workflowID, err)
	}
	if me == state.RequesterIAMID {
		return fmt.Errorf("approve workflow %s: your API key is IAM id %s, the requester's, whose identity deletes the "+
			"root key: Key Protect counts only another person's authorization, so nothing was changed: have a second "+
			"operator with Manager on Key Protect instance %s run `starter approve --workflow %s` with their own API key",
			*workflowID, me, state.KPInstanceID, *workflowID)
	}
	keys, err := env.OperatorKP()
	if err != nil {
		return err
	}
	if err := keys.InitiateDualAuthDelete(ctx, state.RootKeyID); err != nil {
		return fmt.Errorf("approve workflow %s: set root key %s for deletion in Key Protect instance %s as %s: %w: "+
			"you need Manager on that instance", *workflowID, state.RootKeyID, state.KPInstanceID, me, err)
	}
	sig := contract.ApproveSignal{Principal: me, Comment: *comment}
	if err := c.SignalWorkflow(ctx, *workflowID, "", contract.SignalApprove, sig); err != nil {
		return fmt.Errorf("approve workflow %s: the key is set for deletion, but signalling the workflow failed: %w: "+
			"run `starter approve` again", *workflowID, err)
	}
	fmt.Fprintf(a.stdout, "set root key %s for deletion in Key Protect as %s; workflow %s proceeds once Key Protect's "+
		"records confirm it\n", state.RootKeyID, me, *workflowID)
	return nil
}

// approvalState asks the workflow what approval it waits for.
func approvalState(ctx context.Context, c client.Client, workflowID string) (contract.ApprovalState, error) {
	var state contract.ApprovalState
	v, err := c.QueryWorkflow(ctx, workflowID, "", contract.QueryApproval)
	if err == nil {
		err = v.Get(&state)
	}
	if err != nil {
		return state, fmt.Errorf("approve workflow %s: %w: is it a crypto-shred started with --require-approval "+
			"that is still running? see `starter status`", workflowID, err)
	}
	if !state.Waiting {
		return state, fmt.Errorf("approve workflow %s: it is not waiting for approval (not yet, or no longer): "+
			"look at its progress in the Web UI, then run `starter approve` again if it waits", workflowID)
	}
	return state, nil
}

// iamIDOf is the IAM id behind env's operator API key, as IAM issues it.
func iamIDOf(env ibmenv.Env) (string, error) {
	auth, err := env.OperatorAuthenticator()
	if err != nil {
		return "", err
	}
	return ibmenv.NewIAMIDs().Of(auth)
}
