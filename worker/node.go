package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"

	"github.com/byokflow/byokflow/contract"
	"github.com/byokflow/byokflow/encryption"
	"github.com/byokflow/byokflow/encryption/keyprotect"
	"github.com/byokflow/byokflow/internal/ibmenv"
	"github.com/byokflow/byokflow/internal/supervise"
	"github.com/byokflow/byokflow/node"
)

// checkInTimeout bounds the wait for the control plane to record the
// agent's host and start-up reports; watchCheckInTimeout, for the reports
// of restarted servers, which node.Agent.Watch waits for before its next
// round: a control plane that does not answer delays restarts by that much
// at most (the reports are sent again the next round).
const (
	checkInTimeout      = 2 * time.Minute
	watchCheckInTimeout = 20 * time.Second
)

// nodeFlags are the settings of `worker node`.
type nodeFlags struct {
	host, dataDir, storage, pgBin string
}

func parseNodeFlags(args []string) (nodeFlags, error) {
	var f nodeFlags
	fs := flag.NewFlagSet("worker node", flag.ContinueOnError)
	fs.StringVar(&f.host, "host", "", "name of this host; the agent serves its task queue (required)")
	fs.StringVar(&f.dataDir, "data-dir", "", "directory of the agent key and the key slots (required)")
	fs.StringVar(&f.storage, "storage", "", "root of the nodes' encrypted data: a directory on an ext4 "+
		"filesystem made with -O encrypt (required)")
	fs.StringVar(&f.pgBin, "pg-bin", "", "directory of the PostgreSQL server binaries (default: found)")
	if err := fs.Parse(args); err != nil {
		return f, err
	}
	if f.host == "" || f.dataDir == "" || f.storage == "" {
		return f, errors.New("start node agent: --host, --data-dir and --storage are required")
	}
	return f, nil
}

// runNode serves the node activities of host until ctx is done. Recovery
// comes first and takes seconds: it takes the activity attempts its dead
// predecessor left (supervise.Journal), polls its task queue, fails those
// attempts so Temporal retries them at once, starts bringing its nodes
// back in the background (unwraps each key slot, adds its fscrypt key,
// starts or adopts its server: node.Agent.Recover), checks its host in
// with the control plane (the NodeCheckIn workflow; the agent has no
// catalog connection) with the reports of the nodes back within a couple
// of seconds and pending ones for the others (nodestart.go), and is
// ready. Nodes Key Protect cannot vouch for yet are retried, and each
// change checked in, so that Key Protect being slow or down delays those
// nodes only. Once the payload codec is open, it renews its host's
// liveness lease every few seconds (lease.go). When Key Protect
// cannot even open the payload codec, the agent is ready all the same and
// does the rest once it opens. Once ready it keeps its nodes' servers
// running: one whose postmaster died is restarted and the new report
// checked in (node.Agent.Watch). On a graceful stop it takes its nodes down
// as a host shutting down does (servers stopped, fscrypt keys removed).
func runNode(ctx context.Context, logger *slog.Logger, args []string) error {
	f, err := parseNodeFlags(args)
	if err != nil {
		return err
	}
	agent, err := newAgent(f, logger)
	if err != nil {
		return err
	}
	defer agent.Close()
	c, lazy, err := dialTemporalLazy(ctx, logger)
	if err != nil {
		return err
	}
	defer c.Close()
	journal, err := supervise.OpenJournal(filepath.Join(f.dataDir, "attempts"))
	if err != nil {
		return err
	}
	left, err := journal.Take()
	if err != nil {
		return err
	}
	w := worker.New(c, agent.TaskQueue(), activityWorkerOptions(journal))
	agent.Register(w)
	if err := w.Start(); err != nil {
		return err
	}
	defer w.Stop()
	a := &nodeStart{c: c, agent: agent, log: logger, left: left}
	rctx, stopRecover := context.WithCancel(ctx)
	defer stopRecover()
	recovered, leased := make(chan struct{}), make(chan struct{})
	go a.keepLease(rctx, codecReady(lazy), leased)
	if lazy == nil || lazy.Wait(ctx, codecWait) {
		first := a.startRecover(rctx, recovered)
		if err := a.checkIn(ctx, first); err != nil && ctx.Err() == nil {
			stopRecover()
			<-recovered
			<-leased
			return err
		}
		logger.Info("ready", "taskQueue", agent.TaskQueue())
	} else {
		logger.Info("ready", "taskQueue", agent.TaskQueue(), "payload_codec", "waiting for Key Protect")
		go func() { defer close(recovered); a.later(rctx, lazy) }()
	}
	watched := a.startWatch(rctx)
	<-ctx.Done()
	stopRecover()
	<-recovered
	<-leased
	<-watched
	w.Stop()
	if err := agent.Shutdown(context.Background()); err != nil {
		logger.Error("take nodes down", "error", err)
	}
	logger.Info("stopped", "taskQueue", agent.TaskQueue())
	return nil
}

// checkIn registers the host and records reports through the control
// plane's NodeCheckIn workflow and waits for it.
func checkIn(ctx context.Context, c client.Client, agent *node.Agent, reports []contract.NodeReport) error {
	ctx, cancel := context.WithTimeout(ctx, checkInTimeout)
	defer cancel()
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID: "node-checkin-" + agent.Host(), TaskQueue: contract.ControlTaskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_TERMINATE_EXISTING,
	}, contract.WorkflowNodeCheckIn, contract.NodeCheckInInput{Host: agent.Host(), TaskQueue: agent.TaskQueue(),
		Reports: reports})
	if err == nil {
		err = run.Get(ctx, nil)
	}
	if err != nil {
		return fmt.Errorf("check in host %s with the control plane: %w: is the control-plane worker running?",
			agent.Host(), err)
	}
	return nil
}

// newAgent builds the agent over the service identity's Key Protect client.
func newAgent(f nodeFlags, logger *slog.Logger) (*node.Agent, error) {
	env := ibmenv.Read(nil)
	kpc, err := env.ServiceKP()
	if err != nil {
		return nil, err
	}
	return node.New(node.Config{
		Host: f.host, DataDir: f.dataDir, StorageDir: f.storage, PGBin: f.pgBin,
		Wrapper: keyprotect.New(kpc), WrapperFor: wrapperFor(env), Logger: logger,
		BackupDir: os.Getenv("BYOK_BACKUP_DIR"),
	})
}

// wrapperFor builds the service identity's KeyWrapper of another Key
// Protect instance; the agent caches it per instance.
func wrapperFor(env ibmenv.Env) func(string) (encryption.KeyWrapper, error) {
	return func(kpInstanceID string) (encryption.KeyWrapper, error) {
		kpc, err := env.ForKPInstance(kpInstanceID).ServiceKP()
		if err != nil {
			return nil, err
		}
		return keyprotect.New(kpc), nil
	}
}
