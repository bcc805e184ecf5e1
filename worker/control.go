package main

import (
	"context"
	"log/slog"

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
	w := worker.New(c, contract.ControlTaskQueue, activityWorkerOptions(nil))
	workflows.Register(w)
	acts.Register(w)
	return serve(ctx, logger, w, contract.ControlTaskQueue)
}

// activityWorkerOptions are the options of every worker that runs
// activities, the control plane's and the node agents': each activity's
// Key Protect calls carry its workflow run's correlation id, and package
// supervise heartbeats (and, with j, journals) its attempts. Test builds
// (-tags byoktest) can hold one step for the reliability suite's crashes
// (package crashpoint); production builds add nothing there.
func activityWorkerOptions(j *supervise.Journal) worker.Options {
	opts := worker.Options{Interceptors: append([]interceptor.WorkerInterceptor{correlation.Interceptor()},
		crashpoint.Interceptors()...)}
	return supervise.WorkerOptions(opts, j)
}

// serve runs w until ctx is done, logging "ready" once it polls.
func serve(ctx context.Context, logger *slog.Logger, w worker.Worker, queue string) error {
	if err := w.Start(); err != nil {
		return err
	}
	logger.Info("ready", "taskQueue", queue)
	<-ctx.Done()
	w.Stop()
	logger.Info("stopped", "taskQueue", queue)
	return nil
}
