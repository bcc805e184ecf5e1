package e2e

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/byokflow/byokflow/node/fscrypt/fscrypttest"
)

// countOnDisk flushes every filesystem and the page cache, then counts the
// occurrences of marker in the raw volume images and in every file of the
// stack's data directory (agent logs, key slots, backups, credentials).
func (s *Stack) countOnDisk(t *testing.T, marker string) int {
	t.Helper()
	require.NoError(t, exec.Command("sync").Run())
	fscrypttest.DropCaches(t)
	n := 0
	for _, v := range s.volumes {
		n += countInFile(t, v.Image, marker)
	}
	_ = filepath.WalkDir(s.dataDir, func(path string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			n += countInFile(t, path, marker)
		}
		return nil
	})
	return n
}

// countInFile counts marker in the file at path, reading it in chunks that
// overlap by the marker's length.
func countInFile(t *testing.T, path, marker string) int {
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	m := []byte(marker)
	buf := make([]byte, 4<<20)
	n, keep := 0, 0
	for {
		r, err := f.Read(buf[keep:])
		chunk := buf[:keep+r]
		n += bytes.Count(chunk, m)
		keep = min(len(m)-1, len(chunk))
		copy(buf, chunk[len(chunk)-keep:])
		if err != nil || r == 0 {
			return n
		}
	}
}

func newMarker() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return "byok-marker-" + hex.EncodeToString(b)
}

// TestNodes_DataIsCiphertextOnDiskBeforeAndAfterShred is the at-rest proof:
// a marker written through SQL is served by every node, and found zero
// times in the raw volumes, the logs and every other file, before and
// after a crypto-shred, which leaves no server, key or directory.
func TestNodes_DataIsCiphertextOnDiskBeforeAndAfterShred(t *testing.T) {
	s := dataStack(t)
	key := s.CreateRootKey("at-rest-root")
	name := UniqueName("atrest")
	var prov statusDoc
	s.mustJSON(&prov, "provision", "--instance", name, "--root-key", key, "--json")
	requireAllAt(t, prov.Nodes, 3, key)
	require.Len(t, servers(name), 3, "three postgres servers in the instance's node directories")

	marker := newMarker()
	r := s.Starter("sql", "--instance", name, "-c", "create table secrets (v text); insert into secrets "+
		"select '"+marker+"' from generate_series(1, 200); checkpoint")
	require.Equal(t, 0, r.Code, r.Stderr)
	for _, n := range prov.Nodes {
		eventually(t, "node "+n.Node+" to serve the marker", func() bool {
			r := s.Starter("sql", "--instance", name, "--node", n.Node, "-c", "select count(*) from secrets")
			return r.Code == 0 && strings.Contains(r.Stdout, "200")
		})
	}
	r = s.Starter("sql", "--instance", name, "--node", prov.Nodes[1].Node, "-c", "insert into secrets values ('x')")
	require.Equal(t, 1, r.Code, "a standby is read-only")
	require.Zero(t, s.countOnDisk(t, marker), "the marker is on no disk in plaintext")

	var cert struct {
		Nodes []struct {
			NodeID       string `json:"nodeId"`
			StorageKey   string `json:"storageKey"`
			StorageKeyID string `json:"storageKeyId"`
			Detail       string `json:"detail"`
		} `json:"nodes"`
	}
	s.mustJSON(&cert, "shred", "--instance", name, "--json")
	require.Len(t, cert.Nodes, 3)
	for _, n := range cert.Nodes {
		require.Equal(t, "removed", n.StorageKey, "node %s: storage key removal in the certificate", n.NodeID)
		require.NotEmpty(t, n.StorageKeyID)
		require.Contains(t, n.Detail, "deleted", "node %s: what was deleted", n.NodeID)
	}
	require.Empty(t, servers(name), "no server of the shredded instance runs")
	require.Empty(t, s.nodeFiles(name), "no directory of the shredded instance is left")
	require.Zero(t, s.countOnDisk(t, marker), "still no plaintext after the shred")
}

// TestNodes_SuspendStopsServingAndResumeBringsTheSameDataBack: a suspended
// instance refuses SQL with a typed error naming the suspension; resumed,
// it serves the same rows.
func TestNodes_SuspendStopsServingAndResumeBringsTheSameDataBack(t *testing.T) {
	s := dataStack(t)
	key := s.CreateRootKey("suspend-root")
	name := UniqueName("paused")
	s.mustJSON(&statusDoc{}, "provision", "--instance", name, "--root-key", key, "--nodes", "2", "--json")
	r := s.Starter("sql", "--instance", name, "-c", "create table t (v int); insert into t select generate_series(1, 77)")
	require.Equal(t, 0, r.Code, r.Stderr)

	var sus statusDoc
	s.mustJSON(&sus, "suspend", "--instance", name, "--json")
	for _, n := range sus.Nodes {
		require.Equal(t, "suspended", n.State, "node %s", n.Node)
		require.False(t, n.ServerUp, "node %s", n.Node)
		require.Equal(t, "removed", n.StorageKey, "node %s", n.Node)
	}
	require.Empty(t, servers(name))
	r = s.Starter("sql", "--instance", name, "-c", "select count(*) from t")
	require.Equal(t, 1, r.Code, r.Stdout)
	require.Contains(t, r.Stderr, "[KeySuspended]")
	require.Contains(t, r.Stderr, "starter resume")

	var res statusDoc
	s.mustJSON(&res, "resume", "--instance", name, "--json")
	requireAllAt(t, res.Nodes, 2, key)
	var rows []map[string]*string
	s.mustJSON(&rows, "sql", "--instance", name, "--json", "-c", "select count(*) as n from t")
	require.Equal(t, "77", *rows[0]["n"])
}

// TestNodes_KilledAgentBringsItsNodesBack: SIGKILL of the agents leaves
// their servers running; restarted, each agent adopts its nodes with the
// same DEK (check value) and the standby streams, with no operator action.
func TestNodes_KilledAgentBringsItsNodesBack(t *testing.T) {
	s := dataStack(t)
	key := s.CreateRootKey("crash-root")
	name := UniqueName("crash")
	var prov statusDoc
	s.mustJSON(&prov, "provision", "--instance", name, "--root-key", key, "--json")
	for _, h := range []string{"a", "b"} {
		s.KillNode(h)
		s.StartNode(h)
	}
	after := s.Status(name)
	requireAllAt(t, after.Nodes, 3, key)
	for i, n := range after.Nodes {
		require.Equal(t, prov.Nodes[i].CheckValue, n.CheckValue, "node %s has the same DEK", n.Node)
		require.Equal(t, prov.Nodes[i].Address, n.Address, "node %s serves where it did", n.Node)
	}
}

// TestNodes_ConnectPrintsALibpqStringThatWorks: the connection string of
// `starter connect` logs in with SCRAM through the operator's passfile.
func TestNodes_ConnectPrintsALibpqStringThatWorks(t *testing.T) {
	s := dataStack(t)
	key := s.CreateRootKey("connect-root")
	name := UniqueName("connect")
	s.mustJSON(&statusDoc{}, "provision", "--instance", name, "--root-key", key, "--nodes", "1", "--json")
	r := s.Starter("connect", "--instance", name)
	require.Equal(t, 0, r.Code, r.Stderr)
	conn := strings.TrimSpace(r.Stdout)
	require.Contains(t, conn, "passfile=")
	require.NotContains(t, conn, ":"+readPassword(t, s, name)+"@", "the password stays in the passfile")
	psql, err := exec.LookPath("psql")
	if err != nil {
		t.Skip("psql is not installed")
	}
	out, err := exec.Command(psql, conn, "-Atc", "select current_user").CombinedOutput()
	require.NoError(t, err, string(out))
	require.Equal(t, "byok_admin", strings.TrimSpace(string(out)))
}

// readPassword reads the admin password the starter kept for instance.
func readPassword(t *testing.T, s *Stack, instance string) string {
	b, err := os.ReadFile(filepath.Join(s.dataDir, "credentials", instance+".pgpass"))
	require.NoError(t, err)
	fi, err := os.Stat(filepath.Join(s.dataDir, "credentials", instance+".pgpass"))
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), "only the operator may read it")
	fields := strings.Split(strings.TrimSpace(string(b)), ":")
	require.Len(t, fields, 5)
	return fields[4]
}
