package e2e

import (
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// scheduleDoc is `starter schedule describe --json`.
type scheduleDoc struct {
	ScheduleID string `json:"scheduleId"`
	Workflow   string `json:"workflow"`
	Paused     bool   `json:"paused"`
	Actions    int    `json:"actions"`
	Overlap    string `json:"overlap"`
	Running    []string
}

// schedule creates a schedule with the starter and deletes it when t ends.
func (s *Stack) schedule(t *testing.T, args ...string) string {
	var out struct {
		ScheduleID string `json:"scheduleId"`
	}
	s.mustJSON(&out, append(append([]string{"schedule"}, args...), "--json")...)
	t.Cleanup(func() { s.Starter("schedule", "delete", out.ScheduleID) })
	return out.ScheduleID
}

func (s *Stack) describeSchedule(id string) scheduleDoc {
	var d scheduleDoc
	s.mustJSON(&d, "schedule", "describe", id, "--json")
	return d
}

// keyVersion is the key version instance's primary node reports.
func (s *Stack) keyVersion(instance string) string {
	nodes := s.Status(instance).Nodes
	require.NotEmpty(s.t, nodes)
	return nodes[0].KeyVersion
}

func TestSchedules_RotationBackupRetentionAndFleet(t *testing.T) {
	s := dataStack(t)
	key := s.CreateRootKey("sched-root")
	a, b := UniqueName("sched-a"), UniqueName("sched-b")
	for _, name := range []string{a, b} {
		s.mustJSON(&statusDoc{}, "provision", "--instance", name, "--root-key", key, "--json")
	}

	t.Run("a rotation schedule rotates, pauses, triggers and deletes", func(t *testing.T) {
		id := s.schedule(t, "rotate", "--instance", a, "--every", "20s", "--jitter", "0")
		d := s.describeSchedule(id)
		require.Equal(t, "FleetRotate", d.Workflow)
		require.Equal(t, "skip", d.Overlap)
		versions := map[string]bool{s.keyVersion(a): true}
		eventuallyWithin(t, 2*time.Minute, "two scheduled rotations", func() bool {
			versions[s.keyVersion(a)] = true
			return len(versions) >= 3
		})
		r := s.Starter("schedule", "pause", id)
		require.Equal(t, 0, r.Code, r.Stderr)
		eventuallyWithin(t, time.Minute, "the last run ends", func() bool { return len(s.describeSchedule(id).Running) == 0 })
		paused := s.describeSchedule(id)
		require.True(t, paused.Paused)
		before := s.keyVersion(a)
		time.Sleep(25 * time.Second)
		require.Equal(t, paused.Actions, s.describeSchedule(id).Actions, "paused: no run")
		require.Equal(t, before, s.keyVersion(a))

		r = s.Starter("schedule", "trigger", id)
		require.Equal(t, 0, r.Code, r.Stderr)
		eventuallyWithin(t, time.Minute, "the triggered rotation", func() bool { return s.keyVersion(a) != before })

		r = s.Starter("schedules", "--json")
		require.Equal(t, 0, r.Code, r.Stderr)
		require.Contains(t, r.Stdout, id)
		r = s.Starter("schedule", "delete", id)
		require.Equal(t, 0, r.Code, r.Stderr)
		require.Equal(t, 1, s.Starter("schedule", "describe", id).Code, "deleted")
	})

	t.Run("a backup schedule with keep prunes what is older and refuses its restore", func(t *testing.T) {
		var old backupDoc
		s.mustJSON(&old, "backup", "--instance", b, "--json")
		oldFile := s.backupFile(old.BackupID)
		time.Sleep(3 * time.Second)
		id := s.schedule(t, "backup", "--instance", b, "--every", "1h", "--keep", "2s")
		require.Equal(t, 0, s.Starter("schedule", "trigger", id).Code)
		var list []backupDoc
		eventuallyWithin(t, 2*time.Minute, "the old backup pruned", func() bool {
			s.mustJSON(&list, "backups", "--instance", b, "--json")
			return len(list) == 2 && list[0].State == "pruned" && list[0].FileDeletedAt != ""
		})
		require.Equal(t, old.BackupID, list[0].BackupID)
		require.Equal(t, "complete", list[1].State, "the backup the run made is kept")
		require.NoFileExists(t, oldFile, "the pruned file is gone")
		require.FileExists(t, s.backupFile(list[1].BackupID))
		r := s.Starter("restore", "--backup", old.BackupID, "--instance", UniqueName("sched-copy"), "--root-key", key)
		require.Equal(t, 1, r.Code)
		require.Contains(t, r.Stderr, "[BackupPruned]")
		require.Contains(t, r.Stderr, "pruned by retention")
		matches, _ := filepath.Glob(filepath.Join(s.dataDir, "backups", old.BackupID+"*"))
		require.Empty(t, matches)
	})

	t.Run("a fleet rotation of the root key rotates every instance on it", func(t *testing.T) {
		before := s.keyVersion(b)
		id := s.schedule(t, "rotate", "--root-key", key, "--every", "1h", "--parallel", "2")
		require.Equal(t, 0, s.Starter("schedule", "trigger", id).Code)
		eventuallyWithin(t, 2*time.Minute, "both instances on one new version", func() bool {
			va, vb := s.keyVersion(a), s.keyVersion(b)
			return vb != before && va == vb
		})
		eventuallyWithin(t, time.Minute, "the fleet run ends", func() bool {
			d := s.describeSchedule(id)
			return d.Actions == 1 && len(d.Running) == 0
		})
		raw := s.Starter("schedule", "describe", id, "--json")
		var d map[string]any
		require.NoError(t, json.Unmarshal([]byte(raw.Stdout), &d))
		require.Equal(t, false, d["paused"], "the run succeeded: not paused on failure:\n%s", raw.Stdout)
	})
}
