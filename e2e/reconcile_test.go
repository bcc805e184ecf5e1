package e2e

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	kp "github.com/IBM/keyprotect-go-client"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"github.com/byokflow/byokflow/catalog"
	"github.com/byokflow/byokflow/contract"
	"github.com/byokflow/byokflow/emulator"
)

// reconcileEvery is the reconcile interval of these tests; a reaction must
// show within reconcileEvery + 30 s.
const reconcileEvery = 5 * time.Second

// reconciler runs ReconcileKeys every reconcileEvery, as the schedule
// would, through a codec-aware client. Holding mu pauses it.
type reconciler struct {
	c    client.Client
	mu   sync.Mutex
	n    int
	stop chan struct{}
	done chan struct{}
}

func (s *Stack) startReconciler(t *testing.T) *reconciler {
	r := &reconciler{c: s.codecClient(t), stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(r.done)
		tick := time.NewTicker(reconcileEvery)
		defer tick.Stop()
		for {
			select {
			case <-r.stop:
				return
			case <-tick.C:
				r.mu.Lock()
				_, err := r.tick(context.Background())
				r.mu.Unlock()
				if err != nil {
					t.Logf("reconcile tick: %v", err)
				}
			}
		}
	}()
	t.Cleanup(func() { close(r.stop); <-r.done })
	return r
}

// tick runs one ReconcileKeys to its end; the caller holds mu.
func (r *reconciler) tick(ctx context.Context) (contract.ReconcileResult, error) {
	r.n++
	var res contract.ReconcileResult
	run, err := r.c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: fmt.Sprintf("reconcile-e2e-%d-%d",
		time.Now().UnixNano(), r.n), TaskQueue: contract.ControlTaskQueue}, contract.WorkflowReconcileKeys,
		contract.ReconcileInput{Grace: contract.Duration(2 * reconcileEvery), NodeDeadline: contract.Duration(2 * time.Minute)})
	if err == nil {
		err = run.Get(ctx, &res)
	}
	return res, err
}

// catalogOf opens the stack's catalog, read by the tests without the
// starter (whose every run unwraps the codec key in Key Protect).
func (s *Stack) catalogOf(t *testing.T) *catalog.Catalog {
	cat, err := catalog.Open(context.Background(), s.envValue("BYOK_DATABASE_URL"))
	require.NoError(t, err)
	t.Cleanup(cat.Close)
	return cat
}

// waitNodes waits up to bound for every node of instance to satisfy ok
// and returns how long it took.
func waitNodes(t *testing.T, cat *catalog.Catalog, instance, what string, bound time.Duration,
	ok func(catalog.NodeStatus) bool) time.Duration {
	t.Helper()
	start := time.Now()
	for time.Since(start) < bound {
		nodes, err := cat.LatestStatus(context.Background(), instance)
		require.NoError(t, err)
		if len(nodes) > 0 && !slices.ContainsFunc(nodes, func(n catalog.NodeStatus) bool { return !ok(n) }) {
			return time.Since(start)
		}
		time.Sleep(200 * time.Millisecond)
	}
	nodes, _ := cat.LatestStatus(context.Background(), instance)
	t.Fatalf("instance %s: not every node %s within %s: %+v", instance, what, bound, nodes)
	return 0
}

func suspended(n catalog.NodeStatus) bool {
	return n.State == catalog.KeySuspended && !n.ServerUp && n.StorageKey != "present"
}

func serving(n catalog.NodeStatus) bool { return n.State == catalog.KeyActive && n.ServerUp }

func (s *Stack) writeMarker(t *testing.T, instance string) string {
	marker := newMarker()
	r := s.Starter("sql", "--instance", instance, "-c", "create table if not exists m (v text); insert into m values ('"+marker+"')")
	require.Equal(t, 0, r.Code, r.Stderr)
	return marker
}

func (s *Stack) requireMarker(t *testing.T, instance, marker string) {
	t.Helper()
	r := s.Starter("sql", "--instance", instance, "-c", "select v from m where v = '"+marker+"'")
	require.Equal(t, 0, r.Code, r.Stderr)
	require.Contains(t, r.Stdout, marker)
}

func pctl(d []time.Duration, p float64) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[min(len(s)-1, int(p*float64(len(s))))]
}

// TestReconcile_KeyProtectChangesMadeOutsideByokflow drives the customer's
// changes to root keys with the real Key Protect client while ReconcileKeys
// runs every reconcileEvery: disable / enable (5 runs, timed), a rotation by
// hand, 20% failing calls and an outage, delete and restore; and counts Key
// Protect's metadata reads of one tick.
func TestReconcile_KeyProtectChangesMadeOutsideByokflow(t *testing.T) {
	s := dataStack(t)
	cat := s.catalogOf(t)
	kpc := s.Emu.OperatorClient(t)
	ctx := context.Background()
	rec := s.startReconciler(t)
	bound := reconcileEvery + 30*time.Second

	t.Run("disable suspends, enable resumes", func(t *testing.T) {
		key := s.CreateRootKey("recon-disable-root")
		name := UniqueName("revoke")
		s.mustJSON(&statusDoc{}, "provision", "--instance", name, "--root-key", key, "--json")
		marker := s.writeMarker(t, name)
		var down, up []time.Duration
		for i := range 5 {
			require.NoError(t, kpc.DisableKey(ctx, key))
			down = append(down, waitNodes(t, cat, name, "suspended", bound, suspended))
			require.Empty(t, servers(name), "run %d: no server of the instance runs", i)
			r := s.Starter("sql", "--instance", name, "-c", "select 1")
			require.Equal(t, 1, r.Code, r.Stdout)
			require.Contains(t, r.Stderr, "[KeySuspended]")
			require.Contains(t, r.Stderr, "disabled root key "+key)
			require.Contains(t, r.Stderr, "enable the key in Key Protect")
			require.NoError(t, kpc.EnableKey(ctx, key))
			up = append(up, waitNodes(t, cat, name, "active", bound, serving))
			s.requireMarker(t, name, marker)
		}
		inst, err := cat.GetInstance(ctx, name)
		require.NoError(t, err)
		require.Empty(t, inst.SuspendedBy, "resumed: nobody holds it suspended")
		fmt.Printf("reconcile (every %s) over 5 runs: disable→every node suspended p50 %s max %s; "+
			"enable→every node active p50 %s max %s\n", reconcileEvery, pctl(down, 0.5).Round(100*time.Millisecond),
			slices.Max(down).Round(100*time.Millisecond), pctl(up, 0.5).Round(100*time.Millisecond),
			slices.Max(up).Round(100*time.Millisecond))
	})

	t.Run("an operator's suspend is not resumed", func(t *testing.T) {
		key := s.CreateRootKey("recon-operator-root")
		name := UniqueName("held")
		s.mustJSON(&statusDoc{}, "provision", "--instance", name, "--root-key", key, "--nodes", "1", "--json")
		s.mustJSON(&statusDoc{}, "suspend", "--instance", name, "--json")
		require.NoError(t, kpc.DisableKey(ctx, key))
		time.Sleep(2 * reconcileEvery)
		require.NoError(t, kpc.EnableKey(ctx, key))
		time.Sleep(3 * reconcileEvery)
		waitNodes(t, cat, name, "still suspended", time.Second, suspended)
		r := s.Starter("sql", "--instance", name, "-c", "select 1")
		require.Contains(t, r.Stderr, "starter resume", "the operator resumes it")
	})

	t.Run("a rotation by hand is rewrapped once per node", func(t *testing.T) {
		key := s.CreateRootKey("recon-rotate-root")
		name := UniqueName("rotated")
		s.mustJSON(&statusDoc{}, "provision", "--instance", name, "--root-key", key, "--json")
		rec.mu.Lock()
		before := s.Emu.Server.Stats()
		require.NoError(t, kpc.RotateV2(ctx, key, nil))
		meta, err := kpc.GetKeyMetadata(ctx, key)
		require.NoError(t, err)
		version := meta.KeyVersion.ID
		rec.mu.Unlock()
		waitNodes(t, cat, name, "on version "+version, bound, func(n catalog.NodeStatus) bool {
			return serving(n) && n.KeyVersionID == version
		})
		d := delta(before, s.Emu.Server.Stats())
		require.EqualValues(t, 3, d[emulator.OpRewrap]+d[emulator.OpUnwrap], "one rewrap per node: %v", d)
	})

	t.Run("Key Protect failing suspends nothing", func(t *testing.T) {
		key := s.CreateRootKey("recon-faults-root")
		name := UniqueName("flaky")
		s.mustJSON(&statusDoc{}, "provision", "--instance", name, "--root-key", key, "--nodes", "1", "--json")
		notSuspended := func() {
			nodes, err := cat.LatestStatus(ctx, name)
			require.NoError(t, err)
			for _, n := range nodes {
				require.NotEqual(t, catalog.KeySuspended, n.State)
				require.True(t, n.ServerUp, "node %s serves from the DEK in memory", n.NodeID)
			}
		}
		s.Emu.Server.SetFaults(emulator.Faults{Rate503: 0.2})
		for end := time.Now().Add(3 * reconcileEvery); time.Now().Before(end); time.Sleep(time.Second) {
			notSuspended()
		}
		// The client's retries absorb most 20% failures: a full outage
		// makes every read of the key fail.
		s.Emu.Server.SetFaults(emulator.Faults{}.OutageFor(time.Now(), time.Hour))
		waitNodes(t, cat, name, "unreachable", bound, func(n catalog.NodeStatus) bool {
			return n.State == catalog.KeyUnreachable && n.ServerUp
		})
		notSuspended()
		require.Len(t, servers(name), 1, "the server runs on")
		st := s.Starter("status", "--instance", name, "--json")
		require.Contains(t, st.Stdout, `"unreachableSince"`, "starter status shows the mark")
		auditOps := func() string {
			events, err := cat.ListAudit(ctx, name)
			require.NoError(t, err)
			ops := ""
			for _, e := range events {
				ops += e.Operation + " "
			}
			return ops
		}
		eventuallyWithin(t, 2*time.Minute, "the outage raised after the grace window", func() bool {
			return strings.Contains(auditOps(), "reconcile.kp-unreachable-beyond-grace")
		})
		notSuspended()
		s.Emu.Server.SetFaults(emulator.Faults{})
		waitNodes(t, cat, name, "active again", bound, serving)
		inst, err := cat.GetInstance(ctx, name)
		require.NoError(t, err)
		require.True(t, inst.KPUnreachableSince.IsZero(), "the mark is cleared")
		ops := auditOps()
		require.Contains(t, ops, "reconcile.unreachable")
		require.Contains(t, ops, "reconcile.reachable")
	})

	t.Run("delete then restore brings the data back", func(t *testing.T) {
		key := s.CreateRootKey("recon-delete-root")
		name := UniqueName("deleted")
		s.mustJSON(&statusDoc{}, "provision", "--instance", name, "--root-key", key, "--nodes", "2", "--json")
		marker := s.writeMarker(t, name)
		_, err := kpc.DeleteKey(ctx, key, kp.ReturnMinimal, kp.ForceOpt{Force: true})
		require.NoError(t, err)
		waitNodes(t, cat, name, "suspended", bound, suspended)
		eventually(t, "instance key_destroyed", func() bool {
			inst, err := cat.GetInstance(ctx, name)
			return err == nil && inst.State == catalog.InstanceKeyDestroyed
		})
		r := s.Starter("sql", "--instance", name, "-c", "select 1")
		require.Contains(t, r.Stderr, "[KeyDestroyed]")
		require.Contains(t, r.Stderr, "restore the key")
		_, err = kpc.RestoreKey(ctx, key)
		require.NoError(t, err)
		waitNodes(t, cat, name, "active", bound, serving)
		s.requireMarker(t, name, marker)
	})

	t.Run("one Key Protect call per key in use per tick", func(t *testing.T) {
		live, err := cat.LiveInstances(ctx)
		require.NoError(t, err)
		keys := map[string]bool{}
		for _, in := range live {
			keys[in.KPInstanceID+"/"+in.RootKeyID] = true
		}
		rec.mu.Lock()
		defer rec.mu.Unlock()
		before := s.Emu.Server.Stats()
		res, err := rec.tick(ctx)
		require.NoError(t, err)
		d := delta(before, s.Emu.Server.Stats())
		require.Len(t, res.Keys, len(keys))
		require.EqualValues(t, len(keys), d[emulator.OpGetKeyMetadata], "%v", d)
		for k, n := range d {
			require.True(t, k == emulator.OpGetKeyMetadata || strings.HasPrefix(k, "token") || n == 0,
				"no other Key Protect call in a quiet tick: %v", d)
		}
	})

	// Last: it moves the emulator's clock a month ahead.
	t.Run("a rotation by Key Protect's policy is rewrapped once per node", func(t *testing.T) {
		key := s.CreateRootKey("recon-policy-root")
		name := UniqueName("policy")
		s.mustJSON(&statusDoc{}, "provision", "--instance", name, "--root-key", key, "--json")
		r := s.Starter("keys", "policy", "--root-key", key, "--rotation-months", "1")
		require.Equal(t, 0, r.Code, r.Stderr)
		rec.mu.Lock()
		before := s.Emu.Server.Stats()
		s.Emu.Advance(t, 31*24*time.Hour)
		meta, err := kpc.GetKeyMetadata(ctx, key)
		require.NoError(t, err)
		version := meta.KeyVersion.ID
		rec.mu.Unlock()
		require.NotEqual(t, key, version, "Key Protect rotated the key by its policy")
		waitNodes(t, cat, name, "on version "+version, bound, func(n catalog.NodeStatus) bool {
			return serving(n) && n.KeyVersionID == version
		})
		d := delta(before, s.Emu.Server.Stats())
		require.EqualValues(t, 3, d[emulator.OpRewrap]+d[emulator.OpUnwrap], "one rewrap per node: %v", d)
		require.Zero(t, d[emulator.OpRotate], "byokflow did not rotate: Key Protect did")
	})
}
