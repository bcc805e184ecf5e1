package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/byokflow/byokflow/node/fscrypt"
)

// healthDoc is the part of `starter status --json` that says whether the
// instance is whole: its state and the nodes that are not serving.
type healthDoc struct {
	State  string `json:"state"`
	Health []struct {
		Node   string `json:"node"`
		Host   string `json:"host"`
		Reason string `json:"reason"`
	} `json:"health"`
}

// health reads the instance's state and unhealthy nodes from the starter.
func (s *Stack) health(t *testing.T, instance string) healthDoc {
	t.Helper()
	var doc healthDoc
	s.mustJSON(&doc, "status", "--instance", instance, "--json")
	return doc
}

// requireCompensated asserts a provision that failed after recording its
// instance undid it all: the record is failed (kept for audit) or gone,
// and nothing else of it is left (requireNoFootprint).
func (s *Stack) requireCompensated(t *testing.T, keyID, instance string) {
	t.Helper()
	if r := s.Starter("status", "--instance", instance, "--json"); r.Code == 0 {
		var doc statusDoc
		require.NoError(t, json.Unmarshal([]byte(r.Stdout), &doc), r.Stdout)
		require.Equal(t, "failed", doc.State, "the record of %s after its failed provision", instance)
	}
	s.requireNoFootprint(t, keyID, instance)
}

// hostDown takes host h down as a lost machine goes: its node agent and
// every server under its volume killed with SIGKILL (nothing shut down
// cleanly), and the fscrypt keys of storageKeyIDs (status reports' ids)
// removed, as the machine's memory is lost with it.
func (s *Stack) hostDown(t *testing.T, h string, storageKeyIDs ...string) {
	t.Helper()
	s.KillNode(h)
	dir := s.volumes[h].Dir
	killServersUnder(t, dir)
	pollEvery(t, 10*time.Second, "the servers of host "+h+" to exit", func() bool { return len(serversUnder(dir)) == 0 })
	for _, k := range storageKeyIDs {
		id, err := fscrypt.ParseIdentifier(k)
		require.NoError(t, err)
		pollEvery(t, 10*time.Second, "fscrypt key "+k+" of host "+h+" to be removed", func() bool {
			rm, err := fscrypt.RemoveKey(dir, id)
			require.NoError(t, err)
			return rm.Complete()
		})
	}
}

// killServersUnder kills, with SIGKILL, the process group of every
// postgres server whose data directory is under root: the postmaster and
// its backends, as a power loss would.
func killServersUnder(t *testing.T, root string) {
	t.Helper()
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		b, err := os.ReadFile(p)
		args := strings.Split(string(b), "\x00")
		if err != nil || len(args) < 3 || !strings.HasSuffix(args[0], "/postgres") || args[1] != "-D" ||
			!strings.HasPrefix(args[2], root+"/") {
			continue
		}
		pid, err := strconv.Atoi(filepath.Base(filepath.Dir(p)))
		require.NoError(t, err)
		if pgid, err := syscall.Getpgid(pid); err == nil && pgid > 1 && pgid != syscall.Getpgrp() {
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
		}
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
}

// pollEvery polls cond every half second (each poll may run the starter,
// which unwraps the codec key) until it holds, failing t after within.
func pollEvery(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(within); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out after %s waiting for %s", within, what)
}
