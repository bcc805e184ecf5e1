package node

import (
	"context"
	"time"

	"github.com/byokflow/byokflow/contract"
	"github.com/byokflow/byokflow/node/pgserver"
)

// How often Watch looks at the servers, and how far apart, at most, it
// tries again to start one that keeps failing.
const (
	watchEvery   = 2 * time.Second
	watchMaxWait = time.Minute
)

// Watch keeps the servers of the agent's nodes running, as a supervisor
// would, until ctx ends. Right away and then every watchEvery it looks at
// each node whose DEK is in memory, and restarts a server it saw running
// whose postmaster is gone (killed, crashed, out of memory) with pg_ctl
// start: PostgreSQL recovers from the WAL on the node's encrypted storage,
// so every committed transaction is there again, and a standby streams
// again from where it stopped. Each restart is logged (ids, no secrets)
// and its report handed to record, which sends it to the control plane as
// Recover's does (Watch waits for record before its next round: bound
// it); a report that says the node does not serve yet (a standby not
// streaming) is made again each round and handed on when it changes. A
// server that fails to start is tried again with backoff, up to
// watchMaxWait apart, and reported error.
//
// Watch never fights the work that takes a node down on purpose: it looks
// at a node only when the node's lock is free (an activity holding it is
// left alone, and the node looked at again next round), and under the lock
// it leaves down a node whose DEK went (SuspendNode, DropKeySlot,
// ShredKeySlot, a revoked root key, Shutdown), a suspended node, and a
// server it never saw running (one being made by StartPrimary or
// StartStandby, or being brought back by Recover or ResumeNode, which
// retry on their own).
func (a *Agent) Watch(ctx context.Context, record func([]contract.NodeReport) error) {
	w := &watch{a: a, record: record, nodes: map[nodeRef]*watched{}}
	tick := time.NewTicker(watchEvery)
	defer tick.Stop()
	for {
		w.round(ctx)
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// watch is Watch's memory of the live nodes between rounds.
type watch struct {
	a      *Agent
	record func([]contract.NodeReport) error
	nodes  map[nodeRef]*watched
}

// watched is what Watch knows of one node while its DEK is in memory.
type watched struct {
	seenUp  bool      // its server was seen running: Watch keeps it up
	sent    string    // reportKey of the last report recorded
	recheck bool      // report again next round: not serving yet, or not recorded
	retryAt time.Time // a restart that failed is tried again from then
	wait    backoff
}

// round looks at every live node once and records what changed.
func (w *watch) round(ctx context.Context) {
	next := map[nodeRef]*watched{} // nodes no longer live are forgotten
	var fresh []contract.NodeReport
	for _, n := range w.a.keys.liveNodes() {
		st := w.nodes[n]
		if st == nil {
			st = &watched{wait: backoff{first: watchEvery, max: watchMaxWait}}
		}
		next[n] = st
		if rep, restarted, ok := w.look(ctx, n, st); ok && (restarted || reportKey(rep) != st.sent) {
			fresh = append(fresh, rep)
		}
	}
	w.nodes = next
	if len(fresh) == 0 || ctx.Err() != nil {
		return
	}
	err := w.record(fresh)
	for _, r := range fresh {
		st := next[nodeRef{InstanceID: r.InstanceID, NodeID: r.NodeID}]
		if err != nil {
			st.recheck = true
		} else {
			st.sent = reportKey(r)
		}
	}
	if err != nil {
		w.a.log.Warn("record the reports of restarted servers", "error", err)
	}
}

// look restarts node n's server if it died and returns the node's report
// when there is one to hand on (ok), and whether it restarted the server.
func (w *watch) look(ctx context.Context, n nodeRef, st *watched) (rep contract.NodeReport, restarted, ok bool) {
	unlock, free := w.a.keys.tryLock(n)
	if !free {
		return rep, false, false
	}
	defer unlock()
	k, m, srv, serves := w.a.shouldServe(n)
	if !serves {
		return rep, false, false
	}
	up, err := srv.Running()
	switch {
	case err != nil:
		return rep, false, false
	case up:
		st.seenUp, st.retryAt, st.wait.cur = true, time.Time{}, 0
		if !st.recheck {
			return rep, false, false
		}
	case !st.seenUp || time.Now().Before(st.retryAt):
		return rep, false, false
	}
	slot, err := w.a.slots.Load(n.InstanceID, n.NodeID)
	if err != nil {
		return rep, false, false // ReportStatus says what is wrong with it
	}
	if !up {
		if err := w.restart(ctx, n, m, srv); err != nil {
			st.retryAt = time.Now().Add(st.wait.next())
			st.recheck = false // the next attempt reports again
			return w.a.report(ctx, n, slot, contract.KeyError, detailOf(err)), false, true
		}
		restarted = true
	}
	state, detail := stateOf(k)
	rep = w.a.report(ctx, n, slot, state, detail)
	st.recheck = needsRetry(rep.State)
	return rep, restarted, true
}

// shouldServe returns, for a node that is to serve, its live key, meta
// and server: its DEK is in memory (a node being taken down has lost it),
// it is not suspended and its server was made. The caller holds the
// node's lock.
func (a *Agent) shouldServe(n nodeRef) (liveKey, nodeMeta, *pgserver.Server, bool) {
	k, live := a.keys.get(n)
	if !live {
		return k, nodeMeta{}, nil, false
	}
	m, err := readMeta(a.dirsOf(n))
	if err != nil || m.Suspended != "" || m.Port == 0 || m.Role == "" {
		return k, m, nil, false
	}
	srv, err := a.serverOf(n, m)
	return k, m, srv, err == nil
}

// restart starts node n's server again after its postmaster died.
func (w *watch) restart(ctx context.Context, n nodeRef, m nodeMeta, srv *pgserver.Server) error {
	w.a.log.Warn("server found down: restarting it, PostgreSQL recovers from its WAL",
		"instance", n.InstanceID, "node", n.NodeID, "role", m.Role, "port", m.Port)
	start := time.Now()
	if err := srv.Start(ctx); err != nil {
		err = w.a.serverError("restart server", n, err)
		w.a.log.Error("restart server", "instance", n.InstanceID, "node", n.NodeID, "role", m.Role, "error", err)
		return err
	}
	w.a.log.Info("server restarted", "instance", n.InstanceID, "node", n.NodeID, "role", m.Role,
		"took", time.Since(start).Round(time.Millisecond))
	return nil
}
