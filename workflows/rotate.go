package workflows

import (
	"go.temporal.io/sdk/workflow"

	"github.com/byokflow/byokflow/contract"
)

// RotateRootKey rotates an instance's root key in Key Protect (or, with
// RewrapOnly or MaterialRotated, takes the version it already has) and
// rewraps every node's DEK to that version, then the DEK of every complete
// backup of the instance (so each backup's lineage names the newest
// version). It completes only when every node reported the new version,
// then records it.
//
// It is safe to stop half way and to re-run: the rotation asks Key Protect to
// rotate only while the key is still at the recorded version, so a re-run
// finds the key already rotated, does not rotate again, and rewraps the
// nodes that were left. There is nothing to compensate.
//
// It holds the instance's lock throughout (one operation per instance).
//
// Its errors carry the contract error types: InvalidInput, InstanceBusy, InstanceNotFound,
// InstanceNotActive, RotationTooSoon, KeyMaterialRequired (an imported key,
// which rotates with starter rotate --material-file), the key errors of
// Key Protect, what a node reports, NodeDeadline and NodeKeyMismatch.
func RotateRootKey(ctx workflow.Context, in contract.RotateInput) (res contract.RotateResult, err error) {
	in = in.WithDefaults()
	ctx, track, unlock, err := beginLockedOwn(ctx, contract.OperationRotate, in.InstanceID, in.Validate(), in.Standalone)
	defer unlock()
	if err != nil {
		return res, err
	}
	inst, err := loadActive(ctx, in.InstanceID, "rotate root key of instance", track)
	if err != nil {
		return res, err
	}
	target, err := targetVersion(ctx, in, inst, track)
	if err != nil {
		return res, err
	}
	reports, err := rewrapNodes(ctx, in, inst, target.KeyVersionID, track)
	if err != nil {
		return res, err
	}
	if err = rewrapBackups(ctx, in, inst, target.KeyVersionID, track); err != nil {
		return res, err
	}
	track.step("record key version")
	rec := contract.RecordKeyVersionInput{InstanceID: in.InstanceID,
		KeyVersionID: target.KeyVersionID, RequestedBy: in.RequestedBy}
	if err = workflow.ExecuteActivity(ctx, contract.ActivityRecordKeyVersion, rec).Get(ctx, nil); err != nil {
		return res, err
	}
	track.step("done")
	return contract.RotateResult{InstanceID: in.InstanceID, RootKeyID: inst.RootKeyID,
		FromVersionID: inst.KeyVersionID, KeyVersionID: target.KeyVersionID,
		Rotated: target.Rotated, Nodes: reports}, nil
}

// targetVersion is the key version every node must end up under: the new
// version after rotating from the recorded one, or with RewrapOnly or
// MaterialRotated (the operator rotated an imported key with new material)
// the key's current version. An imported key is never rotated here: Key
// Protect would need its new material, which must not enter the history.
func targetVersion(ctx workflow.Context, in contract.RotateInput, inst contract.LoadInstanceResult,
	track *tracker) (contract.RotateKeyResult, error) {
	var res contract.RotateKeyResult
	if in.RewrapOnly || in.MaterialRotated {
		track.step("read key version")
		var cur contract.ReadKeyVersionResult
		read := contract.ReadKeyVersionInput{RootKeyID: inst.RootKeyID, KPInstanceID: inst.KPInstanceID}
		err := workflow.ExecuteActivity(ctx, contract.ActivityReadKeyVersion, read).Get(ctx, &cur)
		rotated := in.MaterialRotated && err == nil && cur.KeyVersionID != inst.KeyVersionID
		return contract.RotateKeyResult{KeyVersionID: cur.KeyVersionID, Rotated: rotated}, err
	}
	track.step("rotate root key")
	rotate := contract.RotateKeyInput{RootKeyID: inst.RootKeyID, FromVersionID: inst.KeyVersionID,
		KPInstanceID: inst.KPInstanceID}
	err := workflow.ExecuteActivity(ctx, contract.ActivityRotateKey, rotate).Get(ctx, &res)
	return res, err
}

// rewrapNodes rewraps every node's DEK to version in parallel and checks
// every node reported active under it.
func rewrapNodes(ctx workflow.Context, in contract.RotateInput, inst contract.LoadInstanceResult,
	version string, track *tracker) ([]contract.NodeReport, error) {
	track.step("rewrap keys")
	calls := make([]nodeCall, len(inst.Nodes))
	for i, n := range inst.Nodes {
		calls[i] = nodeCall{node: n, activity: contract.ActivityRewrapKey, input: contract.RewrapKeyInput{
			InstanceID: in.InstanceID, NodeID: n.NodeID, RootKeyID: inst.RootKeyID,
			AAD: contract.NodeAAD(in.InstanceID, n.NodeID), TargetVersionID: version,
			KPInstanceID: inst.KPInstanceID}}
	}
	run := runOnNodes(ctx, calls, in.NodeDeadline.D(), track)
	if err := nodeStepError(run, in.InstanceID, in.NodeDeadline.D(), rotateRetryHint); err != nil {
		return nil, err
	}
	if err := checkReports(run, in.InstanceID, inst.RootKeyID, version, rotateRetryHint); err != nil {
		return nil, err
	}
	return run.reports(), nil
}
