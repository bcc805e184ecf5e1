package e2e

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// nodeRow and statusDoc mirror the starter's JSON documents.
type nodeRow struct {
	Node         string `json:"node"`
	Host         string `json:"host"`
	Role         string `json:"role"`
	State        string `json:"state"`
	ServerUp     bool   `json:"serverUp"`
	Address      string `json:"address"`
	Replication  string `json:"replication"`
	Storage      string `json:"storage"`
	StorageKeyID string `json:"storageKeyId"`
	StorageKey   string `json:"storageKey"`
	KeyVersion   string `json:"keyVersion"`
	CheckValue   string `json:"checkValue"`
	ReportedAt   string `json:"reportedAt"`
	Detail       string `json:"detail"`
}

type statusDoc struct {
	Instance   string    `json:"instance"`
	RootKeyID  string    `json:"rootKeyId"`
	State      string    `json:"state"`
	KeyVersion string    `json:"keyVersion"`
	Rotated    bool      `json:"rotated"`
	Nodes      []nodeRow `json:"nodes"`
}

// mustJSON runs the starter, requires exit 0 and decodes its JSON output.
func (s *Stack) mustJSON(v any, args ...string) {
	s.t.Helper()
	r := s.Starter(args...)
	require.Equal(s.t, 0, r.Code, "starter %v failed:\n%s", args, r.Stderr)
	require.NoError(s.t, json.Unmarshal([]byte(r.Stdout), v), "starter %v printed:\n%s", args, r.Stdout)
}

// CreateRootKey creates a root key through the CLI and returns its id.
func (s *Stack) CreateRootKey(name string) string {
	var key struct{ ID, Name string }
	s.mustJSON(&key, "keys", "create", "--name", name, "--json")
	require.NotEmpty(s.t, key.ID)
	return key.ID
}

// Status returns the Nodes page of instance.
func (s *Stack) Status(instance string) statusDoc {
	var doc statusDoc
	s.mustJSON(&doc, "status", "--instance", instance, "--json")
	return doc
}

// requireAllAt asserts every node is active under version, on distinct
// hosts: one primary and streaming standbys, each server up on storage
// encrypted by fscrypt under its own key.
func requireAllAt(t *testing.T, nodes []nodeRow, n int, version string) {
	t.Helper()
	require.Len(t, nodes, n)
	hosts, storageKeys := map[string]bool{}, map[string]bool{}
	for i, node := range nodes {
		require.Equal(t, "active", node.State, "node %s: %s", node.Node, node.Detail)
		require.Equal(t, version, node.KeyVersion, "node %s", node.Node)
		require.NotEmpty(t, node.CheckValue, "node %s", node.Node)
		require.True(t, node.ServerUp, "node %s has its server up", node.Node)
		require.Equal(t, "fscrypt v2 aes-256-xts", node.Storage, "node %s", node.Node)
		require.Equal(t, "present", node.StorageKey, "node %s", node.Node)
		if i == 0 {
			require.Equal(t, "primary", node.Role, "the first node is the primary")
		} else {
			require.Equal(t, "standby", node.Role, "node %s", node.Node)
			require.Equal(t, "streaming", node.Replication, "standby %s streams", node.Node)
		}
		hosts[node.Host] = true
		storageKeys[node.StorageKeyID] = true
	}
	require.Len(t, hosts, min(n, 3), "nodes spread across hosts")
	require.Len(t, storageKeys, n, "every node under its own storage key")
}

// eventually polls cond every 100 ms for up to 60 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	eventuallyWithin(t, 60*time.Second, what, cond)
}

// eventuallyWithin polls cond until it holds, failing t after within.
func eventuallyWithin(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("timed out after %s waiting for %s", within, what)
}

// nodeFiles lists what is left of instance on the hosts' volumes (its
// nodes' directories, ciphertext included).
func (s *Stack) nodeFiles(instance string) []string {
	var found []string
	for _, v := range s.volumes {
		if entries, err := filepath.Glob(filepath.Join(v.Dir, instance, "*")); err == nil {
			found = append(found, entries...)
		}
	}
	return found
}

// servers lists the running postgres servers whose data directory belongs
// to instance, from /proc.
func servers(instance string) []string {
	return postmasters(func(dir string) bool { return strings.Contains(dir, "/"+instance+"/") })
}

// serversUnder lists the running postgres servers whose data directory is
// under root.
func serversUnder(root string) []string {
	return postmasters(func(dir string) bool { return strings.HasPrefix(dir, root+"/") })
}

// postmasters lists the data directories of running postgres servers that
// match.
func postmasters(match func(dataDir string) bool) []string {
	var found []string
	for _, dir := range postmasterPids(match) {
		found = append(found, dir)
	}
	return found
}

// postmasterPids maps the pid of each running postgres server whose data
// directory matches to that directory.
func postmasterPids(match func(dataDir string) bool) map[int]string {
	found := map[int]string{}
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		b, err := os.ReadFile(p)
		args := strings.Split(string(b), "\x00")
		if err == nil && len(args) > 2 && strings.HasSuffix(args[0], "/postgres") && args[1] == "-D" && match(args[2]) {
			pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(p)))
			found[pid] = args[2]
		}
	}
	return found
}

// slotFiles lists the files under the node agents' data directories whose
// path names instance.
func (s *Stack) slotFiles(instance string) []string {
	var found []string
	_ = filepath.WalkDir(s.dataDir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.Contains(path, instance) && strings.Contains(path, "/node-") &&
			!strings.HasSuffix(path, ".log") {
			found = append(found, path)
		}
		return nil
	})
	return found
}

// nodeLog returns the log of the node agent of host so far.
func (s *Stack) nodeLog(host string) string {
	b, _ := os.ReadFile(filepath.Join(s.dataDir, "node-"+host+".log"))
	return string(b)
}

// tmpBackups lists the temporary backup files left in the backup store.
func (s *Stack) tmpBackups() []string {
	found, _ := filepath.Glob(filepath.Join(s.dataDir, "backups", "*.tmp"))
	return found
}
