package main

import (
	"context"
	"log/slog"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/byokflow/byokflow/contract"
	"github.com/byokflow/byokflow/internal/codec"
	"github.com/byokflow/byokflow/internal/supervise"
	"github.com/byokflow/byokflow/node"
)

// codecWait is how long a starting agent waits for the payload codec
// before it is ready without it; firstRoundWait, how long it waits for the
// first round of bringing its nodes back before it checks in with pending
// reports for the nodes not back yet.
const (
	codecWait      = 2 * time.Second
	firstRoundWait = 2 * time.Second
)

// nodeStart is what a starting agent does once it can talk to the control
// plane.
type nodeStart struct {
	c     client.Client
	agent *node.Agent
	log   *slog.Logger
	left  [][]byte // task tokens of the attempts the previous run left
}

// round is Recover's first round of reports, handed to the start-up
// check-in, which answers whether it recorded them.
type round struct {
	reports chan []contract.NodeReport
	result  chan error
}

// startRecover starts bringing the nodes back (closing done when it ends)
// and returns the channel of its first round, which the caller records.
func (a *nodeStart) startRecover(ctx context.Context, done chan struct{}) round {
	first := round{reports: make(chan []contract.NodeReport, 1), result: make(chan error, 1)}
	handed := false
	record := func(reports []contract.NodeReport) error {
		if !handed {
			handed = true
			first.reports <- reports
			return <-first.result
		}
		return checkIn(ctx, a.c, a.agent, reports)
	}
	go func() {
		defer close(done)
		a.agent.Recover(ctx, record)
	}()
	return first
}

// checkIn fails the attempts the previous run left and checks the host in
// with the reports of the first round of first, if it ends within
// firstRoundWait, and pending ones for the nodes it did not bring back
// (yet). A first round that ends later is recorded when it ends.
func (a *nodeStart) checkIn(ctx context.Context, first round) error {
	if n := supervise.Abandon(ctx, a.c, a.left, a.log); n > 0 {
		a.log.Info("failed the attempts the previous run left, for Temporal to retry them", "attempts", n)
	}
	a.left = nil
	pending, err := a.agent.Pending(ctx)
	if err != nil {
		return err
	}
	if len(pending) == 0 {
		return checkIn(ctx, a.c, a.agent, nil)
	}
	select {
	case reports := <-first.reports:
		err := checkIn(ctx, a.c, a.agent, merge(pending, reports))
		first.result <- err
		return err
	case <-time.After(firstRoundWait):
	}
	if err := checkIn(ctx, a.c, a.agent, pending); err != nil {
		return err
	}
	go func() {
		select {
		case reports := <-first.reports:
			first.result <- checkIn(ctx, a.c, a.agent, reports)
		case <-ctx.Done():
		}
	}()
	return nil
}

// merge returns pending with the reports of the nodes in reports replaced.
func merge(pending, reports []contract.NodeReport) []contract.NodeReport {
	type key struct{ instance, node string }
	got := map[key]contract.NodeReport{}
	for _, r := range reports {
		got[key{r.InstanceID, r.NodeID}] = r
	}
	out := make([]contract.NodeReport, len(pending))
	for i, p := range pending {
		out[i] = p
		if r, ok := got[key{p.InstanceID, p.NodeID}]; ok {
			out[i] = r
		}
	}
	return out
}

// later brings the nodes back while the payload codec waits for Key
// Protect: their reports (unreachable, most likely) are logged, and reach
// the control plane once the codec opens; so does the failing of the
// attempts the previous run left.
func (a *nodeStart) later(ctx context.Context, lazy *codec.Lazy) {
	left := a.left
	a.left = nil
	go func() {
		select {
		case <-ctx.Done():
		case <-lazy.Ready():
			supervise.Abandon(ctx, a.c, left, a.log)
		}
	}()
	a.agent.Recover(ctx, func(reports []contract.NodeReport) error { return checkIn(ctx, a.c, a.agent, reports) })
}

// startWatch keeps the agent's servers running until ctx ends
// (node.Agent.Watch), checking in each report of a restart; the channel
// closes when it has stopped.
func (a *nodeStart) startWatch(ctx context.Context) <-chan struct{} {
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		a.agent.Watch(ctx, func(reports []contract.NodeReport) error {
			cctx, cancel := context.WithTimeout(ctx, watchCheckInTimeout)
			defer cancel()
			return checkIn(cctx, a.c, a.agent, reports)
		})
	}()
	return watched
}
