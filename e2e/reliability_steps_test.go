package e2e

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	failurepb "go.temporal.io/api/failure/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"

	"github.com/byokflow/byokflow/contract"
	"github.com/byokflow/byokflow/internal/crashpoint"
)

// step is one activity boundary of a workflow: the activity type and the
// task queue it runs on (the control plane's or a host's).
type step struct {
	Activity string
	Queue    string
}

// walkTree calls fn on every event of the workflow tree rooted at
// workflowID, in history order, descending into a child where it started;
// fn gets the id of the workflow whose history holds the event.
func walkTree(t *testing.T, c client.Client, workflowID string, fn func(workflowID string, e *historypb.HistoryEvent)) {
	t.Helper()
	for _, e := range history(t, c, workflowID) {
		fn(workflowID, e)
		if ch := e.GetChildWorkflowExecutionStartedEventAttributes(); ch != nil {
			walkTree(t, c, ch.GetWorkflowExecution().GetWorkflowId(), fn)
		}
	}
}

// stepsOf returns the steps of the workflow tree rooted at workflowID
// (its children's included), each once, in the order they were first
// scheduled, read from the histories.
func stepsOf(t *testing.T, c client.Client, workflowID string) []step {
	t.Helper()
	var out []step
	walkTree(t, c, workflowID, func(_ string, e *historypb.HistoryEvent) {
		if a := e.GetActivityTaskScheduledEventAttributes(); a != nil {
			st := step{a.GetActivityType().GetName(), a.GetTaskQueue().GetName()}
			if !slices.Contains(out, st) {
				out = append(out, st)
			}
		}
	})
	return out
}

// retry is a retried activity attempt: its type, its attempt number and
// why the attempt before it ended (the application error's type, or
// "timeout TYPE").
type retry struct {
	Activity string
	Attempt  int32
	Cause    string
}

// retriesOf returns every retried activity attempt of the workflow tree
// rooted at workflowID that completed, as its histories record them.
func retriesOf(t *testing.T, c client.Client, workflowID string) []retry {
	t.Helper()
	type scheduled struct {
		workflowID string
		eventID    int64
	}
	types := map[scheduled]string{}
	var out []retry
	walkTree(t, c, workflowID, func(id string, e *historypb.HistoryEvent) {
		if a := e.GetActivityTaskScheduledEventAttributes(); a != nil {
			types[scheduled{id, e.GetEventId()}] = a.GetActivityType().GetName()
		}
		if a := e.GetActivityTaskStartedEventAttributes(); a != nil && a.GetAttempt() > 1 {
			out = append(out, retry{types[scheduled{id, a.GetScheduledEventId()}], a.GetAttempt(), failureCause(a.GetLastFailure())})
		}
	})
	return out
}

// failureCause names why an attempt failed: the application error's type,
// "timeout TYPE", or the message.
func failureCause(f *failurepb.Failure) string {
	switch {
	case f.GetApplicationFailureInfo() != nil:
		return f.GetApplicationFailureInfo().GetType()
	case f.GetTimeoutFailureInfo() != nil:
		return "timeout " + f.GetTimeoutFailureInfo().GetTimeoutType().String()
	default:
		return f.GetMessage()
	}
}

// onQueue keeps the steps that run on queue (or, with not, elsewhere).
func onQueue(steps []step, queue string, not bool) []step {
	var out []step
	for _, st := range steps {
		if (st.Queue == queue) != not {
			out = append(out, st)
		}
	}
	return out
}

// running reports whether an attempt of activity is started (a worker
// runs it) in the workflow tree rooted at workflowID, as Temporal's
// description of the run and of its pending children says.
func running(ctx context.Context, c client.Client, workflowID, activity string) bool {
	d, err := c.DescribeWorkflowExecution(ctx, workflowID, "")
	if err != nil {
		return false
	}
	for _, p := range d.GetPendingActivities() {
		if p.GetActivityType().GetName() == activity && p.GetState() == enumspb.PENDING_ACTIVITY_STATE_STARTED {
			return true
		}
	}
	for _, ch := range d.GetPendingChildren() {
		if running(ctx, c, ch.GetWorkflowId(), activity) {
			return true
		}
	}
	return false
}

// holdNext makes the next start of proc hold activity step hold (TYPE or
// TYPE:after, package crashpoint) on its first attempt.
func (s *Stack) holdNext(proc, hold string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.nextEnv == nil {
		s.nextEnv = map[string][]string{}
	}
	s.nextEnv[proc] = []string{crashpoint.EnvHold + "=" + hold}
}

// crashAt is one crash at a step: proc (the worker, or the node agent
// "node-H") is restarted to hold hold; run starts the workflow workflowID
// (it returns its outcome on the channel); once Temporal shows the held
// attempt running, proc is SIGKILLed and restarted as it normally runs.
// It returns run's outcome and how long after the restart (proc ready)
// the workflow took to finish.
func (s *Stack) crashAt(t *testing.T, proc, hold, workflowID string, run func() <-chan error) (error, time.Duration) {
	t.Helper()
	activity, _, _ := strings.Cut(hold, ":")
	s.kill(proc)
	s.holdNext(proc, hold)
	s.startProc(proc)
	done := run()
	c := rawClient(t)
	eventuallyWithin(t, 2*time.Minute, workflowID+" to run "+hold, func() bool {
		return running(context.Background(), c, workflowID, activity) && s.journaled(proc)
	})
	s.kill(proc)
	s.startProc(proc)
	back := time.Now()
	select {
	case err := <-done:
		took := time.Since(back)
		if err == nil {
			// The restarted process failed the attempt its journal held, so
			// Temporal retried it at once, not after its heartbeat timeout.
			require.Contains(t, retryCauses(t, c, workflowID, activity), contract.RetryTypeAttemptAbandoned,
				"why %s of %s was retried after the crash", activity, workflowID)
		}
		return err, took
	case <-time.After(4 * time.Minute):
		t.Fatalf("%s did not finish within 4 minutes of %s's restart (crash at %s)", workflowID, proc, hold)
		return nil, 0
	}
}

// journaled reports whether the attempt journal of proc holds an attempt:
// the control worker's in its BYOK_WORKER_STATE_DIR, an agent's in its
// --data-dir.
func (s *Stack) journaled(proc string) bool {
	entries, _ := filepath.Glob(filepath.Join(s.dataDir, proc, "attempts", "*.token"))
	return len(entries) > 0
}

// retryCauses returns, for every retried attempt of activity in the
// workflow tree rooted at workflowID, why its previous attempt ended.
func retryCauses(t *testing.T, c client.Client, workflowID, activity string) []string {
	t.Helper()
	var causes []string
	for _, r := range retriesOf(t, c, workflowID) {
		if r.Activity == activity {
			causes = append(causes, r.Cause)
		}
	}
	return causes
}

// startProc starts proc ("worker" or "node-H") as the stack does.
func (s *Stack) startProc(proc string) {
	if proc == "worker" {
		s.StartWorker()
		return
	}
	s.StartNode(proc[len("node-"):])
}

// starterRun adapts a starter run to crashAt: its error says how it
// failed.
func (s *Stack) starterRun(args ...string) func() <-chan error {
	return func() <-chan error {
		out := make(chan error, 1)
		res := s.StarterAsync(args...)
		go func() {
			r := <-res
			if r.Code != 0 {
				out <- &starterError{args: args, r: r}
				return
			}
			out <- nil
		}()
		return out
	}
}

type starterError struct {
	args []string
	r    Result
}

func (e *starterError) Error() string {
	return fmt.Sprintf("starter %s exited %d: %s", e.args[0], e.r.Code, e.r.Stderr)
}

func TestOnQueue_SplitsControlAndNodeSteps(t *testing.T) {
	steps := []step{{"A", "control"}, {"B", "host-a"}, {"C", "control"}}
	require.Equal(t, []step{{"A", "control"}, {"C", "control"}}, onQueue(steps, "control", false))
	require.Equal(t, []step{{"B", "host-a"}}, onQueue(steps, "control", true))
}
