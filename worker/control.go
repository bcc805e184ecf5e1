package main

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"

	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/worker"

	"github.com/byokflow/byokflow/activities"
	"github.com/byokflow/byokflow/contract"
	"github.com/byokflow/byokflow/internal/correlation"
	"github.com/byokflow/byokflow/internal/crashpoint"
	"github.com/byokflow/byokflow/internal/ibmenv"
	"github.com/byokflow/byokflow/internal/supervise"
	"github.com/byokflow/byokflow/workflows"
)

// runControl serves every workflow and the control-plane activities until
// ctx is done.
func runControl(ctx context.Context, logger *slog.Logger) error {
	env, err := ibmenv.LoadEnv(nil)
	if err != nil {
		return err
	}
	acts, err := activities.Dial(ctx, env)
	if err != nil {
		return err
	}
	defer acts.Close()
	c, err := dialTemporal(ctx, logger)
	if err != nil {
		return err
	}
	defer c.Close()
	// The lock of an instance is taken over from a run Temporal no longer runs.
	acts.UseWorkflowRuns(c)
	journal, left, err := controlJournal()
	if err != nil {
		return err
	}
	w := worker.New(c, contract.ControlTaskQueue, activityWorkerOptions(journal))
	workflows.Register(w)
	acts.Register(w)
	return serve(ctx, logger, w, contract.ControlTaskQueue, func() {
		if n := supervise.Abandon(ctx, c, left, logger); n > 0 {
			logger.Info("failed the attempts the previous run left, for Temporal to retry them now", "attempts", n)
		}
	})
}

// EnvStateDir names the control worker's state directory, where it
// journals the activity attempts it runs (task tokens only) so that, once
// restarted after a crash, it fails them for Temporal to retry at once
// rather than after their heartbeat timeout. One directory per worker
// process: two workers sharing one would fail each other's attempts.
// Unset: no journal.
const EnvStateDir = "BYOK_WORKER_STATE_DIR"

// controlJournal opens the journal of EnvStateDir and takes what the
// previous run left; both are nil without the variable.
func controlJournal() (*supervise.Journal, [][]byte, error) {
	dir := os.Getenv(EnvStateDir)
	if dir == "" {
		return nil, nil, nil
	}
	j, err := supervise.OpenJournal(filepath.Join(dir, "attempts"))
	if err != nil {
		return nil, nil, err
	}
	left, err := j.Take()
	return j, left, err
}

// activityWorkerOptions are the options of every worker that runs
// activities, the control plane's and the node agents': each activity's
// Key Protect calls carry its workflow run's correlation id, and package
// supervise heartbeats (and, with j, journals) its attempts. Test builds
// (-tags byoktest) can hold one step for the reliability suite's crashes
// (package crashpoint); production builds add nothing there. The hold is
// the innermost interceptor, so a held attempt is heartbeated and
// journaled as any other: a crash there recovers as a real one would.
func activityWorkerOptions(j *supervise.Journal) worker.Options {
	opts := supervise.WorkerOptions(worker.Options{
		Interceptors: []interceptor.WorkerInterceptor{correlation.Interceptor()}}, j)
	opts.Interceptors = append(opts.Interceptors, crashpoint.Interceptors()...)
	return opts
}

// serve starts w, calls polling once w polls (the recovery that needs a
// running worker), logs "ready", and runs w until ctx is done.
func serve(ctx context.Context, logger *slog.Logger, w worker.Worker, queue string, polling func()) error {
	if err := w.Start(); err != nil {
		return err
	}
	polling()
	logger.Info("ready", "taskQueue", queue)
	<-ctx.Done()
	w.Stop()
	logger.Info("stopped", "taskQueue", queue)
	return nil
}
