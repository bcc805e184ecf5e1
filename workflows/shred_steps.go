package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/byokflow/byokflow/contract"
)

// shredFacts collects what a crypto-shred found and did, for its
// certificate.
type shredFacts struct {
	in            contract.ShredInput
	inst          contract.LoadInstanceResult
	guards        contract.CheckShredGuardsResult
	approvedBy    string
	approval      *contract.ShredApproval
	nodes         []contract.NodeReport
	key           contract.RootKeyState
	proof         *contract.ShredProof
	unrecoverable []string
	started       time.Time
}

// checkShredGuards loads the instance, checks it may be shredded, and
// checks what else depends on its root key.
func checkShredGuards(ctx workflow.Context, f *shredFacts, track *tracker) error {
	inst, err := loadInstance(ctx, f.in.InstanceID, track)
	if err != nil {
		return err
	}
	if err := checkShreddable(f.in.InstanceID, inst); err != nil {
		return err
	}
	f.inst = inst
	track.nodes(inst.Nodes)
	if err := trackRootKey(ctx, track, inst.RootKeyID); err != nil {
		return err
	}
	return runGuards(ctx, f, track)
}

// runGuards runs CheckShredGuards, which changes nothing.
func runGuards(ctx workflow.Context, f *shredFacts, track *tracker) error {
	track.step("check what depends on root key " + f.inst.RootKeyID)
	guards := contract.CheckShredGuardsInput{InstanceID: f.in.InstanceID, RootKeyID: f.inst.RootKeyID,
		InstanceCRN: f.inst.InstanceCRN, KPInstanceID: f.inst.KPInstanceID,
		KeepRootKey: f.in.KeepRootKey, IncludeBackups: f.in.IncludeBackups}
	return workflow.ExecuteActivity(ctx, contract.ActivityCheckShredGuards, guards).Get(ctx, &f.guards)
}

// proofCiphertext finds, before anything is destroyed, the ciphertext
// whose failed unwrap will prove the root key's deletion: the probe the
// provisioning wrapped (or, for an instance provisioned before probes, one
// wrapped now), which protects nothing. None when the key is kept.
func proofCiphertext(ctx workflow.Context, f shredFacts, track *tracker) (*contract.ProveKeyDestroyedInput, error) {
	if f.in.KeepRootKey {
		return nil, nil
	}
	track.step("find the shred probe under root key " + f.inst.RootKeyID + " for the proof")
	var probe contract.WrapProbeResult
	wrap := contract.WrapProbeInput{InstanceID: f.in.InstanceID, RootKeyID: f.inst.RootKeyID,
		KPInstanceID: f.inst.KPInstanceID}
	err := workflow.ExecuteActivity(ctx, contract.ActivityWrapProbe, wrap).Get(ctx, &probe)
	return &contract.ProveKeyDestroyedInput{RootKeyID: f.inst.RootKeyID, Ciphertext: probe.Ciphertext, AAD: probe.AAD,
		KPInstanceID: f.inst.KPInstanceID,
		Subject:      fmt.Sprintf("shred probe of instance %s (key version %s)", f.in.InstanceID, probe.KeyVersionID)}, err
}

// destroyInstance marks the instance shredding, has every node stop its
// server, remove its fscrypt key, destroy its key and delete its
// ciphertext, and removes the instance's registration.
func destroyInstance(ctx workflow.Context, f *shredFacts, track *tracker) error {
	track.step("mark instance shredding")
	mark := contract.MarkInstanceShreddingInput{InstanceID: f.in.InstanceID, RequestedBy: f.in.RequestedBy}
	if err := workflow.ExecuteActivity(ctx, contract.ActivityMarkInstanceShredding, mark).Get(ctx, nil); err != nil {
		return err
	}
	reports, err := shredNodes(ctx, f.in, f.inst.Nodes, track)
	if err != nil {
		return err
	}
	f.nodes = reports
	track.step("deregister instance from root key")
	dereg := contract.DeregisterInstanceInput{RootKeyID: f.inst.RootKeyID, InstanceCRN: f.inst.InstanceCRN,
		KPInstanceID: f.inst.KPInstanceID}
	return workflow.ExecuteActivity(ctx, contract.ActivityDeregisterInstance, dereg).Get(ctx, nil)
}

// shredNodes has every node destroy its key in parallel and checks every
// node reported destroyed.
func shredNodes(ctx workflow.Context, in contract.ShredInput, nodes []contract.NodePlacement,
	track *tracker) ([]contract.NodeReport, error) {
	track.step("shred node keys")
	calls := make([]nodeCall, len(nodes))
	for i, n := range nodes {
		calls[i] = nodeCall{node: n, activity: contract.ActivityShredKeySlot, server: true,
			input: contract.ShredKeySlotInput{InstanceID: in.InstanceID, NodeID: n.NodeID}}
	}
	run := runOnNodes(ctx, calls, in.NodeDeadline.D(), track)
	if err := nodeStepError(run, in.InstanceID, in.NodeDeadline.D(), shredRetryHint); err != nil {
		return nil, err
	}
	if err := checkDestroyed(run, in.InstanceID); err != nil {
		return nil, err
	}
	return run.reports(), nil
}

// destroyRootKey deletes the root key, proves the deletion and marks the
// backups under it unrecoverable. With KeepRootKey it only reads the
// key's state for the certificate.
func destroyRootKey(ctx workflow.Context, f *shredFacts, probe *contract.ProveKeyDestroyedInput, track *tracker) error {
	key, err := readKeyState(ctx, f.inst.RootKeyID, f.inst.KPInstanceID, track)
	if err != nil || f.in.KeepRootKey {
		f.key = key
		return err
	}
	if err := deleteRootKey(ctx, f, key, track); err != nil {
		return err
	}
	track.step("prove root key " + f.inst.RootKeyID + " destroyed")
	f.proof = &contract.ShredProof{}
	if err := workflow.ExecuteActivity(ctx, contract.ActivityProveKeyDestroyed, *probe).Get(ctx, f.proof); err != nil {
		return err
	}
	track.step("mark backups under root key " + f.inst.RootKeyID + " unrecoverable")
	var marked contract.MarkBackupsUnrecoverableResult
	mark := contract.MarkBackupsUnrecoverableInput{RootKeyID: f.inst.RootKeyID, InstanceID: f.in.InstanceID,
		RequestedBy: f.in.RequestedBy}
	if err := workflow.ExecuteActivity(ctx, contract.ActivityMarkBackupsUnrecoverable, mark).Get(ctx, &marked); err != nil {
		return err
	}
	f.unrecoverable = marked.BackupIDs
	f.key, err = readKeyState(ctx, f.inst.RootKeyID, f.inst.KPInstanceID, track)
	return err
}

// deleteRootKey deletes the key; for a dual-auth key, progress says that
// the workflow waits for a second user's authorization.
func deleteRootKey(ctx workflow.Context, f *shredFacts, key contract.RootKeyState, track *tracker) error {
	track.step(deleteKeyStep(key))
	del := contract.DeleteRootKeyInput{RootKeyID: f.inst.RootKeyID, InstanceID: f.in.InstanceID,
		InstanceCRN: f.inst.InstanceCRN, RequestedBy: f.in.RequestedBy, KPInstanceID: f.inst.KPInstanceID}
	err := workflow.ExecuteActivity(withKeyDeletion(ctx, f.in.ApprovalTimeout.D()), contract.ActivityDeleteRootKey, del).
		Get(ctx, nil)
	return keyDeletionError(err, f.in, f.inst.RootKeyID)
}

func readKeyState(ctx workflow.Context, rootKeyID, kpInstanceID string, track *tracker) (contract.RootKeyState, error) {
	var key contract.RootKeyState
	track.step("read state of root key " + rootKeyID)
	read := contract.GetKeyStateInput{RootKeyID: rootKeyID, KPInstanceID: kpInstanceID}
	err := workflow.ExecuteActivity(ctx, contract.ActivityGetKeyState, read).Get(ctx, &key)
	return key, err
}

// storeCertificate stores the shred certificate (the first one stored
// wins) and marks the instance shredded.
func storeCertificate(ctx workflow.Context, f *shredFacts, track *tracker) (contract.ShredCertificate, error) {
	track.step("store shred certificate")
	run := workflow.GetInfo(ctx).WorkflowExecution
	cert := shredCertificate(*f, run.ID, run.RunID, workflow.Now(ctx))
	var stored contract.WriteShredCertificateResult
	write := contract.WriteShredCertificateInput{Certificate: cert}
	if err := workflow.ExecuteActivity(ctx, contract.ActivityWriteShredCertificate, write).Get(ctx, &stored); err != nil {
		return cert, err
	}
	track.step("mark instance shredded")
	done := contract.MarkInstanceShreddedInput{InstanceID: f.in.InstanceID, RequestedBy: f.in.RequestedBy}
	return stored.Certificate, workflow.ExecuteActivity(ctx, contract.ActivityMarkInstanceShredded, done).Get(ctx, nil)
}
