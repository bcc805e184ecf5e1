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

// stepsOf returns the steps of the workflow tree rooted at workflowID
// (its children's included), each once, in the order they were first
// scheduled, read from the histories.
func stepsOf(t *testing.T, c client.Client, workflowID string) []step {
	t.Helper()
	var out []step
	for _, e := range history(t, c, workflowID) {
		if a := e.GetActivityTaskScheduledEventAttributes(); a != nil {
			st := step{a.GetActivityType().GetName(), a.GetTaskQueue().GetName()}
			if !slices.Contains(out, st) {
				out = append(out, st)
			}
		}
		if ch := e.GetChildWorkflowExecutionStartedEventAttributes(); ch != nil {
			for _, st := range stepsOf(t, c, ch.GetWorkflowExecution().GetWorkflowId()) {
				if !slices.Contains(out, st) {
					out = append(out, st)
				}
			}
		}
	}
	return out
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
// workflow tree rooted at workflowID, why its previous attempt ended: the
// application error's type, or "timeout TYPE".
func retryCauses(t *testing.T, c client.Client, workflowID, activity string) []string {
	t.Helper()
	var causes []string
	scheduled := map[int64]bool{}
	for _, e := range history(t, c, workflowID) {
		if a := e.GetActivityTaskScheduledEventAttributes(); a != nil && a.GetActivityType().GetName() == activity {
			scheduled[e.GetEventId()] = true
		}
		if a := e.GetActivityTaskStartedEventAttributes(); a != nil && scheduled[a.GetScheduledEventId()] && a.GetAttempt() > 1 {
			f := a.GetLastFailure()
			switch {
			case f.GetApplicationFailureInfo() != nil:
				causes = append(causes, f.GetApplicationFailureInfo().GetType())
			case f.GetTimeoutFailureInfo() != nil:
				causes = append(causes, "timeout "+f.GetTimeoutFailureInfo().GetTimeoutType().String())
			default:
				causes = append(causes, f.GetMessage())
			}
		}
		if ch := e.GetChildWorkflowExecutionStartedEventAttributes(); ch != nil {
			causes = append(causes, retryCauses(t, c, ch.GetWorkflowExecution().GetWorkflowId(), activity)...)
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
