package e2e

import (
	"context"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/byokflow/byokflow/contract"
)

// benchRuns is how many times each workflow runs in BenchmarkWorkflowLatency.
const benchRuns = 50

// BenchmarkWorkflowLatency runs, on the local stack and in one run,
// ProvisionEncryptedInstance and RotateRootKey 50 times each, and a no-op
// workflow of the same shape as each (the same steps, the same number of
// activities per step, task queues polled the same way): the orchestration
// floor of this machine. It reports p50/p95 of each and, for byokflow's
// workflows, the p50 of each activity (scheduled to completed, queue wait
// included), so a reader sees where the time goes. Run it with -benchtime=1x.
func BenchmarkWorkflowLatency(b *testing.B) {
	s := NewStack(b)
	s.StartWorker()
	for _, h := range []string{"a", "b", "c"} {
		s.StartNode(h)
	}
	s.Emu.AuthorizeService(b)
	c, err := client.Dial(client.Options{HostPort: shared.hostPort, Logger: quiet{}})
	require.NoError(b, err)
	defer c.Close()
	stopNoop := startNoopWorkers(b, c)
	defer stopNoop()
	key := s.CreateRootKey("bench-root")
	for i := 0; i < b.N; i++ {
		measureAll(b, c, key, s.Emu.Dev.KPInstanceID)
	}
}

func measureAll(b *testing.B, c client.Client, key, kpInstance string) {
	ctx := context.Background()
	prefix := UniqueName("bench")
	prov := runMany(b, c, contract.WorkflowProvisionEncryptedInstance, func(i int) any {
		return contract.ProvisionInput{InstanceID: fmt.Sprintf("%s-%d", prefix, i), RootKeyID: key,
			KPInstanceID: kpInstance, Nodes: 3, RequestedBy: "bench"}
	})
	rot := runMany(b, c, contract.WorkflowRotateRootKey, func(int) any {
		return contract.RotateInput{InstanceID: prefix + "-0", RequestedBy: "bench"}
	})
	noopProv := runMany(b, c, "NoopShape", func(int) any { return workflowShape(ctx, b, c, prov.ids[0]) })
	noopRot := runMany(b, c, "NoopShape", func(int) any { return workflowShape(ctx, b, c, rot.ids[0]) })
	report(b, "provision", prov, noopProv)
	report(b, "rotate", rot, noopRot)
	printActivities(b, c, map[string]runs{"ProvisionEncryptedInstance": prov, "RotateRootKey": rot})
}

// runs are the ids and latencies of one workflow's runs.
type runs struct {
	ids       []string
	latencies []time.Duration
}

func runMany(b *testing.B, c client.Client, name string, input func(int) any) runs {
	var r runs
	for i := range benchRuns {
		id := fmt.Sprintf("bench-%s-%d-%d", name, time.Now().UnixNano(), i)
		queue := contract.ControlTaskQueue
		if name == "NoopShape" {
			queue = "noop-control"
		}
		start := time.Now()
		run, err := c.ExecuteWorkflow(context.Background(), client.StartWorkflowOptions{ID: id, TaskQueue: queue}, name, input(i))
		require.NoError(b, err)
		require.NoError(b, run.Get(context.Background(), nil), "workflow %s", id)
		r.latencies = append(r.latencies, time.Since(start))
		r.ids = append(r.ids, id)
	}
	return r
}

func pct(d []time.Duration, p float64) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[int(float64(len(s)-1)*p)]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func report(b *testing.B, name string, real, floor runs) {
	b.ReportMetric(ms(pct(real.latencies, 0.5)), name+"-p50-ms")
	b.ReportMetric(ms(pct(real.latencies, 0.95)), name+"-p95-ms")
	b.ReportMetric(ms(pct(floor.latencies, 0.5)), name+"-noop-p50-ms")
	b.ReportMetric(ms(pct(floor.latencies, 0.95)), name+"-noop-p95-ms")
	b.ReportMetric(float64(pct(real.latencies, 0.5))/float64(pct(floor.latencies, 0.5)), name+"-p50/noop")
}

// printActivities prints the p50 of each activity of each workflow.
func printActivities(b *testing.B, c client.Client, all map[string]runs) {
	tw := tabwriter.NewWriter(os.Stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "workflow\tactivity\tcount\tp50 ms (scheduled→completed)")
	names := make([]string, 0, len(all))
	for n := range all {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, wf := range names {
		per := map[string][]time.Duration{}
		for _, id := range all[wf].ids {
			for act, d := range activityDurations(b, c, id) {
				per[act] = append(per[act], d...)
			}
		}
		acts := make([]string, 0, len(per))
		for a := range per {
			acts = append(acts, a)
		}
		sort.Strings(acts)
		for _, a := range acts {
			fmt.Fprintf(tw, "%s\t%s\t%d\t%.1f\n", wf, a, len(per[a]), ms(pct(per[a], 0.5)))
		}
	}
	tw.Flush()
}

func activityDurations(b *testing.B, c client.Client, id string) map[string][]time.Duration {
	scheduled := map[int64]struct {
		name string
		at   time.Time
	}{}
	out := map[string][]time.Duration{}
	it := c.GetWorkflowHistory(context.Background(), id, "", false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		e, err := it.Next()
		require.NoError(b, err)
		if a := e.GetActivityTaskScheduledEventAttributes(); a != nil {
			scheduled[e.GetEventId()] = struct {
				name string
				at   time.Time
			}{a.GetActivityType().GetName(), e.GetEventTime().AsTime()}
		}
		if a := e.GetActivityTaskCompletedEventAttributes(); a != nil {
			s := scheduled[a.GetScheduledEventId()]
			out[s.name] = append(out[s.name], e.GetEventTime().AsTime().Sub(s.at))
		}
	}
	return out
}

// workflowShape reads a finished workflow's history and returns its shape:
// per workflow task, the task queues of the activities it scheduled, mapped
// to the no-op workers' queues.
func workflowShape(ctx context.Context, b *testing.B, c client.Client, id string) [][]string {
	var steps [][]string
	byTask := map[int64]int{}
	it := c.GetWorkflowHistory(ctx, id, "", false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		e, err := it.Next()
		require.NoError(b, err)
		a := e.GetActivityTaskScheduledEventAttributes()
		if a == nil {
			continue
		}
		step, ok := byTask[a.GetWorkflowTaskCompletedEventId()]
		if !ok {
			step = len(steps)
			byTask[a.GetWorkflowTaskCompletedEventId()] = step
			steps = append(steps, nil)
		}
		q := strings.Replace(a.GetTaskQueue().GetName(), "byokflow-", "noop-", 1)
		steps[step] = append(steps[step], q)
	}
	return steps
}

// NoopShape runs, step by step, a no-op activity on each listed queue; the
// activities of a step run in parallel, as byokflow's node steps do.
func NoopShape(ctx workflow.Context, steps [][]string) error {
	for _, queues := range steps {
		futures := make([]workflow.Future, 0, len(queues))
		for _, q := range queues {
			actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{TaskQueue: q, StartToCloseTimeout: 30 * time.Second})
			futures = append(futures, workflow.ExecuteActivity(actx, "Noop"))
		}
		for _, f := range futures {
			if err := f.Get(ctx, nil); err != nil {
				return err
			}
		}
	}
	return nil
}

func startNoopWorkers(b *testing.B, c client.Client) (stop func()) {
	noop := func(context.Context) error { return nil }
	var ws []worker.Worker
	for _, q := range []string{"noop-control", "noop-node-a", "noop-node-b", "noop-node-c"} {
		w := worker.New(c, q, worker.Options{})
		w.RegisterActivityWithOptions(noop, activity.RegisterOptions{Name: "Noop"})
		if q == "noop-control" {
			w.RegisterWorkflowWithOptions(NoopShape, workflow.RegisterOptions{Name: "NoopShape"})
		}
		require.NoError(b, w.Start())
		ws = append(ws, w)
	}
	return func() {
		for _, w := range ws {
			w.Stop()
		}
	}
}

// quiet keeps the SDK's logging out of the benchmark's output.
type quiet struct{}

func (quiet) Debug(string, ...any) {}
func (quiet) Info(string, ...any)  {}
func (quiet) Warn(string, ...any)  {}
func (quiet) Error(string, ...any) {}
