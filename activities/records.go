package activities

import (
	"cmp"
	"context"
	"errors"
	"fmt"

	"github.com/byokflow/byokflow/catalog"
	"github.com/byokflow/byokflow/contract"
)

// CreateInstanceRecord records the instance in the catalog (state
// provisioning, which LoadInstance reports as pending) and places its nodes
// round-robin over the registered node-agent hosts. It is idempotent per
// in.WorkflowID: a retry returns the record and placement the first attempt
// stored. A failed record of the same name is replaced. Fails
// InstanceExists when another live instance has the name, NoNodeHosts when
// no node agent is registered, InvalidInput for a malformed input.
func (a *Activities) CreateInstanceRecord(ctx context.Context, in contract.CreateInstanceRecordInput) (
	contract.CreateInstanceRecordResult, error) {
	var res contract.CreateInstanceRecordResult
	verb := fmt.Sprintf("create instance record %q", in.InstanceID)
	if err := a.checkRecordInput(in, verb); err != nil {
		return res, err
	}
	existing, err := a.catalog.GetInstance(ctx, in.InstanceID)
	switch {
	case err == nil && existing.WorkflowID == in.WorkflowID:
		return a.recordResult(ctx, in, existing, verb)
	case err == nil:
		if err := a.replaceFailed(ctx, existing, verb); err != nil {
			return res, err
		}
	case !errors.Is(err, catalog.ErrNotFound):
		return res, fmt.Errorf("%s: %w", verb, err)
	}
	hosts, err := a.hosts(ctx, verb)
	if err != nil {
		return res, err
	}
	created, err := a.catalog.CreateInstance(ctx, a.newInstance(in))
	if errors.Is(err, catalog.ErrInstanceExists) {
		return res, instanceExists(in.InstanceID, verb, "another provision created it just now")
	}
	if err != nil {
		return res, createError(verb, err)
	}
	if err := a.catalog.AddNodes(ctx, in.InstanceID, placeNodes(in.InstanceID, in.Nodes, hosts)); err != nil {
		return res, fmt.Errorf("%s: %w", verb, err)
	}
	return a.recordResult(ctx, in, created, verb)
}

// checkRecordInput fails InvalidInput for a malformed input or a Key
// Protect instance this worker does not serve.
func (a *Activities) checkRecordInput(in contract.CreateInstanceRecordInput, verb string) error {
	if _, err := a.kpInstance(in.KPInstanceID, verb); err != nil {
		return err
	}
	var problem error
	switch {
	case contract.ValidateInstanceName(in.InstanceID) != nil:
		problem = contract.ValidateInstanceName(in.InstanceID)
	case in.Nodes < 1:
		problem = fmt.Errorf("node count %d: place at least one node", in.Nodes)
	case in.RootKeyID == "" || in.WorkflowID == "":
		problem = errors.New("root key id and workflow id are required")
	}
	if problem == nil {
		return nil
	}
	return contract.NewError(contract.ErrTypeInvalidInput, fmt.Sprintf("%s: %v", verb, problem), nil)
}

// createError classifies a failure to create the record: an id the
// catalog refuses is InvalidInput (retrying cannot help, and the contract
// check before it let the id through); anything else, the database, is
// retried.
func createError(verb string, err error) error {
	if errors.Is(err, catalog.ErrInvalidID) {
		return contract.NewError(contract.ErrTypeInvalidInput, fmt.Sprintf("%s: %v: choose another name", verb, err), err)
	}
	return fmt.Errorf("%s: %w", verb, err)
}

// replaceFailed deletes a failed record so its name can be reused; any
// other existing record fails InstanceExists.
func (a *Activities) replaceFailed(ctx context.Context, existing catalog.Instance, verb string) error {
	if existing.State != catalog.InstanceFailed {
		return instanceExists(existing.ID, verb, fmt.Sprintf("it is %s (created by workflow %s)",
			existing.State, existing.WorkflowID))
	}
	err := a.catalog.DeleteInstance(ctx, existing.ID)
	if errors.Is(err, catalog.ErrInvalidState) {
		return instanceExists(existing.ID, verb, "a failed instance of that name has backups or a shred certificate")
	}
	if err != nil {
		return fmt.Errorf("%s: replace failed record: %w", verb, err)
	}
	return nil
}

func instanceExists(id, verb, why string) error {
	msg := fmt.Sprintf("%s: instance %q already exists: %s: choose another name", verb, id, why)
	return contract.NewError(contract.ErrTypeInstanceExists, msg, nil)
}

// hosts lists the registered node-agent hosts, failing NoNodeHosts when
// there is none.
func (a *Activities) hosts(ctx context.Context, verb string) ([]catalog.Host, error) {
	hosts, err := a.catalog.ListHosts(ctx)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", verb, err)
	}
	if len(hosts) == 0 {
		msg := fmt.Sprintf("%s: no node agent is registered to place nodes on: "+
			"start a node agent (worker node --host NAME) and provision again", verb)
		return nil, contract.NewError(contract.ErrTypeNoNodeHosts, msg, nil)
	}
	return hosts, nil
}

func (a *Activities) newInstance(in contract.CreateInstanceRecordInput) catalog.Instance {
	return catalog.Instance{ID: in.InstanceID, CRN: instanceCRN(a.cfg, in.InstanceID),
		KPInstanceID: cmp.Or(in.KPInstanceID, a.cfg.KPInstanceID), RootKeyID: in.RootKeyID,
		KeyVersionAtCreate: in.KeyVersionID, DatabaseName: databaseName(in.InstanceID),
		State: catalog.InstanceProvisioning, NodeCount: in.Nodes, WorkflowID: in.WorkflowID}
}

// recordResult reads the stored placement (placing the nodes if an earlier
// attempt stopped before it did) and audits the creation once.
func (a *Activities) recordResult(ctx context.Context, in contract.CreateInstanceRecordInput, rec catalog.Instance,
	verb string) (contract.CreateInstanceRecordResult, error) {
	var res contract.CreateInstanceRecordResult
	nodes, err := a.storedNodes(ctx, rec, verb)
	if err != nil {
		return res, err
	}
	err = a.audit(ctx, auditEntry{actor: in.RequestedBy, operation: "instance.create", instanceID: rec.ID,
		rootKeyID: rec.RootKeyID, workflowID: rec.WorkflowID, detail: map[string]any{
			"instanceCrn": rec.CRN, "databaseName": rec.DatabaseName, "nodes": placements(nodes)}})
	if err != nil {
		return res, fmt.Errorf("%s: %w", verb, err)
	}
	return contract.CreateInstanceRecordResult{InstanceCRN: rec.CRN, DatabaseName: rec.DatabaseName,
		Nodes: placements(nodes)}, nil
}

// storedNodes returns the record's nodes, placing them first when an
// earlier attempt stopped between creating the record and placing them.
func (a *Activities) storedNodes(ctx context.Context, rec catalog.Instance, verb string) ([]catalog.Node, error) {
	nodes, err := a.catalog.ListNodes(ctx, rec.ID)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", verb, err)
	}
	if len(nodes) > 0 {
		return nodes, nil
	}
	hosts, err := a.hosts(ctx, verb)
	if err != nil {
		return nil, err
	}
	nodes = placeNodes(rec.ID, rec.NodeCount, hosts)
	if err := a.catalog.AddNodes(ctx, rec.ID, nodes); err != nil {
		return nil, fmt.Errorf("%s: %w", verb, err)
	}
	return nodes, nil
}
