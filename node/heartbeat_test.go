package node

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/worker"
)

// beatRecorder is a worker interceptor that keeps every int64 an activity
// records as its heartbeat (the test environment reports only some).
type beatRecorder struct {
	interceptor.WorkerInterceptorBase
	mu    sync.Mutex
	beats []int64
}

func (r *beatRecorder) InterceptActivity(_ context.Context,
	next interceptor.ActivityInboundInterceptor) interceptor.ActivityInboundInterceptor {
	in := &beatInbound{root: r}
	in.Next = next
	return in
}

// take returns and forgets the heartbeats so far.
func (r *beatRecorder) take() []int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	beats := r.beats
	r.beats = nil
	return beats
}

type beatInbound struct {
	interceptor.ActivityInboundInterceptorBase
	root *beatRecorder
}

func (i *beatInbound) Init(outbound interceptor.ActivityOutboundInterceptor) error {
	out := &beatOutbound{root: i.root}
	out.Next = outbound
	return i.Next.Init(out)
}

type beatOutbound struct {
	interceptor.ActivityOutboundInterceptorBase
	root *beatRecorder
}

func (o *beatOutbound) RecordHeartbeat(ctx context.Context, details ...any) {
	if len(details) == 1 {
		if n, ok := details[0].(int64); ok { // the steps before the data heartbeat their names
			o.root.mu.Lock()
			o.root.beats = append(o.root.beats, n)
			o.root.mu.Unlock()
		}
	}
	o.Next.RecordHeartbeat(ctx, details...)
}

func TestBackupRestore_HeartbeatTheBytesOfTheBackupFile(t *testing.T) {
	t.Parallel()
	h := newDataHarness(t)
	rec := &beatRecorder{}
	h.env.SetWorkerOptions(worker.Options{Interceptors: []interceptor.WorkerInterceptor{rec}})
	src := h.scratchDB()
	h.fillFixture(h.db(src), 500)

	b := h.mustBackup(src)
	beats := rec.take()
	require.GreaterOrEqual(t, len(beats), 2, "at the start and at the end at least")
	require.Equal(t, b.Bytes, beats[len(beats)-1], "the last heartbeat counts the whole file written")

	_, err := h.restoreDB(restoreInput(b, h.src, h.scratchDB()))
	require.NoError(t, err)
	beats = rec.take()
	require.Equal(t, b.Bytes, beats[len(beats)-1], "the last heartbeat counts the whole file read")
}
