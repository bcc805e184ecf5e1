package activities

import (
	"context"
	"errors"
	"fmt"

	"github.com/byokflow/byokflow/catalog"
	"github.com/byokflow/byokflow/contract"
)

// RecordNodeReports appends node reports to the catalog's key-status
// history: node agents have no catalog connection, so every report a node
// activity returns reaches the catalog through this activity. A report
// without a root key (a node without a readable slot) gets its instance's.
// A report of a node the catalog does not know (its instance was removed,
// or its provision failed) is skipped and named in the result, since a
// node agent may still hold a stale slot. A retry appends again, which is
// harmless: the latest report per node wins.
func (a *Activities) RecordNodeReports(ctx context.Context, in contract.RecordNodeReportsInput) (
	contract.RecordNodeReportsResult, error) {
	var res contract.RecordNodeReportsResult
	for _, r := range in.Reports {
		stored, err := a.recordReport(ctx, r)
		if errors.Is(err, catalog.ErrNotFound) {
			res.Unknown = append(res.Unknown, fmt.Sprintf("node %s of instance %s", r.NodeID, r.InstanceID))
			continue
		}
		if contract.ErrorType(err) != "" {
			return res, err
		}
		if err != nil {
			return res, fmt.Errorf("record key status of node %s of instance %s: %w: check the catalog database",
				r.NodeID, r.InstanceID, err)
		}
		res.Reports = append(res.Reports, stored)
	}
	return res, nil
}

// recordReport appends one report and returns it as stored.
func (a *Activities) recordReport(ctx context.Context, r contract.NodeReport) (contract.NodeReport, error) {
	if !r.State.Valid() {
		return r, contract.NewError(contract.ErrTypeInvalidInput, fmt.Sprintf("record key status of node %s "+
			"of instance %s: unknown state %q", r.NodeID, r.InstanceID, r.State), nil)
	}
	if r.RootKeyID == "" {
		inst, err := a.catalog.GetInstance(ctx, r.InstanceID)
		if err != nil {
			return r, err
		}
		r.RootKeyID = inst.RootKeyID
	}
	stored, err := a.catalog.AppendReport(ctx, catalog.KeyStatusReport{
		InstanceID: r.InstanceID, NodeID: r.NodeID, RootKeyID: r.RootKeyID,
		KeyVersionID: r.KeyVersionID, State: catalog.KeyState(r.State),
		CheckValue: r.KeyCheckValue, Detail: r.Detail, ReportedAt: r.ReportedAt,
		Server: catalog.Server{Role: string(r.Role), ServerUp: r.ServerUp, Address: r.Address,
			Replication: r.Replication, LagBytes: r.LagBytes, Storage: r.Storage,
			StorageKeyID: r.StorageKeyID, StorageKey: r.StorageKey},
	})
	if err != nil {
		return r, err
	}
	r.ReportedAt = stored.ReportedAt
	return r, nil
}

// RegisterHost registers a node agent's host and task queue in the
// catalog, so that nodes can be placed on it. Idempotent.
func (a *Activities) RegisterHost(ctx context.Context, in contract.RegisterHostInput) error {
	if in.Host == "" || in.TaskQueue == "" {
		return contract.NewError(contract.ErrTypeInvalidInput, "register host: a host name and a task queue are required", nil)
	}
	if _, err := a.catalog.UpsertHost(ctx, in.Host, in.TaskQueue); err != nil {
		return fmt.Errorf("register host %s: %w: check the catalog database", in.Host, err)
	}
	return nil
}
