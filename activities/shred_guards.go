package activities

import (
	"context"
	"fmt"
	"strings"

	"github.com/byokflow/byokflow/catalog"
	"github.com/byokflow/byokflow/contract"
	"github.com/byokflow/byokflow/internal/kprecords"
)

// CheckShredGuards looks, before a crypto-shred destroys anything, at what
// else depends on the root key, and refuses what the input did not allow:
// other live instances on the key fail KeyInUse unless KeepRootKey;
// complete backups under the key fail BackupsRetained unless
// IncludeBackups acknowledges they become unrecoverable, or KeepRootKey
// keeps them restorable; unless KeepRootKey, resources of other services
// that Key Protect lists as registered with the key fail
// ForeignRegistrations whatever the input says. It changes nothing.
func (a *Activities) CheckShredGuards(ctx context.Context, in contract.CheckShredGuardsInput) (contract.CheckShredGuardsResult, error) {
	var res contract.CheckShredGuardsResult
	verb := fmt.Sprintf("shred instance %q", in.InstanceID)
	others, err := a.otherLiveInstances(ctx, in)
	if err != nil {
		return res, fmt.Errorf("%s: %w", verb, err)
	}
	if len(others) > 0 && !in.KeepRootKey {
		msg := fmt.Sprintf("%s: root key %s is also used by live instances %s: shred them first, or shred "+
			"with --keep-root-key to destroy only the node keys of %q and keep the root key",
			verb, in.RootKeyID, strings.Join(others, ", "), in.InstanceID)
		return res, contract.NewError(contract.ErrTypeKeyInUse, msg, nil)
	}
	backups, err := a.catalog.BackupsByRootKey(ctx, in.RootKeyID)
	if err != nil {
		return res, fmt.Errorf("%s: %w", verb, err)
	}
	retained := completeBackups(backups)
	if len(retained) > 0 && !in.IncludeBackups && !in.KeepRootKey {
		msg := fmt.Sprintf("%s: deleting root key %s makes backups %s unrecoverable: shred with "+
			"--include-backups to acknowledge that they become unrecoverable, or with --keep-root-key to "+
			"keep the root key (the backups then stay restorable)", verb, in.RootKeyID, strings.Join(retained, ", "))
		return res, contract.NewError(contract.ErrTypeBackupsRetained, msg, nil)
	}
	res = contract.CheckShredGuardsResult{OtherInstances: others, RetainedBackups: retained}
	if in.KeepRootKey {
		return res, nil
	}
	res.Registrations, err = a.checkRegistrations(ctx, keyUse{instanceID: in.InstanceID, crn: in.InstanceCRN,
		rootKeyID: in.RootKeyID, kpInstanceID: in.KPInstanceID})
	return res, err
}

// keyUse names the instance a crypto-shred deletes a root key for.
type keyUse struct {
	instanceID, crn, rootKeyID, kpInstanceID string
}

// checkRegistrations lists the key's registrations in Key Protect and
// fails ForeignRegistrations when any is neither the instance's nor that
// of a byokflow instance the catalog knows is gone (failed or shredded:
// a registration its compensation did not remove). It returns the
// registrations that may go with the key.
func (a *Activities) checkRegistrations(ctx context.Context, u keyUse) ([]string, error) {
	op := a.operatorOp(u.kpInstanceID, fmt.Sprintf("shred instance %q: list registrations of root key", u.instanceID), u.rootKeyID)
	records, err := a.recordsFor(u.kpInstanceID, op.subject())
	if err != nil {
		return nil, err
	}
	regs, err := records.Registrations(ctx, u.rootKeyID)
	if err != nil {
		return nil, classifyKP(err, op)
	}
	all, err := a.catalog.InstancesByRootKey(ctx, u.rootKeyID)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op.subject(), err)
	}
	ours, foreign := sortRegistrations(regs, u.crn, goneCRNs(all))
	if len(foreign) == 0 {
		return ours, nil
	}
	return nil, contract.NewError(contract.ErrTypeForeignRegistrations, foreignMessage(u, foreign), nil)
}

// goneCRNs are the CRNs of the byokflow instances that no longer use
// their key.
func goneCRNs(all []catalog.Instance) map[string]bool {
	gone := map[string]bool{}
	for _, inst := range all {
		if inst.State == catalog.InstanceFailed || inst.State == catalog.InstanceShredded {
			gone[inst.CRN] = true
		}
	}
	return gone
}

// sortRegistrations splits a key's registrations into those that may go
// with the key (own, and the gone instances') and the foreign ones.
func sortRegistrations(regs []kprecords.Registration, own string, gone map[string]bool) (
	ours []string, foreign []kprecords.Registration) {
	for _, r := range regs {
		if r.ResourceCRN == own || gone[r.ResourceCRN] {
			ours = append(ours, r.ResourceCRN)
			continue
		}
		foreign = append(foreign, r)
	}
	return ours, foreign
}

// foreignMessage names every foreign registration and says what to do.
func foreignMessage(u keyUse, foreign []kprecords.Registration) string {
	crns := make([]string, len(foreign))
	for i, r := range foreign {
		crns[i] = r.ResourceCRN
		if r.PreventKeyDeletion {
			crns[i] += " (preventKeyDeletion: a retention policy forbids deleting the key)"
		}
	}
	return fmt.Sprintf("shred instance %q: Key Protect lists %d resource(s) of other services registered with "+
		"root key %s: %s: deleting the key would make their data unrecoverable too, and no flag overrides this: "+
		"have their owners move them to another root key (see `ibmcloud kp registrations -k %s`), or shred with "+
		"--keep-root-key to destroy only the node keys of %q", u.instanceID, len(foreign), u.rootKeyID,
		strings.Join(crns, ", "), u.rootKeyID, u.instanceID)
}

// otherLiveInstances lists the instances on the key, other than the one
// being shredded, that are neither failed nor shredded.
func (a *Activities) otherLiveInstances(ctx context.Context, in contract.CheckShredGuardsInput) ([]string, error) {
	all, err := a.catalog.InstancesByRootKey(ctx, in.RootKeyID)
	if err != nil {
		return nil, err
	}
	var others []string
	for _, inst := range all {
		if inst.ID != in.InstanceID && inst.State != catalog.InstanceFailed && inst.State != catalog.InstanceShredded {
			others = append(others, inst.ID)
		}
	}
	return others, nil
}

// completeBackups returns the ids of the complete backups.
func completeBackups(backups []catalog.Backup) []string {
	var ids []string
	for _, b := range backups {
		if b.State == catalog.BackupComplete {
			ids = append(ids, b.ID)
		}
	}
	return ids
}
