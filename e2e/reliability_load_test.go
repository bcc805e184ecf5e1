package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestReliability_Load provisions n one-node instances at once, each under
// a root key of its own, then rotates all n at once: every run must exit
// 0, every rotation must rotate its key (exactly once, the invariants
// check), and the invariants must hold. It records the latency of each
// run, p50/p95 of each phase and its wall time, and the peak resident
// memory (VmHWM) of the worker and of each node agent. n is 4 in make test
// and 20 in the full suite.
//
// Placement puts node 1 of every instance on host a (activities'
// placeNodes: round-robin from the first host by name), so all n servers
// run on host a; agents b and c only check in.
func TestReliability_Load(t *testing.T) {
	n := 4
	if relFull() {
		n = 20
	}
	relCase(t, "load", fmt.Sprintf("%d provisions at once, then %d rotations at once", n, n), func(t *testing.T, row *relRow) {
		defer func(mib int) { stackVolumeMiB = mib }(stackVolumeMiB)
		stackVolumeMiB = 4096 // n servers with their WAL on host a
		s := dataStack(t)
		keys, names := make([]string, n), make([]string, n)
		kpc := s.Emu.OperatorClient(t)
		for i := range n {
			k, err := kpc.CreateRootKey(context.Background(), fmt.Sprintf("load-%d", i), nil)
			require.NoError(t, err)
			keys[i], names[i] = k.ID, UniqueName(fmt.Sprintf("load%d", i))
		}
		s.loadPhase(t, row, "provision", n, func(i int) []string {
			return []string{"provision", "--instance", names[i], "--root-key", keys[i], "--nodes", "1", "--json"}
		})
		outs := s.loadPhase(t, row, "rotate", n, func(i int) []string {
			return []string{"rotate", "--instance", names[i], "--json"}
		})
		rotations := map[string]int{}
		for i, out := range outs {
			var rot struct{ Rotated bool }
			require.NoError(t, json.Unmarshal([]byte(out), &rot))
			require.True(t, rot.Rotated, "rotation of instance %s rotated root key %s", names[i], keys[i])
			rotations[keys[i]]++
		}
		s.recordPeaks(t, row)
		s.requireInvariants(t, relExpect{Rotations: rotations})
	})
}

// loadPhase runs the starter with args(i) for i < n, all at once, requires
// every run to exit 0, records each run's latency and the phase's p50,
// p95 and wall time, and returns each run's output.
func (s *Stack) loadPhase(t *testing.T, row *relRow, kind string, n int, args func(i int) []string) []string {
	t.Helper()
	took, outs := make([]time.Duration, n), make([]string, n)
	var wg sync.WaitGroup
	start := time.Now()
	results := make([]Result, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t0 := time.Now()
			results[i] = <-s.StarterAsync(args(i)...)
			took[i] = time.Since(t0)
		}()
	}
	wg.Wait()
	wall := time.Since(start)
	for i, r := range results {
		require.Equal(t, 0, r.Code, "starter %s:\n%s", strings.Join(args(i), " "), r.Stderr)
		outs[i] = r.Stdout
		row.took(took[i])
	}
	row.note("%d %ss at once: p50 %s p95 %s, all done in %s", n, kind, durPct(took, 50), durPct(took, 95),
		wall.Round(10*time.Millisecond))
	return outs
}

// recordPeaks records the peak resident memory of the worker and of each
// node agent.
func (s *Stack) recordPeaks(t *testing.T, row *relRow) {
	t.Helper()
	for _, name := range append([]string{"worker"}, "node-a", "node-b", "node-c") {
		pid := s.pid(name)
		require.NotZero(t, pid, "%s runs", name)
		kib, err := peakRSS(pid)
		require.NoError(t, err)
		row.peaked(name, kib)
	}
}

// pid is the process id of the stack's process name ("worker",
// "node-a", ...), or 0 when it does not run.
func (s *Stack) pid(name string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if cmd := s.procs[name]; cmd != nil && cmd.Process != nil {
		return cmd.Process.Pid
	}
	return 0
}

// peakRSS is the peak resident set size (VmHWM) of process pid in KiB.
func peakRSS(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			return strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		}
	}
	return 0, fmt.Errorf("no VmHWM in /proc/%d/status", pid)
}
