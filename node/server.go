package node

import (
	"cmp"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/byokflow/byokflow/contract"
	"github.com/byokflow/byokflow/encryption"
	"github.com/byokflow/byokflow/internal/scram"
	"github.com/byokflow/byokflow/node/pgserver"
)

// streamWait bounds how long StartStandby waits for a new standby to
// stream before the attempt fails and is retried.
const streamWait = 45 * time.Second

// serverOf returns node n's PostgreSQL server as m describes it.
func (a *Agent) serverOf(n nodeRef, m nodeMeta) (*pgserver.Server, error) {
	d := a.dirsOf(n)
	return pgserver.New(pgserver.Config{Bin: a.pgBin, DataDir: d.pgdata, SocketDir: d.socket, Port: m.Port,
		OSUser: a.osUser, Logger: a.log.With("instance", n.InstanceID, "node", n.NodeID)})
}

// claimServer gives node n its role and, once, a port, and returns its
// server. The node's key must be live and its storage unlocked.
func (a *Agent) claimServer(ctx context.Context, op string, n nodeRef, role contract.NodeRole) (
	Slot, *pgserver.Server, error) {
	slot, err := a.slots.Load(n.InstanceID, n.NodeID)
	if err != nil {
		return slot, nil, a.missingSlot(op, n, err)
	}
	if m, err := readMeta(a.dirsOf(n)); err != nil || m.Suspended != "" {
		return slot, nil, cmp.Or(err, suspendedError(op, n, m))
	}
	if _, err := a.unlock(ctx, op, n, slot); err != nil {
		return slot, nil, err
	}
	d := a.dirsOf(n)
	m, err := readMeta(d)
	if err != nil {
		return slot, nil, err
	}
	if m.Role != "" && m.Role != role {
		return slot, nil, contract.NewError(contract.ErrTypeInvalidInput, fmt.Sprintf("%s of node %s of "+
			"instance %s: the node is a %s: drop it and provision the instance again", op, n.NodeID,
			n.InstanceID, m.Role), nil)
	}
	if m.Port == 0 {
		if m.Port, err = pgserver.FreePort(); err != nil {
			return slot, nil, err
		}
	}
	m.Role = role
	if err := writeMeta(d, m); err != nil {
		return slot, nil, err
	}
	srv, err := a.serverOf(n, m)
	return slot, srv, err
}

// suspendedError is the error of a server step on a suspended node.
func suspendedError(op string, n nodeRef, m nodeMeta) error {
	return contract.NewError(contract.ErrTypeNodeNotServing, fmt.Sprintf("%s of node %s of instance %s: the "+
		"node is suspended (%s): run `starter resume` first", op, n.NodeID, n.InstanceID, m.Suspended), nil)
}

// StartPrimary is the node activity contract.ActivityStartPrimary: initdb
// in the node's encrypted directory, start its server, and create the admin
// role, the instance database and the replication role. The replication
// password is a fresh random key that leaves the node only wrapped by the
// root key.
func (a *Agent) StartPrimary(ctx context.Context, in contract.StartPrimaryInput) (contract.StartPrimaryResult, error) {
	const op = "start primary"
	var res contract.StartPrimaryResult
	n, unlock, err := a.claim(ctx, op, in.InstanceID, in.NodeID, checkPrimaryInput(in))
	if err != nil {
		return res, err
	}
	defer unlock()
	slot, srv, err := a.claimServer(ctx, op, n, contract.RolePrimary)
	if err != nil {
		return res, err
	}
	heartbeat(ctx, "initdb")
	if err := srv.Init(ctx); err != nil {
		return res, a.serverError(op, n, err)
	}
	heartbeat(ctx, "start server")
	if err := srv.Start(ctx); err != nil {
		return res, a.serverError(op, n, err)
	}
	res.Primary, err = a.bootstrap(ctx, n, srv, in)
	if err != nil {
		return res, err
	}
	res.Report = a.report(ctx, n, slot, contract.KeyActive, "")
	return res, nil
}

// bootstrap creates the roles and the database, with the replication
// password an earlier attempt made (so the standbys it served keep
// working) or a new one, wrapped for the standbys and kept, wrapped, in
// the node's meta.
func (a *Agent) bootstrap(ctx context.Context, n nodeRef, srv *pgserver.Server, in contract.StartPrimaryInput) (
	contract.ReplicationSource, error) {
	const op = "start primary"
	pass, src, err := a.replicationKey(ctx, n, srv, in)
	if err != nil {
		return src, err
	}
	defer pass.Destroy()
	verifier, err := replicationVerifier(pass)
	if err != nil {
		return src, err
	}
	heartbeat(ctx, "create roles and database")
	err = srv.Bootstrap(ctx, pgserver.Bootstrap{AdminRole: contract.AdminRole, AdminVerifier: in.AdminVerifier,
		Database: in.DatabaseName, ReplicationRole: contract.ReplicationRole, ReplicationVerifier: verifier})
	return src, a.serverError(op, n, err)
}

// replicationKey returns the primary's replication password key and its
// wrapped form: the one in the node's meta (unwrapped again), or a new one,
// wrapped under the root key and recorded in the meta before use.
func (a *Agent) replicationKey(ctx context.Context, n nodeRef, srv *pgserver.Server, in contract.StartPrimaryInput) (
	*encryption.DataKey, contract.ReplicationSource, error) {
	const op = "start primary"
	d := a.dirsOf(n)
	m, err := readMeta(d)
	if err != nil {
		return nil, contract.ReplicationSource{}, err
	}
	if r := m.Replication; r != nil {
		heartbeat(ctx, "unwrap replication password")
		pass, err := a.unwrapReplication(ctx, *r)
		if err != nil {
			return nil, *r, a.fail(op, n, Slot{RootKeyID: r.RootKeyID}, err)
		}
		return pass, *r, nil
	}
	src := contract.ReplicationSource{Address: address(srv.Port()), AAD: contract.ReplicationAAD(in.InstanceID),
		RootKeyID: in.RootKeyID, KPInstanceID: in.KPInstanceID}
	pass, err := encryption.NewDataKey()
	if err != nil {
		return nil, src, err
	}
	heartbeat(ctx, "wrap replication password")
	wk, err := a.wrapKey(ctx, in.KPInstanceID, in.RootKeyID, pass, src.AAD)
	if err != nil {
		pass.Destroy()
		return nil, src, a.fail(op, n, Slot{RootKeyID: in.RootKeyID}, err)
	}
	src.ReplicationWrapped = wk.Ciphertext
	m.Replication = &src
	if err := writeMeta(d, m); err != nil {
		pass.Destroy()
		return nil, src, err
	}
	return pass, src, nil
}

// unwrapReplication unwraps a replication password key with the service
// identity.
func (a *Agent) unwrapReplication(ctx context.Context, r contract.ReplicationSource) (*encryption.DataKey, error) {
	w, err := a.wrapperFor(r.KPInstanceID)
	if err != nil {
		return nil, err
	}
	pass, _, err := w.UnwrapKey(ctx, encryption.WrappedKey{RootKeyID: r.RootKeyID, Ciphertext: r.ReplicationWrapped}, r.AAD)
	return pass, err
}

// replicationPassword is the text form of the replication password key.
func replicationPassword(k *encryption.DataKey) (string, error) {
	var p string
	err := k.WithBytes(func(b []byte) error { p = base64.RawURLEncoding.EncodeToString(b); return nil })
	return p, err
}

func replicationVerifier(k *encryption.DataKey) (string, error) {
	p, err := replicationPassword(k)
	if err != nil {
		return "", err
	}
	return scram.Verifier(p)
}

// StartStandby is the node activity contract.ActivityStartStandby: it
// unwraps the replication password, makes the node's cluster with
// pg_basebackup from the primary into its encrypted directory, starts the
// server and waits until it streams.
func (a *Agent) StartStandby(ctx context.Context, in contract.StartStandbyInput) (contract.NodeReport, error) {
	const op = "start standby"
	n, unlock, err := a.claim(ctx, op, in.InstanceID, in.NodeID, checkStandbyInput(in))
	if err != nil {
		return contract.NodeReport{}, err
	}
	defer unlock()
	slot, srv, err := a.claimServer(ctx, op, n, contract.RoleStandby)
	if err != nil {
		return contract.NodeReport{}, err
	}
	if err := a.baseBackup(ctx, n, srv, in.Primary); err != nil {
		return contract.NodeReport{}, err
	}
	heartbeat(ctx, "start server")
	if err := srv.Start(ctx); err != nil {
		return contract.NodeReport{}, a.serverError(op, n, err)
	}
	if err := waitStreaming(ctx, srv); err != nil {
		return contract.NodeReport{}, fmt.Errorf("%s of node %s of instance %s: %w: will retry", op, n.NodeID, n.InstanceID, err)
	}
	return a.report(ctx, n, slot, contract.KeyActive, ""), nil
}

// baseBackup copies the primary's cluster, unless an earlier attempt did.
func (a *Agent) baseBackup(ctx context.Context, n nodeRef, srv *pgserver.Server, p contract.ReplicationSource) error {
	const op = "start standby"
	heartbeat(ctx, "unwrap replication password")
	pass, err := a.unwrapReplication(ctx, p)
	if err != nil {
		return a.fail(op, n, Slot{RootKeyID: p.RootKeyID}, err)
	}
	defer pass.Destroy()
	password, err := replicationPassword(pass)
	if err != nil {
		return err
	}
	host, port, err := splitAddress(p.Address)
	if err != nil {
		return invalidInput(op, err)
	}
	heartbeat(ctx, "pg_basebackup")
	err = srv.BaseBackup(ctx, pgserver.Source{Host: host, Port: port, User: contract.ReplicationRole,
		Password: password, AppName: n.NodeID})
	return a.serverError(op, n, err)
}

// waitStreaming polls a standby until it streams from its primary.
func waitStreaming(ctx context.Context, srv *pgserver.Server) error {
	st, err := pollStreaming(ctx, srv, streamWait)
	if st.Streaming {
		return nil
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return fmt.Errorf("the standby did not stream from its primary within %s (last error: %v)", streamWait, err)
}

// pollStreaming reads the standby's status every 200 ms, heartbeating,
// until it streams or within has passed, and returns the last status read
// and the last error.
func pollStreaming(ctx context.Context, srv *pgserver.Server, within time.Duration) (pgserver.Status, error) {
	deadline := time.Now().Add(within)
	for {
		st, err := srv.Status(ctx)
		if (err == nil && st.Streaming) || time.Now().After(deadline) {
			return st, err
		}
		heartbeat(ctx, "wait for streaming")
		select {
		case <-ctx.Done():
			return st, err
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// serverError classifies a pgserver failure: missing binaries and a
// primary that refuses the replication role are permanent; anything else
// (a primary not up yet, a port taken) is retried.
func (a *Agent) serverError(op string, n nodeRef, err error) error {
	if err == nil {
		return nil
	}
	msg := fmt.Sprintf("%s of node %s of instance %s on host %s: %v", op, n.NodeID, n.InstanceID, a.host, err)
	switch {
	case errors.Is(err, pgserver.ErrBinariesMissing):
		return contract.NewError(contract.ErrTypeInvalidInput, msg, nil)
	case errors.Is(err, pgserver.ErrPrimaryRefused), errors.Is(err, pgserver.ErrForeignData):
		return contract.NewError(contract.ErrTypeNodeNotServing, msg+": drop the node and provision the instance again", nil)
	}
	return errors.New(msg)
}

func address(port int) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(port)) }

func splitAddress(addr string) (string, int, error) {
	host, p, err := net.SplitHostPort(addr)
	port, perr := strconv.Atoi(p)
	if err != nil || perr != nil || host == "" {
		return "", 0, fmt.Errorf("primary address %q: want host:port", addr)
	}
	return host, port, nil
}

func checkPrimaryInput(in contract.StartPrimaryInput) error {
	if err := checkIDs(in.InstanceID, in.NodeID); err != nil {
		return err
	}
	if !databasePattern.MatchString(in.DatabaseName) || in.RootKeyID == "" {
		return fmt.Errorf("node %s of instance %s: a database name and a root key id are required", in.NodeID, in.InstanceID)
	}
	return contract.ValidateAdminVerifier(in.AdminVerifier)
}

func checkStandbyInput(in contract.StartStandbyInput) error {
	if err := checkIDs(in.InstanceID, in.NodeID); err != nil {
		return err
	}
	if len(in.Primary.ReplicationWrapped) == 0 || in.Primary.RootKeyID == "" || len(in.Primary.AAD) == 0 {
		return fmt.Errorf("node %s of instance %s: the primary's address, wrapped replication password, "+
			"root key and AAD are required", in.NodeID, in.InstanceID)
	}
	return nil
}
