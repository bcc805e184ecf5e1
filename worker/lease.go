package main

import (
	"context"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/byokflow/byokflow/contract"
	"github.com/byokflow/byokflow/internal/codec"
)

// keepLease renews the host's liveness lease until ctx is done: once
// ready is closed (nil: at once), it checks the host in with the control
// plane every contract.HostCheckInInterval, which stamps the host's
// last-seen time; a host not seen for contract.HostLease counts as down
// (its instances show degraded). A failed renewal is logged once per
// streak and tried again at the next tick. It closes done when it ends.
func (a *nodeStart) keepLease(ctx context.Context, ready <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	select {
	case <-ctx.Done():
		return
	case <-ready:
	}
	tick := time.NewTicker(contract.HostCheckInInterval)
	defer tick.Stop()
	failing := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		err := a.renewLease(ctx)
		switch {
		case err != nil && !failing && ctx.Err() == nil:
			a.log.Warn("renew the host's lease", "error", err)
		case err == nil && failing:
			a.log.Info("renewed the host's lease again", "host", a.agent.Host())
		}
		failing = err != nil
	}
}

// renewLease runs one lease check-in (NodeCheckIn without reports) under
// the host's lease workflow id, joining one still running, and waits for
// it: at most a lease, since a late one would vouch for a host long gone.
func (a *nodeStart) renewLease(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, contract.HostLease)
	defer cancel()
	host := a.agent.Host()
	run, err := a.c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID: contract.HostLeaseWorkflowID(host), TaskQueue: contract.ControlTaskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		WorkflowExecutionTimeout: contract.HostLease,
	}, contract.WorkflowNodeCheckIn, contract.NodeCheckInInput{Host: host, TaskQueue: a.agent.TaskQueue()})
	if err == nil {
		err = run.Get(ctx, nil)
	}
	if err != nil {
		return fmt.Errorf("renew the lease of host %s with the control plane: %w: is the control-plane worker "+
			"running?", host, err)
	}
	return nil
}

// codecReady is closed once the payload codec is open: at once without a
// lazy codec.
func codecReady(lazy *codec.Lazy) <-chan struct{} {
	if lazy != nil {
		return lazy.Ready()
	}
	ready := make(chan struct{})
	close(ready)
	return ready
}
