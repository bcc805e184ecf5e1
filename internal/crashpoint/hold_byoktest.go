//go:build byoktest

package crashpoint

import (
	"context"
	"os"
	"strings"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/interceptor"
)

// Interceptors returns the hold of BYOK_TEST_HOLD_ACTIVITY, when set.
func Interceptors() []interceptor.WorkerInterceptor {
	spec := os.Getenv(EnvHold)
	if spec == "" {
		return nil
	}
	typ, when, _ := strings.Cut(spec, ":")
	return []interceptor.WorkerInterceptor{&hold{typ: typ, after: when == "after"}}
}

type hold struct {
	interceptor.WorkerInterceptorBase
	typ   string
	after bool
}

func (h *hold) InterceptActivity(_ context.Context,
	next interceptor.ActivityInboundInterceptor) interceptor.ActivityInboundInterceptor {
	return &holdInbound{ActivityInboundInterceptorBase: interceptor.ActivityInboundInterceptorBase{Next: next}, h: h}
}

type holdInbound struct {
	interceptor.ActivityInboundInterceptorBase
	h *hold
}

// ExecuteActivity holds the first attempt of the named type, before or
// after its work, until the activity's context ends (the process is
// killed long before its timeouts).
func (i *holdInbound) ExecuteActivity(ctx context.Context, in *interceptor.ExecuteActivityInput) (any, error) {
	info := activity.GetInfo(ctx)
	if info.ActivityType.Name != i.h.typ || info.Attempt != 1 {
		return i.Next.ExecuteActivity(ctx, in)
	}
	if !i.h.after {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	out, err := i.Next.ExecuteActivity(ctx, in)
	<-ctx.Done()
	return out, err
}
