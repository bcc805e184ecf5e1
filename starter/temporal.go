package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"

	"github.com/byokflow/byokflow/contract"
	"github.com/byokflow/byokflow/internal/codec"
	"github.com/byokflow/byokflow/internal/temporalenv"
)

// codecWait is how long the starter waits out Key Protect or IAM being
// unavailable when it opens the payload codec, before it gives up.
const codecWait = 2 * time.Minute

// dialTemporal connects with the Temporal settings of the environment and
// the payload codec (BYOK_CODEC_KEYRING; BYOK_CODEC=off for none), keeping
// the SDK's informational logging off the operator's terminal. While Key
// Protect or IAM is unavailable it retries opening the codec for up to
// codecWait (until ctx ends), saying so on stderr.
func dialTemporal(ctx context.Context) (client.Client, error) {
	return temporalenv.Dial(quietLogger{}, func() (converter.PayloadCodec, error) {
		c, err := codec.FromEnvWaiting(ctx, nil, codecWait, func(err error, wait time.Duration) {
			fmt.Fprintf(os.Stderr, "%v: retrying in %s\n", err, wait)
		})
		if errors.Is(err, codec.ErrOff) {
			return nil, nil
		}
		return c, err
	})
}

// startOptions starts the workflow with a deterministic id: running the same
// command again while it runs attaches to it instead of starting another.
func startOptions(id, instanceID, rootKeyID, operation string) client.StartWorkflowOptions {
	return client.StartWorkflowOptions{
		ID:                       id,
		TaskQueue:                contract.ControlTaskQueue,
		WorkflowIDConflictPolicy: enums.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		WorkflowIDReusePolicy:    enums.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		TypedSearchAttributes:    temporal.NewSearchAttributes(searchAttributes(instanceID, rootKeyID, operation)...),
	}
}

// searchAttributes sets the Web UI's search attributes known at start; the
// workflow upserts the rest (a rotation learns its root key from the catalog).
func searchAttributes(instanceID, rootKeyID, operation string) []temporal.SearchAttributeUpdate {
	updates := []temporal.SearchAttributeUpdate{
		contract.InstanceIDKey.ValueSet(instanceID),
		contract.OperationKey.ValueSet(operation),
	}
	if rootKeyID != "" {
		updates = append(updates, contract.RootKeyIDKey.ValueSet(rootKeyID))
	}
	return updates
}

// startAndWait dials Temporal, starts workflow name under id and waits for
// its result.
func (a *app) startAndWait(ctx context.Context, id, instanceID, rootKeyID, operation, name string, in, out any) error {
	c, err := dialTemporal(ctx)
	if err != nil {
		return unreachedError{err}
	}
	defer c.Close()
	return a.runWorkflow(ctx, c, startOptions(id, instanceID, rootKeyID, operation), name, in, out)
}

// runWorkflow starts a workflow and waits for its result. On a terminal it
// redraws the per-node progress (the workflow's progress query) while waiting;
// the wait itself is Temporal's long poll.
func (a *app) runWorkflow(ctx context.Context, c client.Client, opts client.StartWorkflowOptions, name string, in, out any) error {
	run, err := c.ExecuteWorkflow(ctx, opts, name, in)
	if err != nil {
		return fmt.Errorf("start %s: %w: check that the Temporal server at TEMPORAL_ADDRESS runs (`make stack`)", name, err)
	}
	a.webUI = webUILink(run.GetID(), run.GetRunID())
	if a.webUI != "" {
		fmt.Fprintf(a.stderr, "Web UI: %s\n", a.webUI)
	}
	if isTerminal(a.stderr) {
		fmt.Fprintf(a.stderr, "workflow %s (run %s)\n", run.GetID(), run.GetRunID())
		stop := a.showProgress(ctx, c, run.GetID(), run.GetRunID())
		defer stop()
	}
	if err := run.Get(ctx, out); err != nil {
		var closed *temporal.WorkflowExecutionError
		if errors.As(err, &closed) {
			return endedError{workflowError(err)}
		}
		if ctx.Err() != nil {
			return fmt.Errorf("wait for workflow %s: %w", run.GetID(), ctx.Err()) // withNextStep: interrupted
		}
		return fmt.Errorf("wait for workflow %s: %w: the workflow may still run: run the same command again "+
			"to wait for it", run.GetID(), err)
	}
	return nil
}

// endedError is the failure of a workflow that ended (failed, canceled,
// terminated or timed out), as opposed to a wait that ended without its
// outcome: the starter interrupted, or Temporal not answering for longer
// than the client retries, while the workflow may run on.
type endedError struct{ error }

func (e endedError) Unwrap() error { return e.error }

// unreachedError is a failure to reach Temporal at all: no workflow was
// started.
type unreachedError struct{ error }

func (e unreachedError) Unwrap() error { return e.error }

// nothingRuns reports whether err says that no workflow runs with what the
// command prepared for it: the workflow ended, or the starter never reached
// Temporal to start it. Only then may the command undo what it prepared (a
// provision's admin password): a running workflow still uses it, and the
// same command run again attaches to it.
func nothingRuns(err error) bool {
	var ended endedError
	var unreached unreachedError
	return errors.As(err, &ended) || errors.As(err, &unreached)
}

// workflowError reduces a workflow failure to its typed error's message.
func workflowError(err error) error {
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		return fmt.Errorf("%s [%s]", appErr.Message(), appErr.Type())
	}
	return err
}

// showProgress queries the workflow's progress every second and prints a
// line per change until stop is called. Display only: nothing waits on it.
func (a *app) showProgress(ctx context.Context, c client.Client, id, runID string) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		ticker := time.NewTicker(time.Second)
		defer ticker.Stop()
		last := ""
		for {
			if line := queryProgress(ctx, c, id, runID); line != "" && line != last {
				fmt.Fprintln(a.stderr, line)
				last = line
			}
			select {
			case <-ctx.Done():
				return
			case <-ticker.C:
			}
		}
	}()
	return func() { cancel(); <-done }
}

func queryProgress(ctx context.Context, c client.Client, id, runID string) string {
	v, err := c.QueryWorkflow(ctx, id, runID, contract.QueryProgress)
	if err != nil {
		return ""
	}
	var p contract.Progress
	if err := v.Get(&p); err != nil {
		return ""
	}
	parts := make([]string, 0, len(p.Nodes))
	for _, n := range p.Nodes {
		parts = append(parts, fmt.Sprintf("%s@%s=%s", n.NodeID, n.Host, n.State))
	}
	return fmt.Sprintf("  %s: %s", p.Step, strings.Join(parts, " "))
}

// quietLogger keeps the SDK's informational logging off the operator's terminal.
type quietLogger struct{}

func (quietLogger) Debug(string, ...any) {}
func (quietLogger) Info(string, ...any)  {}
func (quietLogger) Warn(string, ...any)  {}
func (quietLogger) Error(string, ...any) {}
