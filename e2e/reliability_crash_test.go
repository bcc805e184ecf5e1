package e2e

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"github.com/byokflow/byokflow/contract"
)

// crashWorkflow is one workflow of the crash matrices: how to run it once
// more (a fresh run each time: a new instance, or a new operation on the
// crash stack's instance) and the id of the run it starts.
type crashWorkflow struct {
	name string
	// next prepares run i and returns its workflow id and how to run it;
	// rotations counts Key Protect rotations it makes, per root key.
	next func(t *testing.T, i int) (workflowID string, run func() <-chan error)
}

// crashStack is the stack of the crash matrices: the worker, agents a and
// b, one root key and, once a case needs it (live), an instance with
// data and a backup, on which rotate, backup, restore and reconcile run.
type crashStack struct {
	*Stack
	key, instance, backup string
	nodes                 string // of every instance it makes
	rotations             int
	c                     client.Client
}

// newCrashStack starts the crash stack; its instances have nodes nodes.
func newCrashStack(t *testing.T, nodes int) *crashStack {
	s := bigStack(t) // a new instance for every provision and restore case
	s.StartWorker()
	s.StartNode("a")
	s.StartNode("b")
	s.Emu.AuthorizeService(t)
	return &crashStack{Stack: s, key: s.CreateRootKey("crash-root"), c: s.codecClient(t), nodes: strconv.Itoa(nodes)}
}

// live makes, the first time, the instance (with data and a backup) that
// rotate, backup, restore and reconcile work on.
func (cs *crashStack) live(t *testing.T) {
	if cs.instance != "" {
		return
	}
	cs.instance = UniqueName("crash")
	cs.mustJSON(&statusDoc{}, "provision", "--instance", cs.instance, "--root-key", cs.key, "--nodes", cs.nodes, "--json")
	cs.writeMarker(t, cs.instance)
	var b backupDoc
	cs.mustJSON(&b, "backup", "--instance", cs.instance, "--json")
	cs.backup = b.BackupID
}

// workflows lists the workflows whose steps the matrices crash at.
func (cs *crashStack) workflows() []crashWorkflow {
	return []crashWorkflow{
		{"provision", func(t *testing.T, i int) (string, func() <-chan error) {
			name := UniqueName(fmt.Sprintf("cp%d", i))
			return "provision-" + name, cs.starterRun("provision", "--instance", name, "--root-key", cs.key, "--nodes", cs.nodes, "--json")
		}},
		{"rotate", func(t *testing.T, i int) (string, func() <-chan error) {
			cs.live(t)
			cs.rotations++
			return "rotate-" + cs.instance, cs.starterRun("rotate", "--instance", cs.instance, "--json")
		}},
		{"backup", func(t *testing.T, i int) (string, func() <-chan error) {
			cs.live(t)
			return "backup-" + cs.instance, cs.starterRun("backup", "--instance", cs.instance, "--json")
		}},
		{"restore", func(t *testing.T, i int) (string, func() <-chan error) {
			cs.live(t)
			name := UniqueName(fmt.Sprintf("cr%d", i))
			return "restore-" + name, cs.starterRun("restore", "--backup", cs.backup, "--instance", name,
				"--root-key", cs.key, "--nodes", cs.nodes, "--json")
		}},
		{"shred with approval", cs.shredRun},
		{"reconcile suspend", func(t *testing.T, i int) (string, func() <-chan error) {
			cs.live(t)
			cs.keyState(t, true) // every instance on the key serving again
			cs.setKeyEnabled(t, false)
			return cs.reconcileRun(t, i)
		}},
		{"reconcile resume", func(t *testing.T, i int) (string, func() <-chan error) {
			cs.live(t)
			cs.keyState(t, false) // every instance on the key suspended
			cs.setKeyEnabled(t, true)
			return cs.reconcileRun(t, i)
		}},
	}
}

// shredRun provisions an instance of its own key and shreds it with
// --require-approval; the approver approves as soon as the shred waits.
func (cs *crashStack) shredRun(t *testing.T, i int) (string, func() <-chan error) {
	key := cs.CreateRootKey(fmt.Sprintf("crash-shred-%d", i))
	name := UniqueName(fmt.Sprintf("cs%d", i))
	cs.mustJSON(&statusDoc{}, "provision", "--instance", name, "--root-key", key, "--nodes", "1", "--json")
	id := "shred-" + name
	return id, func() <-chan error {
		done := cs.starterRun("shred", "--instance", name, "--require-approval", "--json")()
		go func() {
			deadline := time.Now().Add(3 * time.Minute)
			for time.Now().Before(deadline) {
				r := <-cs.StarterAsyncEnv([]string{"IBMCLOUD_API_KEY=" + cs.Emu.Dev.ApproverAPIKey}, "approve", "--workflow", id)
				if r.Code == 0 {
					return
				}
				time.Sleep(500 * time.Millisecond)
			}
		}()
		return done
	}
}

// setKeyEnabled disables or enables the crash stack's root key in Key
// Protect, as the customer would.
func (cs *crashStack) setKeyEnabled(t *testing.T, enabled bool) {
	ops := cs.Emu.OperatorClient(t)
	var err error
	if enabled {
		err = ops.EnableKey(context.Background(), cs.key)
	} else {
		err = ops.DisableKey(context.Background(), cs.key)
	}
	require.NoError(t, err)
}

// keyState puts the root key enabled or disabled and runs reconciliations
// until every instance on it follows, so that a crash run starts from the
// state its reaction changes.
func (cs *crashStack) keyState(t *testing.T, enabled bool) {
	t.Helper()
	key, err := cs.Emu.OperatorClient(t).GetKeyMetadata(context.Background(), cs.key)
	require.NoError(t, err)
	if (key.State == contract.KPStateActive) != enabled {
		cs.setKeyEnabled(t, enabled)
	}
	want := "active"
	if !enabled {
		want = "suspended"
	}
	eventuallyWithin(t, 3*time.Minute, "instance "+cs.instance+" "+want, func() bool {
		_, run := cs.reconcileRun(t, -1)
		_ = <-run()
		return cs.Status(cs.instance).Nodes[0].State == want
	})
}

// reconcileRun is one ReconcileKeys run, as the schedule starts it.
func (cs *crashStack) reconcileRun(t *testing.T, i int) (string, func() <-chan error) {
	id := fmt.Sprintf("reconcile-crash-%d-%d", i, time.Now().UnixNano())
	return id, func() <-chan error {
		out := make(chan error, 1)
		go func() {
			run, err := cs.c.ExecuteWorkflow(context.Background(), client.StartWorkflowOptions{ID: id,
				TaskQueue: contract.ControlTaskQueue}, contract.WorkflowReconcileKeys,
				contract.ReconcileInput{Grace: contract.Duration(time.Hour), NodeDeadline: contract.Duration(2 * time.Minute)})
			if err == nil {
				var res contract.ReconcileResult
				err = run.Get(context.Background(), &res)
				for _, in := range res.Instances {
					if err == nil && in.Outcome != "done" {
						err = fmt.Errorf("reconcile of %s: %s", in.InstanceID, in.Outcome)
					}
				}
			}
			out <- err
		}()
		return out
	}
}

// referenceSteps runs w once without a crash and returns its steps.
func (cs *crashStack) referenceSteps(t *testing.T, w crashWorkflow) []step {
	id, run := w.next(t, 0)
	require.NoError(t, <-run(), "reference run of %s", w.name)
	return stepsOf(t, rawClient(t), id)
}

// crashMatrix crashes proc at every step of every workflow that runs on
// a queue selected by pick, one relCase each; make test runs one, from the
// middle of the first workflow.
func (cs *crashStack) crashMatrix(t *testing.T, class string, procOf func(step) string, pick func([]step) []step) {
	ran := 0
	for _, w := range cs.workflows() {
		if !relFull() && ran > 0 {
			return
		}
		steps := pick(cs.referenceSteps(t, w))
		if !relFull() && len(steps) > 0 {
			steps = steps[len(steps)/2 : len(steps)/2+1] // one step, from the middle
		}
		for _, st := range steps {
			ran++
			hold := holdAt(st, ran)
			relCase(t, class, w.name+" at "+hold, func(t *testing.T, row *relRow) {
				id, run := w.next(t, ran)
				err, took := cs.crashAt(t, procOf(st), hold, id, run)
				require.NoError(t, err, "%s after a crash of %s at %s", w.name, procOf(st), hold)
				row.recovered(took)
				cs.requireInvariants(t, relExpect{Rotations: map[string]int{cs.key: cs.rotations}})
			})
		}
	}
}

// holdAt is where the n-th case crashes at step st: alternately as the
// step starts (a crash before its work: is it retried?) and once its work
// is done but before its result reaches Temporal (a lost completion: is
// its retry idempotent?). make test's one case is of the second kind.
func holdAt(st step, n int) string {
	if relFull() && n%2 == 1 {
		return st.Activity
	}
	return st.Activity + ":after"
}

// TestReliability_CrashControlPlane: the control worker SIGKILLed at each
// control step of each workflow (provision, rotate, backup, restore, shred
// with approval, reconcile's suspend and resume), found running in
// Temporal; restarted, the workflow completes and the invariants hold.
func TestReliability_CrashControlPlane(t *testing.T) {
	cs := newCrashStack(t, 1) // the control plane's steps are the same for any number of nodes
	cs.crashMatrix(t, "crash-control", func(step) string { return "worker" },
		func(steps []step) []step { return onQueue(steps, contract.ControlTaskQueue, false) })
}

// TestReliability_CrashDataPlane: the node agent serving a step SIGKILLed
// at each node step of each workflow; restarted, the workflow completes.
func TestReliability_CrashDataPlane(t *testing.T) {
	cs := newCrashStack(t, 2) // a primary's and a standby's steps
	cs.crashMatrix(t, "crash-data", func(st step) string {
		return "node-" + strings.TrimPrefix(st.Queue, contract.NodeTaskQueue(""))
	},
		func(steps []step) []step { return onQueue(steps, contract.ControlTaskQueue, true) })
}
