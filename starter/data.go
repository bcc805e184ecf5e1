package main

import (
	"context"
	"fmt"

	"github.com/byokflow/byokflow/contract"
)

// backupOutput is the JSON document of `starter backup --json`.
type backupOutput struct {
	BackupID   string `json:"backupId"`
	Instance   string `json:"instance"`
	Bytes      int64  `json:"bytes"`
	SHA256     string `json:"sha256"`
	RootKeyID  string `json:"rootKeyId"`
	KeyVersion string `json:"keyVersion"`
	Tables     int    `json:"tables"`
	Rows       int64  `json:"rows"`
}

func runBackup(ctx context.Context, a *app, args []string) error {
	fs := newFlags(a, "backup")
	in := contract.BackupInput{RequestedBy: requester()}
	fs.StringVar(&in.InstanceID, "instance", "", "name of the instance to back up (required)")
	durationVar(fs, &in.NodeDeadline, "node-deadline", contract.DefaultNodeDeadline, "how long to wait for the primary node's agent")
	asJSON := fs.Bool("json", false, "print one JSON document")
	if err := parse(fs, args, map[string]*string{"instance": &in.InstanceID}); err != nil {
		return err
	}
	if err := in.Validate(); err != nil {
		return usagef("backup: %v", err)
	}
	var res contract.BackupResult
	err := a.startAndWait(ctx, "backup-"+in.InstanceID, in.InstanceID, "", contract.OperationBackup,
		contract.WorkflowBackupInstance, in, &res)
	if err != nil {
		return fmt.Errorf("back up instance %s: %w", in.InstanceID, err)
	}
	out := backupOutput{res.BackupID, res.InstanceID, res.Bytes, res.SHA256, res.RootKeyID, res.KeyVersionID, res.Tables, res.Rows}
	if *asJSON {
		return a.printJSON(out)
	}
	fmt.Fprintf(a.stdout, "backup %s of instance %s: %d tables, %d rows, %d bytes encrypted under root key %s version %s\n",
		out.BackupID, out.Instance, out.Tables, out.Rows, out.Bytes, out.RootKeyID, out.KeyVersion)
	return nil
}

// restoreOutput is the JSON document of `starter restore --json`.
type restoreOutput struct {
	Instance   string    `json:"instance"`
	BackupID   string    `json:"backupId"`
	RootKeyID  string    `json:"rootKeyId"`
	KeyVersion string    `json:"keyVersion"`
	Bytes      int64     `json:"bytes"`
	Tables     int       `json:"tables"`
	Rows       int64     `json:"rows"`
	Nodes      []nodeRow `json:"nodes"`
}

func runRestore(ctx context.Context, a *app, args []string) error {
	fs := newFlags(a, "restore")
	in := contract.RestoreInput{RequestedBy: requester()}
	fs.StringVar(&in.BackupID, "backup", "", "id of the backup to restore (required)")
	fs.StringVar(&in.InstanceID, "instance", "", "name of the NEW instance (required)")
	fs.StringVar(&in.RootKeyID, "root-key", "", "root key of the new instance: the backup's or another (required)")
	fs.StringVar(&in.KPInstanceID, "kp-instance", "", "Key Protect instance of the new root key (default: the backup's)")
	fs.IntVar(&in.Nodes, "nodes", contract.DefaultNodes, "number of nodes of the new instance")
	fs.BoolVar(&in.CreateAuthorization, "create-authorization", false, "create the missing IAM authorization of the service to Key Protect")
	durationVar(fs, &in.NodeDeadline, "node-deadline", contract.DefaultNodeDeadline, "how long to wait for a node agent that is down")
	asJSON := fs.Bool("json", false, "print one JSON document")
	required := map[string]*string{"backup": &in.BackupID, "instance": &in.InstanceID, "root-key": &in.RootKeyID}
	if err := parse(fs, args, required); err != nil {
		return err
	}
	if err := contract.ValidateInstanceName(in.InstanceID); err != nil {
		return usagef("restore: %v", err)
	}
	verifier, forget, err := adminVerifier(in.InstanceID)
	if err != nil {
		return err
	}
	in.AdminVerifier = verifier
	if err := in.Validate(); err != nil {
		forget()
		return usagef("restore: %v", err)
	}
	var res contract.RestoreResult
	err = a.startAndWait(ctx, "restore-"+in.InstanceID, in.InstanceID, in.RootKeyID, contract.OperationRestore,
		contract.WorkflowRestoreFromBackup, in, &res)
	if err != nil {
		if nothingRuns(err) {
			forget()
		}
		return fmt.Errorf("restore backup %s into instance %s: %w", in.BackupID, in.InstanceID, err)
	}
	out := restoreOutput{res.InstanceID, res.BackupID, res.Provision.RootKeyID, res.Provision.KeyVersionID,
		res.Bytes, res.Tables, res.Rows, rowsFromReports(res.Provision.Nodes)}
	if *asJSON {
		return a.printJSON(out)
	}
	fmt.Fprintf(a.stdout, "backup %s restored into new instance %s: %d tables, %d rows, under root key %s\n",
		out.BackupID, out.Instance, out.Tables, out.Rows, out.RootKeyID)
	printNodes(a.stdout, out.Nodes)
	return nil
}
