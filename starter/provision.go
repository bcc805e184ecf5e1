package main

import (
	"context"
	"fmt"
	"os"
	"os/user"

	"github.com/byokflow/byokflow/contract"
	"github.com/byokflow/byokflow/internal/ibmenv"
)

// provisionOutput is the JSON document of `starter provision --json`.
type provisionOutput struct {
	Instance    string    `json:"instance"`
	InstanceCRN string    `json:"instanceCrn"`
	RootKeyID   string    `json:"rootKeyId"`
	KeyVersion  string    `json:"keyVersion"`
	WorkflowID  string    `json:"workflowId"`
	Nodes       []nodeRow `json:"nodes"`
}

func runProvision(ctx context.Context, a *app, args []string) error {
	fs := newFlags(a, "provision")
	in := contract.ProvisionInput{RequestedBy: requester()}
	fs.StringVar(&in.InstanceID, "instance", "", "name of the new instance (required)")
	fs.StringVar(&in.RootKeyID, "root-key", "", "id of the customer's root key (required)")
	fs.StringVar(&in.KPInstanceID, "kp-instance", ibmenv.Read(nil).KPInstanceID,
		"Key Protect instance of the root key (default BYOK_KP_INSTANCE_ID)")
	fs.IntVar(&in.Nodes, "nodes", contract.DefaultNodes, "number of nodes")
	fs.BoolVar(&in.CreateAuthorization, "create-authorization", false, "create the missing IAM authorization of the service to Key Protect")
	durationVar(fs, &in.NodeDeadline, "node-deadline", contract.DefaultNodeDeadline, "how long to wait for a node agent that is down")
	asJSON := fs.Bool("json", false, "print one JSON document")
	if err := parse(fs, args, map[string]*string{"instance": &in.InstanceID, "root-key": &in.RootKeyID}); err != nil {
		return err
	}
	if err := contract.ValidateInstanceName(in.InstanceID); err != nil {
		return usagef("provision: %v", err)
	}
	verifier, forget, err := adminVerifier(in.InstanceID)
	if err != nil {
		return err
	}
	in.AdminVerifier = verifier
	if err := in.Validate(); err != nil {
		forget()
		return usagef("provision: %v", err)
	}
	id := "provision-" + in.InstanceID
	var res contract.ProvisionResult
	err = a.startAndWait(ctx, id, in.InstanceID, in.RootKeyID, contract.OperationProvision,
		contract.WorkflowProvisionEncryptedInstance, in, &res)
	if err != nil {
		if nothingRuns(err) {
			forget()
		}
		return fmt.Errorf("provision instance %s: %w", in.InstanceID, err)
	}
	return a.printProvision(provisionOutput{res.InstanceID, res.InstanceCRN, res.RootKeyID, res.KeyVersionID, id,
		rowsFromReports(res.Nodes)}, *asJSON)
}

// printProvision prints the outcome of a provision, as one JSON document
// with asJSON.
func (a *app) printProvision(out provisionOutput, asJSON bool) error {
	if asJSON {
		return a.printJSON(out)
	}
	fmt.Fprintf(a.stdout, "instance %s is active: %d nodes under root key %s version %s\n",
		out.Instance, len(out.Nodes), out.RootKeyID, out.KeyVersion)
	printNodes(a.stdout, out.Nodes)
	fmt.Fprintf(a.stdout, "connect: starter connect --instance %s (admin password kept in your credentials directory)\n",
		out.Instance)
	return nil
}

// adminVerifier makes (or finds) the admin password of instance, kept for
// the operator, and returns its SCRAM verifier: the password itself never
// reaches a workflow. forget removes a password this call made, for a
// provision whose workflow ended in failure (and so left no instance to
// log in to: nothingRuns); a wait that ended without the outcome keeps
// it, as the workflow may run on with its verifier.
func adminVerifier(instance string) (verifier string, forget func(), err error) {
	c, made, err := ensureCredentials(instance)
	forget = func() {}
	if made {
		forget = func() { _ = removeCredentials(instance) }
	}
	if err == nil {
		verifier, err = c.verifier()
	}
	if err != nil {
		forget()
	}
	return verifier, forget, err
}

// requester names the operator for the audit trail and the two-person
// rule: BYOK_OPERATOR, else the login name.
func requester() string {
	if name := os.Getenv("BYOK_OPERATOR"); name != "" {
		return name
	}
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return "unknown"
}
