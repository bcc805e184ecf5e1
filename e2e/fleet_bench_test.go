package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/byokflow/byokflow/contract"
	"github.com/byokflow/byokflow/emulator"
	"github.com/byokflow/byokflow/internal/scram"
)

// fleetSize is the number of 3-node instances BenchmarkFleetRotate rotates.
const fleetSize = 10

// BenchmarkFleetRotate provisions 10 instances (30 nodes) on one root key
// and, in the same run, times FleetRotate over them (parallel 4) and a
// no-op workflow of the same shape: one listing activity, then 10
// children, 4 at a time, each running no-op activities with the shape of
// the RotateRootKey child it stands for (read from its history). It
// reports instances per minute of both and their ratio (target ≥ 0.8).
// Run it with -benchtime=1x.
func BenchmarkFleetRotate(b *testing.B) {
	// Ten nodes a host, each a server with its WAL: more than the default
	// volume holds.
	defer func(mib int) { stackVolumeMiB = mib }(stackVolumeMiB)
	stackVolumeMiB = 4096
	s := NewStack(b)
	s.StartWorker()
	for _, h := range []string{"a", "b", "c"} {
		s.StartNode(h)
	}
	s.Emu.AuthorizeService(b)
	dc := converter.NewCodecDataConverter(converter.GetDefaultDataConverter(), s.Codec())
	c, err := client.Dial(client.Options{HostPort: shared.hostPort, Logger: quiet{}, DataConverter: dc,
		FailureConverter: temporal.NewDefaultFailureConverter(temporal.DefaultFailureConverterOptions{
			DataConverter: dc, EncodeCommonAttributes: true})})
	require.NoError(b, err)
	defer c.Close()
	stopNoop := startNoopWorkers(b, c)
	defer stopNoop()
	fw := worker.New(c, "noop-fleet", worker.Options{})
	fw.RegisterWorkflowWithOptions(NoopFleet, workflow.RegisterOptions{Name: "NoopFleet"})
	fw.RegisterActivityWithOptions(func(context.Context) error { return nil }, activity.RegisterOptions{Name: "Noop"})
	require.NoError(b, fw.Start())
	defer fw.Stop()
	key := s.CreateRootKey("bench-fleet-root")
	ids := provisionFleet(b, c, key, s.Emu.Dev.KPInstanceID)
	for i := 0; i < b.N; i++ {
		real := timeWorkflow(b, c, contract.ControlTaskQueue, contract.WorkflowFleetRotate,
			contract.FleetRotateInput{RootKeyID: key, Parallel: 4, RequestedBy: "bench"})
		shapes := make([][][]string, len(ids))
		for j, id := range ids {
			shapes[j] = workflowShape(context.Background(), b, c, "rotate-"+id)
		}
		floor := timeWorkflow(b, c, "noop-fleet", "NoopFleet", noopFleetInput{Shapes: shapes, Parallel: 4})
		perMin := func(d time.Duration) float64 { return float64(len(ids)) / d.Minutes() }
		b.ReportMetric(perMin(real), "fleet-instances/min")
		b.ReportMetric(perMin(floor), "noop-instances/min")
		b.ReportMetric(perMin(real)/perMin(floor), "fleet/noop")
		// One reconcile tick over the fleet: Key Protect is read once per
		// root key in use (here one), not per instance or node.
		before := s.Emu.Server.Stats()
		timeWorkflow(b, c, contract.ControlTaskQueue, contract.WorkflowReconcileKeys, contract.ReconcileInput{})
		b.ReportMetric(float64(delta(before, s.Emu.Server.Stats())[emulator.OpGetKeyMetadata]), "kp-reads/tick")
		b.ReportMetric(1, "keys-in-use")
	}
}

// provisionFleet provisions fleetSize instances under key, all at once.
func provisionFleet(b *testing.B, c client.Client, key, kpInstance string) []string {
	prefix := UniqueName("fleet")
	password, err := scram.NewPassword()
	require.NoError(b, err)
	verifier, err := scram.Verifier(password)
	require.NoError(b, err)
	var ids []string
	var runs []client.WorkflowRun
	for i := range fleetSize {
		id := fmt.Sprintf("%s-%d", prefix, i)
		run, err := c.ExecuteWorkflow(context.Background(), client.StartWorkflowOptions{ID: "provision-" + id,
			TaskQueue: contract.ControlTaskQueue}, contract.WorkflowProvisionEncryptedInstance,
			contract.ProvisionInput{InstanceID: id, RootKeyID: key, KPInstanceID: kpInstance, Nodes: 3, RequestedBy: "bench",
				AdminVerifier: verifier})
		require.NoError(b, err)
		ids, runs = append(ids, id), append(runs, run)
	}
	for _, run := range runs {
		require.NoError(b, run.Get(context.Background(), nil), "workflow %s", run.GetID())
	}
	return ids
}

// timeWorkflow runs workflow name on queue and returns how long it took.
func timeWorkflow(b *testing.B, c client.Client, queue, name string, in any) time.Duration {
	start := time.Now()
	run, err := c.ExecuteWorkflow(context.Background(), client.StartWorkflowOptions{
		ID: fmt.Sprintf("bench-%s-%d", name, start.UnixNano()), TaskQueue: queue}, name, in)
	require.NoError(b, err)
	require.NoError(b, run.Get(context.Background(), nil), "workflow %s", run.GetID())
	return time.Since(start)
}

// noopFleetInput is the shape of a FleetRotate run: each child's steps.
type noopFleetInput struct {
	Shapes   [][][]string `json:"shapes"`
	Parallel int          `json:"parallel"`
}

// NoopFleet is FleetRotate with no work: a no-op listing activity, then
// one NoopShape child per shape, at most Parallel at once.
func NoopFleet(ctx workflow.Context, in noopFleetInput) error {
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{TaskQueue: "noop-control", StartToCloseTimeout: 30 * time.Second})
	if err := workflow.ExecuteActivity(actx, "Noop").Get(ctx, nil); err != nil {
		return err
	}
	sel := workflow.NewSelector(ctx)
	running, next := 0, 0
	var failed error
	for next < len(in.Shapes) || running > 0 {
		for running < in.Parallel && next < len(in.Shapes) {
			cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{TaskQueue: "noop-control"})
			f := workflow.ExecuteChildWorkflow(cctx, "NoopShape", in.Shapes[next])
			next++
			running++
			sel.AddFuture(f, func(f workflow.Future) {
				running--
				if err := f.Get(ctx, nil); err != nil {
					failed = err
				}
			})
		}
		sel.Select(ctx)
	}
	return failed
}
