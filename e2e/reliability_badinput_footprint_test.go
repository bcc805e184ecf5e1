package e2e

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/byokflow/byokflow/catalog"
)

// footprint is everything a refused operation could leave behind, for
// comparing before and after a bad-input case: catalog rows, files of the
// node agents, credentials and backups, what is on the hosts' volumes,
// servers, mounts, Key Protect registrations and keys.
type footprint struct {
	Instances     []string // "id=state" of every instance not failed
	Failed        []string // ids of failed instances
	Files         []string // under the stack's data directory, logs and attempt journals aside
	Volumes       []string // two levels of every host's volume
	Servers       []string
	Mounts        []string
	Registrations []string // CRNs registered with any key of the instance
	Keys          int      // keys in the dev Key Protect instance
}

// footprint takes the stack's footprint now.
func (s *Stack) footprint(t *testing.T, cat *catalog.Catalog) footprint {
	t.Helper()
	ctx := context.Background()
	var f footprint
	instances, err := cat.ListInstances(ctx)
	require.NoError(t, err)
	for _, in := range instances {
		if in.State == catalog.InstanceFailed {
			f.Failed = append(f.Failed, in.ID)
		} else {
			f.Instances = append(f.Instances, in.ID+"="+string(in.State))
		}
	}
	_ = filepath.WalkDir(s.dataDir, func(path string, d fs.DirEntry, err error) error {
		// A worker's attempt journal holds whatever attempt runs at the
		// moment (a host's lease renewal, say): not what a case left.
		if err == nil && !d.IsDir() && !strings.HasSuffix(path, ".log") && filepath.Base(filepath.Dir(path)) != "attempts" {
			f.Files = append(f.Files, strings.TrimPrefix(path, s.dataDir))
		}
		return nil
	})
	mounts, err := os.ReadFile("/proc/mounts")
	require.NoError(t, err)
	for h, v := range s.volumes {
		entries, _ := filepath.Glob(filepath.Join(v.Dir, "*", "*"))
		for _, e := range entries {
			f.Volumes = append(f.Volumes, h+":"+strings.TrimPrefix(e, v.Dir))
		}
		f.Servers = append(f.Servers, serversUnder(v.Dir)...)
		for _, line := range strings.Split(string(mounts), "\n") {
			if fields := strings.Fields(line); len(fields) > 1 && strings.HasPrefix(fields[1], v.Dir+"/") {
				f.Mounts = append(f.Mounts, fields[1])
			}
		}
	}
	ops := s.Emu.OperatorClient(t)
	regs, err := ops.ListRegistrations(ctx, "", "")
	require.NoError(t, err, "list registrations")
	for _, r := range regs.Registrations {
		f.Registrations = append(f.Registrations, r.KeyID+" "+r.ResourceCrn)
	}
	keys, err := ops.GetKeys(ctx, 0, 0)
	require.NoError(t, err, "list keys")
	f.Keys = len(keys.Keys)
	for _, l := range [][]string{f.Instances, f.Failed, f.Files, f.Volumes, f.Servers, f.Mounts, f.Registrations} {
		slices.Sort(l)
	}
	return f
}

// requireNothingNew: after equals before, except for new failed instances
// when the case may leave one (a restore that provisioned the new
// instance before it found the backup damaged and undid it); each of
// those must be gone without a trace (requireGone). It returns the new
// failed instances.
func (s *Stack) requireNothingNew(t *testing.T, cat *catalog.Catalog, before, after footprint, failedOK bool) []string {
	t.Helper()
	var newFailed []string
	for _, id := range after.Failed {
		if !slices.Contains(before.Failed, id) {
			newFailed = append(newFailed, id)
		}
	}
	if !failedOK {
		require.Empty(t, newFailed, "the refused operation left failed instance records")
	}
	for _, id := range newFailed {
		in, err := cat.GetInstance(context.Background(), id)
		require.NoError(t, err)
		s.requireGone(t, cat, in)
	}
	before.Failed, after.Failed = nil, nil
	require.Equal(t, before, after, "the refused operation left something behind")
	return newFailed
}
