package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"text/tabwriter"

	"github.com/byokflow/byokflow/contract"
)

// backupRow is one backup of `starter backups`, with its key lineage.
type backupRow struct {
	BackupID   string `json:"backupId"`
	State      string `json:"state"`
	Bytes      int64  `json:"bytes"`
	SHA256     string `json:"sha256"`
	RootKeyID  string `json:"rootKeyId"`
	KeyVersion string `json:"keyVersion"`
	CreatedAt  string `json:"createdAt"`
	// PrunedAt is when retention crypto-erased the backup; FileDeletedAt
	// when its file was then deleted from the backup store. A pruned
	// backup without FileDeletedAt is finished by the schedule's next run.
	PrunedAt      string `json:"prunedAt,omitempty"`
	FileDeletedAt string `json:"fileDeletedAt,omitempty"`
}

// runBackups lists an instance's backups and their key lineage.
func runBackups(ctx context.Context, a *app, args []string) error {
	fs := newFlags(a, "backups")
	instance := fs.String("instance", "", "name of the instance (required)")
	asJSON := fs.Bool("json", false, "print one JSON document")
	if err := parse(fs, args, map[string]*string{"instance": instance}); err != nil {
		return err
	}
	if err := contract.ValidateInstanceName(*instance); err != nil {
		return usagef("backups: %v", err)
	}
	cat, err := openCatalog(ctx)
	if err != nil {
		return err
	}
	defer cat.Close()
	backups, err := cat.ListBackups(ctx, *instance)
	if err != nil {
		return fmt.Errorf("list backups of instance %s: %w", *instance, err)
	}
	rows := make([]backupRow, 0, len(backups))
	for _, b := range backups {
		rows = append(rows, backupRow{b.ID, string(b.State), b.Bytes, b.SHA256, b.RootKeyID, b.KeyVersionID,
			rfc3339(b.CreatedAt), rfc3339Ptr(b.PrunedAt), rfc3339Ptr(b.FileDeletedAt)})
	}
	if *asJSON {
		return a.printJSON(rows)
	}
	tw := tabwriter.NewWriter(a.stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "BACKUP\tSTATE\tBYTES\tROOT KEY\tKEY VERSION\tCREATED AT")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\n", r.BackupID, r.State, r.Bytes, r.RootKeyID, r.KeyVersion, r.CreatedAt)
	}
	return tw.Flush()
}

// runShredCertificate prints the shred certificate of an instance: the JSON
// the CryptoShred workflow recorded in the catalog, as recorded (camelCase,
// format v2; a certificate issued before v2 keeps its Go field names, and
// its "Format" says v1).
func runShredCertificate(ctx context.Context, a *app, args []string) error {
	fs := newFlags(a, "shred-certificate")
	instance := fs.String("instance", "", "name of the shredded instance (required)")
	if err := parse(fs, args, map[string]*string{"instance": instance}); err != nil {
		return err
	}
	cat, err := openCatalog(ctx)
	if err != nil {
		return err
	}
	defer cat.Close()
	cert, err := cat.GetShredCertificate(ctx, *instance)
	if err != nil {
		return fmt.Errorf("show shred certificate of instance %s: %w", *instance, err)
	}
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, cert.Certificate, "", "  "); err != nil {
		return fmt.Errorf("show shred certificate of instance %s: %w", *instance, err)
	}
	_, err = fmt.Fprintln(a.stdout, pretty.String())
	return err
}
