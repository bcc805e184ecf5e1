// Package supervise makes a crashed worker cost seconds, not minutes: what
// a supervisor does for the activities a Temporal worker runs.
//
//   - Pulse heartbeats every running activity every Interval, from its own
//     goroutine, whatever the activity is blocked in (initdb,
//     pg_basebackup, a server start, a dump, a Key Protect call), repeating
//     the details the activity last recorded. With the short heartbeat
//     timeouts of package workflows, the server counts an attempt of a
//     dead worker as lost within seconds, and never the attempt of a live
//     one.
//   - Journal keeps, on the worker's disk, the task token of every running
//     attempt; the worker's next start fails the attempts its dead self
//     left (RetryTypeAttemptAbandoned), so Temporal retries them at once,
//     without even waiting for the heartbeat timeout.
//
// WorkerOptions puts both on a worker. The package imports the Temporal SDK
// and contract, nothing else of ours.
package supervise

import (
	"context"
	"sync"
	"time"

	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/worker"
)

// Interval is how often Pulse heartbeats a running activity. It is also the
// workers' MaxHeartbeatThrottleInterval, so that the SDK sends a heartbeat
// this often instead of batching them for 80% of the heartbeat timeout:
// the server sees one every few seconds, well inside the timeout.
const Interval = 2 * time.Second

// WorkerOptions returns worker options with Pulse and, when j is not nil,
// j's interceptor, added to opts.
func WorkerOptions(opts worker.Options, j *Journal) worker.Options {
	opts.Interceptors = append(opts.Interceptors, Pulse(Interval))
	if j != nil {
		opts.Interceptors = append(opts.Interceptors, j.Interceptor())
	}
	opts.MaxHeartbeatThrottleInterval = Interval
	opts.DefaultHeartbeatThrottleInterval = Interval
	return opts
}

// Pulse returns a worker interceptor that heartbeats every activity every
// interval until it returns, with the details it last recorded itself.
func Pulse(interval time.Duration) interceptor.WorkerInterceptor {
	return &pulse{interval: interval}
}

type pulse struct {
	interceptor.WorkerInterceptorBase
	interval time.Duration
}

func (p *pulse) InterceptActivity(_ context.Context,
	next interceptor.ActivityInboundInterceptor) interceptor.ActivityInboundInterceptor {
	in := &pulseInbound{interval: p.interval, out: &pulseOutbound{}}
	in.Next = next
	return in
}

type pulseInbound struct {
	interceptor.ActivityInboundInterceptorBase
	interval time.Duration
	out      *pulseOutbound
}

func (i *pulseInbound) Init(outbound interceptor.ActivityOutboundInterceptor) error {
	i.out.Next = outbound
	return i.Next.Init(i.out)
}

func (i *pulseInbound) ExecuteActivity(ctx context.Context, in *interceptor.ExecuteActivityInput) (any, error) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(i.interval)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-tick.C:
				i.out.beat(ctx)
			}
		}
	})
	defer func() { close(done); wg.Wait() }()
	return i.Next.ExecuteActivity(ctx, in)
}

// pulseOutbound remembers the details the activity last recorded, so that
// a pulse does not erase the step or progress it reported.
type pulseOutbound struct {
	interceptor.ActivityOutboundInterceptorBase
	mu      sync.Mutex
	details []any
}

func (o *pulseOutbound) RecordHeartbeat(ctx context.Context, details ...any) {
	o.mu.Lock()
	o.details = details
	o.mu.Unlock()
	o.Next.RecordHeartbeat(ctx, details...)
}

func (o *pulseOutbound) beat(ctx context.Context) {
	o.mu.Lock()
	details := o.details
	o.mu.Unlock()
	o.Next.RecordHeartbeat(ctx, details...)
}
