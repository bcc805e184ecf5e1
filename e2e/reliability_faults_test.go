package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/byokflow/byokflow/emulator"
)

// faultsPlan is one run of the kp-faults class: chains of operations (each
// on instances and root keys of its own, its operations one after the
// other), parallel chains at once, and one outage of Key Protect and IAM
// that opens when half the workflows have started.
type faultsPlan struct {
	chains   []string // "life", "restore", "shred" or "pause": see faultsMix.steps
	parallel int
	outage   time.Duration
}

// faultsPlanNow is the plan of this run: 6 workflows, 2 chains at once,
// and a 10-second outage in make test (a shorter one ends within the Key
// Protect client's own retries, ~5 s, and so tests nothing of byokflow's);
// 50 workflows, all 8 chains at once (one round of provisions), and a
// 30-second outage in the full suite.
func faultsPlanNow() faultsPlan {
	if relFull() {
		return faultsPlan{parallel: 8, outage: 30 * time.Second,
			chains: []string{"life", "restore", "shred", "life", "life", "shred", "life", "life"}}
	}
	return faultsPlan{parallel: 2, outage: 10 * time.Second, chains: []string{"pause", "shred"}}
}

// chainLen is the number of workflows of each kind of chain.
var chainLen = map[string]int{"life": 8, "restore": 4, "shred": 3, "pause": 3}

// workflows is how many workflows the plan runs.
func (p faultsPlan) workflows() (n int) {
	for _, c := range p.chains {
		n += chainLen[c]
	}
	return n
}

// TestReliability_KPFaults runs a mix of workflows through the starter
// while Key Protect and IAM answer 10% of all calls 429 and 10% 503, every
// call takes 200 ms more, and one outage refuses every call for a while:
// every workflow must complete, every rotation must rotate its key exactly
// once, and the invariants must hold. It records the latency of each kind
// of workflow, the Key Protect calls each made (faulted ones too), and,
// for workflows the outage caught, the time from its end to theirs.
func TestReliability_KPFaults(t *testing.T) {
	plan := faultsPlanNow()
	name := fmt.Sprintf("%d mixed workflows, %d at once, 20%% 429/503 + 200 ms, a %s outage",
		plan.workflows(), plan.parallel, plan.outage)
	relCase(t, "kp-faults", name, func(t *testing.T, row *relRow) {
		s := dataStack(t)
		m := newFaultsMix(t, s, plan)
		before := s.Emu.Server.Stats()
		s.Emu.Server.SetFaults(emulator.Faults{Latency: 200 * time.Millisecond, Rate429: 0.1, Rate503: 0.1})
		m.runAll()
		require.False(t, m.outageFrom.IsZero(), "the outage opened")
		<-m.outageOver
		s.Emu.Server.SetFaults(emulator.Faults{})
		m.report(row, delta(before, s.Emu.Server.Stats()))
		require.Empty(t, m.failed, "every workflow completes despite the faults")
		require.Len(t, m.ops, plan.workflows())
		require.Positive(t, m.refused, "Key Protect and IAM refused calls during the outage")
		s.requireInvariants(t, relExpect{Rotations: m.rotations})
	})
}

// faultsMix runs a plan's chains and keeps what they did.
type faultsMix struct {
	s          *Stack
	plan       faultsPlan
	keys       [][2]string // per chain: its root key and its restore's
	mu         sync.Mutex
	started    int
	outageFrom time.Time
	ops        []mixOp
	rotations  map[string]int // per root key: rotations the starter reported
	failed     []string
	refused    int64         // calls answered 503 during the outage
	outageOver chan struct{} // closed once refused is counted
}

// mixOp is one workflow run: its kind, the root keys it used, its times.
type mixOp struct {
	kind       string
	keys       []string
	start, end time.Time
}

// newFaultsMix creates the chains' root keys (before any fault).
func newFaultsMix(t *testing.T, s *Stack, plan faultsPlan) *faultsMix {
	m := &faultsMix{s: s, plan: plan, rotations: map[string]int{}, outageOver: make(chan struct{})}
	kpc := s.Emu.OperatorClient(t)
	for i := range plan.chains {
		var pair [2]string
		for j := range pair {
			k, err := kpc.CreateRootKey(context.Background(), fmt.Sprintf("faults-%d-%d", i, j), nil)
			require.NoError(t, err)
			pair[j] = k.ID
		}
		m.keys = append(m.keys, pair)
	}
	return m
}

// runAll runs the chains, plan.parallel at once, and waits for them.
func (m *faultsMix) runAll() {
	next := make(chan int)
	var wg sync.WaitGroup
	for range m.plan.parallel {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				m.runChain(i)
			}
		}()
	}
	for i := range m.plan.chains {
		next <- i
	}
	close(next)
	wg.Wait()
}

// runChain runs chain i's steps in order, stopping at the first failure.
func (m *faultsMix) runChain(i int) {
	for _, step := range m.steps(m.plan.chains[i], m.keys[i][0], m.keys[i][1]) {
		if !step() {
			return
		}
	}
}

// steps are a chain's workflows. life: provision, rotate, backup,
// suspend, resume, rotate, backup, rotate. restore: provision, backup, restore into a new
// instance under a second key, rotate the copy. shred: provision, rotate,
// shred (which destroys the chain's root key). pause: provision, suspend,
// resume.
func (m *faultsMix) steps(chain, key, key2 string) []func() bool {
	name, copyName := UniqueName("faults-"+chain), UniqueName("faults-copy")
	var b backupDoc
	provision := func() bool {
		return m.run("provision", []string{key}, nil, "provision", "--instance", name, "--root-key", key)
	}
	rotate := func(inst, k string) func() bool { return func() bool { return m.rotate(inst, k) } }
	backup := func() bool { return m.run("backup", []string{key}, &b, "backup", "--instance", name) }
	on := func(verb string) func() bool {
		return func() bool { return m.run(verb, []string{key}, nil, verb, "--instance", name) }
	}
	switch chain {
	case "life":
		return []func() bool{provision, rotate(name, key), backup, on("suspend"), on("resume"), rotate(name, key),
			backup, rotate(name, key)}
	case "restore":
		restore := func() bool {
			return m.run("restore", []string{key, key2}, nil, "restore", "--backup", b.BackupID, "--instance", copyName, "--root-key", key2,
				"--nodes", "1")
		}
		return []func() bool{provision, backup, restore, rotate(copyName, key2)}
	case "pause":
		return []func() bool{provision, on("suspend"), on("resume")}
	default:
		return []func() bool{provision, rotate(name, key), on("shred")}
	}
}

// rotate runs a rotation, which must rotate key, and counts it.
func (m *faultsMix) rotate(instance, key string) bool {
	var out struct{ Rotated bool }
	if !m.run("rotate", []string{key}, &out, "rotate", "--instance", instance) {
		return false
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if !out.Rotated {
		m.failed = append(m.failed, fmt.Sprintf("rotate of instance %s did not rotate root key %s", instance, key))
		return false
	}
	m.rotations[key]++
	return true
}

// run runs one workflow through the starter (--json, decoded into out when
// given), opening the outage when it is the middle one, and records it.
func (m *faultsMix) run(kind string, keys []string, out any, args ...string) bool {
	m.begin()
	start := time.Now()
	r := <-m.s.StarterAsync(append(args, "--json")...)
	m.mu.Lock()
	defer m.mu.Unlock()
	m.ops = append(m.ops, mixOp{kind, keys, start, time.Now()})
	var err error
	if r.Code == 0 && out != nil {
		err = json.Unmarshal([]byte(r.Stdout), out)
	}
	if r.Code != 0 || err != nil {
		m.failed = append(m.failed, fmt.Sprintf("starter %s: exit %d (%v): %s", strings.Join(args, " "), r.Code, err, r.Stderr))
		return false
	}
	return true
}

// begin counts a workflow's start; the middle one opens the outage, and
// the calls refused are counted when it closes.
func (m *faultsMix) begin() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.started++
	if m.started != m.plan.workflows()/2+1 {
		return
	}
	emu, before := m.s.Emu.Server, m.s.Emu.Server.FaultedResponses()
	m.outageFrom = time.Now()
	emu.SetFaults(emu.Faults().OutageFor(m.outageFrom, m.plan.outage))
	time.AfterFunc(m.plan.outage, func() {
		m.mu.Lock()
		defer m.mu.Unlock()
		m.refused = total(delta(before, emu.FaultedResponses()))
		close(m.outageOver)
	})
}

// kindTally is what the runs of one kind of workflow did.
type kindTally struct {
	runs, calls, faulted int64
	took                 []time.Duration
}

// report records on row each workflow's latency, per kind of workflow its
// latencies and Key Protect calls (on the root keys it used, faulted ones
// included) per run, the recovery of the workflows the outage caught, and
// what the emulator served in all (all: Stats deltas).
func (m *faultsMix) report(row *relRow, all map[string]int64) {
	records := m.s.Emu.Server.Activity(emulator.ActivityFilter{})
	until := m.outageFrom.Add(m.plan.outage)
	kinds := map[string]*kindTally{}
	var order []string
	for _, op := range m.ops {
		k := kinds[op.kind]
		if k == nil {
			k = &kindTally{}
			kinds[op.kind], order = k, append(order, op.kind)
		}
		calls, faulted := op.calls(records)
		k.runs, k.calls, k.faulted = k.runs+1, k.calls+calls, k.faulted+faulted
		k.took = append(k.took, op.end.Sub(op.start))
		row.took(op.end.Sub(op.start))
		if op.start.Before(until) && op.end.After(until) {
			row.recovered(op.end.Sub(until)) // the outage caught it: from the outage's end to its end
		}
	}
	for _, kind := range order {
		k := kinds[kind]
		row.called(map[string]int64{kind + "/runs": k.runs, kind + "/kp_calls": k.calls, kind + "/kp_faulted": k.faulted})
		row.note("%s: p50 %s p95 %s, %.1f KP calls/run (%.1f faulted)", kind, durPct(k.took, 50), durPct(k.took, 95),
			float64(k.calls)/float64(k.runs), float64(k.faulted)/float64(k.runs))
	}
	faulted := m.s.Emu.Server.FaultedResponses()
	row.called(map[string]int64{"all/requests": total(all), "all/faulted": total(faulted),
		"all/tokens": all[emulator.OpToken], "all/tokens_faulted": faulted[emulator.OpToken]})
	row.note("outage: %d calls (Key Protect and IAM) refused in %s", m.refused, m.plan.outage)
}

// calls counts the Key Protect calls on op's root keys while it ran, and
// of those the ones answered with an injected fault (429 or 503).
func (op mixOp) calls(records []emulator.ActivityRecord) (calls, faulted int64) {
	for _, r := range records {
		if r.Time.Before(op.start) || r.Time.After(op.end) || !slices.Contains(op.keys, r.KeyID) {
			continue
		}
		calls++
		if r.Status == 429 || r.Status == 503 {
			faulted++
		}
	}
	return calls, faulted
}

// total is the sum of m's counts.
func total(m map[string]int64) int64 {
	var n int64
	for _, v := range m {
		n += v
	}
	return n
}
