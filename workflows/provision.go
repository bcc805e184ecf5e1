package workflows

import (
	"go.temporal.io/sdk/workflow"

	"github.com/byokflow/byokflow/contract"
)

// ProvisionEncryptedInstance creates an instance whose every node keeps its
// data on storage that only its DEK, wrapped by the customer's root key,
// can read. Every node generates its DEK, wraps it and unlocks its
// fscrypt-encrypted directory with a key derived from it; then the first
// node initdbs and starts the primary server there, and the others stream
// from it as standbys made with pg_basebackup. It completes only when every
// node reported active (server up, standbys streaming) under the root key's
// current version; with AwaitData it leaves the instance pending for the
// restore that loads it. On failure it undoes what it did, in reverse
// order — servers stopped, fscrypt keys removed, directories and key slots
// dropped, registration removed, record marked failed — and returns the
// error that failed it. Each compensation is pushed before its step; one
// that fails marks the instance needs_attention. Running the provision
// again (same name) is the re-run: it first finishes that rollback (nodes
// dropped, registration removed, record failed, mark cleared), then
// provisions anew. It holds the instance's lock throughout (a child of a
// restore works under its parent's).
//
// Its errors carry the contract error types: InvalidInput, InstanceBusy;
// KPInstanceNotFound before anything is created; from the
// activities ServiceNotAuthorized, KeyNotFound, NotRootKey, KeyNotActive,
// InstanceExists, NoNodeHosts and whatever a node reports (KeySuspended,
// KeySlotConflict, ...); NodeDeadline naming the silent nodes and hosts;
// NodeKeyMismatch when a node reported another state or key version.
func ProvisionEncryptedInstance(ctx workflow.Context, in contract.ProvisionInput) (res contract.ProvisionResult, err error) {
	in = in.WithDefaults()
	ctx, track, unlock, err := beginLocked(ctx, contract.OperationProvision, in.InstanceID, in.Validate())
	defer unlock()
	if err != nil {
		return res, err
	}
	key, err := checkKeyAccess(ctx, in, track)
	if err != nil {
		return res, err
	}
	if err = finishRollback(ctx, in, track); err != nil {
		return res, err
	}
	undo := undoOf(contract.OperationProvision, in.InstanceID)
	defer func() {
		if err != nil {
			track.step("compensate")
			undo.run(ctx, err)
		}
	}()
	rec, err := createInstance(ctx, in, key, track, &undo)
	if err != nil {
		return res, err
	}
	if err = wrapShredProbe(ctx, in, track); err != nil {
		return res, err
	}
	if _, err = installKeys(ctx, in, rec.Nodes, key.KeyVersionID, track, &undo); err != nil {
		return res, err
	}
	reports, err := startServers(ctx, in, rec, key.KeyVersionID, track)
	if err != nil {
		return res, err
	}
	res = contract.ProvisionResult{InstanceID: in.InstanceID, InstanceCRN: rec.InstanceCRN,
		RootKeyID: in.RootKeyID, KeyVersionID: key.KeyVersionID, Nodes: reports}
	if in.AwaitData {
		track.step("done: servers up, awaiting data")
		return res, nil
	}
	track.step("mark instance active")
	active := contract.MarkInstanceActiveInput{InstanceID: in.InstanceID, KeyVersionID: key.KeyVersionID}
	if err = workflow.ExecuteActivity(ctx, contract.ActivityMarkInstanceActive, active).Get(ctx, nil); err != nil {
		return res, err
	}
	track.step("done")
	return res, nil
}

// checkKeyAccess checks the service authorization policy and the root key.
// Neither changes anything unless CreateAuthorization asks to create the
// policy, which is kept on failure: the customer asked for it.
func checkKeyAccess(ctx workflow.Context, in contract.ProvisionInput, track *tracker) (contract.ValidateRootKeyResult, error) {
	var key contract.ValidateRootKeyResult
	if err := trackRootKey(ctx, track, in.RootKeyID); err != nil {
		return key, err
	}
	if err := checkKPInstance(ctx, in.KPInstanceID, track); err != nil {
		return key, err
	}
	track.step("check service authorization")
	auth := contract.CheckServiceAuthorizationInput{KPInstanceID: in.KPInstanceID, Create: in.CreateAuthorization}
	if err := workflow.ExecuteActivity(ctx, contract.ActivityCheckServiceAuthorization, auth).Get(ctx, nil); err != nil {
		return key, err
	}
	track.step("validate root key")
	check := contract.ValidateRootKeyInput{RootKeyID: in.RootKeyID, KPInstanceID: in.KPInstanceID}
	err := workflow.ExecuteActivity(ctx, contract.ActivityValidateRootKey, check).Get(ctx, &key)
	return key, err
}

// checkKPInstance fails KPInstanceNotFound, creating nothing, unless the
// Key Protect instance exists and the operator may read it.
func checkKPInstance(ctx workflow.Context, kpInstanceID string, track *tracker) error {
	if workflow.GetVersion(ctx, versionCheckKPInstance, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return nil
	}
	track.step("check Key Protect instance")
	check := contract.CheckKPInstanceInput{KPInstanceID: kpInstanceID}
	return workflow.ExecuteActivity(ctx, contract.ActivityCheckKPInstance, check).Get(ctx, nil)
}

// runKey identifies this workflow run: a retried activity of the run finds
// the record it made, while a new run of the same workflow id (a second
// `starter provision` of an existing instance) does not.
func runKey(ctx workflow.Context) string {
	exec := workflow.GetInfo(ctx).WorkflowExecution
	return exec.ID + "/" + exec.RunID
}

// createInstance creates the catalog record and registers the instance with
// the root key, pushing each step's compensation before the step.
func createInstance(ctx workflow.Context, in contract.ProvisionInput, key contract.ValidateRootKeyResult,
	track *tracker, undo *compensations) (contract.CreateInstanceRecordResult, error) {
	var rec contract.CreateInstanceRecordResult
	track.step("create instance record")
	create := contract.CreateInstanceRecordInput{InstanceID: in.InstanceID, RootKeyID: in.RootKeyID,
		KPInstanceID: in.KPInstanceID, KeyVersionID: key.KeyVersionID, Nodes: in.Nodes,
		WorkflowID: runKey(ctx), RequestedBy: in.RequestedBy}
	undo.push(contract.ActivityMarkInstanceFailed, markFailed(in.InstanceID, create.WorkflowID))
	if err := workflow.ExecuteActivity(ctx, contract.ActivityCreateInstanceRecord, create).Get(ctx, &rec); err != nil {
		return rec, err
	}
	if err := checkPlacement(in.InstanceID, rec.Nodes); err != nil {
		return rec, err
	}
	track.nodes(rec.Nodes)
	track.step("register instance with root key")
	reg := contract.RegisterInstanceInput{RootKeyID: in.RootKeyID, InstanceCRN: rec.InstanceCRN,
		KPInstanceID: in.KPInstanceID}
	undo.pushActivity(contract.ActivityDeregisterInstance, contract.DeregisterInstanceInput(reg))
	err := workflow.ExecuteActivity(ctx, contract.ActivityRegisterInstance, reg).Get(ctx, nil)
	return rec, err
}

// installKeys installs a key slot and unlocks the encrypted storage of
// every node in parallel, pushing the removal of every node that may exist
// (DropKeySlot also stops its server and removes its fscrypt key and
// files), and checks every node reported its key installed under
// keyVersion (pending: its server comes next).
func installKeys(ctx workflow.Context, in contract.ProvisionInput, nodes []contract.NodePlacement,
	keyVersion string, track *tracker, undo *compensations) ([]contract.NodeReport, error) {
	track.step("install keys")
	calls := make([]nodeCall, len(nodes))
	for i, n := range nodes {
		calls[i] = nodeCall{node: n, activity: contract.ActivityInstallKey, input: contract.InstallKeyInput{
			InstanceID: in.InstanceID, NodeID: n.NodeID, RootKeyID: in.RootKeyID,
			AAD: contract.NodeAAD(in.InstanceID, n.NodeID), ExpectedVersionID: keyVersion,
			KPInstanceID: in.KPInstanceID}}
	}
	run := runOnNodes(ctx, calls, in.NodeDeadline.D(), track)
	if drop := slotsToDrop(run); len(drop) > 0 {
		undo.push(contract.ActivityDropKeySlot, func(ctx workflow.Context, _ error) error {
			return dropKeySlots(ctx, in.InstanceID, drop, in.NodeDeadline.D())
		})
	}
	if err := nodeStepError(run, in.InstanceID, in.NodeDeadline.D(), provisionRetryHint); err != nil {
		return nil, err
	}
	if err := checkReportsIn(run, contract.KeyPending, in.InstanceID, in.RootKeyID, keyVersion, provisionRetryHint); err != nil {
		return nil, err
	}
	return run.reports(), nil
}

// startServers starts the primary's server on the first node, then the
// standbys on the others, in parallel, and checks every node reported
// active under keyVersion. The nodes' removal is already pushed.
func startServers(ctx workflow.Context, in contract.ProvisionInput, rec contract.CreateInstanceRecordResult,
	keyVersion string, track *tracker) ([]contract.NodeReport, error) {
	primary := rec.Nodes[0]
	track.step("start primary server on node " + primary.NodeID)
	var p contract.StartPrimaryResult
	call := nodeCall{node: primary, activity: contract.ActivityStartPrimary, server: true,
		input: contract.StartPrimaryInput{InstanceID: in.InstanceID, NodeID: primary.NodeID,
			DatabaseName: rec.DatabaseName, AdminVerifier: in.AdminVerifier, RootKeyID: in.RootKeyID,
			KPInstanceID: in.KPInstanceID}}
	run := runOne(ctx, call, &p, func() contract.NodeReport { return p.Report }, in.NodeDeadline.D(), track)
	if err := checkStep(run, in, keyVersion); err != nil {
		return nil, err
	}
	reports := []contract.NodeReport{p.Report}
	if len(rec.Nodes) == 1 {
		return reports, nil
	}
	track.step("start standby servers")
	calls := make([]nodeCall, 0, len(rec.Nodes)-1)
	for _, n := range rec.Nodes[1:] {
		calls = append(calls, nodeCall{node: n, activity: contract.ActivityStartStandby, server: true,
			input: contract.StartStandbyInput{InstanceID: in.InstanceID, NodeID: n.NodeID, Primary: p.Primary}})
	}
	run = runOnNodes(ctx, calls, in.NodeDeadline.D(), track)
	if err := checkStep(run, in, keyVersion); err != nil {
		return nil, err
	}
	return append(reports, run.reports()...), nil
}

// checkStep fails unless every node of a server step reported active under
// keyVersion.
func checkStep(run nodeRun, in contract.ProvisionInput, keyVersion string) error {
	if err := nodeStepError(run, in.InstanceID, in.NodeDeadline.D(), provisionRetryHint); err != nil {
		return err
	}
	return checkReports(run, in.InstanceID, in.RootKeyID, keyVersion, provisionRetryHint)
}

// wrapShredProbe wraps, under the root key, the probe whose failed unwrap
// will one day prove the key's deletion: a random value that protects
// nothing, so a crypto-shred never unwraps a data key to prove itself.
func wrapShredProbe(ctx workflow.Context, in contract.ProvisionInput, track *tracker) error {
	if workflow.GetVersion(ctx, "shred-probe-at-provision", workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return nil
	}
	track.step("wrap the shred probe under root key " + in.RootKeyID)
	probe := contract.WrapProbeInput{InstanceID: in.InstanceID, RootKeyID: in.RootKeyID, KPInstanceID: in.KPInstanceID}
	return workflow.ExecuteActivity(ctx, contract.ActivityWrapProbe, probe).Get(ctx, nil)
}
