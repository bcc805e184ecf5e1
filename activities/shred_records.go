package activities

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/byokflow/byokflow/catalog"
	"github.com/byokflow/byokflow/contract"
)

// MarkInstanceShredding marks the instance shredding before any key is
// destroyed: it is no longer usable. Idempotent; a shredded instance fails
// InstanceNotActive, an unknown one InstanceNotFound.
func (a *Activities) MarkInstanceShredding(ctx context.Context, in contract.MarkInstanceShreddingInput) error {
	return a.setShredState(ctx, in.InstanceID, in.RequestedBy, catalog.InstanceShredding, "instance.shredding")
}

// MarkInstanceShredded marks the instance shredded, the terminal state,
// after its certificate is stored. Idempotent.
func (a *Activities) MarkInstanceShredded(ctx context.Context, in contract.MarkInstanceShreddedInput) error {
	return a.setShredState(ctx, in.InstanceID, in.RequestedBy, catalog.InstanceShredded, "instance.shredded")
}

func (a *Activities) setShredState(ctx context.Context, instanceID, actor string, state catalog.InstanceState, op string) error {
	verb := fmt.Sprintf("mark instance %q %s", instanceID, state)
	if err := a.catalog.SetInstanceState(ctx, instanceID, state, ""); err != nil {
		return a.catalogError(err, verb)
	}
	return a.auditOrRetry(ctx, verb, auditEntry{actor: actor, operation: op, instanceID: instanceID})
}

// MarkBackupsUnrecoverable marks every complete backup under the deleted
// root key unrecoverable and returns the ids of all the key's
// unrecoverable backups, so a retry returns the same list.
func (a *Activities) MarkBackupsUnrecoverable(ctx context.Context, in contract.MarkBackupsUnrecoverableInput) (
	contract.MarkBackupsUnrecoverableResult, error) {
	var res contract.MarkBackupsUnrecoverableResult
	verb := "mark backups of root key " + in.RootKeyID + " unrecoverable"
	backups, err := a.catalog.BackupsByRootKey(ctx, in.RootKeyID)
	if err != nil {
		return res, fmt.Errorf("%s: %w", verb, err)
	}
	for _, b := range backups {
		if b.State == catalog.BackupComplete {
			if _, err := a.catalog.SetBackupState(ctx, b.ID, catalog.BackupUnrecoverable); err != nil {
				return res, backupError(err, verb)
			}
			b.State = catalog.BackupUnrecoverable
		}
		if b.State == catalog.BackupUnrecoverable {
			res.BackupIDs = append(res.BackupIDs, b.ID)
		}
	}
	return res, a.auditOrRetry(ctx, verb, auditEntry{actor: in.RequestedBy, operation: "backups.unrecoverable",
		instanceID: in.InstanceID, rootKeyID: in.RootKeyID, detail: map[string]any{"backupIds": res.BackupIDs}})
}

// WriteShredCertificate stores the certificate of an instance. The first
// certificate stored wins: a retry, or a later run, gets the stored one
// back with Existing set, and the evidence never changes.
func (a *Activities) WriteShredCertificate(ctx context.Context, in contract.WriteShredCertificateInput) (
	contract.WriteShredCertificateResult, error) {
	var res contract.WriteShredCertificateResult
	id := in.Certificate.InstanceID
	verb := fmt.Sprintf("store shred certificate of instance %q", id)
	stored, err := a.catalog.GetShredCertificate(ctx, id)
	if err == nil {
		res.Existing = true
	} else if !errors.Is(err, catalog.ErrNotFound) {
		return res, fmt.Errorf("%s: %w", verb, err)
	} else if stored, err = a.putCertificate(ctx, in.Certificate); err != nil {
		return res, a.catalogError(err, verb)
	}
	if err := json.Unmarshal(stored.Certificate, &res.Certificate); err != nil {
		return res, fmt.Errorf("%s: decode the stored certificate: %w", verb, err)
	}
	return res, a.auditOrRetry(ctx, verb, auditEntry{actor: in.Certificate.RequestedBy,
		operation: "instance.shred-certificate", instanceID: id, rootKeyID: in.Certificate.RootKeyID,
		detail: map[string]any{"scope": res.Certificate.Scope, "keyDeleted": res.Certificate.KeyDeleted}})
}

func (a *Activities) putCertificate(ctx context.Context, cert contract.ShredCertificate) (catalog.ShredCertificate, error) {
	data, err := json.Marshal(cert)
	if err != nil {
		return catalog.ShredCertificate{}, err
	}
	return a.catalog.PutShredCertificate(ctx, cert.InstanceID, data)
}
