package node

import (
	"context"
	"time"

	"github.com/byokflow/byokflow/contract"
	"github.com/byokflow/byokflow/node/fscrypt"
)

// newReport builds a report of node n from its slot (a zero Slot when the
// node has none). It carries ids, the key version and the check value only.
func (a *Agent) newReport(n nodeRef, slot Slot, state contract.KeyState, detail string) contract.NodeReport {
	return contract.NodeReport{
		InstanceID: n.InstanceID, NodeID: n.NodeID, Host: a.host,
		RootKeyID: slot.RootKeyID, KeyVersionID: slot.KeyVersionID, State: state,
		KeyCheckValue: slot.CheckValue, Detail: detail,
		ReportedAt: a.now().UTC().Truncate(time.Microsecond),
	}
}

// report builds node n's report, adds what its server and storage say,
// logs it and returns it. Node agents do not write the catalog: the
// workflow that receives the report records it.
//
// A node whose key is active serves only when its server runs (and, for a
// standby, streams from the primary): a node whose server is not made yet
// is pending, one whose server is down or not streaming is error.
func (a *Agent) report(ctx context.Context, n nodeRef, slot Slot, state contract.KeyState, detail string) contract.NodeReport {
	r := a.newReport(n, slot, state, detail)
	a.describeServer(ctx, n, &r)
	a.log.Info("key status", "instance", r.InstanceID, "node", r.NodeID, "role", r.Role,
		"root_key", r.RootKeyID, "key_version", r.KeyVersionID, "state", r.State,
		"check_value", r.KeyCheckValue, "server_up", r.ServerUp, "replication", r.Replication,
		"storage_key", r.StorageKey, "detail", r.Detail)
	return r
}

// describeServer fills r's server and storage fields and, for an active
// key, decides whether the node serves.
func (a *Agent) describeServer(ctx context.Context, n nodeRef, r *contract.NodeReport) {
	m, err := readMeta(a.dirsOf(n))
	if err != nil {
		r.State, r.Detail = contract.KeyError, err.Error()
		return
	}
	r.Role = m.Role
	if m.StorageKeyID != "" {
		r.Storage, r.StorageKeyID, r.StorageKey = fscrypt.Protection, m.StorageKeyID, a.storageKeyState(m)
	}
	var serveErr string
	if m.Port != 0 {
		serveErr = a.describeRunning(ctx, n, m, r)
	}
	if r.State != contract.KeyActive {
		return
	}
	switch {
	case m.Role == "":
		r.State, r.Detail = contract.KeyPending, "key installed and storage unlocked on host "+a.host+"; server not made yet"
	case serveErr != "":
		r.State, r.Detail = contract.KeyError, serveErr
	}
}

// describeRunning reads the server's state into r and returns why the node
// does not serve, or "".
func (a *Agent) describeRunning(ctx context.Context, n nodeRef, m nodeMeta, r *contract.NodeReport) string {
	srv, err := a.serverOf(n, m)
	if err != nil {
		return err.Error()
	}
	st, err := srv.Status(ctx)
	if err != nil {
		return "read server status: " + err.Error()
	}
	r.ServerUp = st.Running
	if !st.Running {
		return "the PostgreSQL server of node " + n.NodeID + " is not running on host " + a.host +
			": restart the node agent, or run `starter resume` for the instance"
	}
	r.Address = address(m.Port)
	if m.Role != contract.RoleStandby {
		return ""
	}
	r.Replication, r.LagBytes = contract.ReplicationStopped, st.LagBytes
	if !st.Streaming {
		// A walreceiver reconnecting (a loaded host) is not a broken
		// standby: give it a moment before reporting one.
		if next, err := pollStreaming(ctx, srv, streamSettle); err == nil {
			st = next
		}
		r.LagBytes = st.LagBytes
	}
	if !st.Streaming {
		return "standby " + n.NodeID + " does not stream from its primary: check the primary's host"
	}
	r.Replication = contract.ReplicationStreaming
	return ""
}

// fail handles a classified KeyWrapper error of op on node n: when the
// root key was revoked (disabled or destroyed) the node stops serving — its
// server is stopped, its fscrypt key removed and its DEK zeroized — and
// the resulting report is logged; it returns the activity's error.
func (a *Agent) fail(op string, n nodeRef, slot Slot, err error) error {
	f := classify(op, n, slot.RootKeyID, err)
	if f.flush {
		if _, err := a.takeDown(context.Background(), n, false); err != nil {
			a.log.Error("stop node whose root key was revoked", "instance", n.InstanceID, "node", n.NodeID, "error", err)
		}
		a.log.Warn("node stopped and DEK flushed: root key revoked", "instance", n.InstanceID,
			"node", n.NodeID, "state", f.state)
	}
	return f.err
}

// streamSettle is how long a report waits for a standby that is not
// streaming at the first look.
const streamSettle = 5 * time.Second
