package e2e

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/byokflow/byokflow/catalog"
	"github.com/byokflow/byokflow/emulator"
	"github.com/byokflow/byokflow/node"
	"github.com/byokflow/byokflow/node/fscrypt"
)

// relExpect is what a case knows it did, for requireInvariants.
type relExpect struct {
	// Rotations is, per root key, how many rotations Key Protect must
	// have made in all (one per RotateRootKey that rotated).
	Rotations map[string]int
	// Checksums are content checksums (s.checksums) that must be unchanged.
	Checksums map[string]map[string]string
	// Secrets asks for the secret scan of histories, logs and catalog rows
	// (slower: every history is read and decoded).
	Secrets bool
}

// requireInvariants checks, after a case, what must hold whatever the case
// did: every instance is either live and whole or gone without a trace; no
// orphan server, key slot, node directory, fscrypt key, mount or backup
// file; one registration per live instance; exactly the expected Key
// Protect rotations; checksums unchanged; no secret anywhere.
func (s *Stack) requireInvariants(t *testing.T, ex relExpect) {
	t.Helper()
	ctx := context.Background()
	cat := s.catalogOf(t)
	instances, err := cat.ListInstances(ctx)
	require.NoError(t, err)
	known := map[string]bool{}
	for _, in := range instances {
		known[in.ID] = true
		require.False(t, in.Attention.Set(), "instance %s needs attention: %+v", in.ID, in.Attention)
		switch in.State {
		case catalog.InstanceActive:
			s.requireWhole(t, cat, in)
		case catalog.InstanceFailed, catalog.InstanceShredded:
			s.requireGone(t, cat, in)
		case catalog.InstanceKeyDestroyed:
			require.Empty(t, servers(in.ID), "instance %s, key destroyed, has no server", in.ID)
		default:
			t.Errorf("instance %s is left %s: a workflow did not finish its work or its compensation", in.ID, in.State)
		}
	}
	s.requireNoOrphans(t, known)
	s.requireBackupFiles(t, cat)
	for key, n := range ex.Rotations {
		require.Len(t, s.succeeded(key, emulator.OpRotate), n, "Key Protect rotations of root key %s", key)
	}
	for inst, want := range ex.Checksums {
		require.Equal(t, want, s.checksums(t, inst), "content of instance %s unchanged", inst)
	}
	if ex.Secrets {
		s.requireNoSecrets(t, instances)
	}
}

// requireWhole: a live instance's nodes all serve, active (or
// rewrap_required, when the key was rotated for another instance), or all
// are suspended (by the operator or the customer's key), and Key Protect
// holds exactly one registration of it.
func (s *Stack) requireWhole(t *testing.T, cat *catalog.Catalog, in catalog.Instance) {
	t.Helper()
	nodes, err := cat.LatestStatus(context.Background(), in.ID)
	require.NoError(t, err)
	require.Len(t, nodes, in.NodeCount, "instance %s has its nodes", in.ID)
	running := servers(in.ID)
	if in.SuspendedBy != "" {
		require.Empty(t, running, "suspended instance %s serves nothing", in.ID)
	} else {
		require.Len(t, running, in.NodeCount, "instance %s: one server per node", in.ID)
		for _, n := range nodes {
			// rewrap_required serves too: another instance on the same
			// root key rotated it, and this one's rewrap is the
			// reconciliation's (or `starter rotate --rewrap-only`).
			require.Contains(t, []catalog.KeyState{catalog.KeyActive, catalog.KeyRewrapRequired}, n.State,
				"instance %s node %s: %s", in.ID, n.NodeID, n.Detail)
			require.True(t, n.ServerUp, "instance %s node %s serves", in.ID, n.NodeID)
		}
	}
	for _, n := range nodes {
		require.NotEmpty(t, s.slotFiles(in.ID+"/"+n.NodeID), "instance %s node %s has its key slot", in.ID, n.NodeID)
	}
	require.Equal(t, 1, s.registrations(t, in), "registrations of instance %s", in.ID)
}

// requireGone: a failed or shredded instance left nothing: no server, key
// slot, node directory, fscrypt key in any kernel keyring of the volumes,
// registration.
func (s *Stack) requireGone(t *testing.T, cat *catalog.Catalog, in catalog.Instance) {
	t.Helper()
	require.Empty(t, servers(in.ID), "%s instance %s has no server", in.State, in.ID)
	require.Empty(t, s.slotFiles(in.ID), "%s instance %s has no key slot", in.State, in.ID)
	require.Empty(t, s.nodeFiles(in.ID), "%s instance %s has no node directory", in.State, in.ID)
	require.Zero(t, s.registrations(t, in), "%s instance %s has no registration", in.State, in.ID)
	nodes, err := cat.LatestStatus(context.Background(), in.ID)
	require.NoError(t, err)
	for _, n := range nodes {
		history, err := cat.ReportHistory(context.Background(), in.ID, n.NodeID)
		require.NoError(t, err)
		for _, r := range history {
			s.requireKeyAbsent(t, r.StorageKeyID, in.ID+"/"+n.NodeID)
		}
	}
}

// requireKeyAbsent: the fscrypt key id (from a report) is on no volume.
func (s *Stack) requireKeyAbsent(t *testing.T, keyID, node string) {
	t.Helper()
	id, err := fscrypt.ParseIdentifier(keyID)
	if err != nil {
		return // the report came before the node had storage
	}
	for h, v := range s.volumes {
		st, err := fscrypt.KeyStatus(v.Dir, id)
		require.NoError(t, err)
		require.Equal(t, fscrypt.StatusAbsent, st, "fscrypt key %s of gone node %s on host %s", keyID, node, h)
	}
}

// registrations counts Key Protect's registrations of in's CRN on its key.
func (s *Stack) registrations(t *testing.T, in catalog.Instance) int {
	t.Helper()
	regs, err := s.Emu.OperatorClient(t).ListRegistrations(context.Background(), in.RootKeyID, "")
	if err != nil {
		require.Contains(t, err.Error(), "KEY_NOT_FOUND_ERR", "list registrations of key %s", in.RootKeyID)
		return 0
	}
	n := 0
	for _, r := range regs.Registrations {
		if r.ResourceCrn == in.CRN {
			n++
		}
	}
	return n
}

// requireNoOrphans: every server, node directory and mount under the
// hosts' volumes belongs to an instance the catalog knows.
func (s *Stack) requireNoOrphans(t *testing.T, known map[string]bool) {
	t.Helper()
	for h, v := range s.volumes {
		for _, dir := range serversUnder(v.Dir) {
			inst := strings.SplitN(strings.TrimPrefix(dir, v.Dir+"/"), "/", 2)[0]
			require.True(t, known[inst], "server %s on host %s belongs to no instance", dir, h)
		}
		entries, err := os.ReadDir(v.Dir)
		require.NoError(t, err)
		sockets := map[string]bool{} // the node agent's socket directories: run/<hash of instance/node>
		for _, e := range entries {
			if e.IsDir() && e.Name() != "lost+found" && e.Name() != "run" && !strings.HasPrefix(e.Name(), ".") {
				require.True(t, known[e.Name()], "directory %s on host %s belongs to no instance", e.Name(), h)
				nodes, _ := os.ReadDir(filepath.Join(v.Dir, e.Name()))
				for _, n := range nodes {
					sockets[filepath.Base(node.SocketDir(v.Dir, e.Name(), n.Name()))] = true
				}
			}
		}
		runs, _ := os.ReadDir(filepath.Join(v.Dir, "run"))
		for _, r := range runs {
			require.True(t, sockets[r.Name()], "socket directory run/%s on host %s belongs to no node", r.Name(), h)
		}
		mounts, err := os.ReadFile("/proc/mounts")
		require.NoError(t, err)
		for _, line := range strings.Split(string(mounts), "\n") {
			if f := strings.Fields(line); len(f) > 1 && strings.HasPrefix(f[1], v.Dir+"/") {
				t.Errorf("mount %s inside host %s's volume", f[1], h)
			}
		}
	}
}

// requireBackupFiles: every file of the backup store is a complete (or,
// its key destroyed, unrecoverable) backup of the catalog whose file was
// not deleted; no temporary file.
func (s *Stack) requireBackupFiles(t *testing.T, cat *catalog.Catalog) {
	t.Helper()
	require.Empty(t, s.tmpBackups(), "half-written backup files")
	files, _ := filepath.Glob(filepath.Join(s.dataDir, "backups", "*"))
	var want []string
	instances, err := cat.ListInstances(context.Background())
	require.NoError(t, err)
	for _, in := range instances {
		backups, err := cat.ListBackups(context.Background(), in.ID)
		require.NoError(t, err)
		for _, b := range backups {
			if b.FileDeletedAt == nil && (b.State == catalog.BackupComplete || b.State == catalog.BackupUnrecoverable) {
				want = append(want, b.Location)
			}
		}
	}
	for _, f := range files {
		require.True(t, slices.ContainsFunc(want, func(loc string) bool { return strings.HasSuffix(loc, filepath.Base(f)) }),
			"backup file %s belongs to no complete backup of the catalog", f)
	}
}

// requireNoSecrets scans every history (raw and decoded), log and catalog
// row of the stack for every secret it made.
func (s *Stack) requireNoSecrets(t *testing.T, instances []catalog.Instance) {
	t.Helper()
	ids := make([]string, len(instances))
	for i, in := range instances {
		ids[i] = in.ID
	}
	places := append(s.logs(t), s.catalogRows(t)...)
	if len(ids) > 0 { // no instance, no query: an empty one would list every test's workflows
		raw := rawClient(t)
		places = append(append(places, s.histories(t, raw, ids, false)...), s.histories(t, raw, ids, true)...)
	}
	require.Empty(t, findSecrets(s.secrets(t), places), "secrets found")
}
