package supervise

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"

	"github.com/byokflow/byokflow/contract"
)

// beats records the heartbeats that reach the SDK below the interceptors
// under test.
type beats struct {
	interceptor.WorkerInterceptorBase
	mu      sync.Mutex
	details []any
}

func (b *beats) InterceptActivity(_ context.Context, next interceptor.ActivityInboundInterceptor) interceptor.ActivityInboundInterceptor {
	in := &beatsInbound{b: b}
	in.Next = next
	return in
}

func (b *beats) all() []any {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]any(nil), b.details...)
}

type beatsInbound struct {
	interceptor.ActivityInboundInterceptorBase
	b *beats
}

func (i *beatsInbound) Init(out interceptor.ActivityOutboundInterceptor) error {
	o := &beatsOutbound{b: i.b}
	o.Next = out
	return i.Next.Init(o)
}

type beatsOutbound struct {
	interceptor.ActivityOutboundInterceptorBase
	b *beats
}

func (o *beatsOutbound) RecordHeartbeat(ctx context.Context, details ...any) {
	o.b.mu.Lock()
	if len(details) == 1 {
		o.b.details = append(o.b.details, details[0])
	} else {
		o.b.details = append(o.b.details, nil)
	}
	o.b.mu.Unlock()
	o.Next.RecordHeartbeat(ctx, details...)
}

func TestPulse_HeartbeatsABlockedActivityWithItsLastDetails(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	rec := &beats{}
	env.SetWorkerOptions(worker.Options{Interceptors: []interceptor.WorkerInterceptor{rec, Pulse(20 * time.Millisecond)}})
	env.RegisterActivityWithOptions(func(ctx context.Context) error {
		activity.RecordHeartbeat(ctx, "initdb")
		time.Sleep(150 * time.Millisecond) // a blocking call that cannot heartbeat
		return nil
	}, activity.RegisterOptions{Name: "Blocked"})
	_, err := env.ExecuteActivity("Blocked")
	require.NoError(t, err)
	got := rec.all()
	require.GreaterOrEqual(t, len(got), 4, "the step's own heartbeat and the pulses during the blocking call")
	for _, d := range got {
		require.Equal(t, "initdb", d, "a pulse repeats the step the activity reported")
	}
}

func TestJournal_KeepsAnEntryWhileTheAttemptRuns(t *testing.T) {
	dir := t.TempDir()
	j, err := OpenJournal(dir)
	require.NoError(t, err)
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	env.SetWorkerOptions(worker.Options{Interceptors: []interceptor.WorkerInterceptor{j.Interceptor()}})
	var during []string
	env.RegisterActivityWithOptions(func(ctx context.Context) error {
		during, _ = filepath.Glob(filepath.Join(dir, "*"+tokenExt))
		return nil
	}, activity.RegisterOptions{Name: "Step"})
	_, err = env.ExecuteActivity("Step")
	require.NoError(t, err)
	require.Len(t, during, 1, "the running attempt has its entry")
	after, _ := filepath.Glob(filepath.Join(dir, "*"))
	require.Empty(t, after, "a returned attempt leaves nothing")
}

// completer is the part of client.Client that Abandon uses.
type completer struct {
	client.Client
	tokens [][]byte
	errs   []error
	answer func(token []byte) error
}

func (c *completer) CompleteActivity(_ context.Context, token []byte, _ any, err error) error {
	c.tokens, c.errs = append(c.tokens, token), append(c.errs, err)
	return c.answer(token)
}

func TestJournal_AbandonFailsWhatADeadRunLeftRetryably(t *testing.T) {
	dir := t.TempDir()
	j, err := OpenJournal(dir)
	require.NoError(t, err)
	for _, tok := range []string{"live-attempt", "closed-attempt"} {
		require.NoError(t, os.WriteFile(j.entry([]byte(tok)), []byte(tok), 0o600))
	}
	c := &completer{answer: func(token []byte) error {
		if string(token) == "closed-attempt" {
			return serviceerror.NewNotFound("activity not found") // already timed out and retried
		}
		return nil
	}}
	tokens, err := j.Take()
	require.NoError(t, err)
	n := Abandon(context.Background(), c, tokens, slog.New(slog.DiscardHandler))
	require.Equal(t, 1, n)
	require.Len(t, c.tokens, 2)
	for _, e := range c.errs {
		var appErr *temporal.ApplicationError
		require.True(t, errors.As(e, &appErr))
		require.Equal(t, contract.RetryTypeAttemptAbandoned, appErr.Type())
		require.False(t, appErr.NonRetryable(), "Temporal retries the attempt")
	}
	left, _ := filepath.Glob(filepath.Join(dir, "*"))
	require.Empty(t, left, "the journal is emptied")
}
